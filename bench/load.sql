-- Loads synthetic reports from psql's standard input into `reports`, replacing what is there.
--
--   target/release/zglos-bench gen --n 1000000 --seed 42 \
--     | psql -h 127.0.0.1 -U postgres -d zglos_bench -v n=1000000 -v seed=42 -f bench/load.sql
--
-- Input: COPY text rows in `zglos-bench gen`'s column order. District and unit are assigned here,
-- in SQL: the district whose polygon contains the anchor, the unit of the highest-priority routing
-- rule for the category (a rule with an area must contain the anchor). `near_border` marks anchors
-- within 10 m of a district boundary. Secondary indexes are dropped for the load and rebuilt from
-- their own definitions afterwards, so this script follows whatever the migrations define.
\set ON_ERROR_STOP on
\if :{?n}
\else
  \set n unknown
\endif
\if :{?seed}
\else
  \set seed unknown
\endif
\timing on
SET jit = off;

DROP TABLE IF EXISTS bench_import;
CREATE UNLOGGED TABLE bench_import (
    rid         bigint GENERATED ALWAYS AS IDENTITY,
    category    text,
    status      text,
    description text,
    geom        geometry,
    anchor      geometry,
    supporters  integer,
    channel     text,
    lang        text,
    created_at  timestamptz,
    updated_at  timestamptz
);
\copy bench_import (category, status, description, geom, anchor, supporters, channel, lang, created_at, updated_at) FROM pstdin

BEGIN;
-- Reports and everything that refers to them (timelines, supports, idempotency keys, ...).
TRUNCATE reports RESTART IDENTITY CASCADE;

-- District polygons cut into small pieces, so each containment test touches a few dozen vertices.
CREATE TEMP TABLE bench_district_parts ON COMMIT DROP AS
    SELECT id, ST_Subdivide(geom, 64) AS geom FROM districts;
CREATE INDEX ON bench_district_parts USING gist (geom);
-- 10 m either side of every district boundary, in pieces.
CREATE TEMP TABLE bench_border_band ON COMMIT DROP AS
    SELECT ST_Subdivide(ST_Buffer(ST_Boundary(geom)::geography, 10)::geometry, 64) AS geom FROM districts;
CREATE INDEX ON bench_border_band USING gist (geom);
ANALYZE bench_district_parts;
ANALYZE bench_border_band;

CREATE TEMP TABLE bench_saved_indexes ON COMMIT DROP AS
    SELECT i.indexname, i.indexdef
    FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = 'reports'
      AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'reports'::regclass);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexname FROM bench_saved_indexes LOOP
        EXECUTE format('DROP INDEX %I', r.indexname);
    END LOOP;
END $$;

-- Spatial joins run polygon-first (each piece probes an index on the anchors), so PostGIS keeps
-- the piece prepared across its whole inner loop.
CREATE INDEX ON bench_import USING gist (anchor);
ANALYZE bench_import;
CREATE TEMP TABLE bench_import_district ON COMMIT DROP AS
    SELECT DISTINCT ON (i.rid) i.rid, p.id AS district_id
    FROM bench_district_parts p JOIN bench_import i ON ST_Contains(p.geom, i.anchor)
    ORDER BY i.rid, p.id;
-- The city boundary and the district polygons do not match to the millimetre: the few anchors in
-- a sliver between districts go to the nearest one.
INSERT INTO bench_import_district
    SELECT i.rid, (SELECT d.id FROM districts d ORDER BY d.geom <-> i.anchor, d.id LIMIT 1)
    FROM bench_import i
    WHERE NOT EXISTS (SELECT 1 FROM bench_import_district x WHERE x.rid = i.rid);
CREATE TEMP TABLE bench_import_border ON COMMIT DROP AS
    SELECT DISTINCT i.rid
    FROM bench_border_band b JOIN bench_import i ON ST_Intersects(b.geom, i.anchor);

-- Skip per-row foreign-key triggers for the bulk insert: every value comes from the city pack the
-- database was set up from (categories, statuses) or from the lookups just above.
SET LOCAL session_replication_role = replica;
INSERT INTO reports (category, status, description, geom, anchor, district_id, unit_code, routing_rule,
                     near_border, supporters, channel, lang, created_at, updated_at)
SELECT i.category, i.status, i.description, i.geom, i.anchor, d.district_id, rr.unit_code, rr.id,
       nb.rid IS NOT NULL,
       i.supporters, i.channel, i.lang, i.created_at, i.updated_at
FROM bench_import i
LEFT JOIN bench_import_district d ON d.rid = i.rid
LEFT JOIN bench_import_border nb ON nb.rid = i.rid
LEFT JOIN LATERAL (
    SELECT r.id, r.unit_code
    FROM routing_rules r
    WHERE (r.category = i.category OR r.category IS NULL)
      AND (r.area IS NULL OR ST_Contains(r.area, i.anchor))
    ORDER BY r.priority DESC, (r.category IS NULL), r.id
    LIMIT 1
) rr ON true
ORDER BY i.created_at;
SET LOCAL session_replication_role = origin;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexdef FROM bench_saved_indexes LOOP
        EXECUTE r.indexdef;
    END LOOP;
END $$;

CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL);
DELETE FROM bench_meta;
INSERT INTO bench_meta VALUES
    ('n', :'n'),
    ('seed', :'seed'),
    ('max_id', (SELECT coalesce(max(id), 0)::text FROM reports)),
    ('loaded_at', now()::text);
COMMIT;

DROP TABLE bench_import;
-- Freeze and analyze now, so that neither hint-bit writes nor autovacuum of a million fresh rows
-- land in the middle of a measurement.
VACUUM (FREEZE, ANALYZE) reports;
CHECKPOINT;

SELECT count(*) AS reports,
       count(*) FILTER (WHERE district_id IS NULL) AS without_district,
       count(*) FILTER (WHERE near_border) AS near_border,
       count(*) FILTER (WHERE GeometryType(geom) <> 'POINT') AS lines_and_areas,
       pg_size_pretty(pg_total_relation_size('reports')) AS size
FROM reports;
