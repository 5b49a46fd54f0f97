-- pgbench peer of `POST /api/v1/reports`: one SQL statement that takes the category's advisory
-- lock, looks for the report this one duplicates, finds the district and the unit, and inserts.
--
--   pgbench -h 127.0.0.1 -U postgres -n -c 8 -j 2 -T 20 -D npoints=100000 \
--           -f bench/pgbench/submit.sql zglos_bench
--
-- The point and category come from bench_points (the file `zglos-bench points` wrote, the same
-- one the HTTP load posts), picked with pgbench's random(). Dedup follows the service's rule:
-- nearest open, original (not itself a duplicate) report of the same category within the
-- category's radius (metres, geodesic) created within its time window; a radius of 0 turns
-- dedup off. A duplicate is stored with status 'duplicate' and duplicate_of set, its original
-- gains a supporter, and timeline events are written, as the service does. (The service also
-- stores near_border and sends a NOTIFY; those are left out here.) The advisory lock serialises
-- the writers of a category as the service does; in one statement the snapshot is taken before
-- the lock, so unlike the service (which re-reads after locking) two simultaneous submissions at
-- the same spot may both be stored as originals.
\set k random(1, :npoints)
WITH p AS (
    SELECT bp.category,
           ST_SetSRID(ST_MakePoint(bp.lon, bp.lat), 4326) AS pt,
           c.dedup_radius_m AS radius_m,
           c.dedup_window_days AS window_days,
           -- degrees of longitude / latitude that cover the radius (index prefilter)
           c.dedup_radius_m / (111320.0 * cos(radians(bp.lat))) AS dlon,
           c.dedup_radius_m / 111320.0 AS dlat
    FROM bench_points bp
    JOIN categories c ON c.code = bp.category
    WHERE bp.id = :k
),
lock AS (
    SELECT pg_advisory_xact_lock(hashtext('reports:' || p.category)) IS NOT NULL AS held FROM p
),
-- Candidates come from the spatial index alone (a MATERIALIZED CTE keeps the planner from
-- combining it with a B-tree on category, which is several times slower here).
near AS MATERIALIZED (
    SELECT r.id, r.geom, r.category, r.status, r.duplicate_of, r.created_at
    FROM p, lock, reports r
    WHERE lock.held
      AND p.radius_m > 0
      AND r.geom && ST_Expand(p.pt, p.dlon, p.dlat)
),
dup AS (
    SELECT n.id
    FROM p, near n
    WHERE n.category = p.category
      AND n.duplicate_of IS NULL
      AND n.status IN (SELECT code FROM statuses WHERE is_open)
      AND n.created_at >= now() - make_interval(days => p.window_days)
      AND ST_DWithin(n.geom::geography, p.pt::geography, p.radius_m, false)
    ORDER BY n.geom <-> p.pt, n.id
    LIMIT 1
),
district AS (
    SELECT d.id FROM p, districts d WHERE ST_Contains(d.geom, p.pt) ORDER BY d.id LIMIT 1
),
rule AS (
    SELECT r.id, r.unit_code
    FROM p, routing_rules r
    WHERE (r.category = p.category OR r.category IS NULL)
      AND (r.area IS NULL OR ST_Contains(r.area, p.pt))
    ORDER BY r.priority DESC, (r.category IS NULL), r.id
    LIMIT 1
),
-- As the service does: a duplicate adds a supporter to its original, and the new report gets a
-- 'created' event (plus a 'duplicate' one when it is a duplicate).
bump AS (
    UPDATE reports r SET supporters = r.supporters + 1 FROM dup WHERE r.id = dup.id RETURNING r.id
),
ins AS (
    INSERT INTO reports (category, status, description, geom, anchor, district_id, unit_code, routing_rule,
                         duplicate_of, channel, lang)
    SELECT p.category,
           CASE WHEN dup.id IS NULL THEN 'new' ELSE 'duplicate' END,
           'pgbench',
           p.pt, p.pt, district.id, rule.unit_code, rule.id, dup.id, 'web', 'pl'
    FROM p
    JOIN lock ON lock.held
    LEFT JOIN dup ON true
    LEFT JOIN district ON true
    LEFT JOIN rule ON true
    RETURNING id, duplicate_of
),
ev AS (
    INSERT INTO report_events (report_id, at, kind, status, public_note, actor)
    SELECT id, now(), 'created', 'new', NULL, 'web' FROM ins
    UNION ALL
    SELECT id, now(), 'duplicate', 'duplicate', '#' || duplicate_of, 'system' FROM ins WHERE duplicate_of IS NOT NULL
    RETURNING report_id
)
SELECT ins.id, ins.duplicate_of, (SELECT count(*) FROM bump) AS supporters_added, (SELECT count(*) FROM ev) AS events
FROM ins;
