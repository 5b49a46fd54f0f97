//! A LISTEN connection that outlives database outages: when the connection is lost it is
//! re-established on the next tick, and the caller is told so that it can catch up with what it
//! missed (notifications sent while nobody listened are gone).
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::time::Interval;

/// Why a waiting task woke up.
#[derive(Debug, PartialEq)]
pub enum Wake {
    /// A notification with its payload.
    Notified(String),
    /// The timer: time for the periodic sweep.
    Tick,
    /// The connection was lost or just re-established: notifications may have been missed.
    Resync,
}

pub struct Listening {
    pool: PgPool,
    channel: &'static str,
    listener: Option<PgListener>,
}

impl Listening {
    /// Listens on `channel`; if the database cannot be reached now, tries again at each tick.
    pub async fn new(pool: PgPool, channel: &'static str) -> Self {
        let mut l = Self {
            pool,
            channel,
            listener: None,
        };
        l.connect().await;
        l
    }

    pub fn is_connected(&self) -> bool {
        self.listener.is_some()
    }

    async fn connect(&mut self) -> bool {
        let attempt = async {
            let mut l = PgListener::connect_with(&self.pool).await?;
            l.listen(self.channel).await?;
            Ok::<_, sqlx::Error>(l)
        };
        // Bounded: a database that accepts connections but does not answer must not stall the task.
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Ok(l)) => {
                self.listener = Some(l);
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(channel = self.channel, error = %e, "LISTEN connection not available; relying on the periodic sweep");
                false
            }
            Err(_) => {
                tracing::warn!(
                    channel = self.channel,
                    "LISTEN connection timed out; relying on the periodic sweep"
                );
                false
            }
        }
    }

    /// Waits for a notification or the next tick; without a connection, tries to re-establish it
    /// at the tick.
    pub async fn wait(&mut self, tick: &mut Interval) -> Wake {
        match self.listener.as_mut() {
            Some(l) => tokio::select! {
                r = l.try_recv() => match r {
                    Ok(Some(n)) => Wake::Notified(n.payload().to_owned()),
                    // The connection was lost and re-established in the meantime.
                    Ok(None) => Wake::Resync,
                    Err(e) => {
                        tracing::warn!(channel = self.channel, error = %e, "LISTEN connection lost; will reconnect");
                        self.listener = None;
                        Wake::Resync
                    }
                },
                _ = tick.tick() => Wake::Tick,
            },
            None => {
                tick.tick().await;
                if self.connect().await {
                    tracing::info!(channel = self.channel, "LISTEN connection re-established");
                    Wake::Resync
                } else {
                    Wake::Tick
                }
            }
        }
    }
}
