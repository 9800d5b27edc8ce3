-- The change feed (DESIGN §4, live availability). Every statement that
-- changes tickets' status or hold, whoever runs it (a hold, a payment, the
-- sweeper, a refund, an operator's SQL), bumps the event's version and
-- publishes what changed with pg_notify in its own transaction, so that
-- listeners hear only committed changes, in commit order: the version row
-- stays locked until the transaction ends, so the next change of the same
-- event gets the next version and commits after it.
--
-- A notification carries at most 200 tickets (pg_notify takes 8,000 bytes);
-- a statement that changes more publishes several, each with its own
-- version. Payload: {"e":event,"v":version,"t":[[ticket,"a|r|s",until_ms]…]}
-- where until_ms is a hold's end in Unix milliseconds (0 otherwise).

-- +goose Up
CREATE TABLE ticket_versions (
    event_id bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    version  bigint NOT NULL CHECK (version > 0)
);

-- +goose StatementBegin
CREATE FUNCTION publish_ticket_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    part record;
    v    bigint;
BEGIN
    FOR part IN
        SELECT c.event_id, json_agg(json_build_array(c.id, left(c.status, 1),
                   coalesce((extract(epoch FROM c.reserved_until) * 1000)::bigint, 0)) ORDER BY c.id) AS tickets
        FROM (
            SELECT n.event_id, n.id, n.status, n.reserved_until,
                   (row_number() OVER (PARTITION BY n.event_id ORDER BY n.id) - 1) / 200 AS part
            FROM new_tickets n JOIN old_tickets o ON o.id = n.id
            WHERE n.status IS DISTINCT FROM o.status OR n.reserved_until IS DISTINCT FROM o.reserved_until
        ) c
        GROUP BY c.event_id, c.part
        ORDER BY c.event_id, c.part
    LOOP
        INSERT INTO ticket_versions AS tv (event_id, version) VALUES (part.event_id, 1)
        ON CONFLICT (event_id) DO UPDATE SET version = tv.version + 1
        RETURNING version INTO v;
        PERFORM pg_notify('ticket_changes', json_build_object('e', part.event_id, 'v', v, 't', part.tickets)::text);
    END LOOP;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tickets_publish_changes
    AFTER UPDATE ON tickets
    REFERENCING OLD TABLE AS old_tickets NEW TABLE AS new_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION publish_ticket_changes();

-- +goose Down
DROP TRIGGER tickets_publish_changes ON tickets;
DROP FUNCTION publish_ticket_changes();
DROP TABLE ticket_versions;
