//! External sort of spatial index entries by Hilbert key, in bounded memory whatever the count.
//! FlatGeobuf and GeoPackage both need their features' boxes in Hilbert order to pack an R-tree;
//! an export may be larger than memory, so entries (and, for FlatGeobuf, each feature's bytes)
//! are gathered in runs of bounded size, each run sorted and spilled to temporary files, and the
//! runs merged back in key order. The key is computed on arrival against a fixed extent (the
//! city's bbox), known before the first row: any fixed extent gives a valid packed tree.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// One feature's place in the index: its key, its box, a value for the caller (the GeoPackage
/// feature id) and the length of its payload (the FlatGeobuf feature bytes, if any).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub key: u32,
    pub len: u32,
    pub value: u64,
    /// min x, min y, max x, max y.
    pub bbox: [f64; 4],
}

const ENTRY_BYTES: usize = 48;

impl Entry {
    fn encode(&self) -> [u8; ENTRY_BYTES] {
        let mut b = [0u8; ENTRY_BYTES];
        b[0..4].copy_from_slice(&self.key.to_le_bytes());
        b[4..8].copy_from_slice(&self.len.to_le_bytes());
        b[8..16].copy_from_slice(&self.value.to_le_bytes());
        for (i, v) in self.bbox.iter().enumerate() {
            b[16 + i * 8..24 + i * 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
    fn decode(b: &[u8; ENTRY_BYTES]) -> Self {
        let f = |i: usize| f64::from_le_bytes(b[16 + i * 8..24 + i * 8].try_into().unwrap());
        Self {
            key: u32::from_le_bytes(b[0..4].try_into().unwrap()),
            len: u32::from_le_bytes(b[4..8].try_into().unwrap()),
            value: u64::from_le_bytes(b[8..16].try_into().unwrap()),
            bbox: [f(0), f(1), f(2), f(3)],
        }
    }
}

/// Position of a box's centre on a Hilbert curve of 2^16 × 2^16 cells over `extent` (clamped).
pub fn hilbert_key(bbox: &[f64; 4], extent: &[f64; 4]) -> u32 {
    const MAX: f64 = 65535.0;
    let cell = |v: f64, lo: f64, hi: f64| {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        (t * MAX).clamp(0.0, MAX) as u32
    };
    let x = cell((bbox[0] + bbox[2]) / 2.0, extent[0], extent[2]);
    let y = cell((bbox[1] + bbox[3]) / 2.0, extent[1], extent[3]);
    hilbert(x, y)
}

/// The classic xy → distance mapping on a 2^16 grid.
fn hilbert(mut x: u32, mut y: u32) -> u32 {
    let mut d = 0u32;
    let mut s = 1u32 << 15;
    while s > 0 {
        let rx = u32::from(x & s != 0);
        let ry = u32::from(y & s != 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = 0xFFFF - x;
                y = 0xFFFF - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

/// Node counts of a packed tree's levels, bottom-up, from `n` at the bottom to a single root.
pub fn level_sizes(n: u64, fanout: u64) -> Vec<u64> {
    let mut sizes = vec![n];
    while *sizes.last().unwrap() > 1 {
        sizes.push(sizes.last().unwrap().div_ceil(fanout));
    }
    sizes
}

/// How big runs get and how many are merged at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Payload bytes per run.
    pub run_bytes: usize,
    /// Entries per run.
    pub run_entries: usize,
    /// Runs merged in one pass; more runs are first merged in rounds into longer ones.
    pub fan_in: usize,
}

/// ~30 MB of memory while gathering, ~40 MB of read buffers while merging.
pub const LIMITS: Limits = Limits {
    run_bytes: 24 << 20,
    run_entries: 1 << 17,
    fan_in: 64,
};

/// Total size of the merge's payload read buffers, shared among the runs.
const MERGE_BUFFERS: usize = 32 << 20;

/// A pair of temporary files (entries, payloads) that runs are appended to.
struct Spill {
    entries: BufWriter<File>,
    data: BufWriter<File>,
    entries_len: u64,
    data_len: u64,
}

/// A sorted run: its byte ranges in the spill files.
#[derive(Debug, Clone)]
struct Run {
    entries: Range<u64>,
    data: Range<u64>,
}

impl Spill {
    fn new() -> io::Result<Self> {
        Ok(Self {
            entries: BufWriter::with_capacity(256 << 10, tempfile::tempfile()?),
            data: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            entries_len: 0,
            data_len: 0,
        })
    }
    fn mark(&self) -> (u64, u64) {
        (self.entries_len, self.data_len)
    }
    fn run_since(&self, (e, d): (u64, u64)) -> Run {
        Run {
            entries: e..self.entries_len,
            data: d..self.data_len,
        }
    }
    fn entry(&mut self, e: &Entry) -> io::Result<()> {
        self.entries.write_all(&e.encode())?;
        self.entries_len += ENTRY_BYTES as u64;
        Ok(())
    }
    fn data(&mut self) -> DataSink<'_> {
        DataSink { spill: self }
    }
    fn close(self) -> io::Result<(File, File)> {
        Ok((
            self.entries.into_inner().map_err(|e| e.into_error())?,
            self.data.into_inner().map_err(|e| e.into_error())?,
        ))
    }
}

/// Appends payload bytes to a spill, counting them.
struct DataSink<'a> {
    spill: &'a mut Spill,
}

impl Write for DataSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.spill.data.write(buf)?;
        self.spill.data_len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Gathers entries (with payloads) and spills them in sorted runs.
pub struct Sorter {
    limits: Limits,
    /// The current run: entries with their payload's start in `data`.
    run: Vec<(Entry, usize)>,
    data: Vec<u8>,
    spill: Spill,
    runs: Vec<Run>,
    count: u64,
}

impl Sorter {
    pub fn new(limits: Limits) -> io::Result<Self> {
        Ok(Self {
            limits,
            run: Vec::new(),
            data: Vec::new(),
            spill: Spill::new()?,
            runs: Vec::new(),
            count: 0,
        })
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds an entry; `payload` is its bytes (`entry.len` is set from it).
    pub fn push(&mut self, mut entry: Entry, payload: &[u8]) -> io::Result<()> {
        entry.len = u32::try_from(payload.len())
            .map_err(|_| io::Error::other("feature larger than 4 GB"))?;
        self.run.push((entry, self.data.len()));
        self.data.extend_from_slice(payload);
        self.count += 1;
        if self.run.len() >= self.limits.run_entries || self.data.len() >= self.limits.run_bytes {
            self.spill_run()?;
        }
        Ok(())
    }

    fn spill_run(&mut self) -> io::Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        // Stable: equal keys keep their arrival order.
        self.run.sort_by_key(|(e, _)| e.key);
        let start = self.spill.mark();
        for (e, at) in &self.run {
            self.spill.entry(e)?;
            self.spill
                .data()
                .write_all(&self.data[*at..*at + e.len as usize])?;
        }
        self.runs.push(self.spill.run_since(start));
        self.run.clear();
        self.data.clear();
        Ok(())
    }

    /// Spills the last run and merges runs in rounds until at most `fan_in` remain.
    pub fn finish(mut self) -> io::Result<Sorted> {
        self.spill_run()?;
        let (mut entries, mut data) = self.spill.close()?;
        let mut runs = self.runs;
        while runs.len() > self.limits.fan_in {
            let mut next = Spill::new()?;
            let mut merged = Vec::new();
            for group in runs.chunks(self.limits.fan_in) {
                let start = next.mark();
                let mut m = Merge::new(&entries, &data, group, true)?;
                while let Some(e) = m.next()? {
                    next.entry(&e)?;
                    m.copy_payload(&mut next.data())?;
                }
                merged.push(next.run_since(start));
            }
            (entries, data) = next.close()?;
            runs = merged;
        }
        Ok(Sorted {
            entries,
            data,
            runs,
            count: self.count,
        })
    }
}

/// Every entry spilled in at most `fan_in` sorted runs, ready to be merged (as often as needed).
pub struct Sorted {
    entries: File,
    data: File,
    runs: Vec<Run>,
    count: u64,
}

impl Sorted {
    pub fn count(&self) -> u64 {
        self.count
    }
    /// The entries in key order (ties in arrival order); with `payloads`, their bytes too.
    pub fn merge(&self, payloads: bool) -> io::Result<Merge<'_>> {
        Merge::new(&self.entries, &self.data, &self.runs, payloads)
    }
}

/// Reads a byte range of a file with positioned reads (files are shared by several readers).
struct Section<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.end - self.pos) as usize);
        if n == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A k-way merge of sorted runs, each read sequentially in large blocks.
pub struct Merge<'a> {
    entries: Vec<BufReader<Section<'a>>>,
    data: Vec<BufReader<Section<'a>>>,
    heap: BinaryHeap<Reverse<(u32, usize)>>,
    heads: Vec<Entry>,
    /// The run of the entry last returned, and its payload bytes not yet consumed.
    pending: Option<(usize, usize)>,
}

impl<'a> Merge<'a> {
    fn new(entries: &'a File, data: &'a File, runs: &[Run], payloads: bool) -> io::Result<Self> {
        let section = |file, r: &Range<u64>| Section {
            file,
            pos: r.start,
            end: r.end,
        };
        let block = (MERGE_BUFFERS / runs.len().max(1)).clamp(16 << 10, 1 << 20);
        let mut m = Self {
            entries: runs
                .iter()
                .map(|r| BufReader::with_capacity(16 << 10, section(entries, &r.entries)))
                .collect(),
            data: if payloads {
                runs.iter()
                    .map(|r| BufReader::with_capacity(block, section(data, &r.data)))
                    .collect()
            } else {
                Vec::new()
            },
            heap: BinaryHeap::with_capacity(runs.len()),
            heads: Vec::with_capacity(runs.len()),
            pending: None,
        };
        for i in 0..runs.len() {
            let head = m.read_entry(i)?;
            if let Some(e) = head {
                m.heap.push(Reverse((e.key, i)));
            }
            m.heads.push(head.unwrap_or(Entry {
                key: 0,
                len: 0,
                value: 0,
                bbox: [0.0; 4],
            }));
        }
        Ok(m)
    }

    fn read_entry(&mut self, run: usize) -> io::Result<Option<Entry>> {
        let r = &mut self.entries[run];
        if r.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let mut b = [0u8; ENTRY_BYTES];
        r.read_exact(&mut b)?;
        Ok(Some(Entry::decode(&b)))
    }

    /// The next entry in key order. A payload not copied before this call is skipped.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> io::Result<Option<Entry>> {
        if let Some((run, left)) = self.pending.take() {
            if !self.data.is_empty() {
                skip(&mut self.data[run], left)?;
            }
            if let Some(e) = self.read_entry(run)? {
                self.heads[run] = e;
                self.heap.push(Reverse((e.key, run)));
            }
        }
        let Some(Reverse((_, run))) = self.heap.pop() else {
            return Ok(None);
        };
        let e = self.heads[run];
        self.pending = Some((run, e.len as usize));
        Ok(Some(e))
    }

    /// Copies the payload of the entry last returned by `next` (merges opened with payloads).
    pub fn copy_payload(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let Some((run, left)) = self.pending.as_mut() else {
            return Ok(());
        };
        let r = &mut self.data[*run];
        while *left > 0 {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let k = buf.len().min(*left);
            out.write_all(&buf[..k])?;
            r.consume(k);
            *left -= k;
        }
        Ok(())
    }
}

fn skip(r: &mut BufReader<Section<'_>>, mut n: usize) -> io::Result<()> {
    while n > 0 {
        let k = r.fill_buf()?.len().min(n);
        if k == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        r.consume(k);
        n -= k;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u64) -> Entry {
        // Keys with many ties, in no particular order.
        let key = ((i * 2654435761) % 997) as u32;
        Entry {
            key,
            len: 0,
            value: i,
            bbox: [i as f64, 0.0, i as f64 + 1.0, 1.0],
        }
    }

    #[test]
    fn sorts_with_payloads_across_runs_and_merge_rounds() {
        let limits = Limits {
            run_bytes: 1 << 20,
            run_entries: 37,
            fan_in: 3,
        };
        let mut s = Sorter::new(limits).unwrap();
        for i in 0..5000u64 {
            let payload = format!("feature {i};").repeat((i % 5) as usize);
            s.push(entry(i), payload.as_bytes()).unwrap();
        }
        let sorted = s.finish().unwrap();
        assert!(sorted.runs.len() <= 3);
        assert_eq!(sorted.count(), 5000);
        for payloads in [true, false] {
            let mut m = sorted.merge(payloads).unwrap();
            let mut seen = Vec::new();
            let mut last = (0u32, 0u64);
            while let Some(e) = m.next().unwrap() {
                assert_eq!(e.bbox[0], e.value as f64);
                assert!(
                    (e.key, e.value) > last || seen.is_empty(),
                    "not in key order (ties in arrival order)"
                );
                last = (e.key, e.value);
                if payloads {
                    let mut out = Vec::new();
                    m.copy_payload(&mut out).unwrap();
                    assert_eq!(
                        out,
                        format!("feature {};", e.value)
                            .repeat((e.value % 5) as usize)
                            .into_bytes()
                    );
                }
                seen.push(e.value);
            }
            seen.sort();
            assert_eq!(seen, (0..5000).collect::<Vec<_>>());
        }
    }

    #[test]
    fn hilbert_keys_follow_a_continuous_curve() {
        // Neighbouring positions on the curve are neighbouring cells.
        let mut cells = vec![(0u32, 0u32); 1 << 8];
        for x in 0..16u32 {
            for y in 0..16u32 {
                let d = hilbert(x << 12, y << 12) >> 24;
                cells[d as usize] = (x, y);
            }
        }
        for w in cells.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert_eq!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1), 1, "{a:?} → {b:?}");
        }
        assert_eq!(hilbert_key(&[5.0, 5.0, 5.0, 5.0], &[0.0, 0.0, 0.0, 0.0]), 0);
    }
}
