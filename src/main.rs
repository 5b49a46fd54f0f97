use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use zglos::city::{CityPack, GeometryFiles};
use zglos::config::{Config, DataArgs, DatabaseArgs};
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
        data: DataArgs,
        #[command(flatten)]
        city: CityArgs,
    },
    /// Migrate and import a city in one go (idempotent).
    Setup {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        data: DataArgs,
        /// The city's data pack.
        #[arg(long)]
        city: PathBuf,
        #[arg(long)]
        districts: Option<PathBuf>,
        #[arg(long)]
        boundary: Option<PathBuf>,
    },
    /// Export reports to GeoJSON, CSV, FlatGeobuf or GeoPackage (the filters of /api/v1/exports).
    Export(zglos::commands::export::ExportArgs),
    /// Compare what a running service holds in memory with the database; fails on a difference.
    Check(zglos::commands::check::CheckArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys for apps (Open311) and analysts' tools.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Manage the abuse list: emails, phones and address ranges whose reports are held.
    #[command(subcommand)]
    Abuse(zglos::commands::abuse::AbuseCommand),
    /// Erase contacts (and photo originals) of reports closed longer ago than the city keeps them.
    Retention(zglos::commands::retention::RetentionArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create (or update) a staff account. The password is read from ZGLOS_PASSWORD or stdin.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Login (an email address).
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// Roles, comma-separated: admin, unit_staff, consultant, analyst.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Units (codes) a unit_staff member works for, comma-separated.
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Issue a key; it is printed once and only its digest is stored.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Who the key is for (the app's name).
        #[arg(long)]
        name: String,
        /// open311 (submit and read requests), analyst (internal fields) or unit_system (a
        /// unit's own system: changes the status of that unit's reports).
        #[arg(long, default_value = "open311")]
        role: String,
        /// The unit a unit_system key acts for.
        #[arg(long)]
        unit: Option<String>,
    },
}

async fn user_add(
    db: &DatabaseArgs,
    login: &str,
    name: &str,
    roles: &[String],
    units: &[String],
) -> anyhow::Result<()> {
    let roles: Vec<zglos::auth::Role> = roles
        .iter()
        .map(|r| {
            zglos::auth::Role::parse(r).ok_or_else(|| {
                anyhow::anyhow!("unknown role {r:?}: admin, unit_staff, consultant or analyst")
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let password = match std::env::var("ZGLOS_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprint!("password for {login}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let pool = storage::connect(&db.database_url, 2)
        .await
        .context("connecting to PostgreSQL")?;
    storage::migrate(&pool).await?;
    let id = zglos::auth::add_user(&pool, login, name, &password, &roles, units).await?;
    println!("user {id} {login} ready");
    Ok(())
}

async fn import_city(
    db: &DatabaseArgs,
    data: &DataArgs,
    dir: &std::path::Path,
    files: GeometryFiles,
) -> anyhow::Result<()> {
    let pack = CityPack::load(dir, &files)?;
    let pool = storage::connect(&db.database_url, 2)
        .await
        .context("connecting to PostgreSQL")?;
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
    let pack = std::sync::Arc::new(pack);
    let data_dir = data.data_dir.clone();
    let written = {
        let pack = pack.clone();
        tokio::task::spawn_blocking(move || zglos::basemap::import_pack(&pack, &data_dir)).await??
    };
    if !pack.icons.is_empty() {
        tracing::info!(icons = pack.icons.len(), "category icons written");
    }
    if let Some(tiles) = written {
        tracing::info!(
            tiles,
            dir = %zglos::basemap::city_dir(&data.data_dir, &pack.slug).display(),
            "basemap written"
        );
    }
    Ok(())
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
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
        Command::Serve(config) => {
            async {
                let app = Application::build(config).await?;
                tracing::info!(port = app.port(), "listening");
                app.run_until(shutdown_signal()).await
            }
            .await
        }
        Command::Migrate(db) => {
            async {
                let pool = storage::connect(&db.database_url, 2)
                    .await
                    .context("connecting to PostgreSQL")?;
                storage::migrate(&pool).await
            }
            .await
        }
        Command::ImportCity { db, data, city } => {
            import_city(
                &db,
                &data,
                &city.dir,
                GeometryFiles {
                    districts: city.districts,
                    boundary: city.boundary,
                },
            )
            .await
        }
        Command::Setup {
            db,
            data,
            city,
            districts,
            boundary,
        } => {
            import_city(
                &db,
                &data,
                &city,
                GeometryFiles {
                    districts,
                    boundary,
                },
            )
            .await
        }
        Command::Export(args) => zglos::commands::export::run(args).await,
        Command::Check(args) => zglos::commands::check::run(args).await,
        Command::Retention(args) => zglos::commands::retention::run(args)
            .await
            .map(|out| println!("{out}")),
        Command::Abuse(command) => zglos::commands::abuse::run(command)
            .await
            .map(|out| println!("{out}")),
        Command::User(UserCommand::Add {
            db,
            login,
            name,
            roles,
            units,
        }) => user_add(&db, &login, &name, &roles, &units).await,
        Command::Apikey(ApiKeyCommand::Add {
            db,
            name,
            role,
            unit,
        }) => {
            async {
                let pool = storage::connect(&db.database_url, 2)
                    .await
                    .context("connecting to PostgreSQL")?;
                storage::migrate(&pool).await?;
                let key = zglos::auth::add_api_key(&pool, &name, &role, unit.as_deref()).await?;
                println!("{key}");
                eprintln!("API key for {name} ({role}); keep it: it is not shown again");
                Ok(())
            }
            .await
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
