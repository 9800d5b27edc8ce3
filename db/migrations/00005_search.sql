-- Event search (app/search). Each event has a search row: its text as a
-- weighted tsvector (event name A, performers B, venue and place C,
-- description D) and the fields fans filter on, kept current by triggers
-- whenever an event, its line-up, a performer or a venue changes.
-- Typo tolerance uses trigrams: on performer and venue names and cities,
-- and on a vocabulary of the words in names, to correct a query's words.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- English stemming on accent-free words: "Vôlei" is found as "volei".
CREATE TEXT SEARCH CONFIGURATION boxoffice (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION boxoffice
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

-- search_fold is the form names are compared in: lower case, no accents.
-- unaccent is only STABLE (its rules file could change); naming the
-- dictionary makes this safe to index.
-- +goose StatementBegin
CREATE FUNCTION search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(unaccent('unaccent'::regdictionary, $1)) $$;
-- +goose StatementEnd

CREATE INDEX performers_name_trgm_idx ON performers USING gin (search_fold(name) gin_trgm_ops);
CREATE INDEX venues_name_trgm_idx ON venues USING gin (search_fold(name) gin_trgm_ops);
CREATE INDEX venues_city_trgm_idx ON venues USING gin (search_fold(city) gin_trgm_ops);

CREATE TABLE event_search (
    event_id   bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    local_date date   NOT NULL,       -- the start's date in the venue's zone
    type       text   NOT NULL,
    status     text   NOT NULL,
    venue_id   bigint NOT NULL,
    city       text   NOT NULL,
    doc        tsvector NOT NULL
);
CREATE INDEX event_search_doc_idx ON event_search USING gin (doc);
CREATE INDEX event_search_starts_idx ON event_search (starts_at) INCLUDE (type, city, status);
CREATE INDEX event_search_type_idx ON event_search (type, starts_at);
CREATE INDEX event_search_date_idx ON event_search (local_date);
CREATE INDEX event_search_venue_idx ON event_search (venue_id, starts_at);

CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- refresh_event_search rebuilds the search rows of the given events.
-- +goose StatementBegin
CREATE FUNCTION refresh_event_search(ids bigint[]) RETURNS void
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

-- Triggers, per statement so that a bulk load refreshes once per COPY.
-- +goose StatementBegin
CREATE FUNCTION event_search_from_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_event_search(ARRAY(SELECT id FROM changed));
    RETURN NULL;
END $$;
CREATE FUNCTION event_search_from_line_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_event_search(ARRAY(SELECT DISTINCT event_id FROM changed));
    RETURN NULL;
END $$;
CREATE FUNCTION event_search_from_performers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_event_search(ARRAY(
        SELECT DISTINCT ep.event_id FROM changed c JOIN event_performers ep ON ep.performer_id = c.id));
    RETURN NULL;
END $$;
CREATE FUNCTION event_search_from_venues() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_event_search(ARRAY(
        SELECT e.id FROM changed c JOIN events e ON e.venue_id = c.id));
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER event_search_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_events();
CREATE TRIGGER event_search_update AFTER UPDATE ON events
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_events();
CREATE TRIGGER event_search_line_up_insert AFTER INSERT ON event_performers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_line_up();
CREATE TRIGGER event_search_line_up_update AFTER UPDATE ON event_performers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_line_up();
CREATE TRIGGER event_search_line_up_delete AFTER DELETE ON event_performers
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_line_up();
CREATE TRIGGER event_search_performer_update AFTER UPDATE ON performers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_performers();
CREATE TRIGGER event_search_venue_update AFTER UPDATE ON venues
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION event_search_from_venues();

-- Events that exist already.
SELECT refresh_event_search(ARRAY(SELECT id FROM events));

-- +goose Down
DROP TRIGGER event_search_venue_update ON venues;
DROP TRIGGER event_search_performer_update ON performers;
DROP TRIGGER event_search_line_up_delete ON event_performers;
DROP TRIGGER event_search_line_up_update ON event_performers;
DROP TRIGGER event_search_line_up_insert ON event_performers;
DROP TRIGGER event_search_update ON events;
DROP TRIGGER event_search_insert ON events;
DROP FUNCTION event_search_from_venues();
DROP FUNCTION event_search_from_performers();
DROP FUNCTION event_search_from_line_up();
DROP FUNCTION event_search_from_events();
DROP FUNCTION refresh_event_search(bigint[]);
DROP TABLE search_words;
DROP TABLE event_search;
DROP INDEX venues_city_trgm_idx;
DROP INDEX venues_name_trgm_idx;
DROP INDEX performers_name_trgm_idx;
DROP FUNCTION search_fold(text);
DROP TEXT SEARCH CONFIGURATION boxoffice;
-- The extensions stay: other objects in the database may use them.
