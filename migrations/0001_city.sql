-- City configuration: everything a city loads as data (districts, units, categories, routing rules).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE city (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one city per database
    slug        text NOT NULL,
    name        text NOT NULL,
    boundary    geometry(MultiPolygon, 4326) NOT NULL,
    attribution text NOT NULL,
    near_border_m double precision NOT NULL DEFAULT 10,
    map         jsonb NOT NULL DEFAULT '{}',
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE districts (
    id        integer PRIMARY KEY,
    code      text NOT NULL,
    name      text NOT NULL,
    full_name text NOT NULL,
    geom      geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX districts_geom ON districts USING gist (geom);

CREATE TABLE units (
    code     text PRIMARY KEY,
    name     text NOT NULL,
    handles  text NOT NULL DEFAULT '',
    contact  text NOT NULL DEFAULT '',
    sources  text NOT NULL DEFAULT ''
);

CREATE TABLE statuses (
    code       text PRIMARY KEY,
    name_pl    text NOT NULL,
    name_en    text NOT NULL,
    is_open    boolean NOT NULL,
    sort_order integer NOT NULL
);

CREATE TABLE categories (
    code              text PRIMARY KEY,
    name_pl           text NOT NULL,
    name_en           text NOT NULL,
    group_code        text NOT NULL,
    geometry_kinds    text[] NOT NULL,           -- subset of {point,line,area}
    dedup_radius_m    double precision NOT NULL CHECK (dedup_radius_m >= 0),
    dedup_window_days integer NOT NULL CHECK (dedup_window_days > 0),
    color             text NOT NULL DEFAULT '#666666',
    icon              text NOT NULL DEFAULT '',
    sort_order        integer NOT NULL DEFAULT 0
);

CREATE TABLE routing_rules (
    id        text PRIMARY KEY,
    category  text REFERENCES categories (code),  -- NULL: any category
    area_name text,
    area      geometry(MultiPolygon, 4326),       -- NULL: the whole city
    unit_code text NOT NULL REFERENCES units (code),
    priority  integer NOT NULL,
    note      text NOT NULL DEFAULT ''
);
