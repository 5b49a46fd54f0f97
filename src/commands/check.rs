//! `zglos check`: compares what a running service holds in memory with PostGIS — reports per
//! category and status, the last `rev` per category, the dedup originals, and a sample of report
//! tiles rebuilt from the database rows with the engine's own code — and fails on any difference.
//! A service that is still catching up gets `--settle-seconds` to do so before a difference
//! counts.
use std::time::{Duration, Instant};

use anyhow::Context;
use zglos_tiles::filter::Filter;

use crate::app::check::{self, Holdings};
use crate::config::DatabaseArgs;
use crate::engine::{gunzip, Engine, TileLayer};
use crate::storage;

#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Base URL of the running service.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Reports whose surroundings are sampled for the tile comparison (3 zooms each).
    #[arg(long, default_value_t = 8)]
    pub sample: i64,
    /// Seconds the service gets to catch up before a difference is reported.
    #[arg(long, default_value_t = 15)]
    pub settle_seconds: u64,
}

/// What a check found.
#[derive(Debug)]
pub struct Outcome {
    /// What the database holds.
    pub database: Holdings,
    /// Tiles compared (each with two filters).
    pub tiles: usize,
    /// Every difference, in words; empty when the service and the database agree.
    pub differences: Vec<String>,
}

pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let outcome = check(&args).await?;
    let d = &outcome.database;
    if outcome.differences.is_empty() {
        println!(
            "no difference: {} reports in {} categories, last rev {}, {} dedup originals, {} tiles compared",
            d.reports,
            d.counts.len(),
            d.last_rev.values().max().copied().unwrap_or(0),
            d.dedup_originals.values().sum::<u64>(),
            outcome.tiles
        );
        return Ok(());
    }
    for line in &outcome.differences {
        println!("difference: {line}");
    }
    anyhow::bail!(
        "{} difference(s) between the service at {} and the database",
        outcome.differences.len(),
        args.url
    )
}

/// Runs the comparison, retrying until it finds no difference or the settle time is over.
pub async fn check(args: &CheckArgs) -> anyhow::Result<Outcome> {
    let pool = storage::connect(&args.db.database_url, 2)
        .await
        .context("connecting to PostgreSQL")?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = args.url.trim_end_matches('/');
    let deadline = Instant::now() + Duration::from_secs(args.settle_seconds);
    loop {
        let outcome = once(&client, base, &pool, args.sample).await?;
        if outcome.differences.is_empty() || Instant::now() >= deadline {
            return Ok(outcome);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn once(
    client: &reqwest::Client,
    base: &str,
    pool: &sqlx::PgPool,
    sample: i64,
) -> anyhow::Result<Outcome> {
    let served: Holdings = client
        .get(format!("{base}/api/v1/check"))
        .send()
        .await
        .with_context(|| format!("asking {base}/api/v1/check"))?
        .error_for_status()?
        .json()
        .await?;
    let rebuilt = check::engine_from_database(pool).await?;
    let database = check::from_database(pool, &rebuilt).await?;
    let mut differences = check::differences(&served, &database);
    let anchors = storage::check::sample_anchors(pool, sample).await?;
    let [w, s, e, n] = rebuilt.catalogue().bbox();
    let tiles = check::tile_sample(&anchors, ((w + e) / 2.0, (s + n) / 2.0));
    let open = open_filter(&rebuilt);
    for tile in &tiles {
        for (query, filter) in [("?status=all", Filter::everything()), ("", open.clone())] {
            let path = format!("/tiles/reports/{}/{}/{}.mvt{query}", tile.z, tile.x, tile.y);
            let served = client
                .get(format!("{base}{path}"))
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            let rebuilt = gunzip(
                &rebuilt
                    .tile(TileLayer::Reports, *tile, &filter, query, 0)
                    .gz,
            );
            if let Some(d) = check::compare_tile(&served, &rebuilt) {
                differences.push(format!("tile {path}: {d}"));
            }
        }
    }
    Ok(Outcome {
        database,
        tiles: tiles.len(),
        differences,
    })
}

/// The tiles' default filter: open statuses only.
fn open_filter(engine: &Engine) -> Filter {
    let mut filter = Filter::everything();
    filter.statuses = engine
        .catalogue()
        .statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_open)
        .fold(0u64, |m, (i, _)| m | 1 << i);
    filter
}
