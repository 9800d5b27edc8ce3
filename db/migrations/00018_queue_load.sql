-- The waiting room in 'auto' admits as many fans as keep the hold path
-- inside its latency budget. Every process reports the latency of its
-- recent holds here each second; the admitter reads the freshest rows and
-- keeps each room's current rate in queue_state. The figures matter only
-- for seconds, so the table is unlogged: a crash empties it, and the rate
-- starts again from where queue_state left it.

-- +goose Up
CREATE UNLOGGED TABLE queue_load (
    instance text PRIMARY KEY,             -- one Boxoffice process
    seen_at  timestamptz NOT NULL,
    holds    integer NOT NULL,             -- holds answered in the last few seconds
    p99_ms   real NOT NULL                 -- their 99th percentile
);

ALTER TABLE queue_state
    ADD COLUMN rate real,                  -- fans a minute the room admits now; null: the configured rate
    ADD COLUMN rated_at timestamptz;       -- when 'auto' last changed it

-- +goose Down
ALTER TABLE queue_state DROP COLUMN rated_at, DROP COLUMN rate;
DROP TABLE queue_load;
