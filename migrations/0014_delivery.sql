-- Units that work in their own systems. Each unit's delivery channel (units.csv: inbox, email,
-- open311 or webhook, with its address or URL and secret) is kept as JSON; every outbound HTTP
-- delivery is a row here, written in the transaction of the change it reports and sent by the
-- delivery worker: a receiver that is down delays it, never loses it. After the set number of
-- attempts a delivery (or a mail of the outbox) is "dead": it waits in the dead-letter list
-- until an admin retries it.
ALTER TABLE units ADD COLUMN delivery jsonb NOT NULL DEFAULT '{"channel": "inbox"}'::jsonb;

CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    -- The CloudEvents id: the same on every attempt, so receivers drop what they already have.
    event_id        text NOT NULL UNIQUE DEFAULT gen_random_uuid()::text,
    unit_code       text NOT NULL REFERENCES units (code),
    report_id       bigint REFERENCES reports (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('webhook', 'open311')),
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    dead_at         timestamptz,
    last_error      text
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX deliveries_report ON deliveries (report_id, unit_code, id);

-- A report as a unit's Open311 endpoint knows it: the id it returned (or the token to find it
-- by) and what polling last read back, so that a status is applied once.
CREATE TABLE unit_requests (
    report_id     bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    unit_code     text NOT NULL REFERENCES units (code),
    external_id   text,
    token         text,
    remote_closed boolean NOT NULL DEFAULT false,
    remote_notes  text,
    remote_expected date,
    polled_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report_id, unit_code),
    CHECK (external_id IS NOT NULL OR token IS NOT NULL)
);

ALTER TABLE outbox ADD COLUMN dead_at timestamptz;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;

-- The manage page of a resident's signed link: updates stopped (and resumed) without erasing
-- anything, for the reporter and for each subscriber.
ALTER TABLE reports ADD COLUMN updates_off boolean NOT NULL DEFAULT false;
ALTER TABLE subscriptions ADD COLUMN paused boolean NOT NULL DEFAULT false;
