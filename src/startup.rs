//! Builds the application for `main` and the tests alike.
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::net::TcpListener;

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
}

impl Application {
    /// Connects, loads the city and every report into memory, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = storage::connect(&config.db.database_url, config.db_pool)
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
        let state = AppState {
            pool,
            engine,
            config: Arc::new(config),
            metrics: metrics_handle(),
        };
        spawn_sync(
            state.pool.clone(),
            state.engine.clone(),
            Duration::from_secs(state.config.sync_seconds.max(1)),
        );
        if let Some(url) = &state.config.smtp_url {
            let mail = crate::mail::MailConfig::parse(url, &state.config.mail_from)?;
            crate::mail::spawn_worker(
                state.pool.clone(),
                mail,
                Duration::from_secs(state.config.sync_seconds.max(1)),
            );
        }
        Ok(Self {
            router: http::app(state.clone()),
            listener,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// Keeps the engine in step with changes made by other processes: on every notification, and
/// on a timer in case a notification was missed (a dropped connection, say).
fn spawn_sync(pool: PgPool, engine: Arc<Engine>, every: Duration) {
    tokio::spawn(async move {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(mut l) => match l.listen("zglos_reports").await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN failed; relying on the periodic sweep");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "no listener connection; relying on the periodic sweep");
                None
            }
        };
        let mut tick = tokio::time::interval(every);
        loop {
            let category = match listener.as_mut() {
                Some(l) => tokio::select! {
                    n = l.recv() => n.ok().map(|n| n.payload().to_owned()),
                    _ = tick.tick() => None,
                },
                None => {
                    tick.tick().await;
                    None
                }
            };
            if let Err(e) = crate::app::sync::catch_up(&pool, &engine, category.as_deref()).await {
                tracing::warn!(error = %e, "catch-up failed; will retry");
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
