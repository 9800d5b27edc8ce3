-- Fans hear from Boxoffice in their language: each account remembers the
-- one its fan signed up, last signed in or chose a language with, and each
-- message in the outbox the one it is written in (drawn in, for a message
-- drawn when it is sent). A language is a short BCP 47 tag: "en", "pt-BR".

--
-- A column with a constant default is added without rewriting the table,
-- but a CHECK added with it would read every row under the ALTER's lock,
-- which stops sign-ins (every request reads users) for that long: the
-- checks come NOT VALID here, and 00031 validates them under a lock that
-- lets reads and writes go on.

-- +goose Up
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'en';
ALTER TABLE users ADD CONSTRAINT users_language_check
    CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$') NOT VALID;
ALTER TABLE outbox ADD COLUMN language text NOT NULL DEFAULT 'en';
ALTER TABLE outbox ADD CONSTRAINT outbox_language_check
    CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$') NOT VALID;

-- +goose Down
ALTER TABLE outbox DROP COLUMN language;
ALTER TABLE users DROP COLUMN language;
