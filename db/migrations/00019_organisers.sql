-- Box office for organisers. Accounts get a role; venues and events an
-- owner (null: the house's, such as the demo catalogue, which admins
-- manage); a section may be a standing area sold by quantity; a seat may
-- be accessible or have a restricted view; and every management action
-- is written to an audit log that outlives what it names.

-- +goose Up
ALTER TABLE users
    ADD COLUMN role text NOT NULL DEFAULT 'fan' CHECK (role IN ('fan', 'organiser', 'admin'));

ALTER TABLE venues ADD COLUMN owner_id bigint REFERENCES users (id);
CREATE INDEX venues_owner_id_idx ON venues (owner_id);
ALTER TABLE events ADD COLUMN owner_id bigint REFERENCES users (id);
CREATE INDEX events_owner_id_idx ON events (owner_id, starts_at);

ALTER TABLE sections
    ADD COLUMN kind text NOT NULL DEFAULT 'seated' CHECK (kind IN ('seated', 'standing')),
    ADD COLUMN capacity integer CHECK (capacity > 0), -- standing places; null for seated (their seats count)
    ADD CONSTRAINT sections_standing_capacity CHECK ((kind = 'standing') = (capacity IS NOT NULL));

ALTER TABLE seats
    ADD COLUMN accessible boolean NOT NULL DEFAULT false,      -- wheelchair space or step-free
    ADD COLUMN restricted_view boolean NOT NULL DEFAULT false;

CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    user_id  bigint,               -- who; null: the command line
    action   text NOT NULL,        -- venue.create, event.publish, booking.refund, user.role, …
    venue_id bigint,               -- what it touched, when it was a venue or an event's
    event_id bigint,
    subject  text NOT NULL DEFAULT '', -- the thing, in words: "booking 12", "fan@example.com"
    before   jsonb,
    after    jsonb
);
CREATE INDEX audit_log_event_id_idx ON audit_log (event_id, at) WHERE event_id IS NOT NULL;
CREATE INDEX audit_log_venue_id_idx ON audit_log (venue_id, at) WHERE venue_id IS NOT NULL;

-- +goose Down
DROP TABLE audit_log;
ALTER TABLE seats DROP COLUMN restricted_view, DROP COLUMN accessible;
ALTER TABLE sections DROP CONSTRAINT sections_standing_capacity, DROP COLUMN capacity, DROP COLUMN kind;
DROP INDEX events_owner_id_idx;
ALTER TABLE events DROP COLUMN owner_id;
DROP INDEX venues_owner_id_idx;
ALTER TABLE venues DROP COLUMN owner_id;
ALTER TABLE users DROP COLUMN role;
