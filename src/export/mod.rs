//! Streamed exports of reports: GeoJSON (RFC 7946), CSV (lon/lat and WKT), FlatGeobuf (with its
//! packed Hilbert R-tree) and GeoPackage. Rows come from PostGIS in batches over a bounded channel
//! and are written on a blocking thread, so memory stays flat whatever the size: GeoJSON and CSV
//! go straight out; FlatGeobuf and GeoPackage sort their spatial index externally (`sort.rs`),
//! FlatGeobuf spilling features to temporary files, GeoPackage building an SQLite file.
//!
//! This module only encodes: the rows come from `storage::exports`, which reads and decodes them.
pub mod fgb;
pub mod gpkg;
pub mod row;
pub mod sort;
pub mod wkb;

use std::io::{self, Write};

use bytes::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use tokio::sync::mpsc;

use crate::domain::query::Audience;
use row::{fields, ExportRow, Val};
use wkb::{json_str, Geom};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Csv,
    Fgb,
    Gpkg,
}

impl Format {
    pub fn parse(ext: &str) -> Option<Self> {
        match ext {
            "geojson" => Some(Self::GeoJson),
            "csv" => Some(Self::Csv),
            "fgb" => Some(Self::Fgb),
            "gpkg" => Some(Self::Gpkg),
            _ => None,
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::GeoJson => "geojson",
            Self::Csv => "csv",
            Self::Fgb => "fgb",
            Self::Gpkg => "gpkg",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GeoJson => "application/geo+json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Fgb => "application/flatgeobuf",
            Self::Gpkg => "application/geopackage+sqlite3",
        }
    }
}

/// What every export says about itself.
#[derive(Debug, Clone)]
pub struct Meta {
    pub title: String,
    pub attribution: String,
    pub audience: Audience,
    /// The city's [west, south, east, north]: the frame of the spatial indexes' Hilbert keys,
    /// known before the first row (reports outside it still export, in a less tidy index).
    pub extent: [f64; 4],
}

impl Meta {
    pub fn new(
        city: &str,
        districts_attribution: &str,
        audience: Audience,
        extent: [f64; 4],
    ) -> Self {
        Self {
            title: format!("Zgłoś reports, {city}"),
            attribution: format!("Reports: residents of {city} via Zgłoś. {districts_attribution}"),
            audience,
            extent,
        }
    }
}

/// A batch of rows from the reader, decoded one at a time on the writer's thread.
pub trait Batch: Send {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Decodes row `i` into `out`, reusing its buffers.
    fn decode_into(&self, i: usize, out: &mut ExportRow) -> io::Result<()>;
}

/// Writes rows in one format to `out`; returns how many were written.
pub trait Writer {
    fn row(&mut self, row: &ExportRow) -> io::Result<()>;
    fn finish(self: Box<Self>) -> io::Result<()>;
}

pub fn writer<'w>(
    format: Format,
    meta: &Meta,
    out: Box<dyn Write + Send + 'w>,
) -> io::Result<Box<dyn Writer + 'w>> {
    Ok(match format {
        Format::GeoJson => Box::new(GeoJsonWriter::new(out, meta)?),
        Format::Csv => Box::new(CsvWriter::new(out, meta)?),
        Format::Fgb => Box::new(fgb::FgbWriter::new(out, meta)?),
        Format::Gpkg => Box::new(gpkg::GpkgWriter::new(out, meta)?),
    })
}

/// A writer to a file: GeoPackages are built in place, the others written through a buffer.
pub fn file_writer(
    format: Format,
    meta: &Meta,
    path: &std::path::Path,
) -> io::Result<Box<dyn Writer>> {
    if format == Format::Gpkg {
        return Ok(Box::new(gpkg::GpkgWriter::to_path(path, meta)?));
    }
    let file = std::fs::File::create(path)?;
    writer(
        format,
        meta,
        Box::new(io::BufWriter::with_capacity(256 * 1024, file)),
    )
}

/// Drains batches into a writer (run on a blocking thread). `progress` is told each batch.
pub fn consume<B: Batch>(
    mut rx: mpsc::Receiver<B>,
    mut w: Box<dyn Writer + '_>,
    progress: &dyn Fn(u64),
) -> io::Result<u64> {
    let mut n = 0;
    let mut current = ExportRow::default();
    while let Some(batch) = rx.blocking_recv() {
        for i in 0..batch.len() {
            batch.decode_into(i, &mut current)?;
            w.row(&current)?;
        }
        n += batch.len() as u64;
        progress(n);
    }
    w.finish()?;
    Ok(n)
}

/// A `Write` that hands 128 KB chunks to an HTTP body.
pub struct ChannelWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
}

const CHUNK: usize = 128 * 1024;

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Result<Bytes, io::Error>>) -> Self {
        Self {
            buf: Vec::with_capacity(CHUNK + 4096),
            tx,
        }
    }
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK + 4096),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

// ---------------------------------------------------------------- text helpers

fn two(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `2024-05-06T07:08:09.123456Z` (microseconds only when there are some).
pub fn write_time(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let y = t.year();
    if (0..10000).contains(&y) {
        let y = y as u32;
        two(out, y / 100);
        two(out, y % 100);
    } else {
        let _ = write!(out, "{y}");
    }
    out.push(b'-');
    two(out, t.month());
    out.push(b'-');
    two(out, t.day());
    out.push(b'T');
    two(out, t.hour());
    out.push(b':');
    two(out, t.minute());
    out.push(b':');
    two(out, t.second());
    let micros = t.nanosecond() / 1000;
    if micros > 0 {
        let _ = write!(out, ".{micros:06}");
    }
    out.push(b'Z');
}

/// One GeoJSON Feature with flat properties (the fields the audience may see).
pub fn write_feature(out: &mut Vec<u8>, row: &ExportRow, audience: Audience, geom: &mut Geom) {
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
    wkb::int(out, row.id);
    out.extend_from_slice(b",\"geometry\":");
    match geom.read(&row.wkb) {
        Ok(()) => geom.write_geojson(out),
        Err(_) => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"properties\":{");
    for (k, (i, f)) in fields(audience).enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(f.name.as_bytes());
        out.extend_from_slice(b"\":");
        match row.value(i) {
            Val::Null => out.extend_from_slice(b"null"),
            Val::Int(v) => wkb::int(out, v),
            Val::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Val::Str(s) => json_str(out, s),
            Val::Time(t) => {
                out.push(b'"');
                write_time(out, t);
                out.push(b'"');
            }
        }
    }
    out.extend_from_slice(b"}}");
}

struct GeoJsonWriter<'w> {
    out: Box<dyn Write + Send + 'w>,
    buf: Vec<u8>,
    geom: Geom,
    audience: Audience,
    first: bool,
}

impl<'w> GeoJsonWriter<'w> {
    fn new(mut out: Box<dyn Write + Send + 'w>, meta: &Meta) -> io::Result<Self> {
        let mut head = Vec::new();
        head.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"name\":\"reports\",\"title\":");
        json_str(&mut head, &meta.title);
        head.extend_from_slice(b",\"attribution\":");
        json_str(&mut head, &meta.attribution);
        head.extend_from_slice(b",\"features\":[\n");
        out.write_all(&head)?;
        // First bytes at once, before the database has answered.
        out.flush()?;
        Ok(Self {
            out,
            buf: Vec::with_capacity(64 * 1024),
            geom: Geom::default(),
            audience: meta.audience,
            first: true,
        })
    }
}

impl Writer for GeoJsonWriter<'_> {
    fn row(&mut self, row: &ExportRow) -> io::Result<()> {
        if !self.first {
            self.buf.extend_from_slice(b",\n");
        }
        self.first = false;
        write_feature(&mut self.buf, row, self.audience, &mut self.geom);
        if self.buf.len() > 60 * 1024 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.buf.extend_from_slice(b"\n]}\n");
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }
}

struct CsvWriter<'w> {
    out: csv::Writer<Box<dyn Write + Send + 'w>>,
    geom: Geom,
    audience: Audience,
    text: Vec<u8>,
    wkt: Vec<u8>,
}

impl<'w> CsvWriter<'w> {
    fn new(out: Box<dyn Write + Send + 'w>, meta: &Meta) -> io::Result<Self> {
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(out);
        let mut header: Vec<&str> = fields(meta.audience).map(|(_, f)| f.name).collect();
        header.extend(["lon", "lat", "wkt"]);
        out.write_record(&header)?;
        out.flush()?;
        Ok(Self {
            out,
            geom: Geom::default(),
            audience: meta.audience,
            text: Vec::new(),
            wkt: Vec::new(),
        })
    }
}

impl Writer for CsvWriter<'_> {
    fn row(&mut self, row: &ExportRow) -> io::Result<()> {
        for (i, _) in fields(self.audience) {
            self.text.clear();
            match row.value(i) {
                Val::Null => {}
                Val::Int(v) => wkb::int(&mut self.text, v),
                Val::Bool(b) => self
                    .text
                    .extend_from_slice(if b { b"true" } else { b"false" }),
                Val::Str(s) => self.text.extend_from_slice(s.as_bytes()),
                Val::Time(t) => write_time(&mut self.text, t),
            }
            self.out.write_field(&self.text)?;
        }
        self.text.clear();
        wkb::num(&mut self.text, row.lon);
        self.out.write_field(&self.text)?;
        self.text.clear();
        wkb::num(&mut self.text, row.lat);
        self.out.write_field(&self.text)?;
        self.wkt.clear();
        if self.geom.read(&row.wkb).is_ok() {
            self.geom.write_wkt(&mut self.wkt);
        }
        self.out.write_field(&self.wkt)?;
        self.out.write_record(None::<&[u8]>)?;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()?;
        let mut inner = self
            .out
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        inner.flush()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use chrono::TimeZone;

    use super::*;

    /// Point reports scattered (deterministically) over a 0.2° × 0.1° frame, ids from 1.
    pub fn rows(n: usize) -> Vec<ExportRow> {
        (0..n)
            .map(|i| {
                let (lon, lat) = (
                    19.8 + ((i * 7919) % 1000) as f64 * 0.0002,
                    50.0 + ((i * 104729) % 997) as f64 * 0.0001,
                );
                let mut wkb = vec![1u8, 1, 0, 0, 0];
                wkb.extend_from_slice(&lon.to_le_bytes());
                wkb.extend_from_slice(&lat.to_le_bytes());
                let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
                    + chrono::Duration::seconds(i as i64);
                ExportRow {
                    id: i as i64 + 1,
                    category: "pothole".into(),
                    status: "new".into(),
                    description: format!("report {i}"),
                    district_id: Some(1),
                    district: Some("Stare Miasto".into()),
                    unit_code: None,
                    unit: None,
                    duplicate_of: None,
                    supporters: 1,
                    near_border: false,
                    channel: "web".into(),
                    created_at: t,
                    updated_at: t,
                    lon,
                    lat,
                    wkb,
                    routing_rule: None,
                    lang: None,
                    first_response_at: None,
                    closed_at: None,
                    address: Some(format!("Floriańska {}", i + 1)),
                    address_street: Some("Floriańska".into()),
                    address_number: Some((i + 1).to_string()),
                }
            })
            .collect()
    }

    pub fn meta() -> Meta {
        Meta::new("Kraków", "ODbL", Audience::Public, [19.8, 50.0, 20.0, 50.1])
    }

    /// Ids of `rows` whose point lies in [w, s, e, n].
    pub fn ids_in(rows: &[ExportRow], [w, s, e, n]: [f64; 4]) -> Vec<i64> {
        rows.iter()
            .filter(|r| r.lon >= w && r.lon <= e && r.lat >= s && r.lat <= n)
            .map(|r| r.id)
            .collect()
    }
}
