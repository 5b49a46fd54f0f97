use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use zglos::city::{CityPack, GeometryFiles};
use zglos::config::{Config, DatabaseArgs};
use zglos::startup::{shutdown_signal, Application};
use zglos::storage;

/// Zgłoś: the city intervention e-map.
#[derive(Parser)]
#[command(name = "zglos", version, about)]
struct Cli {
    /// Log as JSON lines (for log collectors) instead of text.
    #[arg(long, env = "ZGLOS_LOG_JSON", global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct CityArgs {
    /// The city's data pack (a folder with city.json, categories.csv, units.csv, routing.csv).
    dir: PathBuf,
    /// District polygons (GeoJSON), instead of the file named in city.json.
    #[arg(long)]
    districts: Option<PathBuf>,
    /// City boundary (GeoJSON), instead of the file named in city.json.
    #[arg(long)]
    boundary: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the tiles and the web front end.
    Serve(Config),
    /// Apply the database migrations.
    Migrate(DatabaseArgs),
    /// Load (or reload) a city's data pack into the database.
    ImportCity {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        city: CityArgs,
    },
    /// Migrate and import a city in one go (idempotent).
    Setup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The city's data pack.
        #[arg(long)]
        city: PathBuf,
        #[arg(long)]
        districts: Option<PathBuf>,
        #[arg(long)]
        boundary: Option<PathBuf>,
    },
}

async fn import_city(db: &DatabaseArgs, dir: &std::path::Path, files: GeometryFiles) -> anyhow::Result<()> {
    let pack = CityPack::load(dir, &files)?;
    let pool = storage::connect(&db.database_url, 2).await.context("connecting to PostgreSQL")?;
    storage::migrate(&pool).await?;
    storage::city::import(&pool, &pack).await?;
    tracing::info!(
        city = %pack.name,
        districts = pack.districts.len(),
        categories = pack.categories.len(),
        units = pack.units.len(),
        rules = pack.rules.len(),
        "city imported"
    );
    Ok(())
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let result = match cli.command {
        Command::Serve(config) => async {
            let app = Application::build(config).await?;
            tracing::info!(port = app.port(), "listening");
            app.run_until(shutdown_signal()).await
        }
        .await,
        Command::Migrate(db) => async {
            let pool = storage::connect(&db.database_url, 2).await.context("connecting to PostgreSQL")?;
            storage::migrate(&pool).await
        }
        .await,
        Command::ImportCity { db, city } => {
            import_city(&db, &city.dir, GeometryFiles { districts: city.districts, boundary: city.boundary }).await
        }
        Command::Setup { db, city, districts, boundary } => import_city(&db, &city, GeometryFiles { districts, boundary }).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
