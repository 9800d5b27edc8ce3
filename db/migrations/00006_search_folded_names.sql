-- Matching typed names against performers and venues compared
-- search_fold(name) on every candidate row, and unaccent is slow. Keep the
-- folded names in stored columns and index those instead.

-- +goose Up
ALTER TABLE performers ADD COLUMN name_folded text GENERATED ALWAYS AS (search_fold(name)) STORED;
ALTER TABLE venues ADD COLUMN name_folded text GENERATED ALWAYS AS (search_fold(name)) STORED;
ALTER TABLE venues ADD COLUMN city_folded text GENERATED ALWAYS AS (search_fold(city)) STORED;
DROP INDEX performers_name_trgm_idx;
DROP INDEX venues_name_trgm_idx;
DROP INDEX venues_city_trgm_idx;
CREATE INDEX performers_name_folded_trgm_idx ON performers USING gin (name_folded gin_trgm_ops);
CREATE INDEX venues_name_folded_trgm_idx ON venues USING gin (name_folded gin_trgm_ops);
CREATE INDEX venues_city_folded_trgm_idx ON venues USING gin (city_folded gin_trgm_ops);

-- +goose Down
DROP INDEX venues_city_folded_trgm_idx;
DROP INDEX venues_name_folded_trgm_idx;
DROP INDEX performers_name_folded_trgm_idx;
ALTER TABLE venues DROP COLUMN city_folded;
ALTER TABLE venues DROP COLUMN name_folded;
ALTER TABLE performers DROP COLUMN name_folded;
CREATE INDEX performers_name_trgm_idx ON performers USING gin (search_fold(name) gin_trgm_ops);
CREATE INDEX venues_name_trgm_idx ON venues USING gin (search_fold(name) gin_trgm_ops);
CREATE INDEX venues_city_trgm_idx ON venues USING gin (search_fold(city) gin_trgm_ops);
