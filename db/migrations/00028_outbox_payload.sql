-- A message may be written as what it is about (its kind and a payload,
-- such as the booking confirmed) and drawn when it is sent, by the code
-- that draws pages: the transaction that writes it stays short, and the
-- message reads as the site does. Its Message-ID is still fixed when it
-- is written.

-- +goose Up
ALTER TABLE outbox ADD COLUMN payload jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE outbox DROP COLUMN payload;
