-- The seat map reads every ticket of an event (or of one section) with its
-- id and seat. Carrying both in the (event, section, status) index lets
-- that read, and the availability count, come from the index alone.

-- +goose Up
CREATE INDEX tickets_event_section_map_idx ON tickets (event_id, section_id, status) INCLUDE (price, reserved_until, id, seat_id);
DROP INDEX tickets_event_section_idx;

-- +goose Down
CREATE INDEX tickets_event_section_idx ON tickets (event_id, section_id, status) INCLUDE (price, reserved_until);
DROP INDEX tickets_event_section_map_idx;
