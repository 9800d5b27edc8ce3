-- How many tickets of each event are available at each price, kept by
-- triggers whoever changes tickets: the "seats left" and "from" price of
-- search results and listings read a few rows here instead of counting an
-- event's tickets (200,000 for a page of stadium events). A hold that has
-- run out counts as available here once the sweeper frees it; events in
-- use are counted from the live model, which frees it at its end.

-- +goose Up
CREATE TABLE ticket_stock (
    event_id  bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    price     bigint NOT NULL,
    available integer NOT NULL,
    PRIMARY KEY (event_id, price)
);

-- +goose StatementBegin
CREATE FUNCTION count_ticket_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ticket_stock AS s (event_id, price, available)
        SELECT event_id, price, count(*) FROM new_tickets WHERE status = 'available'
        GROUP BY event_id, price ORDER BY event_id, price
        ON CONFLICT (event_id, price) DO UPDATE SET available = s.available + EXCLUDED.available;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO ticket_stock AS s (event_id, price, available)
        SELECT event_id, price, sum(d) FROM (
            SELECT event_id, price, 1 AS d FROM new_tickets WHERE status = 'available'
            UNION ALL
            SELECT event_id, price, -1 FROM old_tickets WHERE status = 'available'
        ) c
        GROUP BY event_id, price HAVING sum(d) <> 0 ORDER BY event_id, price
        ON CONFLICT (event_id, price) DO UPDATE SET available = s.available + EXCLUDED.available;
    ELSE
        -- Tickets go with their event, whose counts go with it too: only
        -- rows still there change, locked in the same order as above.
        WITH c AS (
            SELECT event_id, price, count(*) AS n FROM old_tickets WHERE status = 'available' GROUP BY event_id, price
        ), locked AS (
            SELECT s.event_id, s.price, c.n FROM ticket_stock s JOIN c USING (event_id, price)
            ORDER BY s.event_id, s.price FOR UPDATE OF s
        )
        UPDATE ticket_stock s SET available = s.available - locked.n
        FROM locked WHERE s.event_id = locked.event_id AND s.price = locked.price;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tickets_stock_insert AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_tickets FOR EACH STATEMENT EXECUTE FUNCTION count_ticket_stock();
-- Named after tickets_publish_changes, so that it runs after it: an event's
-- version row is locked first, then its stock rows, always in that order.
CREATE TRIGGER tickets_stock_update AFTER UPDATE ON tickets
    REFERENCING OLD TABLE AS old_tickets NEW TABLE AS new_tickets FOR EACH STATEMENT EXECUTE FUNCTION count_ticket_stock();
CREATE TRIGGER tickets_stock_delete AFTER DELETE ON tickets
    REFERENCING OLD TABLE AS old_tickets FOR EACH STATEMENT EXECUTE FUNCTION count_ticket_stock();

INSERT INTO ticket_stock (event_id, price, available)
SELECT event_id, price, count(*) FILTER (WHERE status = 'available') FROM tickets GROUP BY event_id, price;
ANALYZE ticket_stock;

-- +goose Down
DROP TRIGGER tickets_stock_delete ON tickets;
DROP TRIGGER tickets_stock_update ON tickets;
DROP TRIGGER tickets_stock_insert ON tickets;
DROP TABLE ticket_stock;
DROP FUNCTION count_ticket_stock();
