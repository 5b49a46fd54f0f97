-- Addresses: the city's gazetteer (built at import from the data pack) and the address every
-- report is given at submission.

-- What address search and reverse lookup know, as imported: streets (their lines), address
-- points, and named places. `source` says where an entry came from: `basemap` (derived from the
-- OpenStreetMap basemap), `official` (the city's address register, which wins over derived
-- points of the same street and number) or `pack` (districts and stops of the city pack).
CREATE TABLE gazetteer (
    id        bigserial PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('street', 'address', 'poi', 'stop', 'district')),
    name      text NOT NULL,          -- the street of a street or address; the place's name otherwise
    number    text,                   -- the house number of an address
    postcode  text,
    category  text,                   -- a street's class rank (1-3), a place's basemap class
    source    text NOT NULL CHECK (source IN ('basemap', 'official', 'pack')),
    geom      geometry(Geometry, 4326) NOT NULL,
    CHECK ((kind = 'address') = (number IS NOT NULL))
);

-- The reverse-geocoded address of a report's anchor at submission (or at a staff edit of its
-- geometry): an address point within 50 m, else "near <street>", else the district.
ALTER TABLE reports ADD COLUMN address_street text;
ALTER TABLE reports ADD COLUMN address_number text;
ALTER TABLE reports ADD COLUMN address_label text;
