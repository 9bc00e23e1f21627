//! The inbound email, as the graph sees it after parsing at the edge.

use crate::ids::{CaseId, CustomerId, EventId};
use time::OffsetDateTime;

/// One customer email taken from the CRM's event, validated and with its text extracted.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEmail {
    pub event_id: EventId,
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    /// The name the CRM knows the customer by, used to greet them.
    pub customer_name: Option<String>,
    pub received_at: OffsetDateTime,
    /// The sender as written in the event (`Name <address>` or a bare address).
    pub from: String,
    pub subject: Option<String>,
    /// The customer's `Message-ID`, so the reply can thread under it.
    pub message_id: Option<String>,
    pub body: EmailBody,
    /// Set when a reviewer found the first draft of this email stale: the event asks for a
    /// fresh draft of an email the case memory already holds, so it is not counted again.
    pub redraft_of: Option<EventId>,
}

impl InboundEmail {
    /// The subject and the customer's own words, as one text to search for numbers and
    /// product details.
    pub fn subject_and_text(&self) -> String {
        format!(
            "{}\n{}",
            self.subject.as_deref().unwrap_or(""),
            self.body.readable
        )
    }
}

/// The body in the three forms Deskhand needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailBody {
    /// Exactly what the CRM sent, kept for the reviewer and for audits.
    pub original: OriginalMessage,
    /// All the text of the message (HTML turned into text, charsets decoded).
    pub full_text: String,
    /// What the agent reads: `full_text` without quoted earlier replies and signatures.
    pub readable: String,
}

/// The email as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum OriginalMessage {
    /// The CRM sent plain text.
    Text(String),
    /// The CRM sent an RFC 822 message.
    Raw(Vec<u8>),
}

/// Where an email came from on the broker; kept so any stored row leads back to its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePosition {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// An address a reply can go to: one mailbox, no spaces, control characters or commas (a
/// `From` that names several, or none, is not one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The address in `Name <address>`, or a bare address; `None` when there is none.
    pub fn from_mailbox(from: &str) -> Option<Self> {
        let address = match (from.rfind('<'), from.rfind('>')) {
            (Some(open), Some(close)) if open < close => &from[open + 1..close],
            _ => from,
        }
        .trim();
        let valid = address.contains('@')
            && !address.contains(|c: char| c.is_whitespace() || c.is_control() || c == ',');
        valid.then(|| Self(address.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
