-- Check-in at the door. An organiser makes accounts door staff of an
-- event; a gate scans a ticket's code and the ticket is let in once:
-- the check-in row's primary key is the ticket, so two gates scanning at
-- the same instant admit it once, and the second hears when and where.

-- +goose Up
CREATE TABLE event_staff (
    event_id   bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_by bigint REFERENCES users (id),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_staff_user_id_idx ON event_staff (user_id);

CREATE TABLE checkins (
    ticket_id  bigint PRIMARY KEY REFERENCES tickets (id),
    event_id   bigint NOT NULL REFERENCES events (id),
    at         timestamptz NOT NULL,           -- when the gate scanned it (an offline gate's own time)
    gate       text NOT NULL DEFAULT '',
    scanned_by bigint REFERENCES users (id),
    synced_at  timestamptz NOT NULL DEFAULT now() -- when Boxoffice heard of it
);
CREATE INDEX checkins_event_id_idx ON checkins (event_id);

-- +goose Down
DROP TABLE checkins;
DROP TABLE event_staff;
