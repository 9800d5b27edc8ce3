-- Broad searches estimate their total and facets from a sample of the
-- events instead of counting every match. sample is a fixed, uniformly
-- spread bucket of 1,024 per event (a hash of its id, so an event is always
-- in the same one): "sample < 16" is one event in 64.

-- +goose Up
ALTER TABLE event_search
    ADD COLUMN sample smallint GENERATED ALWAYS AS ((hashint8(event_id) & 1023)::smallint) STORED;
CREATE INDEX event_search_sample_idx ON event_search (sample, starts_at);
ANALYZE event_search;

-- +goose Down
ALTER TABLE event_search DROP COLUMN sample;
