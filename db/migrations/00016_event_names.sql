-- An event page lists the same show's other performances, found by name.

-- +goose Up
CREATE INDEX events_name_idx ON events (name, starts_at);

-- +goose Down
DROP INDEX events_name_idx;
