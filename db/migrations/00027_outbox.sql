-- E-mail goes out through an outbox: a message is a row written in the
-- same transaction as the change it tells of (a booking confirmed, a
-- refund), so a crash never loses one; a sender delivers each at least
-- once, retrying with backoff, with the same Message-ID every time.

-- +goose Up
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  text NOT NULL UNIQUE,             -- the same on every retry
    kind        text NOT NULL,                    -- confirmation, refund, cancelled, password_reset, …
    to_addr     text NOT NULL,
    subject     text NOT NULL,
    text_body   text NOT NULL,
    html_body   text NOT NULL DEFAULT '',
    attachments jsonb NOT NULL DEFAULT '[]',       -- [{"name", "type", "data" (base64)}]
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(), -- when to try (again); a sender's claim moves it on
    sent_at     timestamptz,
    last_error  text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due_idx ON outbox (next_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE outbox;
