-- Web Push: a device's subscription (the push service's endpoint and the keys to encrypt for)
-- and the reports it follows (filed, supported or followed from that device). A push goes
-- through `deliveries` like every outbound message: a push service that is down delays it,
-- never loses it; a subscription the service says is gone (404, 410) is removed with its
-- pending pushes.
CREATE TABLE push_subscriptions (
    id         bigserial PRIMARY KEY,
    endpoint   text NOT NULL UNIQUE,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    lang       text NOT NULL DEFAULT 'pl',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE push_follows (
    subscription_id bigint NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    report_id       bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, report_id)
);
CREATE INDEX push_follows_report ON push_follows (report_id);

ALTER TABLE deliveries ALTER COLUMN unit_code DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN subscription_id bigint REFERENCES push_subscriptions (id) ON DELETE CASCADE;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_check CHECK (kind IN ('webhook', 'open311', 'push'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_target CHECK ((kind = 'push') = (subscription_id IS NOT NULL AND unit_code IS NULL));
