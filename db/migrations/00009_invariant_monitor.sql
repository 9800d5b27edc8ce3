-- Indexes for the invariant monitor, which checks the events whose
-- bookings changed since its last run: bookings by when they changed, and
-- an event's bookings by status.

-- +goose Up
CREATE INDEX bookings_updated_at_idx ON bookings (updated_at);
CREATE INDEX bookings_event_status_idx ON bookings (event_id, status);

-- +goose Down
DROP INDEX bookings_event_status_idx;
DROP INDEX bookings_updated_at_idx;
