//! Mail to residents: messages are written to the `outbox` table in the same transaction as the
//! change they report, and a worker sends them over SMTP. A mail server outage delays messages
//! (retried with growing pauses) but never loses one.
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

use crate::storage::outbox::{self, Pending};

/// Where mail goes: `smtp://host:port` (plain SMTP to a local relay, which does the rest) and the sender address.
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
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
        })
    }
}

async fn send_one(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    m: &Pending,
) -> anyhow::Result<()> {
    let message = Message::builder()
        .from(from.clone())
        .to(m.to_email.parse()?)
        .subject(&m.subject)
        .header(ContentType::TEXT_PLAIN)
        // Quoted-printable keeps Polish text readable in the raw message and links intact.
        .body(
            Body::new_with_encoding(m.body.clone(), ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| anyhow::anyhow!("cannot encode the message body"))?,
        )?;
    transport.send(message).await?;
    Ok(())
}

/// Sends what is due; returns how many were sent.
pub async fn deliver_due(pool: &PgPool, config: &MailConfig) -> anyhow::Result<usize> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        .port(config.port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let from: Mailbox = config.from.parse()?;
    let mut sent = 0;
    // One message per transaction: the moment a message is handed to the mail server, its
    // "sent" mark is committed, so a crash can send again at most the one message in flight.
    loop {
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
                // Back off: 10 s, 20 s, 40 s … up to an hour.
                let pause = 10i64.saturating_mul(1 << m.attempts.clamp(0, 9)).min(3600);
                outbox::mark_failed(&mut tx, m.id, &e.to_string(), pause as f64).await?;
                tx.commit().await?;
                tracing::warn!(outbox_id = m.id, error = %e, "mail not sent; will retry");
                return Ok(sent);
            }
        }
    }
}

/// Runs the worker: on every `zglos_outbox` notification and every `every`.
pub fn spawn_worker(pool: PgPool, config: MailConfig, every: Duration) {
    tokio::spawn(async move {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut l) => l.listen("zglos_outbox").await.ok().map(|_| l),
            Err(_) => None,
        };
        let mut tick = tokio::time::interval(every);
        loop {
            match listener.as_mut() {
                Some(l) => {
                    tokio::select! { _ = l.recv() => {}, _ = tick.tick() => {} }
                }
                None => {
                    tick.tick().await;
                }
            }
            if let Err(e) = deliver_due(&pool, &config).await {
                tracing::warn!(error = %e, "mail worker");
            }
        }
    });
}
