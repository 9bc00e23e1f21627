//! # deskhand-mail
//!
//! The email adapter. Inbound: turns an RFC 822 message into the text a person wrote
//! (multipart resolved, HTML turned into text, charsets and transfer encodings decoded),
//! and strips quoted earlier replies (`>` lines, and in HTML mail `<blockquote>`, Gmail,
//! Yahoo and Outlook quote containers) and signatures from what the agent reads. The
//! original bytes are never altered; callers keep them.
//!
//! Outbound ([`SmtpSender`], the [`deskhand_core::ports::MailTransport`] of the mail
//! relay): approved replies over SMTP with lettre, threaded under the customer's message.
//!
//! **The rule it keeps: it knows nothing of Kafka, databases or the graph.**

mod html_quotes;
mod quotes;
mod send;

pub use html_quotes::strip_html_quotes;
pub use quotes::readable_text;
pub use send::{build_message, SmtpSender};

use mail_parser::{MessageParser, PartType};

/// Why a message could not be read, built or sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("not an RFC 822 message: {0}")]
    Unparseable(&'static str),
    #[error("MIME structure nested deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("message has {parts} MIME parts, more than the limit of {max}")]
    TooManyParts { parts: usize, max: usize },
    #[error("invalid mail configuration: {0}")]
    Config(String),
    #[error("cannot build the message: {0}")]
    Invalid(String),
    #[error("SMTP: {reason}")]
    Send { permanent: bool, reason: String },
}

impl deskhand_core::Transience for MailError {
    /// Only a send that did not fail for good is worth retrying; reading and building
    /// fail the same way every time.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            MailError::Send {
                permanent: false,
                ..
            }
        )
    }
}

pub type Result<T, E = MailError> = std::result::Result<T, E>;

/// Bounds that keep a hostile message from costing more than a normal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    pub max_depth: usize,
    pub max_parts: usize,
}

impl Default for MailLimits {
    fn default() -> Self {
        Self {
            max_depth: 20,
            max_parts: 500,
        }
    }
}

/// What Deskhand needs from a parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMessage {
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The first `From:` address as `Name <address>` or `address`.
    pub from: Option<String>,
    /// All the text of the first body (text part, or the HTML part turned into text).
    pub full_text: String,
    /// `full_text` without quoted replies and signatures.
    pub readable: String,
}

/// Parses an RFC 822 message.
pub fn parse_message(raw: &[u8], limits: MailLimits) -> Result<ParsedMessage> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::Unparseable("no headers or body found"))?;
    // mail-parser is lenient: a line of prose becomes a "header" with no value. A message
    // needs at least one field whose name is RFC 5322 `ftext` (printable, no space or colon).
    let is_field_name =
        |name: &str| !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if !message.headers().iter().any(|h| is_field_name(h.name())) {
        return Err(MailError::Unparseable("no header fields"));
    }
    let parts = message.parts.len();
    if parts > limits.max_parts {
        return Err(MailError::TooManyParts {
            parts,
            max: limits.max_parts,
        });
    }
    check_depth(&message, limits.max_depth)?;

    let full_text = match message.body_text(0) {
        Some(text) => normalise_newlines(&text),
        None => String::new(),
    };
    let from = message
        .from()
        .and_then(|list| list.first())
        .and_then(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => Some(format!("{name} <{address}>")),
            (None, Some(address)) => Some(address.to_owned()),
            _ => None,
        });
    // An HTML-only message marks its quotes with markup, which the text conversion loses:
    // strip them first.
    let html_only = message
        .text_body
        .first()
        .and_then(|&part| message.parts.get(part as usize))
        .is_some_and(|part| matches!(part.body, PartType::Html(_)));
    let readable = match message.body_html(0).filter(|_| html_only) {
        Some(html) => readable_text(&normalise_newlines(
            &mail_parser::decoders::html::html_to_text(&strip_html_quotes(&html)),
        )),
        None => readable_text(&full_text),
    };
    Ok(ParsedMessage {
        subject: message.subject().map(str::to_owned),
        message_id: message.message_id().map(|id| format!("<{id}>")),
        from,
        readable,
        full_text,
    })
}

/// mail-parser flattens nested messages into one list of parts; the depth is found by
/// walking the multipart tree from the root.
fn check_depth(message: &mail_parser::Message<'_>, max_depth: usize) -> Result<()> {
    let mut stack = vec![(0usize, 0usize)];
    while let Some((part_id, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(MailError::TooDeep { max: max_depth });
        }
        if let Some(part) = message.parts.get(part_id) {
            if let PartType::Multipart(children) = &part.body {
                stack.extend(children.iter().map(|&child| (child as usize, depth + 1)));
            }
        }
    }
    Ok(())
}

fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}
