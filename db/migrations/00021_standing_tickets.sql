-- Standing (general admission) sections sell by quantity: their tickets
-- have no seat. Each place is still a ticket row, so a hold locks the
-- rows it takes exactly as it locks seats, and two fans can never get the
-- last place twice.

-- +goose Up
ALTER TABLE tickets ALTER COLUMN seat_id DROP NOT NULL;
-- Free places of a standing section, found without reading the sold ones.
CREATE INDEX tickets_standing_idx ON tickets (event_id, section_id, id) WHERE seat_id IS NULL;

-- +goose Down
-- Rolling back would lose standing tickets, and the bookings of them:
-- refuse while there are any.
-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM tickets WHERE seat_id IS NULL) THEN
        RAISE EXCEPTION 'standing tickets exist; an older schema cannot keep them';
    END IF;
END $$;
-- +goose StatementEnd
DROP INDEX tickets_standing_idx;
ALTER TABLE tickets ALTER COLUMN seat_id SET NOT NULL;
