//! FlatGeobuf with its packed Hilbert R-tree. The header and index come before the features and
//! depend on all of them, so features are spooled to a temporary file while 48 bytes per feature
//! are kept for the index (a million reports: ~48 MB); then header, index and features (in Hilbert
//! order, read back from the spool) are written out.
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

use flatbuffers::FlatBufferBuilder;
use flatgeobuf::packed_r_tree::{hilbert_sort, NodeItem};
use flatgeobuf::{Column, ColumnArgs, ColumnType, Crs, CrsArgs, Feature, FeatureArgs, Geometry, GeometryArgs, GeometryType, Header, HeaderArgs};

use super::wkb::{Geom, Kind};
use super::{write_time, Meta, Writer};
use crate::storage::exports::{fields, ExportRow, FieldType, Val};

const NODE_SIZE: u16 = 16;

pub struct FgbWriter<'w> {
    out: Box<dyn Write + Send + 'w>,
    spool: BufWriter<File>,
    spooled: u64,
    /// Leaf nodes: bbox, and in `offset` the feature's sequence number.
    nodes: Vec<NodeItem>,
    /// Spool offset of each feature (sequence number order), plus the end.
    offsets: Vec<u64>,
    fbb: FlatBufferBuilder<'static>,
    props: Vec<u8>,
    text: Vec<u8>,
    geom: Geom,
    meta: Meta,
}

fn column_type(t: FieldType) -> ColumnType {
    match t {
        FieldType::Long => ColumnType::Long,
        FieldType::Int => ColumnType::Int,
        FieldType::Text => ColumnType::String,
        FieldType::Bool => ColumnType::Bool,
        FieldType::Time => ColumnType::DateTime,
    }
}

fn geometry_type(k: Kind) -> GeometryType {
    GeometryType(k as u8)
}

impl<'w> FgbWriter<'w> {
    pub fn new(out: Box<dyn Write + Send + 'w>, meta: &Meta) -> io::Result<Self> {
        Ok(Self {
            out,
            spool: BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?),
            spooled: 0,
            nodes: Vec::new(),
            offsets: vec![0],
            fbb: FlatBufferBuilder::with_capacity(4096),
            props: Vec::new(),
            text: Vec::new(),
            geom: Geom::default(),
            meta: meta.clone(),
        })
    }

    fn header(&self, count: u64, extent: &NodeItem) -> Vec<u8> {
        let mut fbb = FlatBufferBuilder::new();
        let columns: Vec<_> = fields(self.meta.audience)
            .map(|(_, f)| {
                let name = fbb.create_string(f.name);
                Column::create(&mut fbb, &ColumnArgs { name: Some(name), type_: column_type(f.ty), nullable: true, ..Default::default() })
            })
            .collect();
        let columns = fbb.create_vector(&columns);
        let name = fbb.create_string("reports");
        let title = fbb.create_string(&self.meta.title);
        let description = fbb.create_string(&self.meta.attribution);
        let org = fbb.create_string("EPSG");
        let crs = Crs::create(&mut fbb, &CrsArgs { org: Some(org), code: 4326, ..Default::default() });
        let envelope = (count > 0).then(|| fbb.create_vector(&[extent.min_x, extent.min_y, extent.max_x, extent.max_y]));
        let header = Header::create(
            &mut fbb,
            &HeaderArgs {
                name: Some(name),
                envelope,
                geometry_type: GeometryType::Unknown,
                columns: Some(columns),
                features_count: count,
                index_node_size: if count > 0 { NODE_SIZE } else { 0 },
                crs: Some(crs),
                title: Some(title),
                description: Some(description),
                ..Default::default()
            },
        );
        fbb.finish_size_prefixed(header, None);
        fbb.finished_data().to_vec()
    }
}

fn part<'a>(fbb: &mut FlatBufferBuilder<'a>, kind: GeometryType, xy: &[f64], ends: &[u32]) -> flatbuffers::WIPOffset<Geometry<'a>> {
    let xy = fbb.create_vector(xy);
    let ends = (ends.len() > 1).then(|| fbb.create_vector(ends));
    Geometry::create(fbb, &GeometryArgs { xy: Some(xy), ends, type_: kind, ..Default::default() })
}

impl Writer for FgbWriter<'_> {
    fn row(&mut self, row: &ExportRow) -> io::Result<()> {
        if self.geom.read(&row.wkb).is_err() {
            return Ok(());
        }
        let g = &self.geom;
        let kind = g.kind.unwrap_or(Kind::Point);
        let fbb = &mut self.fbb;
        fbb.reset();
        let geometry = if kind == Kind::MultiPolygon {
            // One part per polygon, each with its ring ends.
            let mut parts = Vec::with_capacity(g.parts.len());
            let mut ring = 0usize;
            for n in &g.parts {
                let start = if ring == 0 { 0 } else { g.ends[ring - 1] };
                let end = g.ends[ring + n - 1];
                let ends: Vec<u32> = g.ends[ring..ring + n].iter().map(|e| (e - start) as u32).collect();
                parts.push(part(fbb, GeometryType::Polygon, &g.xy[start * 2..end * 2], &ends));
                ring += n;
            }
            let parts = fbb.create_vector(&parts);
            Geometry::create(fbb, &GeometryArgs { parts: Some(parts), type_: GeometryType::MultiPolygon, ..Default::default() })
        } else {
            let ends: Vec<u32> = match kind {
                Kind::Polygon | Kind::MultiLineString => g.ends.iter().map(|e| *e as u32).collect(),
                _ => Vec::new(),
            };
            part(fbb, geometry_type(kind), &g.xy, &ends)
        };
        self.props.clear();
        for (col, (i, _)) in fields(self.meta.audience).enumerate() {
            let v = row.value(i);
            if matches!(v, Val::Null) {
                continue;
            }
            self.props.extend_from_slice(&(col as u16).to_le_bytes());
            match (v, FIELDS_TYPE(i)) {
                (Val::Int(x), FieldType::Int) => self.props.extend_from_slice(&(x as i32).to_le_bytes()),
                (Val::Int(x), _) => self.props.extend_from_slice(&x.to_le_bytes()),
                (Val::Bool(b), _) => self.props.push(b as u8),
                (Val::Str(s), _) => {
                    self.props.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    self.props.extend_from_slice(s.as_bytes());
                }
                (Val::Time(t), _) => {
                    self.text.clear();
                    write_time(&mut self.text, t);
                    self.props.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
                    self.props.extend_from_slice(&self.text);
                }
                (Val::Null, _) => unreachable!(),
            }
        }
        let properties = fbb.create_vector(&self.props);
        let f = Feature::create(fbb, &FeatureArgs { geometry: Some(geometry), properties: Some(properties), ..Default::default() });
        fbb.finish_size_prefixed(f, None);
        let data = fbb.finished_data();
        self.spool.write_all(data)?;
        self.spooled += data.len() as u64;
        let [x0, y0, x1, y1] = g.bbox();
        let mut node = NodeItem::bounds(x0, y0, x1, y1);
        node.offset = self.nodes.len() as u64;
        self.nodes.push(node);
        self.offsets.push(self.spooled);
        Ok(())
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        let count = self.nodes.len() as u64;
        let mut extent = NodeItem::create(0);
        for n in &self.nodes {
            extent.expand(n);
        }
        let header = self.header(count, &extent);
        let this = *self;
        let FgbWriter { mut out, spool, mut nodes, offsets, .. } = this;
        let spool = spool.into_inner().map_err(|e| e.into_error())?;
        let out = &mut out;
        out.write_all(&flatgeobuf_magic())?;
        out.write_all(&header)?;
        if count == 0 {
            return out.flush();
        }
        hilbert_sort(&mut nodes, &extent);
        let size = |seq: u64| offsets[seq as usize + 1] - offsets[seq as usize];

        // Levels above the leaves, bottom-up; then written top-down, as the packed tree stores them.
        let n = nodes.len();
        let mut level_sizes = vec![n];
        while *level_sizes.last().unwrap() > 1 {
            level_sizes.push(level_sizes.last().unwrap().div_ceil(NODE_SIZE as usize));
        }
        let total: usize = level_sizes.iter().sum();
        // Start index (in the stored array) of each level.
        let mut starts = Vec::with_capacity(level_sizes.len());
        let mut end = total;
        for s in &level_sizes {
            starts.push(end - s);
            end -= s;
        }
        let mut levels: Vec<Vec<NodeItem>> = Vec::new();
        for lvl in 1..level_sizes.len() {
            let parents = {
                let children: &[NodeItem] = if lvl == 1 { &nodes } else { &levels[lvl - 2] };
                let mut parents = Vec::with_capacity(level_sizes[lvl]);
                for (k, chunk) in children.chunks(NODE_SIZE as usize).enumerate() {
                    let mut p = NodeItem::create((starts[lvl - 1] + k * NODE_SIZE as usize) as u64);
                    for c in chunk {
                        p.expand(c);
                    }
                    parents.push(p);
                }
                parents
            };
            levels.push(parents);
        }
        let mut w = io::BufWriter::with_capacity(256 * 1024, &mut *out);
        for level in levels.iter().rev() {
            for node in level {
                node.write(&mut w)?;
            }
        }
        let mut offset = 0u64;
        for node in &nodes {
            let mut leaf = node.clone();
            leaf.offset = offset;
            offset += size(node.offset);
            leaf.write(&mut w)?;
        }
        // Features in index order.
        let mut buf = Vec::with_capacity(4096);
        for node in &nodes {
            let seq = node.offset as usize;
            let (start, len) = (offsets[seq], size(node.offset) as usize);
            buf.resize(len, 0);
            spool.read_exact_at(&mut buf, start)?;
            w.write_all(&buf)?;
        }
        w.flush()?;
        drop(w);
        out.flush()
    }
}

#[allow(non_snake_case)]
fn FIELDS_TYPE(i: usize) -> FieldType {
    crate::storage::exports::FIELDS[i].ty
}

fn flatgeobuf_magic() -> [u8; 8] {
    [b'f', b'g', b'b', flatgeobuf::VERSION, b'f', b'g', b'b', 0]
}
