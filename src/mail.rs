//! Mail to residents: messages are written to the `outbox` table in the same transaction as the
//! change they report, and a worker sends them over SMTP. A mail server outage delays messages
//! (retried with growing pauses) but never loses one.
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

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

/// The texts of a status-change message, in the resident's language.
pub fn status_message(
    lang: &str,
    report_id: i64,
    status_name: &str,
    public_note: &str,
    link: &str,
) -> (String, String) {
    if lang == "en" {
        (
            format!("Your report #{report_id}: {status_name}"),
            format!(
                "Hello,\n\nthe status of report #{report_id} changed to: {status_name}.\n\n{public_note}\n\nFollow the report: {link}\n\n-- \nZgłoś, the city's e-map of reports\n"
            ),
        )
    } else {
        (
            format!("Twoje zgłoszenie #{report_id}: {status_name}"),
            format!(
                "Dzień dobry,\n\nstatus zgłoszenia #{report_id} zmienił się na: {status_name}.\n\n{public_note}\n\nZgłoszenie można śledzić tutaj: {link}\n\n-- \nZgłoś, miejska e-mapa zgłoszeń\n"
            ),
        )
    }
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: i64,
    to_email: String,
    subject: String,
    body: String,
    attempts: i32,
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
    loop {
        let mut tx = pool.begin().await?;
        // SKIP LOCKED: several service processes can run workers without sending twice.
        let batch: Vec<Pending> = sqlx::query_as(
            "SELECT id, to_email, subject, body, attempts FROM outbox
             WHERE sent_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED",
        )
        .fetch_all(&mut *tx)
        .await?;
        if batch.is_empty() {
            tx.commit().await?;
            return Ok(sent);
        }
        let mut failed = false;
        for m in &batch {
            match send_one(&transport, &from, m).await {
                Ok(()) => {
                    sqlx::query("UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1")
                        .bind(m.id)
                        .execute(&mut *tx)
                        .await?;
                    sent += 1;
                }
                Err(e) => {
                    // Back off: 10 s, 20 s, 40 s … up to an hour.
                    let pause = 10i64.saturating_mul(1 << m.attempts.clamp(0, 9)).min(3600);
                    sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                             next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
                    )
                    .bind(m.id)
                    .bind(e.to_string())
                    .bind(pause as f64)
                    .execute(&mut *tx)
                    .await?;
                    tracing::warn!(outbox_id = m.id, error = %e, "mail not sent; will retry");
                    failed = true;
                }
            }
        }
        tx.commit().await?;
        if failed {
            return Ok(sent);
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
