-- The status workflow as data, the audit log, and the mail outbox.
ALTER TABLE reports ADD COLUMN expected_at date;
ALTER TABLE reports ADD COLUMN resolved_at timestamptz;

CREATE TABLE status_transitions (
    from_status text NOT NULL REFERENCES statuses (code),
    to_status   text NOT NULL REFERENCES statuses (code),
    PRIMARY KEY (from_status, to_status)
);
-- "rejected" means "not ours": the report is rerouted to the unit it belongs to (which then
-- sees it as new). Reopening is a move from a closed status back to "acknowledged".
INSERT INTO status_transitions (from_status, to_status) VALUES
    ('new', 'acknowledged'), ('new', 'planned'), ('new', 'in_progress'), ('new', 'resolved'),
    ('new', 'rejected'), ('new', 'closed'),
    ('acknowledged', 'planned'), ('acknowledged', 'in_progress'), ('acknowledged', 'resolved'),
    ('acknowledged', 'rejected'), ('acknowledged', 'closed'),
    ('planned', 'in_progress'), ('planned', 'resolved'), ('planned', 'closed'), ('planned', 'rejected'),
    ('in_progress', 'planned'), ('in_progress', 'resolved'), ('in_progress', 'closed'),
    ('resolved', 'closed'), ('resolved', 'acknowledged'),
    ('closed', 'acknowledged'),
    ('duplicate', 'acknowledged');

-- Who changed what, when, with the state before and after.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint REFERENCES users (id),
    actor      text NOT NULL,
    action     text NOT NULL,
    report_id  bigint REFERENCES reports (id),
    before     jsonb,
    after      jsonb
);
CREATE INDEX audit_log_report ON audit_log (report_id, at);

-- Mail to residents is written here in the same transaction as the change it reports, and sent
-- by a worker: a mail server outage delays messages but never loses them.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    report_id       bigint REFERENCES reports (id),
    to_email        text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_error      text
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;
