-- Deadlines in working days. The city's calendar (city.json "calendar": whose public holidays,
-- the local time zone, extra days off and extra working days), the targets per category and
-- optionally per unit (targets.csv), and the two dates each report gets at routing: when it
-- should have a first response and when it should be fixed. `expected_at` (the date residents
-- see) starts as the fix date and moves when staff set their own.
ALTER TABLE city ADD COLUMN calendar jsonb NOT NULL DEFAULT '{}'::jsonb;

CREATE TABLE deadline_targets (
    category      text NOT NULL REFERENCES categories (code),
    unit_code     text REFERENCES units (code),
    response_days integer NOT NULL CHECK (response_days BETWEEN 0 AND 260),
    fix_days      integer NOT NULL CHECK (fix_days BETWEEN response_days AND 260),
    UNIQUE NULLS NOT DISTINCT (category, unit_code)
);

ALTER TABLE reports ADD COLUMN response_due date;
ALTER TABLE reports ADD COLUMN fix_due date;

-- Escalation: one row per report, kind and deadline once its mail is queued, so that several
-- service processes never send it twice, and a deadline that staff move can escalate again.
CREATE TABLE escalations (
    report_id bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    kind      text NOT NULL CHECK (kind IN ('warning', 'overdue', 'no_response')),
    deadline  date NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report_id, kind, deadline)
);

-- The weekly digest per unit, once per unit and week.
CREATE TABLE unit_digests (
    unit_code text NOT NULL REFERENCES units (code),
    week      date NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, week)
);

-- city.json "escalation": when to warn (a share of the working days to the deadline) and who hears.
ALTER TABLE city ADD COLUMN escalation jsonb NOT NULL DEFAULT '{}'::jsonb;

-- Units that work in their own systems push status back with an API key of the role
-- `unit_system`, scoped to one unit.
ALTER TABLE api_keys ADD COLUMN unit_code text REFERENCES units (code);
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('open311', 'analyst', 'unit_system'));
ALTER TABLE api_keys ADD CONSTRAINT api_keys_unit_scope
    CHECK ((role = 'unit_system') = (unit_code IS NOT NULL));

-- Messages also go as HTML (the category's icon and name above the text) beside the plain text.
ALTER TABLE outbox ADD COLUMN html_body text;
-- Whether the pack gives the category an SVG icon (served as /icons/{code}.svg).
ALTER TABLE categories ADD COLUMN has_icon boolean NOT NULL DEFAULT false;
