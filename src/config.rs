//! Configuration: command-line flags, each with an environment variable, in one place.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::domain::net::Cidr;

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

/// Files the service keeps beside the database.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Where `zglos setup` writes, and the service reads, a city's files: its basemap in
    /// `{data_dir}/{slug}/basemap.pmtiles` and `basemap-style.json`. Every instance needs them.
    #[arg(long, env = "ZGLOS_DATA_DIR", default_value = "var")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Folder of TrueType/OpenType fonts the map's labels are drawn with (served as glyphs under
    /// `/fonts/`, named by family and style, e.g. "DejaVu Sans Book").
    #[arg(
        long,
        env = "ZGLOS_FONTS_DIR",
        default_value = "/usr/share/fonts/truetype/dejavu"
    )]
    pub fonts_dir: PathBuf,
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

    // Behaviour under faults: how long requests wait for the database, how long a shutdown waits.
    /// Milliseconds a request waits for a database connection before it is answered 503 with
    /// Retry-After (the database is away or every connection is busy).
    #[arg(long, env = "ZGLOS_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1500)]
    pub db_acquire_timeout_ms: u64,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight before it exits anyway.
    #[arg(long, env = "ZGLOS_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
    #[command(flatten)]
    pub edge: EdgeArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// How long caches in front (browsers, a CDN, a reverse proxy) may keep the public report tiles.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct CacheArgs {
    /// Seconds a public report tile is fresh (`Cache-Control: max-age`); 0 makes every use
    /// revalidate (answered 304 while the tile is unchanged).
    #[arg(long, env = "ZGLOS_TILE_MAX_AGE", default_value_t = 2)]
    pub tile_max_age: u32,
    /// Seconds after that a cache may still serve it while it revalidates
    /// (`stale-while-revalidate`).
    #[arg(long, env = "ZGLOS_TILE_STALE_WHILE_REVALIDATE", default_value_t = 5)]
    pub tile_stale_while_revalidate: u32,
}

impl Default for CacheArgs {
    /// The same values as the flags' defaults.
    fn default() -> Self {
        CacheArgs {
            tile_max_age: 2,
            tile_stale_while_revalidate: 5,
        }
    }
}

impl CacheArgs {
    /// The `Cache-Control` of public report tiles.
    pub fn report_tiles(&self) -> String {
        format!(
            "public, max-age={}, stale-while-revalidate={}",
            self.tile_max_age, self.tile_stale_while_revalidate
        )
    }
}

/// Outbound messages (mail, and deliveries to units' own systems): how often they are tried and
/// how often units' Open311 endpoints are asked for news.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct DeliveryArgs {
    /// Milliseconds before the second attempt of a failed mail or delivery; doubled after each
    /// further failure, at most an hour.
    #[arg(long, env = "ZGLOS_RETRY_BASE_MS", default_value_t = 10_000)]
    pub retry_base_ms: u64,
    /// Attempts after which a mail or delivery gives up and waits in the dead-letter list (the
    /// staff UI's "Deliveries" view) for an admin to retry it. The default, with the default
    /// pauses, keeps trying for about a day.
    #[arg(long, env = "ZGLOS_MAX_ATTEMPTS", default_value_t = 30)]
    pub max_attempts: i32,
    /// Seconds a receiver may take to answer a delivery before the attempt counts as failed.
    #[arg(long, env = "ZGLOS_DELIVERY_TIMEOUT_SECONDS", default_value_t = 10)]
    pub delivery_timeout_seconds: u64,
    /// Seconds between the polls of units' Open311 endpoints for the status of their reports.
    #[arg(long, env = "ZGLOS_OPEN311_POLL_SECONDS", default_value_t = 300)]
    pub open311_poll_seconds: u64,
}

impl Default for DeliveryArgs {
    /// The same values as the flags' defaults.
    fn default() -> Self {
        DeliveryArgs {
            retry_base_ms: 10_000,
            max_attempts: 30,
            delivery_timeout_seconds: 10,
            open311_poll_seconds: 300,
        }
    }
}

/// The service's edge: rate limits on anonymous writes, trusted proxies, timeouts, the sweeper.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct EdgeArgs {
    /// Anonymous writes a client address may make at once (reports, photos, "me too",
    /// subscriptions, reopenings, Open311 requests).
    #[arg(long, env = "ZGLOS_WRITE_BURST", default_value_t = 20)]
    pub write_burst: u32,
    /// Anonymous writes a client address regains per hour after its burst.
    #[arg(long, env = "ZGLOS_WRITE_PER_HOUR", default_value_t = 60)]
    pub write_per_hour: u32,
    /// Anonymous writes per hour (and at once) for one contact e-mail address or phone number.
    #[arg(long, env = "ZGLOS_CONTACT_PER_HOUR", default_value_t = 30)]
    pub contact_per_hour: u32,
    /// Rate-limit buckets kept in memory per kind; idle ones are dropped first.
    #[arg(long, env = "ZGLOS_LIMIT_BUCKETS", default_value_t = 100_000)]
    pub limit_buckets: usize,
    /// Proxies whose X-Forwarded-For is believed: comma-separated CIDR blocks (IPv4 or IPv6).
    #[arg(long, env = "ZGLOS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Cidr>,
    /// Seconds a request may take before it is answered 503 (the exports are not limited).
    #[arg(long, env = "ZGLOS_REQUEST_TIMEOUT", default_value_t = 30.0)]
    pub request_timeout: f64,
    /// Seconds between sweeps of expired sessions, old login failures and idempotency keys.
    #[arg(long, env = "ZGLOS_SWEEP_SECONDS", default_value_t = 3600)]
    pub sweep_seconds: u64,
}

impl Default for EdgeArgs {
    /// The same values as the flags' defaults.
    fn default() -> Self {
        EdgeArgs {
            write_burst: 20,
            write_per_hour: 60,
            contact_per_hour: 30,
            limit_buckets: 100_000,
            trusted_proxies: Vec::new(),
            request_timeout: 30.0,
            sweep_seconds: 3600,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::EdgeArgs;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        edge: EdgeArgs,
    }

    #[test]
    fn the_edge_defaults_are_the_flags_defaults() {
        let parsed = Flags::try_parse_from(["zglos"]).unwrap().edge;
        assert_eq!(parsed, EdgeArgs::default());
    }

    #[test]
    fn trusted_proxies_are_a_list_of_blocks_and_a_bad_one_stops_the_start() {
        let parsed = Flags::try_parse_from(["zglos", "--trusted-proxies", "10.0.0.0/8,::1"])
            .unwrap()
            .edge;
        assert_eq!(parsed.trusted_proxies.len(), 2);
        let err = Flags::try_parse_from(["zglos", "--trusted-proxies", "10.0.0.0/8,10.0.0.0/40"])
            .err()
            .expect("refused");
        let text = err.to_string();
        assert!(
            text.contains("--trusted-proxies") && text.contains("10.0.0.0/40"),
            "{text}"
        );
    }
}
