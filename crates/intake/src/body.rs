//! Reading a posted email at the edge: the body as its content type says, into the
//! inbound event exactly as it will go to the topic, and the domain email it decodes to.
//! What the worker would refuse (and dead-letter) is refused here, with the reason.

use crate::{IntakeSettings, Problem};
use axum::body::Body;
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use deskhand_contracts::{decode_inbound, DecodeError, InboundEmailDto, InboundEventDto};
use deskhand_core::email::InboundEmail;
use serde::Deserialize;
use sha2::Digest as _;

/// What marks a redraft's event id (`deskhand_service::decide` makes them).
const REDRAFT_MARK: &str = "~redraft-";

/// What a raw email needs beside itself; an inbound event carries these in its JSON.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MessageParams {
    /// The customer the email is from, as the CRM knows them. Required for a raw email.
    pub(crate) customer_id: Option<i64>,
    /// The case it belongs to; default: a case of its own (its event id).
    pub(crate) case_id: Option<String>,
    /// Default: derived from the message's bytes, so posting the same message twice is
    /// one email.
    event_id: Option<String>,
    customer_name: Option<String>,
}

/// A posted email, read.
#[derive(Debug)]
pub(crate) struct PostedEmail {
    pub email: InboundEmail,
    /// The inbound event as it goes to the topic.
    pub payload: Vec<u8>,
    /// The hash of the body as posted: a repeat has the same, another email does not.
    pub body_sha256: Vec<u8>,
}

enum Kind {
    Event,
    Message,
}

fn kind(headers: &HeaderMap) -> Result<Kind, Problem> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => Ok(Kind::Event),
        "message/rfc822" => Ok(Kind::Message),
        _ => Err(Problem::UnsupportedMediaType(raw.to_owned())),
    }
}

/// The body, refused when it is over `max` bytes or empty.
pub(crate) async fn bytes(headers: &HeaderMap, body: Body, max: usize) -> Result<Vec<u8>, Problem> {
    let too_large = || Problem::TooLarge(format!("the body is over the limit of {max} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())?;
    if bytes.is_empty() {
        return Err(Problem::Malformed("the body is empty".to_owned()));
    }
    Ok(bytes.to_vec())
}

/// Reads the body of a post as its `Content-Type` says.
pub(crate) async fn read_posted(
    headers: &HeaderMap,
    params: MessageParams,
    body: Body,
    settings: &IntakeSettings,
) -> Result<PostedEmail, Problem> {
    let kind = kind(headers)?;
    let body = bytes(headers, body, settings.max_body_bytes).await?;
    let event = match kind {
        Kind::Event => event_of_json(&body)?,
        Kind::Message => event_of_message(&body, params)?,
    };
    posted(&event, &body, settings)
}

/// The event as it goes to the topic, and the email it decodes to; what the worker would
/// refuse is refused here.
pub(crate) fn posted(
    event: &InboundEventDto,
    body: &[u8],
    settings: &IntakeSettings,
) -> Result<PostedEmail, Problem> {
    // A redraft's id is the original's plus this mark: from outside, it would pass an
    // email off as another email's fresh draft (and into that email's status).
    if event.event_id.contains(REDRAFT_MARK) {
        return Err(Problem::Invalid(format!(
            "an event id may not contain {REDRAFT_MARK:?}: Deskhand uses it for redrafts"
        )));
    }
    let payload = serde_json::to_vec(event).map_err(|_| Problem::Internal)?;
    let email = decode_inbound(&payload, &settings.decode).map_err(|error| match error {
        DecodeError::TooLarge { bytes, max } => Problem::TooLarge(format!(
            "the event would be {bytes} bytes on the inbound topic; the limit is {max}"
        )),
        other => Problem::Invalid(other.to_string()),
    })?;
    Ok(PostedEmail {
        email,
        payload,
        body_sha256: sha2::Sha256::digest(body).to_vec(),
    })
}

/// A JSON body as `T`: 400 when it is not JSON, 422 when it is JSON but not `what`.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            Problem::Malformed(format!("the body is not JSON: {e}"))
        } else {
            Problem::Invalid(format!("the body is not {what}: {e}"))
        }
    })
}

fn event_of_json(body: &[u8]) -> Result<InboundEventDto, Problem> {
    let event: InboundEventDto = json_body(body, "an inbound event")?;
    // Only the review service asks for redrafts; from outside, `redraft_of` would let a
    // caller pass an email off as another's fresh draft.
    if event.redraft_of.is_some() {
        return Err(Problem::Invalid(
            "`redraft_of` is set by Deskhand itself and cannot be posted".to_owned(),
        ));
    }
    Ok(event)
}

fn event_of_message(raw: &[u8], params: MessageParams) -> Result<InboundEventDto, Problem> {
    let customer_id = params.customer_id.ok_or_else(|| {
        Problem::Invalid(
            "a raw email needs the `customer_id` query parameter: the customer it is from"
                .to_owned(),
        )
    })?;
    let event_id = params.event_id.unwrap_or_else(|| {
        let digest = sha2::Sha256::digest(raw);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("http-{hex}")
    });
    Ok(InboundEventDto {
        case_id: params.case_id.unwrap_or_else(|| event_id.clone()),
        event_id,
        customer_id,
        customer_name: params.customer_name,
        received_at: time::OffsetDateTime::now_utc(),
        email: InboundEmailDto {
            // Read from the message's own headers when the event leaves them out.
            from: String::new(),
            subject: None,
            message_id: None,
            text: None,
            raw: Some(base64::engine::general_purpose::STANDARD.encode(raw)),
        },
        redraft_of: None,
    })
}
