-- Fans hear from Boxoffice in their language: each account remembers the
-- one its fan signed up, last signed in or chose a language with, and each
-- message in the outbox the one it is written in (drawn in, for a message
-- drawn when it is sent). A language is a short BCP 47 tag: "en", "pt-BR".

-- +goose Up
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'en'
    CONSTRAINT users_language_check CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$');
ALTER TABLE outbox ADD COLUMN language text NOT NULL DEFAULT 'en'
    CONSTRAINT outbox_language_check CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$');

-- +goose Down
ALTER TABLE outbox DROP COLUMN language;
ALTER TABLE users DROP COLUMN language;
