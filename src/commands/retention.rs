//! `zglos retention [--dry-run]`: erases the contacts of reports closed longer ago than the city
//! keeps them, and drops old photos' full-size images if the city says so (see `app::retention`).
use anyhow::Context;

use crate::config::DatabaseArgs;
use crate::storage;

#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Count what is due and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs once; returns what to print.
pub async fn run(args: RetentionArgs) -> anyhow::Result<String> {
    let pool = storage::connect(&args.db.database_url, 2)
        .await
        .context("connecting to PostgreSQL")?;
    storage::migrate(&pool).await?;
    let r = crate::app::retention::run(&pool, chrono::Utc::now(), args.dry_run)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let verb = if r.dry_run { "would erase" } else { "erased" };
    let photos = match r.drop_photo_originals_months {
        Some(m) => format!(
            "{} {} photo originals (closed more than {m} months ago)",
            if r.dry_run { "would drop" } else { "dropped" },
            r.photos_dropped
        ),
        None => "photo originals are kept (the city sets no drop_photo_originals_months)".into(),
    };
    Ok(format!(
        "{verb} the contacts of {} reports (closed more than {} months ago); {photos}",
        r.contacts_erased, r.contact_months
    ))
}
