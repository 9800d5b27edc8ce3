-- Browsers a fan has signed in from before. A sign-in from one of them is
-- not slowed down by failures others cause on the account, so that
-- guessing a fan's password from elsewhere cannot lock the fan out.

-- +goose Up
CREATE TABLE known_devices (
    token_hash   bytea       PRIMARY KEY,           -- SHA-256 of the cookie's token
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL
);
CREATE INDEX known_devices_user_id_idx ON known_devices (user_id);

-- +goose Down
DROP TABLE known_devices;
