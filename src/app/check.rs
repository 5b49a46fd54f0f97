//! `zglos check`: does the running service hold what PostGIS holds? Both sides are summed up in
//! the same terms ([`Holdings`]: reports per category and status, the last `rev` per category,
//! the dedup originals) and compared; a sample of tiles is rebuilt from the database rows with
//! the engine's own code and compared, feature by feature, with the tiles the service serves.
use std::collections::BTreeMap;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use zglos_tiles::decode::{self, Layer};
use zglos_tiles::mercator::{self, TileId};

use crate::engine::Engine;
use crate::storage;

/// A summary of the reports, the same whether read from the engine or from the database.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Holdings {
    /// Reports held.
    pub reports: u64,
    /// Reports per category, then per status.
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// The last `rev` per category.
    pub last_rev: BTreeMap<String, i64>,
    /// Dedup originals (open reports that are not duplicates) per category.
    pub dedup_originals: BTreeMap<String, u64>,
    /// Digest of the ids of the dedup originals (order-independent, hex).
    pub dedup_digest: String,
}

/// A digest of a set of ids that does not depend on their order.
fn digest(ids: impl IntoIterator<Item = i64>) -> String {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let (mut sum, mut xor) = (0u64, 0u64);
    for id in ids {
        let h = mix(id as u64);
        sum = sum.wrapping_add(h);
        xor ^= h.rotate_left(17);
    }
    format!("{sum:016x}{xor:016x}")
}

fn build(
    counts: impl IntoIterator<Item = (String, String, u64)>,
    last_rev: impl IntoIterator<Item = (String, i64)>,
    dedup: Vec<(i64, String)>,
) -> Holdings {
    let mut h = Holdings::default();
    for (category, status, n) in counts {
        h.reports += n;
        *h.counts
            .entry(category)
            .or_default()
            .entry(status)
            .or_default() += n;
    }
    h.last_rev = last_rev.into_iter().collect();
    for (_, category) in &dedup {
        *h.dedup_originals.entry(category.clone()).or_default() += 1;
    }
    h.dedup_digest = digest(dedup.into_iter().map(|(id, _)| id));
    h
}

/// What the engine holds.
pub fn from_engine(engine: &Engine) -> Holdings {
    let e = engine.holdings();
    build(
        e.counts.into_iter().map(|((c, s), n)| (c, s, n)),
        e.last_rev.into_iter().filter(|(_, rev)| *rev > 0),
        e.dedup,
    )
}

/// What the database holds, in the engine's terms.
pub async fn from_database(pool: &PgPool, engine: &Engine) -> sqlx::Result<Holdings> {
    let counts = storage::check::counts(pool).await?;
    let revs = storage::check::last_revs(pool).await?;
    let open = engine.catalogue().open_statuses();
    let dedup = storage::check::dedup_originals(pool, &open).await?;
    Ok(build(
        counts.into_iter().map(|(c, s, n)| (c, s, n.max(0) as u64)),
        revs,
        dedup,
    ))
}

/// An engine built afresh from the database rows, as the service builds its own at start-up.
pub async fn engine_from_database(pool: &PgPool) -> anyhow::Result<Engine> {
    let catalogue = storage::city::load(pool).await?;
    let engine = Engine::new(std::sync::Arc::new(catalogue));
    let rows: Vec<_> = storage::reports::all_index_rows(pool).try_collect().await?;
    engine.load(rows);
    Ok(engine)
}

/// Each difference between what the service serves and what the database holds, in words.
pub fn differences(served: &Holdings, database: &Holdings) -> Vec<String> {
    let mut out = Vec::new();
    if served.reports != database.reports {
        out.push(format!(
            "reports: service {} database {}",
            served.reports, database.reports
        ));
    }
    let pairs = |h: &Holdings| -> BTreeMap<(String, String), u64> {
        h.counts
            .iter()
            .flat_map(|(c, m)| m.iter().map(move |(s, n)| ((c.clone(), s.clone()), *n)))
            .collect()
    };
    diff_maps("reports", &pairs(served), &pairs(database), &mut out, |k| {
        format!("{}/{}", k.0, k.1)
    });
    diff_maps(
        "last rev",
        &served.last_rev,
        &database.last_rev,
        &mut out,
        |k| k.clone(),
    );
    diff_maps(
        "dedup originals",
        &served.dedup_originals,
        &database.dedup_originals,
        &mut out,
        |k| k.clone(),
    );
    if served.dedup_digest != database.dedup_digest {
        out.push(format!(
            "dedup originals: the ids differ (digest service {} database {})",
            served.dedup_digest, database.dedup_digest
        ));
    }
    out
}

fn diff_maps<K: Ord, V: PartialEq + std::fmt::Display + Default>(
    what: &str,
    served: &BTreeMap<K, V>,
    database: &BTreeMap<K, V>,
    out: &mut Vec<String>,
    name: impl Fn(&K) -> String,
) {
    let zero = V::default();
    for k in served
        .keys()
        .chain(database.keys().filter(|k| !served.contains_key(k)))
    {
        let (a, b) = (
            served.get(k).unwrap_or(&zero),
            database.get(k).unwrap_or(&zero),
        );
        if a != b {
            out.push(format!("{what} {}: service {a} database {b}", name(k)));
        }
    }
}

/// Tiles to compare: around each sampled anchor at zooms 16, 14 and 12, and the city's centre at
/// zoom 11; each once.
pub fn tile_sample(anchors: &[(f64, f64)], centre: (f64, f64)) -> Vec<TileId> {
    let mut tiles = Vec::new();
    let (ux, uy) = mercator::to_unit(centre.0, centre.1);
    tiles.push(TileId::containing(11, ux, uy));
    for &(lon, lat) in anchors {
        let (ux, uy) = mercator::to_unit(lon, lat);
        for z in [16, 14, 12] {
            tiles.push(TileId::containing(z, ux, uy));
        }
    }
    let mut seen = std::collections::HashSet::new();
    tiles.retain(|t| seen.insert(*t));
    tiles
}

/// Features of a tile as comparable lines, per layer, in a fixed order (the order in which
/// features are written depends on how the index was built, not on what it holds).
fn canonical(layers: &[Layer]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for layer in layers {
        let features = out.entry(layer.name.clone()).or_default();
        for f in &layer.features {
            features.push(format!(
                "id={:?} type={} {:?} {:?}",
                f.id, f.geom_type, f.properties, f.parts
            ));
        }
        features.sort();
    }
    out.retain(|_, f| !f.is_empty());
    out
}

/// How a served tile differs from the one rebuilt from the database (both uncompressed MVT), or
/// None when they hold the same features.
pub fn compare_tile(served: &[u8], rebuilt: &[u8]) -> Option<String> {
    let served = match decode::decode(served) {
        Ok(l) => canonical(&l),
        Err(e) => return Some(format!("the served tile does not decode: {e:?}")),
    };
    let rebuilt = match decode::decode(rebuilt) {
        Ok(l) => canonical(&l),
        Err(e) => return Some(format!("the rebuilt tile does not decode: {e:?}")),
    };
    if served == rebuilt {
        return None;
    }
    let mut parts = Vec::new();
    for name in served
        .keys()
        .chain(rebuilt.keys().filter(|k| !served.contains_key(*k)))
    {
        let empty = Vec::new();
        let (a, b) = (
            served.get(name).unwrap_or(&empty),
            rebuilt.get(name).unwrap_or(&empty),
        );
        if a != b {
            let only_served = a.iter().filter(|f| !b.contains(f)).count();
            let only_db = b.iter().filter(|f| !a.contains(f)).count();
            parts.push(format!(
                "layer {name}: {} features served, {} from the database ({only_served} only served, {only_db} only in the database)",
                a.len(),
                b.len()
            ));
        }
    }
    Some(parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_order_and_sees_a_changed_id() {
        assert_eq!(digest([1, 2, 3]), digest([3, 1, 2]));
        assert_ne!(digest([1, 2, 3]), digest([1, 2, 4]));
        assert_ne!(digest([1, 2]), digest([1, 2, 2]));
    }

    #[test]
    fn differences_name_what_differs() {
        let a = build(
            [("pothole".into(), "new".into(), 2)],
            [("pothole".into(), 7)],
            vec![(1, "pothole".into()), (2, "pothole".into())],
        );
        assert!(differences(&a, &a.clone()).is_empty());
        let b = build(
            [
                ("pothole".into(), "new".into(), 1),
                ("pothole".into(), "resolved".into(), 1),
            ],
            [("pothole".into(), 7)],
            vec![(1, "pothole".into())],
        );
        let d = differences(&a, &b);
        assert!(
            d.iter()
                .any(|l| l.contains("pothole/new: service 2 database 1")),
            "{d:?}"
        );
        assert!(
            d.iter()
                .any(|l| l.contains("pothole/resolved: service 0 database 1")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l.contains("dedup originals pothole")),
            "{d:?}"
        );
    }
}
