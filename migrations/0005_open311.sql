-- Open311 GeoReport v2: which app filed a request (its token) and the media links it gave.
-- Remote media are stored as links only; the service never fetches them.
CREATE TABLE open311_requests (
    report_id   bigint PRIMARY KEY REFERENCES reports (id),
    token       text NOT NULL UNIQUE,
    app_name    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE report_media_links (
    id          bigserial PRIMARY KEY,
    report_id   bigint NOT NULL REFERENCES reports (id),
    url         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_media_links_report ON report_media_links (report_id);
