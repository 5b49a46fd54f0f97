//! Builds the application for `main` and the tests alike.
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::engine::Engine;
use crate::http::{self, AppState};
use crate::storage;

/// The process-wide metrics recorder (installed once, shared by every app in the process).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then our handle renders nothing.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    pub state: AppState,
    /// Tells the background tasks (sync, mail) to stop after what they are doing.
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// How long a shutdown waits for the background tasks to finish what they are doing.
const TASKS_GRACE: Duration = Duration::from_secs(10);

impl Application {
    /// Connects, loads the city and every report into memory, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = storage::connect_with_timeout(
            &config.db.database_url,
            config.db_pool,
            Duration::from_millis(config.db_acquire_timeout_ms.max(1)),
        )
        .await
        .context("connecting to PostgreSQL")?;
        let catalogue = storage::city::load(&pool).await?;
        let engine = Arc::new(Engine::new(Arc::new(catalogue)));
        let started = std::time::Instant::now();
        crate::app::sync::load(&pool, &engine)
            .await
            .context("loading reports")?;
        tracing::info!(reports = engine.report_count(), open = engine.open_count(), elapsed = ?started.elapsed(), "reports indexed");
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let limits = Arc::new(http::limits::Limits::new(&config.edge));
        let basemap_dir =
            crate::basemap::city_dir(&config.data.data_dir, &engine.catalogue().city.slug);
        let basemap = crate::basemap::Basemap::open(&basemap_dir)?.map(Arc::new);
        match &basemap {
            Some(b) => {
                tracing::info!(tiles = b.archive.len(), dir = %basemap_dir.display(), "basemap loaded")
            }
            None => {
                tracing::warn!(dir = %basemap_dir.display(), "no basemap of the city's own there (zglos setup writes it)")
            }
        }
        let fonts = Arc::new(crate::basemap::Fonts::scan(&config.fonts_dir));
        if fonts.names().is_empty() && basemap.is_some() {
            tracing::warn!(dir = %config.fonts_dir.display(), "no fonts there: the basemap's labels will not draw");
        }
        let icons = crate::icons::load(&basemap_dir.join(crate::icons::DIR))?;
        tracing::info!(icons = icons.len(), "category icons loaded");
        let state = AppState {
            pool,
            engine,
            config: Arc::new(config),
            metrics: metrics_handle(),
            limits,
            basemap,
            fonts,
            icons: Arc::new(icons),
        };
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![spawn_sync(
            state.pool.clone(),
            state.engine.clone(),
            Duration::from_secs(state.config.sync_seconds.max(1)),
            stopped.clone(),
        )];
        spawn_sweeper(
            state.pool.clone(),
            Duration::from_secs(state.config.edge.sweep_seconds.max(1)),
        );
        crate::app::retention::spawn_daily(state.pool.clone());
        // The links in what the background tasks send start with this.
        let base_url = state
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| {
                format!(
                    "http://{}",
                    listener
                        .local_addr()
                        .map_or_else(|_| "127.0.0.1:8080".into(), |a| a.to_string())
                )
            })
            .trim_end_matches('/')
            .to_owned();
        crate::app::deadlines::spawn_periodic(
            state.pool.clone(),
            state.engine.clone(),
            base_url.clone(),
            Duration::from_secs(300),
        );
        tasks.push(crate::delivery::spawn_worker(
            state.pool.clone(),
            state.engine.clone(),
            crate::delivery::DeliveryConfig::new(&base_url, &state.config.delivery),
            Duration::from_secs(state.config.sync_seconds.max(1)),
            stopped.clone(),
        ));
        if let Some(url) = &state.config.smtp_url {
            let mut mail = crate::mail::MailConfig::parse(url, &state.config.mail_from)?;
            mail.retry_base_ms = state.config.delivery.retry_base_ms;
            mail.max_attempts = state.config.delivery.max_attempts;
            tasks.push(crate::mail::spawn_worker(
                state.pool.clone(),
                mail,
                Duration::from_secs(state.config.sync_seconds.max(1)),
                stopped,
            ));
        }
        Ok(Self {
            router: http::app(state.clone()),
            listener,
            state,
            stop,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: the listener is closed at
    /// once (new connections are refused), requests in flight are answered (idle keep-alive
    /// connections are closed), for at most `shutdown_grace_seconds`; then the background tasks
    /// finish what they are doing (the mail worker the message in hand) and stop.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            state,
            stop,
            tasks,
        } = self;
        let grace = Duration::from_secs(state.config.shutdown_grace_seconds);
        let began = Arc::new(tokio::sync::Notify::new());
        let signal = {
            let began = began.clone();
            async move {
                shutdown.await;
                began.notify_one();
            }
        };
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let serve = axum::serve(listener, service).with_graceful_shutdown(signal);
        let served = tokio::select! {
            r = serve => r.map_err(anyhow::Error::from),
            _ = async { began.notified().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(?grace, "requests still in flight after the grace period; exiting anyway");
                Ok(())
            }
        };
        let _ = stop.send(true);
        let all = futures::future::join_all(tasks);
        if tokio::time::timeout(TASKS_GRACE, all).await.is_err() {
            tracing::warn!("background tasks did not stop in time");
        }
        tracing::info!("stopped");
        served
    }
}

/// Keeps the engine in step with changes made by other processes: on every notification, and
/// on a timer in case a notification was missed. A lost LISTEN connection (the database
/// restarted, say) is re-established at a tick, and the engine then catches up in every category;
/// while the database is away the catch-ups fail and are retried at each tick.
fn spawn_sync(
    pool: PgPool,
    engine: Arc<Engine>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut listening = storage::listen::Listening::new(pool.clone(), "zglos_reports").await;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            let wake = tokio::select! {
                w = listening.wait(&mut tick) => w,
                _ = stop.wait_for(|s| *s) => return,
            };
            let category = match wake {
                storage::listen::Wake::Notified(c) if !c.is_empty() => Some(c),
                _ => None,
            };
            match crate::app::sync::catch_up(&pool, &engine, category.as_deref()).await {
                Ok(n) => {
                    if failing {
                        tracing::info!(applied = n, "catch-up resumed");
                        failing = false;
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "catch-up failed; will retry at each sweep");
                    }
                    failing = true;
                }
            }
        }
    })
}

/// Deletes expired sessions, old login failures and idempotency keys every `every`.
fn spawn_sweeper(pool: PgPool, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match crate::app::sweep::sweep(&pool).await {
                Ok(swept) => tracing::debug!(?swept, "swept"),
                Err(e) => tracing::warn!(error = %e, "sweep failed; will retry"),
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
