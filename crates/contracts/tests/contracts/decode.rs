//! Decoding the CRM's inbound event: every refusal has a reason, every valid event an email.

use base64::Engine as _;
use deskhand_contracts::{decode_inbound, DecodeError, DecodeLimits};
use deskhand_core::OriginalMessage;
use serde_json::json;

fn decode(value: serde_json::Value) -> Result<deskhand_core::InboundEmail, DecodeError> {
    decode_inbound(
        &serde_json::to_vec(&value).unwrap(),
        &DecodeLimits::default(),
    )
}

fn event(email: serde_json::Value) -> serde_json::Value {
    json!({"event_id": "e1", "case_id": "c1", "customer_id": 42, "customer_name": "Dana Ruiz",
           "received_at": "2026-11-20T10:00:00+01:00", "email": email, "crm_extra": {"ignored": true}})
}

#[test]
fn a_text_event_decodes_with_quotes_stripped_and_the_original_kept() {
    let text = "Where is my order?\n\nOn Mon, Support wrote:\n> shipped";
    let email = decode(event(
        json!({"from": "dana@example.com", "subject": "Order", "text": text}),
    ))
    .unwrap();
    assert_eq!(email.event_id.as_str(), "e1");
    assert_eq!(email.customer_id.get(), 42);
    assert_eq!(email.body.readable, "Where is my order?");
    assert_eq!(email.body.original, OriginalMessage::Text(text.into()));
    assert_eq!(
        email.received_at,
        time::macros::datetime!(2026-11-20 09:00 UTC)
    );
}

#[test]
fn a_raw_event_takes_subject_and_message_id_from_the_message() {
    let raw = "From: Dana <dana@example.com>\r\nSubject: Late parcel\r\nMessage-ID: <m1@example.com>\r\n\r\nIt is late.\r\n";
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    // CRMs wrap base64 lines; whitespace inside is fine.
    let wrapped = format!("{}\n{}", &encoded[..20], &encoded[20..]);
    let email = decode(event(json!({"from": "dana@example.com", "raw": wrapped}))).unwrap();
    assert_eq!(email.subject.as_deref(), Some("Late parcel"));
    assert_eq!(email.message_id.as_deref(), Some("<m1@example.com>"));
    assert_eq!(email.body.readable, "It is late.");
    assert_eq!(
        email.body.original,
        OriginalMessage::Raw(raw.as_bytes().to_vec())
    );
}

#[test]
fn refusals_name_what_is_wrong() {
    let code = |value| decode(value).unwrap_err().code();
    assert_eq!(code(json!({"event_id": "e1"})), "invalid_json");
    assert_eq!(code(event(json!({"from": "a@b.c"}))), "no_body");
    assert_eq!(
        code(event(json!({"from": "a@b.c", "text": "x", "raw": "eA=="}))),
        "both_text_and_raw"
    );
    assert_eq!(
        code(event(json!({"from": "a@b.c", "raw": "!!!"}))),
        "invalid_base64"
    );
    assert_eq!(
        code(event(json!({"from": "", "text": "x"}))),
        "invalid_field"
    );
    let mut bad_id = event(json!({"from": "a@b.c", "text": "x"}));
    bad_id["customer_id"] = json!(0);
    assert_eq!(code(bad_id), "invalid_field");
    let mut bad_time = event(json!({"from": "a@b.c", "text": "x"}));
    bad_time["received_at"] = json!("yesterday");
    assert_eq!(code(bad_time), "invalid_json");
    let missing = decode(json!({"event_id": "e1", "case_id": "c"}))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("missing field"), "{missing}");
    assert_eq!(
        decode_inbound(b"", &DecodeLimits::default())
            .unwrap_err()
            .code(),
        "empty"
    );
    assert_eq!(
        decode_inbound(b"\xff\xfe{", &DecodeLimits::default())
            .unwrap_err()
            .code(),
        "invalid_json"
    );
}

#[test]
fn an_event_over_the_size_limit_is_refused_before_parsing() {
    let limits = DecodeLimits {
        max_event_bytes: 100,
        ..DecodeLimits::default()
    };
    let payload =
        serde_json::to_vec(&event(json!({"from": "a@b.c", "text": "x".repeat(200)}))).unwrap();
    assert!(matches!(
        decode_inbound(&payload, &limits),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn header_fields_are_kept_on_one_line_and_nul_bytes_removed() {
    let email = decode(event(
        json!({"from": "a@b.c", "subject": "Hi\r\nBcc: victim@example.com", "text": "a\u{0}b"}),
    ))
    .unwrap();
    assert_eq!(email.subject.as_deref(), Some("Hi Bcc: victim@example.com"));
    assert!(!email.body.full_text.contains('\0'));
}
