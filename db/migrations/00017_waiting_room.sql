-- The waiting room (issue: hot on-sales). An event goes on sale at
-- on_sale_at (null: now) and may queue its fans: 'always', or 'auto' when
-- more fans try to hold than are admitted. Fans join with one row each
-- (no counter to lock); one process at a time (the admitter, chosen with
-- an advisory lock) gives places and admits them at a rate, keeping its
-- progress in queue_state. Places are kept across restarts because they
-- are rows.

-- +goose Up
ALTER TABLE events
    ADD COLUMN on_sale_at timestamptz,
    ADD COLUMN queue text NOT NULL DEFAULT 'off' CHECK (queue IN ('off', 'always', 'auto'));

-- Arrival order across all rooms: nextval takes no lock a join waits on.
CREATE SEQUENCE queue_arrivals;

CREATE TABLE queue_entries (
    event_id       bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at      timestamptz NOT NULL,
    arrival        bigint NOT NULL DEFAULT nextval('queue_arrivals'),
    draw           bigint NOT NULL,        -- random: the order of those who joined before the open
    position       bigint,                 -- place in line, once the admitter has given it
    admitted_at    timestamptz,
    admitted_until timestamptz,            -- the shopping window's end
    left_at        timestamptz,            -- bought: the place is done
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX queue_entries_unplaced_idx ON queue_entries (event_id, arrival) WHERE position IS NULL;
CREATE UNIQUE INDEX queue_entries_position_idx ON queue_entries (event_id, position);
CREATE INDEX queue_entries_shopping_idx ON queue_entries (event_id, admitted_until) WHERE admitted_at IS NOT NULL AND left_at IS NULL;

CREATE TABLE queue_state (
    event_id   bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    drawn      boolean NOT NULL DEFAULT false, -- those who joined before the open have places
    placed     bigint NOT NULL DEFAULT 0,      -- places given: 1..placed
    admitted   bigint NOT NULL DEFAULT 0,      -- places admitted: 1..admitted
    joined     bigint NOT NULL DEFAULT 0,      -- before the open: fans in the room, as last counted
    credit     double precision NOT NULL DEFAULT 0, -- admissions due but not made yet
    engaged    boolean NOT NULL DEFAULT false, -- in 'auto': the room is on
    ticked_at  timestamptz
);

-- Recent holds on an event, for 'auto' to see a rush.
CREATE INDEX bookings_event_created_idx ON bookings (event_id, created_at);

-- +goose Down
DROP INDEX bookings_event_created_idx;
DROP TABLE queue_state;
DROP TABLE queue_entries;
DROP SEQUENCE queue_arrivals;
ALTER TABLE events DROP COLUMN queue, DROP COLUMN on_sale_at;
