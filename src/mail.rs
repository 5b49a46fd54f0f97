//! Mail to residents: messages are written to the `outbox` table in the same transaction as the
//! change they report, and a worker sends them over SMTP. A mail server outage delays messages
//! (retried with growing pauses) but never loses one.
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

use crate::storage::outbox::{self, Pending};

/// Where mail goes: `smtp://host:port` (plain SMTP to a local relay, which does the rest) and the sender address.
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    /// The pause after the first failure, doubled after each further one (at most an hour).
    pub retry_base_ms: u64,
    /// Attempts after which a message waits in the dead-letter list.
    pub max_attempts: i32,
}

impl MailConfig {
    pub fn parse(url: &str, from: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| anyhow::anyhow!("the SMTP URL must look like smtp://host:port"))?;
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .unwrap_or((rest, "25"));
        Ok(Self {
            host: host.to_owned(),
            port: port.parse()?,
            from: from.to_owned(),
            retry_base_ms: 10_000,
            max_attempts: 30,
        })
    }
}

/// The Message-ID of an outbox message: the same on every attempt, so that a message sent again
/// (the mark that it was sent was lost with the database connection) can be recognised by the
/// receiving side as the one it already has.
pub fn message_id(outbox_id: i64, from: &Mailbox) -> String {
    format!("<outbox.{outbox_id}@{}>", from.email.domain())
}

async fn send_one(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    m: &Pending,
) -> anyhow::Result<()> {
    let builder = Message::builder()
        .message_id(Some(message_id(m.id, from)))
        .from(from.clone())
        .to(m.to_email.parse()?)
        .subject(&m.subject);
    // Quoted-printable keeps Polish text readable in the raw message and links intact.
    let encode = |text: &str| {
        Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::QuotedPrintable)
            .map_err(|_| anyhow::anyhow!("cannot encode the message body"))
    };
    let message = match &m.html_body {
        // The plain text first: clients that show no HTML (or no images) read that.
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(encode(&m.body)?),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(encode(html)?),
                ),
        )?,
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(encode(&m.body)?)?,
    };
    transport.send(message).await?;
    Ok(())
}

/// Sends what is due; returns how many were sent.
pub async fn deliver_due(pool: &PgPool, config: &MailConfig) -> anyhow::Result<usize> {
    deliver_due_until(pool, config, &|| false).await
}

/// Sends what is due until `stop()` says to stop (checked between messages: the message in hand
/// is always finished and its mark committed).
async fn deliver_due_until(
    pool: &PgPool,
    config: &MailConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> anyhow::Result<usize> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        .port(config.port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let from: Mailbox = config.from.parse()?;
    let mut sent = 0;
    // One message per transaction: the moment a message is handed to the mail server, its
    // "sent" mark is committed, so a crash can send again at most the one message in flight.
    loop {
        if stop() {
            return Ok(sent);
        }
        let mut tx = pool.begin().await?;
        let Some(m) = outbox::due(&mut tx, 1).await?.pop() else {
            tx.commit().await?;
            return Ok(sent);
        };
        match send_one(&transport, &from, &m).await {
            Ok(()) => {
                outbox::mark_sent(&mut tx, m.id).await?;
                tx.commit().await?;
                sent += 1;
            }
            Err(e) => {
                // Back off: 10 s, 20 s, 40 s … up to an hour (with the default base).
                let pause = crate::domain::delivery::backoff_ms(config.retry_base_ms, m.attempts);
                let dead = outbox::mark_failed(
                    &mut tx,
                    m.id,
                    &e.to_string(),
                    pause as f64 / 1000.0,
                    config.max_attempts,
                )
                .await?;
                tx.commit().await?;
                if dead {
                    tracing::error!(outbox_id = m.id, error = %e, "mail not sent after the last attempt; it waits in the dead-letter list");
                } else {
                    tracing::warn!(outbox_id = m.id, error = %e, "mail not sent; will retry");
                }
                return Ok(sent);
            }
        }
    }
}

/// Runs the worker: on every `zglos_outbox` notification and every `every`, until `stop` turns
/// true. A lost LISTEN connection (the database restarted) is re-established at a tick; while
/// the database is away the sweeps fail and are retried at each tick, and the mail waits in the
/// outbox.
pub fn spawn_worker(
    pool: PgPool,
    config: MailConfig,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut listening =
            crate::storage::listen::Listening::new(pool.clone(), "zglos_outbox").await;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = listening.wait(&mut tick) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let stopping = stop.clone();
            let should_stop = move || *stopping.borrow();
            match deliver_due_until(&pool, &config, &should_stop).await {
                Ok(_) => {
                    if failing {
                        tracing::info!("mail worker resumed");
                        failing = false;
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "mail worker: will retry at each sweep");
                    }
                    failing = true;
                }
            }
        }
    })
}
