//! GeoPackage 1.3: an SQLite file with the GeoPackage tables, the reports table (report id as the
//! feature id) and its R-tree spatial index. Rows are inserted as they come; the R-tree is not
//! filled row by row (SQLite rewrites a path of nodes for every insert, which dominated the
//! export) but written at the end as a packed tree straight into its shadow tables, from the
//! boxes in Hilbert order (external sort, `sort.rs`). Only then are the specification's R-tree
//! triggers created, so that later edits (QGIS, GDAL) keep the index in step while the export's
//! own inserts fire nothing. The file is built in a temporary file and sent, or, for a file
//! destination, built next to it and renamed onto it.
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::row::{fields, ExportRow, FieldType, Val};
use super::sort::{hilbert_key, level_sizes, Entry, Sorted, Sorter, LIMITS};
use super::wkb::{Geom, Kind};
use super::{write_time, Meta, Writer};

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

pub struct GpkgWriter<'w> {
    target: Target<'w>,
    conn: Connection,
    meta: Meta,
    geom: Geom,
    blob: Vec<u8>,
    text: Vec<u8>,
    extent: [f64; 4],
    boxes: Sorter,
    insert: String,
}

enum Target<'w> {
    /// Built in a temporary file, then copied to `out`.
    Stream(tempfile::NamedTempFile, Box<dyn Write + Send + 'w>),
    /// Built under a temporary name beside the destination, then renamed onto it.
    File(tempfile::NamedTempFile, PathBuf),
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
        Self::create(Target::Stream(file, out), meta)
    }

    /// Writes the GeoPackage at `path` (replaced only once complete).
    pub fn to_path(path: &Path, meta: &Meta) -> io::Result<Self> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file = tempfile::Builder::new()
            .prefix(".zglos-export-")
            .suffix(".gpkg")
            .tempfile_in(dir)?;
        Self::create(Target::File(file, path.to_owned()), meta)
    }

    fn create(target: Target<'w>, meta: &Meta) -> io::Result<Self> {
        let (Target::Stream(file, _) | Target::File(file, _)) = &target;
        let conn = Connection::open(file.path()).map_err(to_sql)?;
        conn.execute_batch(
            "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
             PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16000;
             PRAGMA locking_mode = EXCLUSIVE;
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
            target,
            conn,
            meta: meta.clone(),
            geom: Geom::default(),
            blob: Vec::new(),
            text: Vec::new(),
            extent: [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
            boxes: Sorter::new(LIMITS)?,
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
        let point = self.geom.kind == Some(Kind::Point);
        // GeoPackage binary: magic, version, flags (little-endian, envelope [minx,maxx,miny,maxy]
        // except for points), SRS id, then standard WKB.
        self.blob.clear();
        self.blob.extend_from_slice(b"GP\0");
        self.blob
            .push(if point { 0b0000_0001 } else { 0b0000_0011 });
        self.blob.extend_from_slice(&4326i32.to_le_bytes());
        if !point {
            for v in [b[0], b[2], b[1], b[3]] {
                self.blob.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.blob.extend_from_slice(&row.wkb);
        // Values are bound borrowed (SQLite copies them), so a row allocates nothing.
        let mut stmt = self.conn.prepare_cached(&self.insert).map_err(to_sql)?;
        stmt.raw_bind_parameter(1, row.id).map_err(to_sql)?;
        stmt.raw_bind_parameter(2, self.blob.as_slice())
            .map_err(to_sql)?;
        for (k, (i, _)) in fields(self.meta.audience).skip(1).enumerate() {
            let at = k + 3;
            match row.value(i) {
                Val::Null => stmt.raw_bind_parameter(at, rusqlite::types::Null),
                Val::Int(v) => stmt.raw_bind_parameter(at, v),
                Val::Bool(v) => stmt.raw_bind_parameter(at, v as i64),
                Val::Str(s) => stmt.raw_bind_parameter(at, s),
                Val::Time(t) => {
                    self.text.clear();
                    write_time(&mut self.text, t);
                    stmt.raw_bind_parameter(at, std::str::from_utf8(&self.text).unwrap_or_default())
                }
            }
            .map_err(to_sql)?;
        }
        stmt.raw_execute().map_err(to_sql)?;
        drop(stmt);
        self.boxes.push(
            Entry {
                key: hilbert_key(&b, &self.meta.extent),
                len: 0,
                value: row.id as u64,
                bbox: b,
            },
            &[],
        )?;
        self.extent = [
            self.extent[0].min(b[0]),
            self.extent[1].min(b[1]),
            self.extent[2].max(b[2]),
            self.extent[3].max(b[3]),
        ];
        Ok(())
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        let GpkgWriter {
            target,
            conn,
            meta,
            extent,
            boxes,
            ..
        } = *self;
        let sorted = boxes.finish()?;
        let e = if sorted.count() > 0 {
            extent.map(Some)
        } else {
            [None; 4]
        };
        conn.execute(
            "UPDATE gpkg_contents SET identifier = ?1, description = ?2, min_x = ?3, min_y = ?4, max_x = ?5, max_y = ?6
             WHERE table_name = 'reports'",
            rusqlite::params![meta.title, meta.attribution, e[0], e[1], e[2], e[3]],
        )
        .map_err(to_sql)?;
        write_rtree(&conn, "rtree_reports_geom", &sorted)?;
        // The triggers that keep the index in step with later edits (QGIS, GDAL), added once it
        // is filled so that the export's own inserts do not fire them.
        conn.execute_batch(&rtree_triggers("reports", "geom", "id"))
            .map_err(to_sql)?;
        conn.execute_batch("COMMIT;").map_err(to_sql)?;
        conn.close().map_err(|(_, e)| to_sql(e))?;
        match target {
            Target::Stream(file, mut out) => {
                let mut f = file.reopen()?;
                io::copy(&mut f, &mut out)?;
                out.flush()
            }
            Target::File(file, path) => {
                use std::os::unix::fs::PermissionsExt;
                file.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))?;
                file.persist(&path).map_err(|e| e.error)?;
                Ok(())
            }
        }
    }
}

/// SQLite's own maximum number of cells in an R-tree node (RTREE_MAXCELLS).
const RTREE_FANOUT: usize = 51;
/// A cell: 64-bit id, then min x, max x, min y, max y as 32-bit floats, all big-endian.
const RTREE_CELL: usize = 24;

/// SQLite stores boxes as f32, rounded outwards so they still contain the geometry.
fn f32_down(v: f64) -> f32 {
    let f = v as f32;
    if f as f64 > v {
        f.next_down()
    } else {
        f
    }
}
fn f32_up(v: f64) -> f32 {
    let f = v as f32;
    if (f as f64) < v {
        f.next_up()
    } else {
        f
    }
}

/// A node being filled: its cells, and the union of their boxes for its parent's cell.
struct RtreeNode {
    cells: Vec<u8>,
    count: usize,
    bbox: [f32; 4],
    written: u64,
}

/// Writes a packed R-tree into the shadow tables of the (empty) R-tree `table`, from the boxes in
/// Hilbert order: leaves of RTREE_FANOUT cells, each level above built as the one below is
/// written. Node 1 is the root; each level's nodes are numbered after those of the level above.
fn write_rtree(conn: &Connection, table: &str, sorted: &Sorted) -> io::Result<()> {
    let n = sorted.count();
    if n == 0 {
        return Ok(());
    }
    // Nodes per level, leaves first: a level of n cells needs ceil(n / fanout) nodes.
    let sizes = level_sizes(n.div_ceil(RTREE_FANOUT as u64), RTREE_FANOUT as u64);
    let first: Vec<u64> = (0..sizes.len())
        .map(|l| 1 + sizes[l + 1..].iter().sum::<u64>())
        .collect();
    // Node blobs keep the size SQLite chose when it created the table (node 1, the empty root).
    let node_size: usize = conn
        .query_row(
            &format!("SELECT length(data) FROM \"{table}_node\" WHERE nodeno = 1"),
            [],
            |r| r.get(0),
        )
        .map_err(to_sql)?;
    let mut levels: Vec<RtreeNode> = sizes
        .iter()
        .map(|_| RtreeNode {
            cells: Vec::with_capacity(RTREE_FANOUT * RTREE_CELL),
            count: 0,
            bbox: [
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::INFINITY,
                f32::NEG_INFINITY,
            ],
            written: 0,
        })
        .collect();
    let sql = Sql {
        conn,
        node: format!("INSERT OR REPLACE INTO \"{table}_node\" (nodeno, data) VALUES (?1, ?2)"),
        rowid: format!("INSERT INTO \"{table}_rowid\" (rowid, nodeno) VALUES (?1, ?2)"),
        parent: format!("INSERT INTO \"{table}_parent\" (nodeno, parentnode) VALUES (?1, ?2)"),
        node_size,
        depth: (sizes.len() - 1) as u16,
        first,
    };
    let mut merge = sorted.merge(false)?;
    while let Some(e) = merge.next()? {
        let [x0, y0, x1, y1] = e.bbox;
        sql.push(
            &mut levels,
            0,
            e.value as i64,
            [f32_down(x0), f32_up(x1), f32_down(y0), f32_up(y1)],
        )?;
    }
    for level in 0..levels.len() {
        if levels[level].count > 0 {
            sql.close(&mut levels, level)?;
        }
    }
    Ok(())
}

struct Sql<'c> {
    conn: &'c Connection,
    node: String,
    rowid: String,
    parent: String,
    node_size: usize,
    depth: u16,
    first: Vec<u64>,
}

impl Sql<'_> {
    /// Adds a cell to the pending node of `level`, writing the node when it is full.
    fn push(&self, levels: &mut [RtreeNode], level: usize, id: i64, b: [f32; 4]) -> io::Result<()> {
        let node = &mut levels[level];
        node.cells.extend_from_slice(&id.to_be_bytes());
        for v in b {
            node.cells.extend_from_slice(&v.to_be_bytes());
        }
        node.count += 1;
        node.bbox = [
            node.bbox[0].min(b[0]),
            node.bbox[1].max(b[1]),
            node.bbox[2].min(b[2]),
            node.bbox[3].max(b[3]),
        ];
        if level == 0 {
            let nodeno = self.first[0] + node.written;
            let mut stmt = self.conn.prepare_cached(&self.rowid).map_err(to_sql)?;
            stmt.execute((id, nodeno as i64)).map_err(to_sql)?;
        }
        if node.count == RTREE_FANOUT {
            self.close(levels, level)?;
        }
        Ok(())
    }

    /// Writes the pending node of `level` and adds its cell to the level above.
    fn close(&self, levels: &mut [RtreeNode], level: usize) -> io::Result<()> {
        let node = &mut levels[level];
        let nodeno = self.first[level] + node.written;
        let mut data = vec![0u8; self.node_size];
        if nodeno == 1 {
            data[0..2].copy_from_slice(&self.depth.to_be_bytes());
        }
        data[2..4].copy_from_slice(&(node.count as u16).to_be_bytes());
        data[4..4 + node.cells.len()].copy_from_slice(&node.cells);
        self.conn
            .prepare_cached(&self.node)
            .map_err(to_sql)?
            .execute((nodeno as i64, &data))
            .map_err(to_sql)?;
        let bbox = node.bbox;
        node.cells.clear();
        node.count = 0;
        node.bbox = [
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        node.written += 1;
        if level + 1 < levels.len() {
            let parent = self.first[level + 1] + levels[level + 1].written;
            self.conn
                .prepare_cached(&self.parent)
                .map_err(to_sql)?
                .execute((nodeno as i64, parent as i64))
                .map_err(to_sql)?;
            self.push(levels, level + 1, nodeno as i64, bbox)?;
        }
        Ok(())
    }
}

/// The spatial index triggers of GeoPackage 1.3 (Annex F.3, "RTree Spatial Indexes"), as the
/// specification gives them, for table `t`, geometry column `c` and integer primary key `i`.
fn rtree_triggers(t: &str, c: &str, i: &str) -> String {
    RTREE_TRIGGERS
        .replace("<t>", t)
        .replace("<c>", c)
        .replace("<i>", i)
}

const RTREE_TRIGGERS: &str = "
/* Conditions: Insertion of non-empty geometry
   Actions   : Insert record into rtree */
CREATE TRIGGER rtree_<t>_<c>_insert AFTER INSERT ON <t>
  WHEN (new.<c> NOT NULL AND NOT ST_IsEmpty(NEW.<c>))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_<c> VALUES (
    NEW.<i>,
    ST_MinX(NEW.<c>), ST_MaxX(NEW.<c>),
    ST_MinY(NEW.<c>), ST_MaxY(NEW.<c>)
  );
END;

/* Conditions: Update of geometry column to non-empty geometry
               No row ID change
   Actions   : Update record in rtree */
CREATE TRIGGER rtree_<t>_<c>_update1 AFTER UPDATE OF <c> ON <t>
  WHEN OLD.<i> = NEW.<i> AND
       (NEW.<c> NOTNULL AND NOT ST_IsEmpty(NEW.<c>))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_<c> VALUES (
    NEW.<i>,
    ST_MinX(NEW.<c>), ST_MaxX(NEW.<c>),
    ST_MinY(NEW.<c>), ST_MaxY(NEW.<c>)
  );
END;

/* Conditions: Update of geometry column to empty geometry
               No row ID change
   Actions   : Remove record from rtree */
CREATE TRIGGER rtree_<t>_<c>_update2 AFTER UPDATE OF <c> ON <t>
  WHEN OLD.<i> = NEW.<i> AND
       (NEW.<c> ISNULL OR ST_IsEmpty(NEW.<c>))
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id = OLD.<i>;
END;

/* Conditions: Update of any column
               Row ID change
               Non-empty geometry
   Actions   : Remove record from rtree for old <i>
               Insert record into rtree for new <i> */
CREATE TRIGGER rtree_<t>_<c>_update3 AFTER UPDATE ON <t>
  WHEN OLD.<i> != NEW.<i> AND
       (NEW.<c> NOTNULL AND NOT ST_IsEmpty(NEW.<c>))
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id = OLD.<i>;
  INSERT OR REPLACE INTO rtree_<t>_<c> VALUES (
    NEW.<i>,
    ST_MinX(NEW.<c>), ST_MaxX(NEW.<c>),
    ST_MinY(NEW.<c>), ST_MaxY(NEW.<c>)
  );
END;

/* Conditions: Update of any column
               Row ID change
               Empty geometry
   Actions   : Remove record from rtree for old and new <i> */
CREATE TRIGGER rtree_<t>_<c>_update4 AFTER UPDATE ON <t>
  WHEN OLD.<i> != NEW.<i> AND
       (NEW.<c> ISNULL OR ST_IsEmpty(NEW.<c>))
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id IN (OLD.<i>, NEW.<i>);
END;

/* Conditions: Row deleted
   Actions   : Remove record from rtree for old <i> */
CREATE TRIGGER rtree_<t>_<c>_delete AFTER DELETE ON <t>
  WHEN old.<c> NOT NULL
BEGIN
  DELETE FROM rtree_<t>_<c> WHERE id = OLD.<i>;
END;
";

/// Registers on `conn` the SQL functions of the GeoPackage SQLite extension that the R-tree
/// triggers call (`ST_IsEmpty`, `ST_MinX`, `ST_MaxX`, `ST_MinY`, `ST_MaxY`), so that a GeoPackage
/// can be edited with plain SQLite as GDAL or QGIS would edit it (tests do).
pub fn register_rtree_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        let blob: Option<Vec<u8>> = ctx.get(0)?;
        Ok(blob.map(|b| gpb_bbox(&b).is_none() as i64))
    })?;
    for (name, k) in [
        ("ST_MinX", 0),
        ("ST_MinY", 1),
        ("ST_MaxX", 2),
        ("ST_MaxY", 3),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            let blob: Option<Vec<u8>> = ctx.get(0)?;
            Ok(blob.as_deref().and_then(gpb_bbox).map(|b| b[k]))
        })?;
    }
    Ok(())
}

/// [west, south, east, north] of a GeoPackage geometry blob; `None` if empty or unreadable.
fn gpb_bbox(blob: &[u8]) -> Option<[f64; 4]> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return None;
    }
    let flags = blob[3];
    if flags & 0b1_0000 != 0 {
        return None;
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return None,
    };
    let mut g = Geom::default();
    g.read(blob.get(8 + envelope..)?).ok()?;
    Some(g.bbox()).filter(|b| b[0] <= b[2])
}

fn insert_sql(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO reports VALUES ({})", marks.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testing::{ids_in, meta, rows};

    #[test]
    fn packed_rtree_passes_sqlite_checks_and_answers_bbox_queries() {
        // 51 × 51 leaves hold 2601 features: 3000 need a third level.
        for n in [0, 1, 51, 52, 3000] {
            let rows = rows(n);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.gpkg");
            let mut w: Box<dyn Writer> = Box::new(GpkgWriter::to_path(&path, &meta()).unwrap());
            for r in &rows {
                w.row(r).unwrap();
            }
            w.finish().unwrap();
            assert_eq!(
                std::fs::read_dir(dir.path()).unwrap().count(),
                1,
                "only the GeoPackage is left"
            );
            let conn = Connection::open(&path).unwrap();
            let check: String = conn
                .query_row("SELECT rtreecheck('rtree_reports_geom')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok", "{n} features");
            let count: i64 = conn
                .query_row("SELECT count(*) FROM rtree_reports_geom", [], |r| r.get(0))
                .unwrap();
            assert_eq!(count, n as i64);
            let bbox = [19.8501, 50.02005, 19.8701, 50.03005];
            let mut stmt = conn.prepare("SELECT id FROM rtree_reports_geom WHERE maxx >= ?1 AND minx <= ?3 AND maxy >= ?2 AND miny <= ?4 ORDER BY id").unwrap();
            let found: Vec<i64> = stmt
                .query_map(bbox, |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(found, ids_in(&rows, bbox), "{n} features");
        }
    }

    /// A GeoPackage point blob (little-endian, no envelope).
    fn gp_point(x: f64, y: f64) -> Vec<u8> {
        let mut b = b"GP\0\x01".to_vec();
        b.extend(4326i32.to_le_bytes());
        b.push(1);
        b.extend(1u32.to_le_bytes());
        b.extend(x.to_le_bytes());
        b.extend(y.to_le_bytes());
        b
    }

    #[test]
    fn edits_after_the_export_update_the_spatial_index_through_the_triggers() {
        let rows = rows(120);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.gpkg");
        let mut w: Box<dyn Writer> = Box::new(GpkgWriter::to_path(&path, &meta()).unwrap());
        for r in &rows {
            w.row(r).unwrap();
        }
        w.finish().unwrap();
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reports' ORDER BY name")
            .unwrap();
        let triggers: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            triggers,
            [
                "rtree_reports_geom_delete",
                "rtree_reports_geom_insert",
                "rtree_reports_geom_update1",
                "rtree_reports_geom_update2",
                "rtree_reports_geom_update3",
                "rtree_reports_geom_update4"
            ]
        );
        register_rtree_functions(&conn).unwrap();
        let boxed = |id: i64| -> Option<[f64; 4]> {
            conn.query_row(
                "SELECT minx, miny, maxx, maxy FROM rtree_reports_geom WHERE id = ?1",
                [id],
                |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
            )
            .ok()
        };
        let holds = |b: [f64; 4], x: f64, y: f64| b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3];
        let check = || -> String {
            conn.query_row("SELECT rtreecheck('rtree_reports_geom')", [], |r| r.get(0))
                .unwrap()
        };

        conn.execute(
            "INSERT INTO reports (id, geom, category) VALUES (1000, ?1, 'pothole')",
            [gp_point(20.05, 50.09)],
        )
        .unwrap();
        assert!(holds(boxed(1000).unwrap(), 20.05, 50.09));
        conn.execute(
            "UPDATE reports SET geom = ?1 WHERE id = 1000",
            [gp_point(19.81, 50.01)],
        )
        .unwrap();
        let b = boxed(1000).unwrap();
        assert!(holds(b, 19.81, 50.01) && !holds(b, 20.05, 50.09));
        conn.execute("UPDATE reports SET id = 1001 WHERE id = 1000", [])
            .unwrap();
        assert!(boxed(1000).is_none() && holds(boxed(1001).unwrap(), 19.81, 50.01));
        conn.execute("DELETE FROM reports WHERE id IN (1001, 7)", [])
            .unwrap();
        assert!(boxed(1001).is_none() && boxed(7).is_none());
        assert_eq!(check(), "ok");
        let count: i64 = conn
            .query_row("SELECT count(*) FROM rtree_reports_geom", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 119);
    }
}
