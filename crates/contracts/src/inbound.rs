//! The CRM's inbound email event, and its decoding.
//!
//! Key: the case id. Value: JSON (see `docs/events.md` and
//! `docs/schemas/crm.email.received.schema.json`). Unknown fields are ignored.

use base64::Engine as _;
use deskhand_core::email::{EmailBody, InboundEmail, OriginalMessage};
use deskhand_core::ids::{CaseId, CustomerId, EventId};
use deskhand_mail::{parse_message, readable_text, MailError, MailLimits};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The event as it arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEventDto {
    pub event_id: String,
    pub case_id: String,
    pub customer_id: i64,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub email: InboundEmailDto,
    /// Set by the review service when it asks for a fresh draft of an email whose first
    /// draft went stale: the event id of that email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redraft_of: Option<String>,
}

/// The `email` object of the event: exactly one of `text` and `raw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundEmailDto {
    pub from: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// Base64 of an RFC 822 message.
    #[serde(default)]
    pub raw: Option<String>,
}

/// Why an event was refused. Always permanent: the event goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("event is {bytes} bytes, over the limit of {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("event has no value")]
    Empty,
    #[error("event is not valid JSON for the inbound contract: {0}")]
    Json(String),
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("email has both `text` and `raw`; exactly one is allowed")]
    BothTextAndRaw,
    #[error("email has neither `text` nor `raw`")]
    NoBody,
    #[error("email.raw is not valid base64: {0}")]
    Base64(String),
    #[error("email.raw could not be read: {0}")]
    Mime(#[from] MailError),
}

impl DecodeError {
    /// A short, stable code for dashboards and the dead-letter header.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Empty => "empty",
            Self::Json(_) => "invalid_json",
            Self::InvalidField { .. } => "invalid_field",
            Self::BothTextAndRaw => "both_text_and_raw",
            Self::NoBody => "no_body",
            Self::Base64(_) => "invalid_base64",
            Self::Mime(_) => "unreadable_mime",
        }
    }
}

/// Bounds on what an event may cost to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_event_bytes: usize,
    pub mail: MailLimits,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_event_bytes: 2 * 1024 * 1024,
            mail: MailLimits::default(),
        }
    }
}

/// Decodes an event value into an inbound email.
pub fn decode_inbound(payload: &[u8], limits: &DecodeLimits) -> Result<InboundEmail, DecodeError> {
    if payload.is_empty() {
        return Err(DecodeError::Empty);
    }
    if payload.len() > limits.max_event_bytes {
        return Err(DecodeError::TooLarge {
            bytes: payload.len(),
            max: limits.max_event_bytes,
        });
    }
    let dto: InboundEventDto =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Json(e.to_string()))?;
    dto.into_email(limits)
}

impl InboundEventDto {
    /// Validates the event and extracts the text the agent reads.
    pub fn into_email(self, limits: &DecodeLimits) -> Result<InboundEmail, DecodeError> {
        let invalid = |field: &'static str| {
            move |e: deskhand_core::IdError| DecodeError::InvalidField {
                field,
                reason: e.to_string(),
            }
        };
        let event_id = EventId::parse(&self.event_id).map_err(invalid("event_id"))?;
        let case_id = CaseId::parse(&self.case_id).map_err(invalid("case_id"))?;
        let customer_id = CustomerId::parse(self.customer_id).map_err(invalid("customer_id"))?;
        let redraft_of = self
            .redraft_of
            .as_deref()
            .map(EventId::parse)
            .transpose()
            .map_err(invalid("redraft_of"))?;
        let email = self.email;

        let (original, parsed) = match (email.text, email.raw) {
            (Some(_), Some(_)) => return Err(DecodeError::BothTextAndRaw),
            (None, None) => return Err(DecodeError::NoBody),
            (Some(text), None) => (OriginalMessage::Text(without_nul(&text)), None),
            (None, Some(raw)) => {
                let bytes = decode_base64(&raw)?;
                let parsed = parse_message(&bytes, limits.mail)?;
                (OriginalMessage::Raw(bytes), Some(parsed))
            }
        };
        let (full_text, readable) = match (&original, &parsed) {
            (_, Some(parsed)) => (
                without_nul(&parsed.full_text),
                without_nul(&parsed.readable),
            ),
            (OriginalMessage::Text(text), None) => (text.clone(), readable_text(text)),
            (OriginalMessage::Raw(_), None) => unreachable!("raw bodies are always parsed"),
        };

        let from = one_line(&email.from);
        let from = if from.is_empty() {
            parsed
                .as_ref()
                .and_then(|p| p.from.clone())
                .map(|f| one_line(&f))
                .unwrap_or_default()
        } else {
            from
        };
        if from.is_empty() {
            return Err(DecodeError::InvalidField {
                field: "email.from",
                reason: "is empty".to_owned(),
            });
        }
        let subject = email
            .subject
            .or_else(|| parsed.as_ref().and_then(|p| p.subject.clone()))
            .map(|s| one_line(&s));
        let message_id = email
            .message_id
            .or_else(|| parsed.as_ref().and_then(|p| p.message_id.clone()))
            .map(|s| one_line(&s))
            .filter(|s| !s.is_empty());
        Ok(InboundEmail {
            event_id,
            case_id,
            customer_id,
            customer_name: self
                .customer_name
                .map(|n| one_line(&n))
                .filter(|n| !n.is_empty()),
            received_at: self.received_at,
            from,
            subject,
            message_id,
            body: EmailBody {
                original,
                full_text,
                readable,
            },
            redraft_of,
        })
    }
}

fn decode_base64(raw: &str) -> Result<Vec<u8>, DecodeError> {
    // CRMs wrap base64 at 76 columns; whitespace is not data.
    let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| DecodeError::Base64(e.to_string()))
}

/// Postgres text cannot hold NUL, and NUL is never meaningful in an email's text.
fn without_nul(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// Header-like fields must stay on one line: a CR or LF in a subject is header injection
/// waiting to happen when the reply is sent.
fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}
