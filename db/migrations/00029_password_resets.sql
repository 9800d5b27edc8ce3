-- A fan who forgot their password asks for a link by e-mail. Only a hash
-- of the link's token is kept, as with sessions; the message that carries
-- the link is marked secret, and its text is wiped once it has gone.

-- +goose Up
CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id, created_at);

ALTER TABLE outbox ADD COLUMN secret boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE outbox DROP COLUMN secret;
DROP TABLE password_resets;
