-- Payment processor events (Stripe webhooks) already handled, so that a
-- replayed delivery changes nothing and an operator can see what came in.

-- +goose Up
CREATE TABLE payment_events (
    provider    text NOT NULL,
    event_id    text NOT NULL,
    type        text NOT NULL,
    booking_id  bigint REFERENCES bookings (id),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- +goose Down
DROP TABLE payment_events;
