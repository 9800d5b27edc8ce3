-- Organisers' events. An event starts as a draft that fans cannot see,
-- with a price for each section it sells (sections priced alike form a
-- zone); publishing it creates its tickets. The prices stay, so that a
-- later change reaches the tickets not yet sold, and a section added
-- later gets its tickets at its price.

-- +goose Up
ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check CHECK (status IN ('draft', 'on_sale', 'cancelled'));

CREATE TABLE event_prices (
    event_id   bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    section_id bigint NOT NULL REFERENCES sections (id),
    zone       text   NOT NULL DEFAULT '',  -- the price zone's name, as the organiser gave it
    price      bigint NOT NULL CHECK (price > 0), -- minor units of the event's currency
    PRIMARY KEY (event_id, section_id)
);

-- +goose Down
DROP TABLE event_prices;
DELETE FROM events WHERE status = 'draft';
ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check CHECK (status IN ('on_sale', 'cancelled'));
