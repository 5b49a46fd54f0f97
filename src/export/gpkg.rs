//! GeoPackage 1.3: a temporary SQLite file with the GeoPackage tables, the reports table (report id
//! as the feature id), its R-tree spatial index, then the file is sent.
use std::io::{self, Write};

use rusqlite::{params_from_iter, types::Value as SqlValue, Connection};

use super::wkb::Geom;
use super::{write_time, Meta, Writer};
use crate::storage::exports::{fields, ExportRow, FieldType, Val};

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

pub struct GpkgWriter<'w> {
    out: Box<dyn Write + Send + 'w>,
    file: tempfile::NamedTempFile,
    conn: Connection,
    meta: Meta,
    geom: Geom,
    blob: Vec<u8>,
    text: Vec<u8>,
    extent: [f64; 4],
    count: u64,
    insert: String,
}

fn to_sql(e: rusqlite::Error) -> io::Error {
    io::Error::other(format!("GeoPackage: {e}"))
}

fn sql_type(t: FieldType) -> &'static str {
    match t {
        FieldType::Long | FieldType::Int => "INTEGER",
        FieldType::Text => "TEXT",
        FieldType::Bool => "BOOLEAN",
        FieldType::Time => "DATETIME",
    }
}

impl<'w> GpkgWriter<'w> {
    pub fn new(out: Box<dyn Write + Send + 'w>, meta: &Meta) -> io::Result<Self> {
        let file = tempfile::Builder::new().suffix(".gpkg").tempfile()?;
        let conn = Connection::open(file.path()).map_err(to_sql)?;
        conn.execute_batch(
            "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
             PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16000;
             CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
                 organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
             CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
                 description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                 min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
                 CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
             CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
                 srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
                 CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
                 CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
                 CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
             CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
                 scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
             INSERT INTO gpkg_spatial_ref_sys VALUES
                 ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
                 ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');",
        )
        .map_err(to_sql)?;
        conn.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')", [WGS84_WKT])
            .map_err(to_sql)?;
        let mut ddl = String::from("CREATE TABLE reports (id INTEGER PRIMARY KEY, geom GEOMETRY");
        for (_, f) in fields(meta.audience).skip(1) {
            ddl.push_str(&format!(", \"{}\" {}", f.name, sql_type(f.ty)));
        }
        ddl.push(')');
        conn.execute_batch(&ddl).map_err(to_sql)?;
        conn.execute_batch(
            "CREATE VIRTUAL TABLE rtree_reports_geom USING rtree(id, minx, maxx, miny, maxy);
             INSERT INTO gpkg_extensions VALUES ('reports', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
             INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('reports', 'features', 'reports', 4326);
             INSERT INTO gpkg_geometry_columns VALUES ('reports', 'geom', 'GEOMETRY', 4326, 0, 0);
             BEGIN;",
        )
        .map_err(to_sql)?;
        Ok(Self {
            out,
            file,
            conn,
            meta: meta.clone(),
            geom: Geom::default(),
            blob: Vec::new(),
            text: Vec::new(),
            extent: [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
            count: 0,
            insert: insert_sql(fields(meta.audience).count() + 1),
        })
    }
}

impl Writer for GpkgWriter<'_> {
    fn row(&mut self, row: &ExportRow) -> io::Result<()> {
        if self.geom.read(&row.wkb).is_err() {
            return Ok(());
        }
        let b = self.geom.bbox();
        let point = self.geom.kind == Some(super::wkb::Kind::Point);
        // GeoPackage binary: magic, version, flags (little-endian, envelope [minx,maxx,miny,maxy]
        // except for points), SRS id, then standard WKB.
        self.blob.clear();
        self.blob.extend_from_slice(b"GP\0");
        self.blob.push(if point { 0b0000_0001 } else { 0b0000_0011 });
        self.blob.extend_from_slice(&4326i32.to_le_bytes());
        if !point {
            for v in [b[0], b[2], b[1], b[3]] {
                self.blob.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.blob.extend_from_slice(&row.wkb);
        let mut values: Vec<SqlValue> = Vec::with_capacity(24);
        values.push(SqlValue::Integer(row.id));
        values.push(SqlValue::Blob(std::mem::take(&mut self.blob)));
        for (i, _) in fields(self.meta.audience).skip(1) {
            values.push(match row.value(i) {
                Val::Null => SqlValue::Null,
                Val::Int(v) => SqlValue::Integer(v),
                Val::Bool(v) => SqlValue::Integer(v as i64),
                Val::Str(s) => SqlValue::Text(s.to_owned()),
                Val::Time(t) => {
                    self.text.clear();
                    write_time(&mut self.text, t);
                    SqlValue::Text(String::from_utf8_lossy(&self.text).into_owned())
                }
            });
        }
        {
            let mut stmt = self.conn.prepare_cached(&self.insert).map_err(to_sql)?;
            stmt.execute(params_from_iter(values.iter())).map_err(to_sql)?;
            let mut rt = self.conn.prepare_cached("INSERT INTO rtree_reports_geom VALUES (?1, ?2, ?3, ?4, ?5)").map_err(to_sql)?;
            rt.execute(rusqlite::params![row.id, b[0], b[2], b[1], b[3]]).map_err(to_sql)?;
        }
        if let Some(SqlValue::Blob(blob)) = values.into_iter().nth(1) {
            self.blob = blob;
        }
        self.extent = [self.extent[0].min(b[0]), self.extent[1].min(b[1]), self.extent[2].max(b[2]), self.extent[3].max(b[3])];
        self.count += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let e = if self.count > 0 { self.extent.map(Some) } else { [None; 4] };
        self.conn
            .execute(
                "UPDATE gpkg_contents SET identifier = ?1, description = ?2, min_x = ?3, min_y = ?4, max_x = ?5, max_y = ?6
                 WHERE table_name = 'reports'",
                rusqlite::params![self.meta.title, self.meta.attribution, e[0], e[1], e[2], e[3]],
            )
            .map_err(to_sql)?;
        self.conn.execute_batch("COMMIT;").map_err(to_sql)?;
        let conn = self.conn;
        conn.close().map_err(|(_, e)| to_sql(e))?;
        let mut f = self.file.reopen()?;
        io::copy(&mut f, &mut self.out)?;
        self.out.flush()
    }
}

fn insert_sql(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO reports VALUES ({})", marks.join(", "))
}
