-- Sign-in attempts are reserved before the password is checked, so that
-- many attempts at once cannot all pass the limit before any is recorded:
-- each attempt's rows (one per key it counts against) share an attempt id,
-- which a right password uses to take them back.

-- +goose Up
ALTER TABLE login_failures ADD COLUMN attempt bigint;
CREATE INDEX login_failures_attempt_idx ON login_failures (attempt);
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- +goose Down
DROP INDEX login_failures_at_idx;
DROP INDEX login_failures_attempt_idx;
ALTER TABLE login_failures DROP COLUMN attempt;
