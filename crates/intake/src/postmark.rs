//! `POST /api/v1/webhooks/postmark`: Postmark's inbound-email webhook, as Postmark posts it
//! (<https://postmarkapp.com/developer/webhooks/inbound-webhook>), mapped to the inbound
//! event. The CRM's event names the customer; Postmark's names a sender, so the customer is
//! the one whose address on file it is (exactly one), unless `customer_id` says otherwise.
//!
//! Postmark cannot send a bearer token: its webhook URL carries the key as basic-auth
//! credentials (`https://postmark:KEY@deskhand.example/api/v1/webhooks/postmark`).

use crate::auth::IntegrationCaller;
use crate::body::{bytes, json_body, posted, MessageParams};
use crate::emails::take;
use crate::{IntakeState, Problem};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use deskhand_contracts::{InboundEmailDto, InboundEventDto};
use deskhand_core::ports::EventPublisher;
use serde::Deserialize;
use std::sync::Arc;
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// The largest Postmark payload read: its 35 MB message limit, grown by base64.
const POSTMARK_MAX_BYTES: usize = 48 * 1024 * 1024;

/// The fields of Postmark's inbound payload Deskhand reads (it ignores the rest).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PostmarkInbound {
    #[serde(rename = "MessageID")]
    message_id: String,
    from_full: PostmarkAddress,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    text_body: Option<String>,
    #[serde(default)]
    html_body: Option<String>,
    /// The `+hash` of `support+hash@…`: how a shop threads replies into a case.
    #[serde(default)]
    mailbox_hash: Option<String>,
    #[serde(default)]
    headers: Vec<PostmarkHeader>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PostmarkAddress {
    email: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PostmarkHeader {
    name: String,
    value: String,
}

/// A header value on one line: nothing Postmark relays may add a header of its own to the
/// message built from an HTML-only email.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

impl PostmarkInbound {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// `Ann Lee <ann@example.com>`, and `"Lee, Ann" <ann@example.com>`: a name with a
    /// comma or another special character is quoted, so it is no second mailbox.
    fn from(&self) -> String {
        let email = one_line(&self.from_full.email);
        match self.from_full.name.as_deref().map(one_line) {
            Some(name) if name.is_empty() => email,
            Some(name) if name.contains([',', ';', '<', '>', '"', '@', ':', '(', ')', '\\']) => {
                let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{quoted}\" <{email}>")
            }
            Some(name) => format!("{name} <{email}>"),
            None => email,
        }
    }

    /// The inbound event for this email from `customer_id`.
    fn into_event(
        self,
        customer_id: i64,
        case_id: Option<String>,
    ) -> Result<InboundEventDto, Problem> {
        let message_id = one_line(&self.message_id);
        if message_id.is_empty() {
            return Err(Problem::Invalid("MessageID is empty".to_owned()));
        }
        let event_id = format!("postmark-{message_id}");
        let hash = self
            .mailbox_hash
            .as_deref()
            .map(one_line)
            .filter(|h| !h.is_empty());
        let case_id = case_id
            .or_else(|| hash.map(|h| format!("postmark-case-{h}")))
            .unwrap_or_else(|| event_id.clone());
        let received_at = self
            .date
            .as_deref()
            .and_then(|d| OffsetDateTime::parse(d.trim(), &Rfc2822).ok())
            .unwrap_or_else(OffsetDateTime::now_utc);
        let from = self.from();
        let rfc_message_id = self.header("Message-ID").map(one_line);
        let subject = self.subject.as_deref().map(one_line);
        let text = self.text_body.clone().filter(|t| !t.trim().is_empty());
        // An HTML-only email goes as the message it was, so the HTML is read as the
        // worker reads any HTML mail (quotes and markup stripped).
        let raw = match (&text, self.html_body.as_deref()) {
            (None, Some(html)) if !html.trim().is_empty() => {
                let mut message = format!("From: {from}\r\n");
                if let Some(subject) = &subject {
                    message.push_str(&format!("Subject: {subject}\r\n"));
                }
                message.push_str(
                    "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Transfer-Encoding: 8bit\r\n\r\n",
                );
                message.push_str(html);
                Some(base64::engine::general_purpose::STANDARD.encode(message))
            }
            _ => None,
        };
        if text.is_none() && raw.is_none() {
            return Err(Problem::Invalid(
                "the email has neither TextBody nor HtmlBody".to_owned(),
            ));
        }
        Ok(InboundEventDto {
            event_id,
            case_id,
            customer_id,
            customer_name: self.from_full.name.as_deref().map(one_line),
            received_at,
            email: InboundEmailDto {
                from,
                subject,
                message_id: rfc_message_id,
                text,
                raw,
            },
            redraft_of: None,
        })
    }
}

pub(crate) async fn receive<P>(
    State(state): State<Arc<IntakeState<P>>>,
    IntegrationCaller(integration): IntegrationCaller,
    params: Result<Query<MessageParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem>
where
    P: EventPublisher + Send + Sync + 'static,
{
    let Query(params) = params.map_err(|e| Problem::Invalid(e.body_text()))?;
    // Postmark posts attachments inline as base64 (up to its 35 MB message limit); they
    // are dropped here, so a photo does not make the email too large to take.
    let limit = state.settings.max_body_bytes.max(POSTMARK_MAX_BYTES);
    let body = bytes(&headers, body, limit).await?;
    let inbound: PostmarkInbound = json_body(&body, "Postmark's inbound payload")?;
    let customer_id = match params.customer_id {
        Some(id) => id,
        None => {
            let address = inbound.from_full.email.trim();
            state
                .reception
                .customer_with_address(address)
                .await?
                .ok_or_else(|| {
                    Problem::Invalid(format!(
                        "no single customer has the address {address:?} on file; name one \
                         with `?customer_id=`"
                    ))
                })?
        }
    };
    let event = inbound.into_event(customer_id, params.case_id)?;
    let posted = posted(&event, &body, &state.settings)?;
    take(&state, &integration, &posted).await
}
