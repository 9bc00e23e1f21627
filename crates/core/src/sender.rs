//! The sender check. A reply goes to the address that wrote, and the CRM names the
//! customer: when the two disagree (someone else's mailbox, a forged sender), the reply
//! would carry the customer's orders and deliveries to a stranger. The reviewer is told,
//! and `agent.sender_mismatch` decides whether a reply is drafted at all.

use crate::draft::Observation;
use crate::email::EmailAddress;
use serde_json::json;
use std::str::FromStr;

/// What to do when the sender is not the customer's address on file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SenderCheck {
    /// Draft as usual, with the mismatch in the evidence for the reviewer.
    #[default]
    Warn,
    /// Draft no reply and propose no action: a lead gets the email with the mismatch.
    Refuse,
}

impl FromStr for SenderCheck {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "warn" => Ok(Self::Warn),
            "refuse" => Ok(Self::Refuse),
            other => Err(format!("sender check {other:?}: expected warn or refuse")),
        }
    }
}

/// A sender that is not the customer's address on file, or one that could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderMismatch {
    pub sender: String,
    /// `None` when the customer's record could not be read: the check failed closed.
    pub on_file: Option<String>,
}

impl SenderMismatch {
    /// The mismatch between the `From` of an email and the address on file, if any.
    /// Addresses compare without case (mail systems fold it) and without the display name;
    /// a customer with no address on file has nothing to differ from.
    pub fn of(from: &str, on_file: Option<&str>) -> Option<Self> {
        let on_file = on_file.map(str::trim).filter(|a| !a.is_empty())?;
        let sender = sender_address(from);
        (!sender.eq_ignore_ascii_case(on_file)).then(|| Self {
            sender,
            on_file: Some(on_file.to_owned()),
        })
    }

    /// The sender of an email whose customer record could not be read: it cannot be
    /// shown to be the customer, so it is treated as if it were not.
    pub fn unverified(from: &str) -> Self {
        Self {
            sender: sender_address(from),
            on_file: None,
        }
    }

    /// The address on file as the reviewer reads it.
    pub fn on_file_or_unknown(&self) -> &str {
        self.on_file
            .as_deref()
            .unwrap_or("unknown: the customer's record could not be read")
    }

    /// The evidence the reviewer reads.
    pub fn observation(&self) -> Observation {
        Observation {
            source: "sender_check".to_owned(),
            text: format!(
                "The sender {} is not the customer's address on file ({}): a reply goes to the sender.",
                self.sender,
                self.on_file_or_unknown()
            ),
            data: json!({"sender": self.sender, "address_on_file": self.on_file}),
        }
    }
}

/// The address of a `From`, without its display name.
fn sender_address(from: &str) -> String {
    EmailAddress::from_mailbox(from)
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| from.trim().to_owned())
}
