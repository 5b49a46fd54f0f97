-- Photos, re-encoded on upload (which drops every piece of metadata, GPS included).
-- Uploaded first, then attached to a report when it is submitted.
CREATE TABLE photos (
    id          text PRIMARY KEY,                 -- random, unguessable
    report_id   bigint REFERENCES reports (id),
    kind        text NOT NULL DEFAULT 'report',   -- report: from the resident; after: from the city
    width       integer NOT NULL,
    height      integer NOT NULL,
    image       bytea NOT NULL,                   -- JPEG, at most 2048 px on the long side
    thumbnail   bytea NOT NULL,                   -- JPEG, at most 320 px
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photos_report ON photos (report_id) WHERE report_id IS NOT NULL;
