//! Identifiers. Each is parsed once at the edge; holding one means it is valid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains control characters")]
    ControlCharacters { kind: &'static str },
    #[error("customer_id must be a positive integer, got {0}")]
    NonPositiveCustomer(i64),
}

/// Longest event or case id we accept; the CRM's ids are far shorter, and a bound keeps
/// hostile events from bloating keys and indexes.
pub const MAX_ID_LEN: usize = 200;

fn parse_text_id(kind: &'static str, raw: &str) -> Result<String, IdError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if trimmed.chars().count() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            kind,
            max: MAX_ID_LEN,
        });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(IdError::ControlCharacters { kind });
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an id: trimmed, non-empty, at most [`MAX_ID_LEN`] characters, no
            /// control characters.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                parse_text_id($kind, raw).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// The CRM's id of one inbound email event; the unit of idempotency.
    EventId,
    "event_id"
);
text_id!(
    /// The CRM's id of a support case (a conversation); the unit of ordering.
    CaseId,
    "case_id"
);

/// The CRM's id of a customer. Every customer-data read is scoped by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct CustomerId(i64);

impl CustomerId {
    pub fn parse(raw: i64) -> Result<Self, IdError> {
        if raw <= 0 {
            return Err(IdError::NonPositiveCustomer(raw));
        }
        Ok(Self(raw))
    }
    pub fn get(self) -> i64 {
        self.0
    }
}
impl TryFrom<i64> for CustomerId {
    type Error = IdError;
    fn try_from(raw: i64) -> Result<Self, IdError> {
        Self::parse(raw)
    }
}
impl From<CustomerId> for i64 {
    fn from(id: CustomerId) -> i64 {
        id.0
    }
}
impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Deskhand's id of a draft. Minted once per event and stored with it, so a re-publish
/// after a crash carries the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DraftId(uuid::Uuid);

impl DraftId {
    /// A new, time-ordered id.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}
impl Default for DraftId {
    fn default() -> Self {
        Self::new()
    }
}
impl fmt::Display for DraftId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
