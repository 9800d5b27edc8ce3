-- A check-in is of a ticket as one booking bought it: a seat refunded
-- and sold again gets in once more, for its new buyer. Check-ins a gate
-- made offline are marked, since only those may be moved to an earlier
-- scan that another offline gate reports.

-- +goose Up
ALTER TABLE checkins ADD COLUMN booking_id bigint REFERENCES bookings (id);
UPDATE checkins c SET booking_id = t.booking_id FROM tickets t WHERE t.id = c.ticket_id;
DELETE FROM checkins WHERE booking_id IS NULL;
ALTER TABLE checkins ALTER COLUMN booking_id SET NOT NULL;
ALTER TABLE checkins DROP CONSTRAINT checkins_pkey;
ALTER TABLE checkins ADD PRIMARY KEY (ticket_id, booking_id);
ALTER TABLE checkins ADD COLUMN offline boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE checkins DROP COLUMN offline;
ALTER TABLE checkins DROP CONSTRAINT checkins_pkey;
DELETE FROM checkins c WHERE EXISTS (SELECT 1 FROM checkins d WHERE d.ticket_id = c.ticket_id AND d.booking_id > c.booking_id);
ALTER TABLE checkins ADD PRIMARY KEY (ticket_id);
ALTER TABLE checkins DROP COLUMN booking_id;
