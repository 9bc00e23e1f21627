//! Outbound: approved replies over SMTP, threaded under the customer's message.

use crate::{MailError, Result};
use deskhand_core::review::OutgoingEmail;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// An SMTP client for one server (`smtp://host:port`, `smtps://…`, or
/// `smtp://…?tls=required`, with optional `user:password@`).
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds credentials; show only who we send as.
        f.debug_struct("SmtpSender")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    pub fn from_url(url: &str, from: &str, timeout: Duration) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("DESKHAND_SMTP_URL: {e}")))?
            .timeout(Some(timeout))
            .build();
        let from = from
            .parse()
            .map_err(|e| MailError::Config(format!("DESKHAND_MAIL_FROM {from:?}: {e}")))?;
        Ok(Self { transport, from })
    }

    /// Hands one reply to the SMTP server.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<()> {
        let message = build_message(&self.from, email)?;
        self.transport.send(message).await.map(drop).map_err(|e| {
            // 5xx replies will fail the same way again; anything else (refused
            // connection, timeout, 4xx) may pass later.
            MailError::Send {
                permanent: e.is_permanent(),
                reason: e.to_string(),
            }
        })
    }
}

/// The RFC 5322 message for a reply: `Message-ID`, and `In-Reply-To` / `References` when
/// the customer's message id is known.
pub fn build_message(from: &Mailbox, email: &OutgoingEmail) -> Result<Message> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| MailError::Invalid(format!("recipient {:?}: {e}", email.to)))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(format!("<{}>", email.message_id)));
    if let Some(parent) = &email.in_reply_to {
        builder = builder
            .in_reply_to(format!("<{parent}>"))
            .references(format!("<{parent}>"));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| MailError::Invalid(e.to_string()))
}

impl deskhand_core::ports::MailTransport for SmtpSender {
    type Error = MailError;

    async fn send(&self, email: &OutgoingEmail) -> Result<()> {
        SmtpSender::send(self, email).await
    }
}
