-- What each booking asked for, kept for good: a ticket row points at its
-- current booking only, so without this a cancelled, expired or refunded
-- booking would forget its seats. And failed sign-ins, to slow down
-- password guessing per account and per address across all instances.

-- +goose Up
CREATE TABLE booking_tickets (
    booking_id bigint NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    ticket_id  bigint NOT NULL REFERENCES tickets (id),
    price      bigint NOT NULL CHECK (price > 0),
    PRIMARY KEY (booking_id, ticket_id)
);
CREATE INDEX booking_tickets_ticket_id_idx ON booking_tickets (ticket_id);

CREATE TABLE login_failures (
    key text        NOT NULL,                  -- 'email:<lower(email)>' or 'ip:<address>'
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at_idx ON login_failures (key, at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE booking_tickets;
