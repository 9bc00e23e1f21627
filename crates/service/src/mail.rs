//! The SMTP relay: sends approved replies, one transaction per email, retrying with
//! exponential backoff while the SMTP server is away. A reply is marked sent only after
//! the server accepted it; while it waits, the UI shows it as "sending".

use crate::metrics::names::SMTP_ATTEMPTS;
use deskhand_core::ports::MailTransport;
use deskhand_core::review::OutgoingEmail;
use deskhand_core::Transience as _;
use deskhand_db::{DueEmail, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct MailRelayConfig {
    pub poll_interval: Duration,
    pub max_retry_backoff: Duration,
}

/// Runs until `shutdown`; the email in the air when it comes is finished first.
pub async fn run<T: MailTransport>(
    store: Store,
    sender: T,
    config: MailRelayConfig,
    wakeup: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut db_failures = 0u32;
    while !shutdown.is_cancelled() {
        let pause = match store.next_due_email().await {
            Ok(Some(due)) => {
                db_failures = 0;
                if let Err(error) = deliver(&sender, due, &config).await {
                    tracing::warn!(%error, "recording an SMTP attempt failed; it will be retried");
                }
                continue;
            }
            Ok(None) => {
                db_failures = 0;
                config.poll_interval
            }
            Err(error) => {
                db_failures = db_failures.saturating_add(1);
                tracing::warn!(%error, "SMTP relay cannot read its queue");
                Duration::from_millis(100 * 2u64.pow(db_failures.min(7)))
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wakeup.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("SMTP relay stopped");
}

async fn deliver<T: MailTransport>(
    sender: &T,
    due: DueEmail,
    config: &MailRelayConfig,
) -> Result<(), deskhand_db::Error> {
    let email: OutgoingEmail = match serde_json::from_value(due.message.clone()) {
        Ok(email) => email,
        Err(error) => {
            tracing::error!(email_id = due.email_id, %error, "stored reply is unreadable; a person must resend it");
            return due
                .rejected(&format!("stored reply is unreadable: {error}"))
                .await;
        }
    };
    match sender.send(&email).await {
        Ok(()) => {
            metrics::counter!(SMTP_ATTEMPTS, "outcome" => "sent").increment(1);
            tracing::info!(draft_id = %due.draft_id, message_id = %email.message_id, "reply sent");
            due.sent().await
        }
        Err(error) if error.is_transient() => {
            metrics::counter!(SMTP_ATTEMPTS, "outcome" => "retry").increment(1);
            let retry_in = backoff(due.attempts, config.max_retry_backoff);
            tracing::warn!(draft_id = %due.draft_id, attempts = due.attempts + 1, retry_in_s = retry_in.as_secs_f64(), %error, "SMTP send failed; will retry");
            due.failed(&error.to_string(), retry_in).await
        }
        Err(error) => {
            metrics::counter!(SMTP_ATTEMPTS, "outcome" => "rejected").increment(1);
            tracing::error!(draft_id = %due.draft_id, %error, "SMTP server refused the reply for good; a person must handle it");
            due.rejected(&error.to_string()).await
        }
    }
}

/// 1 s, 2 s, 4 s … up to `max`.
fn backoff(attempts: i32, max: Duration) -> Duration {
    let exponent = attempts.clamp(0, 20) as u32;
    Duration::from_secs(1u64 << exponent).min(max)
}
