-- A refund asked of the payment processor is written down before it is
-- asked: the refunded total it will make. If Boxoffice stops before it
-- records the answer, the next attempt (or the sweeper) finishes that
-- same refund, with the same idempotency key, before any other; and a
-- second refund of the booking cannot start meanwhile.

-- +goose Up
ALTER TABLE bookings ADD COLUMN refund_pending bigint CHECK (refund_pending > refunded AND refund_pending <= total);

-- +goose Down
ALTER TABLE bookings DROP COLUMN refund_pending;
