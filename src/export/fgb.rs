//! FlatGeobuf with its packed Hilbert R-tree, in bounded memory whatever the size. The header and
//! index come before the features and depend on all of them, so each feature is encoded on
//! arrival and handed with its box to the external sort (`sort.rs`); at the end the sorted runs are
//! merged twice: once to stream the index (leaves, and each level above built as the one below
//! goes by), once to copy the features out in the same order, every run read sequentially.
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;

use flatbuffers::FlatBufferBuilder;
use flatgeobuf::packed_r_tree::NodeItem;
use flatgeobuf::{
    Column, ColumnArgs, ColumnType, Crs, CrsArgs, Feature, FeatureArgs, Geometry, GeometryArgs,
    GeometryType, Header, HeaderArgs,
};

use super::row::{fields, ExportRow, FieldType, Val};
use super::sort::{hilbert_key, level_sizes, Entry, Limits, Sorted, Sorter, LIMITS};
use super::wkb::{Geom, Kind};
use super::{write_time, Meta, Writer};

const NODE_SIZE: u16 = 16;

pub struct FgbWriter<'w> {
    out: Box<dyn Write + Send + 'w>,
    sorter: Sorter,
    /// The envelope of every feature, for the header.
    extent: NodeItem,
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
        Self::with_limits(out, meta, LIMITS)
    }

    pub fn with_limits(
        out: Box<dyn Write + Send + 'w>,
        meta: &Meta,
        limits: Limits,
    ) -> io::Result<Self> {
        Ok(Self {
            out,
            sorter: Sorter::new(limits)?,
            extent: NodeItem::create(0),
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
                Column::create(
                    &mut fbb,
                    &ColumnArgs {
                        name: Some(name),
                        type_: column_type(f.ty),
                        nullable: true,
                        ..Default::default()
                    },
                )
            })
            .collect();
        let columns = fbb.create_vector(&columns);
        let name = fbb.create_string("reports");
        let title = fbb.create_string(&self.meta.title);
        let description = fbb.create_string(&self.meta.attribution);
        let org = fbb.create_string("EPSG");
        let crs = Crs::create(
            &mut fbb,
            &CrsArgs {
                org: Some(org),
                code: 4326,
                ..Default::default()
            },
        );
        let envelope = (count > 0)
            .then(|| fbb.create_vector(&[extent.min_x, extent.min_y, extent.max_x, extent.max_y]));
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

fn part<'a>(
    fbb: &mut FlatBufferBuilder<'a>,
    kind: GeometryType,
    xy: &[f64],
    ends: &[u32],
) -> flatbuffers::WIPOffset<Geometry<'a>> {
    let xy = fbb.create_vector(xy);
    let ends = (ends.len() > 1).then(|| fbb.create_vector(ends));
    Geometry::create(
        fbb,
        &GeometryArgs {
            xy: Some(xy),
            ends,
            type_: kind,
            ..Default::default()
        },
    )
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
                let ends: Vec<u32> = g.ends[ring..ring + n]
                    .iter()
                    .map(|e| (e - start) as u32)
                    .collect();
                parts.push(part(
                    fbb,
                    GeometryType::Polygon,
                    &g.xy[start * 2..end * 2],
                    &ends,
                ));
                ring += n;
            }
            let parts = fbb.create_vector(&parts);
            Geometry::create(
                fbb,
                &GeometryArgs {
                    parts: Some(parts),
                    type_: GeometryType::MultiPolygon,
                    ..Default::default()
                },
            )
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
                (Val::Int(x), FieldType::Int) => {
                    self.props.extend_from_slice(&(x as i32).to_le_bytes())
                }
                (Val::Int(x), _) => self.props.extend_from_slice(&x.to_le_bytes()),
                (Val::Bool(b), _) => self.props.push(b as u8),
                (Val::Str(s), _) => {
                    self.props
                        .extend_from_slice(&(s.len() as u32).to_le_bytes());
                    self.props.extend_from_slice(s.as_bytes());
                }
                (Val::Time(t), _) => {
                    self.text.clear();
                    write_time(&mut self.text, t);
                    self.props
                        .extend_from_slice(&(self.text.len() as u32).to_le_bytes());
                    self.props.extend_from_slice(&self.text);
                }
                (Val::Null, _) => unreachable!(),
            }
        }
        let properties = fbb.create_vector(&self.props);
        let f = Feature::create(
            fbb,
            &FeatureArgs {
                geometry: Some(geometry),
                properties: Some(properties),
                ..Default::default()
            },
        );
        fbb.finish_size_prefixed(f, None);
        let bbox = g.bbox();
        let [x0, y0, x1, y1] = bbox;
        self.extent.expand(&NodeItem::bounds(x0, y0, x1, y1));
        let entry = Entry {
            key: hilbert_key(&bbox, &self.meta.extent),
            len: 0,
            value: 0,
            bbox,
        };
        self.sorter.push(entry, fbb.finished_data())
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        let count = self.sorter.count();
        let header = self.header(count, &self.extent);
        let FgbWriter {
            mut out, sorter, ..
        } = *self;
        out.write_all(&flatgeobuf_magic())?;
        out.write_all(&header)?;
        if count > 0 {
            let sorted = sorter.finish()?;
            let index = Index::build(&sorted)?;
            index.copy_to(&mut *out)?;
            // Features in index order.
            let mut merge = sorted.merge(true)?;
            while merge.next()?.is_some() {
                merge.copy_payload(&mut *out)?;
            }
        }
        out.flush()
    }
}

/// The packed R-tree, built in a temporary file in its stored layout (root first, leaves last).
struct Index {
    file: File,
    len: u64,
}

const NODE_BYTES: u64 = 40;

/// Writes one level's nodes at their place in the index file.
struct LevelWriter<'a> {
    file: &'a File,
    pos: u64,
}

impl Write for LevelWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write_all_at(buf, self.pos)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A node being filled on a level above the leaves.
struct Parent {
    node: NodeItem,
    children: usize,
    /// Nodes of this level written so far.
    written: u64,
}

impl Index {
    /// Streams the leaves in Hilbert order; every NODE_SIZE nodes of a level make one node of the
    /// level above, so the whole tree is written in one pass with one pending node per level.
    fn build(sorted: &Sorted) -> io::Result<Self> {
        let n = sorted.count();
        let sizes = level_sizes(n, NODE_SIZE as u64);
        // First node of each level in the stored array (top level first).
        let starts: Vec<u64> = (0..sizes.len())
            .map(|l| sizes[l + 1..].iter().sum())
            .collect();
        let total: u64 = sizes.iter().sum();
        let file = tempfile::tempfile()?;
        let mut levels: Vec<BufWriter<LevelWriter>> = starts
            .iter()
            .map(|s| {
                BufWriter::with_capacity(
                    64 << 10,
                    LevelWriter {
                        file: &file,
                        pos: s * NODE_BYTES,
                    },
                )
            })
            .collect();
        let mut parents: Vec<Parent> = (0..sizes.len())
            .map(|_| Parent {
                node: NodeItem::create(0),
                children: 0,
                written: 0,
            })
            .collect();

        // Writes a node on `level` and adds it to its parent, cascading up as parents fill.
        fn push(
            level: usize,
            node: &NodeItem,
            levels: &mut [BufWriter<LevelWriter>],
            parents: &mut [Parent],
            starts: &[u64],
        ) -> io::Result<()> {
            node.write(&mut levels[level])?;
            if level + 1 < levels.len() {
                let p = &mut parents[level + 1];
                p.node.expand(node);
                p.children += 1;
                if p.children == NODE_SIZE as usize {
                    close(level + 1, levels, parents, starts)?;
                }
            }
            Ok(())
        }
        // Writes the pending node of `level` (whose children start at its first child's index).
        fn close(
            level: usize,
            levels: &mut [BufWriter<LevelWriter>],
            parents: &mut [Parent],
            starts: &[u64],
        ) -> io::Result<()> {
            let p = &mut parents[level];
            let mut node = std::mem::replace(&mut p.node, NodeItem::create(0));
            node.offset = starts[level - 1] + p.written * NODE_SIZE as u64;
            p.children = 0;
            p.written += 1;
            push(level, &node, levels, parents, starts)
        }

        let mut merge = sorted.merge(false)?;
        let mut offset = 0u64;
        while let Some(e) = merge.next()? {
            let [x0, y0, x1, y1] = e.bbox;
            let mut leaf = NodeItem::bounds(x0, y0, x1, y1);
            leaf.offset = offset;
            offset += e.len as u64;
            push(0, &leaf, &mut levels, &mut parents, &starts)?;
        }
        for level in 1..parents.len() {
            if parents[level].children > 0 {
                close(level, &mut levels, &mut parents, &starts)?;
            }
        }
        for l in levels {
            l.into_inner().map_err(|e| e.into_error())?;
        }
        Ok(Self {
            len: total * NODE_BYTES,
            file,
        })
    }

    fn copy_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut r = BufReader::with_capacity(1 << 20, Read::take(&self.file, self.len));
        io::copy(&mut r, out)?;
        Ok(())
    }
}

#[allow(non_snake_case)]
fn FIELDS_TYPE(i: usize) -> FieldType {
    super::row::FIELDS[i].ty
}

fn flatgeobuf_magic() -> [u8; 8] {
    [b'f', b'g', b'b', flatgeobuf::VERSION, b'f', b'g', b'b', 0]
}

#[cfg(test)]
mod tests {
    use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};

    use super::*;
    use crate::export::testing::{ids_in, meta, rows};

    #[test]
    fn index_finds_the_features_of_a_bbox_across_many_runs() {
        let rows = rows(5000);
        let mut out = Vec::new();
        // Small runs and fan-in: several sorted runs and a merge round before the final merges.
        let limits = Limits {
            run_bytes: 64 << 10,
            run_entries: 300,
            fan_in: 4,
        };
        let mut w: Box<dyn Writer> =
            Box::new(FgbWriter::with_limits(Box::new(&mut out), &meta(), limits).unwrap());
        for r in &rows {
            w.row(r).unwrap();
        }
        w.finish().unwrap();

        let mut all = Vec::new();
        let mut features = FgbReader::open(io::Cursor::new(&out))
            .unwrap()
            .select_all()
            .unwrap();
        while let Some(f) = features.next().unwrap() {
            all.push(f.property::<i64>("id").unwrap());
        }
        all.sort();
        assert_eq!(all, (1..=5000).collect::<Vec<_>>());

        for bbox in [
            [19.8501, 50.02005, 19.8701, 50.03005],
            [19.8, 50.0, 20.0, 50.1],
            [19.9501, 50.09005, 19.9901, 50.1],
        ] {
            let [w, s, e, n] = bbox;
            let mut found = Vec::new();
            let mut features = FgbReader::open(io::Cursor::new(&out))
                .unwrap()
                .select_bbox(w, s, e, n)
                .unwrap();
            while let Some(f) = features.next().unwrap() {
                found.push(f.property::<i64>("id").unwrap());
            }
            found.sort();
            assert_eq!(found, ids_in(&rows, bbox), "{bbox:?}");
        }
    }
}
