//! `zglos abuse add|list|remove`: the abuse list from the command line (an admin's tool; the
//! actions are audited as `cli:$USER`).
use anyhow::Context;
use clap::Subcommand;

use crate::app::moderation::{self as app, Actor};
use crate::config::DatabaseArgs;
use crate::storage;

#[derive(Debug, Clone, Subcommand)]
pub enum AbuseCommand {
    /// Add an email, a phone number or an address range (CIDR): reports matching it are held
    /// for moderation.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long, group = "entry", required = true)]
        email: Option<String>,
        #[arg(long, group = "entry")]
        phone: Option<String>,
        /// An address range such as 203.0.113.0/24 or 2001:db8::/32 (a single address: /32, /128).
        #[arg(long, group = "entry")]
        cidr: Option<String>,
        /// Why it is listed.
        #[arg(long)]
        note: Option<String>,
    },
    /// List the entries.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Remove an entry by its id (reports it held stay in the moderation queue).
    Remove {
        #[command(flatten)]
        db: DatabaseArgs,
        id: i64,
    },
}

async fn pool(db: &DatabaseArgs) -> anyhow::Result<sqlx::PgPool> {
    let pool = storage::connect(&db.database_url, 2)
        .await
        .context("connecting to PostgreSQL")?;
    storage::migrate(&pool).await?;
    Ok(pool)
}

/// Runs the command; returns what to print.
pub async fn run(command: AbuseCommand) -> anyhow::Result<String> {
    let actor = Actor::command_line();
    match command {
        AbuseCommand::Add {
            db,
            email,
            phone,
            cidr,
            note,
        } => {
            let (kind, value) = match (email, phone, cidr) {
                (Some(e), _, _) => ("email", e),
                (_, Some(p), _) => ("phone", p),
                (_, _, Some(c)) => ("cidr", c),
                _ => anyhow::bail!("give one of --email, --phone or --cidr"),
            };
            let pool = pool(&db).await?;
            let row = app::abuse_add(&pool, &actor, kind, &value, note.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(format!(
                "entry {} added: {} {}",
                row.id, row.kind, row.value
            ))
        }
        AbuseCommand::List { db } => {
            let pool = pool(&db).await?;
            let rows = app::abuse_list(&pool)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut out = String::from("id\tkind\tvalue\tadded_by\tadded_at\tnote");
            for r in rows {
                out.push_str(&format!(
                    "\n{}\t{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.kind,
                    r.value,
                    r.added_by,
                    r.added_at.format("%Y-%m-%d %H:%M"),
                    r.note.unwrap_or_default()
                ));
            }
            Ok(out)
        }
        AbuseCommand::Remove { db, id } => {
            let pool = pool(&db).await?;
            let row = app::abuse_remove(&pool, &actor, id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(format!(
                "entry {} removed: {} {}",
                row.id, row.kind, row.value
            ))
        }
    }
}
