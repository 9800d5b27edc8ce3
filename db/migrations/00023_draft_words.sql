-- A draft event's names stay out of the words search corrects queries
-- with: "did you mean" must not announce what an organiser has not.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION refresh_event_search(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO event_search (event_id, starts_at, local_date, type, status, venue_id, city, doc)
    SELECT e.id, e.starts_at, (e.starts_at AT TIME ZONE e.timezone)::date, e.type, e.status, v.id, v.city,
           setweight(to_tsvector('boxoffice', e.name), 'A') ||
           setweight(to_tsvector('boxoffice', coalesce(p.names, '')), 'B') ||
           setweight(to_tsvector('boxoffice', concat_ws(' ', v.name, v.city, v.region, v.country)), 'C') ||
           setweight(to_tsvector('boxoffice', e.description), 'D')
    FROM events e
    JOIN venues v ON v.id = e.venue_id
    LEFT JOIN LATERAL (
        SELECT string_agg(pf.name, ' ') AS names
        FROM event_performers ep JOIN performers pf ON pf.id = ep.performer_id
        WHERE ep.event_id = e.id
    ) p ON true
    WHERE e.id = ANY (ids)
    ON CONFLICT (event_id) DO UPDATE SET
        starts_at = excluded.starts_at, local_date = excluded.local_date, type = excluded.type,
        status = excluded.status, venue_id = excluded.venue_id, city = excluded.city, doc = excluded.doc;

    -- The words of names, for correcting misspelt queries: not a draft's,
    -- which would put an unannounced name in "did you mean".
    INSERT INTO search_words (word)
    SELECT DISTINCT w
    FROM events e
    JOIN venues v ON v.id = e.venue_id
    LEFT JOIN event_performers ep ON ep.event_id = e.id
    LEFT JOIN performers pf ON pf.id = ep.performer_id
    CROSS JOIN LATERAL regexp_split_to_table(
        search_fold(concat_ws(' ', e.name, pf.name, v.name, v.city)), '[^[:alnum:]]+') AS w
    WHERE e.id = ANY (ids) AND e.status <> 'draft' AND length(w) >= 3
    ON CONFLICT DO NOTHING;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION refresh_event_search(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO event_search (event_id, starts_at, local_date, type, status, venue_id, city, doc)
    SELECT e.id, e.starts_at, (e.starts_at AT TIME ZONE e.timezone)::date, e.type, e.status, v.id, v.city,
           setweight(to_tsvector('boxoffice', e.name), 'A') ||
           setweight(to_tsvector('boxoffice', coalesce(p.names, '')), 'B') ||
           setweight(to_tsvector('boxoffice', concat_ws(' ', v.name, v.city, v.region, v.country)), 'C') ||
           setweight(to_tsvector('boxoffice', e.description), 'D')
    FROM events e
    JOIN venues v ON v.id = e.venue_id
    LEFT JOIN LATERAL (
        SELECT string_agg(pf.name, ' ') AS names
        FROM event_performers ep JOIN performers pf ON pf.id = ep.performer_id
        WHERE ep.event_id = e.id
    ) p ON true
    WHERE e.id = ANY (ids)
    ON CONFLICT (event_id) DO UPDATE SET
        starts_at = excluded.starts_at, local_date = excluded.local_date, type = excluded.type,
        status = excluded.status, venue_id = excluded.venue_id, city = excluded.city, doc = excluded.doc;

    -- The words of names, for correcting misspelt queries.
    INSERT INTO search_words (word)
    SELECT DISTINCT w
    FROM events e
    JOIN venues v ON v.id = e.venue_id
    LEFT JOIN event_performers ep ON ep.event_id = e.id
    LEFT JOIN performers pf ON pf.id = ep.performer_id
    CROSS JOIN LATERAL regexp_split_to_table(
        search_fold(concat_ws(' ', e.name, pf.name, v.name, v.city)), '[^[:alnum:]]+') AS w
    WHERE e.id = ANY (ids) AND length(w) >= 3
    ON CONFLICT DO NOTHING;
$$;
-- +goose StatementEnd
