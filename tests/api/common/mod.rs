//! Test helpers: every test gets its own fresh database (a copy of a migrated template with
//! Kraków loaded) and its own service on a free port, talking to the real PostGIS.

pub mod receiver;
pub mod smtp;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use zglos::city::{CityPack, GeometryFiles};
use zglos::config::{CacheArgs, Config, DataArgs, DatabaseArgs, DeliveryArgs, EdgeArgs};
use zglos::startup::Application;
use zglos::storage;

pub fn admin_url() -> String {
    std::env::var("ZGLOS_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn db_url(name: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The build directory: the test command shares one per machine (`CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The python of the client tools' venv (scripts/lib.sh: ensure_gis_clients), else the system one.
pub fn gis_python() -> String {
    let venv = target_dir().join("gis-clients/bin/python");
    if venv.exists() {
        venv.to_string_lossy().into_owned()
    } else {
        "python3".into()
    }
}

/// The services' data folder: Kraków's basemap is written there with the template.
pub fn data_dir() -> PathBuf {
    target_dir().join("test-data")
}

pub fn krakow_pack() -> PathBuf {
    repo_root().join("cities/krakow")
}

/// Hash of what goes into the template: migrations and the city pack with its icons. A change
/// makes a new one (and writes the data folder again).
fn template_name() -> String {
    let mut h = Sha256::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        repo_root().join("migrations"),
        krakow_pack(),
        krakow_pack().join("icons"),
    ] {
        for e in std::fs::read_dir(&dir).expect("readable folder") {
            files.push(e.expect("entry").path());
        }
    }
    files.sort();
    for f in files {
        h.update(f.file_name().unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap_or_default());
    }
    format!("zglos_tpl_{}", &hex::encode(h.finalize())[..12])
}

async fn ensure_template(admin: &mut PgConnection) -> String {
    let name = template_name();
    // One process builds it; the others wait on the lock and then find it.
    admin
        .execute("SELECT pg_advisory_lock(7231, 1)")
        .await
        .expect("lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut *admin)
            .await
            .unwrap();
    // The basemap file, as `zglos setup` writes it (under the same lock).
    let city_dir = zglos::basemap::city_dir(&data_dir(), "krakow");
    if !exists
        || !city_dir.join(zglos::basemap::TILES_FILE).exists()
        || !city_dir
            .join(zglos::icons::DIR)
            .join("pothole.svg")
            .exists()
    {
        let pack = CityPack::load(&krakow_pack(), &GeometryFiles::default()).expect("Kraków pack");
        zglos::basemap::import_pack(&pack, &data_dir()).expect("Kraków's basemap");
    }
    if !exists {
        let building = format!("{name}_building");
        admin
            .execute(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE {building}").as_str())
            .await
            .unwrap();
        {
            let pool = storage::connect(&db_url(&building), 2)
                .await
                .expect("connect template");
            storage::migrate(&pool).await.expect("migrate template");
            let pack =
                CityPack::load(&krakow_pack(), &GeometryFiles::default()).expect("Kraków pack");
            storage::city::import(&pool, &pack)
                .await
                .expect("import Kraków");
            pool.close().await;
        }
        admin
            .execute(format!("ALTER DATABASE {building} RENAME TO {name}").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("ALTER DATABASE {name} IS_TEMPLATE true").as_str())
            .await
            .unwrap();
    }
    admin
        .execute("SELECT pg_advisory_unlock(7231, 1)")
        .await
        .expect("unlock");
    name
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh database with the schema and Kraków loaded; dropped when the guard goes.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL must run on 127.0.0.1:5432 (see README)");
        let template = ensure_template(&mut admin).await;
        let name = format!(
            "zglos_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        admin
            .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
            .await
            .expect("create test database");
        Self {
            url: db_url(&name),
            name,
        }
    }

    /// A database with only the migrations (no city), for import tests.
    pub async fn empty() -> Self {
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL must run on 127.0.0.1:5432");
        let name = format!(
            "zglos_test_empty_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        Self {
            url: db_url(&name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([
                &admin_url(),
                "-qc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
    pub db: TestDb,
}

pub fn config(database_url: &str) -> Config {
    Config {
        db: DatabaseArgs {
            database_url: database_url.to_owned(),
        },
        data: DataArgs {
            data_dir: data_dir(),
        },
        fonts_dir: "/usr/share/fonts/truetype/dejavu".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        web_dir: repo_root().join("web"),
        public_url: None,
        smtp_url: None,
        mail_from: "Zgłoś <noreply@zglos.test>".into(),
        db_pool: 8,
        sync_seconds: 1,
        db_acquire_timeout_ms: 1500,
        shutdown_grace_seconds: 5,
        // Generous limits: tests file many reports from 127.0.0.1 (tests of the limits set
        // their own).
        edge: EdgeArgs {
            write_burst: 1_000_000,
            write_per_hour: 1_000_000,
            contact_per_hour: 1_000_000,
            ..EdgeArgs::default()
        },
        // Quick retries: tests of receivers that are down wait for the next attempt.
        delivery: DeliveryArgs {
            retry_base_ms: 300,
            open311_poll_seconds: 1,
            ..DeliveryArgs::default()
        },
        cache: CacheArgs::default(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(TestDb::new().await).await
}

pub async fn spawn_app_on(db: TestDb) -> TestApp {
    spawn_app_with(db, config).await
}

/// With a changed configuration (the database URL is filled in).
pub async fn spawn_app_with(db: TestDb, make: impl FnOnce(&str) -> Config) -> TestApp {
    // Errors the service logs show up in a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let app = Application::build(make(&db.url))
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.state.pool.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        pool,
        client: reqwest::Client::new(),
        db,
    }
}

/// A point report feature.
/// A copy of the twin city's pack in a temporary folder (named by `tag`), changed by `edit`
/// before it is imported.
pub fn twin_city_copy(tag: &str, edit: impl FnOnce(&std::path::Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zglos-pack-{tag}-{}", std::process::id()));
    let src = repo_root().join("tests/fixtures/twin-city");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    edit(&dir);
    dir
}

/// `zglos import-city PACK` into `db_url`: whether it worked, and what it wrote to stderr.
pub fn import_city(pack: &std::path::Path, db_url: &str) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
        .args([
            "import-city",
            pack.to_str().unwrap(),
            "--database-url",
            db_url,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn point_report(category: &str, lon: f64, lat: f64, description: &str) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": category, "description": description}
    })
}

/// (lon, lat) `east` metres east and `north` metres north of a point, for spacing test reports.
pub fn offset(lon: f64, lat: f64, east: f64, north: f64) -> (f64, f64) {
    let dlat = north / 111_195.0;
    let dlon = east / (111_195.0 * lat.to_radians().cos());
    (lon + dlon, lat + dlat)
}

/// Rynek Główny, Kraków's main square (district I Stare Miasto).
pub const RYNEK: (f64, f64) = (19.9373, 50.0617);
/// Plac Centralny in Nowa Huta (district XVIII).
pub const PLAC_CENTRALNY: (f64, f64) = (20.0375, 50.0720);

/// A logged-in staff member: the session cookie and the CSRF token.
pub struct Staff {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    /// Creates a staff account and logs it in through HTTP.
    pub async fn staff(&self, login: &str, roles: &[zglos::auth::Role], units: &[&str]) -> Staff {
        let units: Vec<String> = units.iter().map(|u| u.to_string()).collect();
        zglos::auth::add_user(
            &self.pool,
            login,
            login,
            "a long enough password",
            roles,
            &units,
        )
        .await
        .expect("user");
        let r = self
            .post_json(
                "/api/v1/staff/login",
                &json!({"login": login, "password": "a long enough password"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = r.json().await.unwrap();
        Staff {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A staff POST with session and CSRF token.
    pub async fn staff_post(&self, who: &Staff, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("cookie", &who.cookie)
            .header("x-csrf-token", &who.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn staff_get(&self, who: &Staff, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("cookie", &who.cookie)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// A GET of an absolute URL (a link from a mail), as JSON.
    pub async fn get_json_at(&self, url: &str) -> Value {
        let r = self.client.get(url).send().await.unwrap();
        assert!(r.status().is_success(), "GET {url}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("json")
    }

    /// Submits a report and returns its Feature, asserting 201.
    pub async fn report(&self, body: &Value) -> Value {
        let r = self.post_json("/api/v1/reports", body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 201, "POST /api/v1/reports: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Decoded report tile.
    pub async fn tile(&self, path: &str) -> Vec<zglos_tiles::decode::Layer> {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        let bytes = r.bytes().await.unwrap();
        zglos_tiles::decode::decode(&bytes).expect("a valid vector tile")
    }
}

/// The tile at zoom `z` holding a lon/lat.
pub fn tile_of(z: u8, lon: f64, lat: f64) -> (u8, u32, u32) {
    let (x, y) = zglos_tiles::mercator::to_unit(lon, lat);
    let t = zglos_tiles::TileId::containing(z, x, y);
    (t.z, t.x, t.y)
}

pub fn shared_data(rel: &str) -> PathBuf {
    repo_root().join("..").join("shared").join("data").join(rel)
}
