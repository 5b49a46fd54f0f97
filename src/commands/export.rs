//! `zglos export`: the same exports as `/api/v1/exports`, to a file, with a progress bar.
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::config::DatabaseArgs;
use crate::cql;
use crate::domain::query::{self, Audience, ReportFilters, ReportQuery};
use crate::export::{self as formats, Format, Meta};
use crate::storage::exports;

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Output file; its extension picks the format (.geojson, .csv, .fgb, .gpkg) unless --format says.
    #[arg(long, short)]
    pub output: PathBuf,
    /// geojson, csv, fgb or gpkg.
    #[arg(long)]
    pub format: Option<String>,
    /// west,south,east,north in degrees.
    #[arg(long)]
    pub bbox: Option<String>,
    /// Category codes, comma-separated.
    #[arg(long)]
    pub category: Option<String>,
    /// Status codes, comma-separated.
    #[arg(long)]
    pub status: Option<String>,
    /// District ids, comma-separated.
    #[arg(long)]
    pub district: Option<String>,
    /// Unit codes, comma-separated.
    #[arg(long)]
    pub unit: Option<String>,
    /// Reported at or after (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<String>,
    /// Reported before.
    #[arg(long)]
    pub until: Option<String>,
    /// CQL2 text filter, e.g. "status = 'new' AND supporters > 2".
    #[arg(long)]
    pub filter: Option<String>,
    /// Include the analysts' fields (unit, routing rule, timing). Contact data is never exported.
    #[arg(long)]
    pub internal: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let format = match &args.format {
        Some(f) => Format::parse(f).with_context(|| format!("unknown format {f:?}: geojson, csv, fgb or gpkg"))?,
        None => args
            .output
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::parse)
            .context("say --format geojson|csv|fgb|gpkg, or give the output file one of those extensions")?,
    };
    let query = args.query()?;
    let audience = if args.internal {
        Audience::Internal
    } else {
        Audience::Public
    };
    exports::validate(&query, audience).map_err(|e| anyhow::anyhow!("{}", e.message))?;

    let pool = crate::storage::connect(&args.db.database_url, 2)
        .await
        .context("connecting to PostgreSQL")?;
    let (city, attribution, extent) = exports::city_frame(&pool)
        .await?
        .context("no city loaded: run zglos setup first")?;
    let meta = Meta::new(&city, &attribution, audience, extent);
    let total = exports::count(&pool, &query, audience)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {wide_bar} {human_pos}/{human_len} reports · {per_sec} · {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (tx, rx) = mpsc::channel(4);
    let producer = tokio::spawn(exports::produce(pool.clone(), query, audience, tx));
    let output = args.output.clone();
    let progress = bar.clone();
    let written = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let w = formats::file_writer(format, &meta, &output)
            .with_context(|| format!("creating {}", output.display()))?;
        Ok(formats::consume(rx, w, &|n| progress.set_position(n))?)
    })
    .await??;
    producer
        .await?
        .map_err(|e| anyhow::anyhow!("reading reports: {e}"))?;
    bar.finish_and_clear();
    eprintln!(
        "{written} reports written to {} ({})",
        args.output.display(),
        format.extension()
    );
    eprintln!("{attribution}");
    Ok(())
}

impl ExportArgs {
    /// The filters as a query, with the messages (and field names) of the HTTP exports.
    fn query(&self) -> anyhow::Result<ReportQuery> {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|v| !v.is_empty())
        }
        let field = |e: query::QueryError| anyhow::anyhow!("{}: {e}", e.field());
        let filter = given(&self.filter)
            .map(|f| cql::parse(f, None))
            .transpose()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
        let filters = ReportFilters {
            bbox: given(&self.bbox)
                .map(|v| query::parse_bbox("bbox", v))
                .transpose()
                .map_err(field)?,
            categories: given(&self.category)
                .map(query::split_list)
                .unwrap_or_default(),
            statuses: given(&self.status)
                .map(query::split_list)
                .unwrap_or_default(),
            districts: given(&self.district)
                .map(|v| query::parse_ids("district", v))
                .transpose()
                .map_err(field)?
                .unwrap_or_default(),
            units: given(&self.unit).map(query::split_list).unwrap_or_default(),
            since: given(&self.since)
                .map(|v| query::parse_time("since", v))
                .transpose()
                .map_err(field)?,
            until: given(&self.until)
                .map(|v| query::parse_time("until", v))
                .transpose()
                .map_err(field)?,
            filter,
        };
        ReportQuery::from_filters(filters).map_err(field)
    }
}
