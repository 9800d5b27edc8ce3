-- A payment belongs to one booking of one installation: the key that a
-- booking's PaymentIntent is made with is random per booking, so another
-- database on the same Stripe account (staging, a restore, another site)
-- that reuses a booking id never gets this booking's paid intent back. And
-- what was refunded, so that only a full refund ends a booking.

-- +goose Up
ALTER TABLE bookings ADD COLUMN payment_key uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE bookings ADD COLUMN refunded bigint NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD CONSTRAINT bookings_refunded_check CHECK (refunded >= 0 AND refunded <= total);

-- +goose Down
ALTER TABLE bookings DROP CONSTRAINT bookings_refunded_check;
ALTER TABLE bookings DROP COLUMN refunded;
ALTER TABLE bookings DROP COLUMN payment_key;
