//! Configuration: command-line flags, each with an environment variable, in one place.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL (the database must have PostGIS available).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/zglos"
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "ZGLOS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder with the web front end (`public/` and `node_modules/`).
    #[arg(long, env = "ZGLOS_WEB_DIR", default_value = "web")]
    pub web_dir: PathBuf,
    /// Public base URL used in links (TileJSON, paging); by default taken from the Host header.
    #[arg(long, env = "ZGLOS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "ZGLOS_DB_POOL", default_value_t = 16)]
    pub db_pool: u32,
    /// Where resident mail is sent, e.g. smtp://127.0.0.1:25 (unset: mail waits in the outbox).
    #[arg(long, env = "ZGLOS_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender address of resident mail.
    #[arg(
        long,
        env = "ZGLOS_MAIL_FROM",
        default_value = "Zgłoś <noreply@zglos.invalid>"
    )]
    pub mail_from: String,
    /// Seconds between sweeps that pick up changes made by other service processes.
    #[arg(long, env = "ZGLOS_SYNC_SECONDS", default_value_t = 5)]
    pub sync_seconds: u64,
}
