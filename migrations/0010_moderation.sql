-- Moderation and privacy: the abuse list, held reports, redaction, withdrawal links, retention.

-- Addresses, phones and client address ranges whose reports are held for staff.
-- `value` is normalised: an email lower-cased, a phone as its digits (with a leading +), a range
-- as PostgreSQL prints the cidr.
CREATE TABLE abuse_list (
    id        bigserial PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('email', 'phone', 'cidr')),
    value     text NOT NULL,
    net       cidr,                        -- the range, for kind = 'cidr'
    note      text,
    added_by  text NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value),
    CHECK ((kind = 'cidr') = (net IS NOT NULL))
);

-- A held report is stored but not public, not routed, and no dedup original.
--   moderation NULL      never held
--              held      waiting in the moderation queue
--              rejected  refused by staff: stays stored, never public
--              released  held once, then made public by staff
ALTER TABLE reports ADD COLUMN moderation text
    CHECK (moderation IN ('held', 'rejected', 'released'));
ALTER TABLE reports ADD COLUMN held boolean
    GENERATED ALWAYS AS (coalesce(moderation IN ('held', 'rejected'), false)) STORED;
ALTER TABLE reports ADD COLUMN hold_reason text
    CHECK (hold_reason IN ('abuse_list', 'withdrawal_requested'));
ALTER TABLE reports ADD COLUMN moderated_at timestamptz;
ALTER TABLE reports ADD COLUMN moderation_note text;
-- Redaction: the reason the description is hidden from the public (NULL: shown).
ALTER TABLE reports ADD COLUMN description_hidden text;
-- When the reporter's contact was erased (a withdrawal link or retention).
ALTER TABLE reports ADD COLUMN contact_erased_at timestamptz;
CREATE INDEX reports_held ON reports (created_at) WHERE held;

-- Redaction of a photo: the reason it is hidden from the public (NULL: shown).
ALTER TABLE photos ADD COLUMN hidden text;
-- Retention: when the full-size image was replaced by the thumbnail.
ALTER TABLE photos ADD COLUMN original_dropped_at timestamptz;

-- Moderation actions name a reason; abuse-list actions have no report.
ALTER TABLE audit_log ADD COLUMN reason text;

-- Secrets the service generates once: the key that signs the links in mail to residents.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- 244 random bits from two version-4 UUIDs (core PostgreSQL, no extension needed).
INSERT INTO server_secrets (name, value)
VALUES ('link_hmac', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- The city's retention settings from its pack (city.json, "retention"); NULL: the defaults.
ALTER TABLE city ADD COLUMN retention jsonb;
