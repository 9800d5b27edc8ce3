-- Tickets that get fans in: every code a gate scans is signed with an
-- Ed25519 key, so that a gate can check it with the public key alone. The
-- key is made on first start and kept here, with the data, so that every
-- Boxoffice process on the database signs alike (BOXOFFICE_SIGNING_KEY
-- overrides it). A copy of the database carries the key: back it up and
-- keep it as you keep the payments.

-- +goose Up
CREATE TABLE signing_keys (
    id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1), -- one key
    seed       bytea NOT NULL CHECK (length(seed) = 32),      -- the Ed25519 private key's seed
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE signing_keys;
