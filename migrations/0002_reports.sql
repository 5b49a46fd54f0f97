-- Reports and their public timeline.
--
-- `rev` orders changes: every insert or update takes a fresh value from report_rev_seq. Writers hold
-- the per-category advisory lock while they change a report, so within one category `rev` grows in
-- commit order, which lets each service process catch its in-memory index up with `rev > last_seen`.
CREATE SEQUENCE report_rev_seq;

-- The status vocabulary is the product's, not a city's: every city shares one workflow.
INSERT INTO statuses (code, name_pl, name_en, is_open, sort_order) VALUES
    ('new',          'Nowe',            'New',          true,  10),
    ('acknowledged', 'Przyjęte',        'Acknowledged', true,  20),
    ('planned',      'Zaplanowane',     'Planned',      true,  30),
    ('in_progress',  'W realizacji',    'In progress',  true,  40),
    ('resolved',     'Rozwiązane',      'Resolved',     false, 50),
    ('rejected',     'Odrzucone',       'Rejected',     false, 60),
    ('duplicate',    'Duplikat',        'Duplicate',    false, 70),
    ('closed',       'Zamknięte',       'Closed',       false, 80);

CREATE TABLE reports (
    id             bigserial PRIMARY KEY,
    category       text NOT NULL REFERENCES categories (code),
    status         text NOT NULL DEFAULT 'new' REFERENCES statuses (code),
    description    text NOT NULL,
    geom           geometry(Geometry, 4326) NOT NULL,
    anchor         geometry(Point, 4326) NOT NULL,    -- representative point (routing, clustering)
    district_id    integer REFERENCES districts (id),
    unit_code      text REFERENCES units (code),
    routing_rule   text,
    near_border    boolean NOT NULL DEFAULT false,
    duplicate_of   bigint REFERENCES reports (id),
    supporters     integer NOT NULL DEFAULT 1,
    channel        text NOT NULL DEFAULT 'web'
                   CHECK (channel IN ('web', 'mobile', 'phone', 'email', 'open311', 'staff')),
    lang           text NOT NULL DEFAULT 'pl',
    contact_name   text,
    contact_email  text,
    contact_phone  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    rev            bigint NOT NULL DEFAULT nextval('report_rev_seq')
);
CREATE INDEX reports_geom ON reports USING gist (geom);
CREATE INDEX reports_category_rev ON reports (category, rev);
CREATE INDEX reports_created ON reports (created_at, id);
CREATE INDEX reports_duplicate_of ON reports (duplicate_of) WHERE duplicate_of IS NOT NULL;

CREATE FUNCTION reports_bump_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rev := nextval('report_rev_seq');
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER reports_bump_rev BEFORE UPDATE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_bump_rev();

-- The public timeline of a report; internal notes never leave staff views.
CREATE TABLE report_events (
    id            bigserial PRIMARY KEY,
    report_id     bigint NOT NULL REFERENCES reports (id),
    at            timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL,          -- created, duplicate, support, status
    status        text REFERENCES statuses (code),
    public_note   text,
    internal_note text,
    actor         text
);
CREATE INDEX report_events_report ON report_events (report_id, at);

-- "Me too": a resident supports an existing report without filing a new one.
CREATE TABLE supports (
    id         bigserial PRIMARY KEY,
    report_id  bigint NOT NULL REFERENCES reports (id),
    channel    text NOT NULL DEFAULT 'web',
    email      text,
    lang       text NOT NULL DEFAULT 'pl',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Residents who asked to hear about changes to a report.
CREATE TABLE subscriptions (
    id         bigserial PRIMARY KEY,
    report_id  bigint NOT NULL REFERENCES reports (id),
    email      text NOT NULL,
    lang       text NOT NULL DEFAULT 'pl',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (report_id, email)
);

-- A retried POST with the same Idempotency-Key returns the report it created the first time.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY,
    request_hash text NOT NULL,
    report_id    bigint NOT NULL REFERENCES reports (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
