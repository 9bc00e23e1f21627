//! The documented event schemas and the code describe the same fields.

use deskhand_contracts::DraftEvent;
use deskhand_core::*;
use std::collections::BTreeSet;

fn schema(name: &str) -> serde_json::Value {
    let path = format!("{}/../../docs/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn a_draft() -> Draft {
    Draft {
        draft_id: DraftId::new(),
        event_id: EventId::parse("e").unwrap(),
        case_id: CaseId::parse("c").unwrap(),
        customer_id: CustomerId::parse(1).unwrap(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        classification: Classification {
            topic: Topic::Other,
            urgency: Urgency::Low,
            confidence: Confidence::parse(1.0).unwrap(),
            tone: Some(deskhand_core::Tone {
                sentiment: deskhand_core::Sentiment::Neutral,
                frustration: Confidence::parse(0.1).unwrap(),
            }),
            language: Some(deskhand_core::Language::english()),
        },
        route: Route::NoReply,
        reply: Some(Reply {
            subject: "s".into(),
            body: "b".into(),
        }),
        summary: "s".into(),
        observations: vec![],
        proposed_actions: vec![],
        escalation: None,
        engine: "offline".into(),
        trace: Trace::default(),
        trace_id: "t".into(),
    }
}

fn an_email(text: &str) -> InboundEmail {
    InboundEmail {
        event_id: EventId::parse("e").unwrap(),
        case_id: CaseId::parse("c").unwrap(),
        customer_id: CustomerId::parse(1).unwrap(),
        customer_name: Some("Ann".into()),
        received_at: time::OffsetDateTime::UNIX_EPOCH,
        from: "ann@example.com".into(),
        subject: Some("s".into()),
        message_id: Some("m@x".into()),
        body: EmailBody {
            original: OriginalMessage::Text(text.into()),
            full_text: text.into(),
            readable: text.into(),
        },
        redraft_of: None,
    }
}

#[test]
fn the_draft_schema_lists_exactly_the_fields_the_code_publishes() {
    let draft = a_draft();
    let email = an_email("t");
    let with_email = serde_json::to_value(DraftEvent::from(&draft).with_email(&email)).unwrap();
    let published = serde_json::to_value(DraftEvent::from(&draft)).unwrap();
    let schema = schema("deskhand.draft.proposed.schema.json");
    assert_eq!(keys(&with_email), keys(&schema["properties"]));
    let email_schema = &schema["properties"]["email"];
    let email_keys = keys(&with_email["email"]);
    assert!(
        email_keys.is_subset(&keys(&email_schema["properties"])),
        "{email_keys:?}"
    );
    let required: BTreeSet<String> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        required,
        keys(&published),
        "every published field is required"
    );
    assert_eq!(
        keys(&published["classification"]),
        keys(&schema["properties"]["classification"]["properties"])
    );
    let routes: BTreeSet<String> = Route::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    let schema_routes: BTreeSet<String> = schema["properties"]["route"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(routes, schema_routes);
}

#[test]
fn the_draft_schema_lists_every_escalation_kind_as_the_code_spells_it() {
    let schema = schema("deskhand.draft.proposed.schema.json");
    let listed: Vec<&str> = schema["properties"]["escalation"]["oneOf"][1]["properties"]["kind"]
        ["enum"]
        .as_array()
        .expect("an enum of kinds")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let code: Vec<&str> = EscalationKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(listed, code);
    for kind in EscalationKind::ALL {
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::json!(kind.as_str()),
            "the wire name is the metrics label"
        );
    }
}

#[test]
fn the_inbound_schema_requires_what_the_decoder_requires() {
    let schema = schema("crm.email.received.schema.json");
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let minimal = serde_json::json!({"event_id": "e", "case_id": "c", "customer_id": 1,
        "received_at": "2026-11-20T10:00:00Z", "email": {"from": "a@b.c", "text": "hi"}});
    let limits = deskhand_contracts::DecodeLimits::default();
    assert!(
        deskhand_contracts::decode_inbound(&serde_json::to_vec(&minimal).unwrap(), &limits).is_ok()
    );
    for field in &required {
        let mut without = minimal.clone();
        without.as_object_mut().unwrap().remove(*field);
        let refused =
            deskhand_contracts::decode_inbound(&serde_json::to_vec(&without).unwrap(), &limits);
        assert!(
            refused.is_err(),
            "the decoder accepts an event without {field}"
        );
    }
    assert_eq!(required.len(), 5);
}

#[test]
fn a_draft_of_a_huge_email_fits_under_the_brokers_default_message_size() {
    use deskhand_contracts::{StoredDraft, CUT_MARK, MAX_DRAFT_EVENT_BYTES, SUBJECT_CUT_MARK};
    // Two megabytes of text, with quotes and non-ASCII that JSON escapes or widens, and a
    // subject of a hundred kilobytes.
    let text = "Wo ist \"mein\" Paket? ü€\n".repeat(80_000);
    let mut email = an_email(&text);
    email.subject = Some("Paket ".repeat(20_000));
    let fitted = DraftEvent::from(&a_draft())
        .with_email(&email)
        .into_json_within(MAX_DRAFT_EVENT_BYTES);
    assert!(fitted.fits);
    let bytes = serde_json::to_vec(&fitted.json).unwrap();
    assert!(
        bytes.len() <= MAX_DRAFT_EVENT_BYTES,
        "{} bytes",
        bytes.len()
    );
    assert!(
        bytes.len() > MAX_DRAFT_EVENT_BYTES / 2,
        "cut no more than needed"
    );
    let stored = StoredDraft::from_json(&fitted.json).expect("still a draft event");
    let email = stored.email.expect("the email is kept");
    assert!(
        email.original_text.is_none(),
        "the copy of the original goes first"
    );
    let subject = email.subject.expect("the subject is kept");
    assert!(
        subject.len() < 2048 && subject.ends_with(SUBJECT_CUT_MARK),
        "{}",
        subject.len()
    );
    assert!(!subject.contains('\n'), "a header stays on one line");
    for cut_text in [&email.full_text, &email.text] {
        assert!(cut_text.ends_with(CUT_MARK));
        assert_eq!(cut_text.matches(CUT_MARK).count(), 1, "one mark per text");
        assert!(
            cut_text.len() > MAX_DRAFT_EVENT_BYTES / 8,
            "both texts keep a share, neither is emptied: {} bytes",
            cut_text.len()
        );
    }
    assert!(email.full_text.len() >= email.text.len());
    assert_eq!(
        stored.draft.reply,
        a_draft().reply,
        "the draft itself is whole"
    );

    // A short message under a long quoted thread: the thread gives, the message stays.
    let mut thread = an_email("Where is my parcel?");
    thread.body.full_text = format!("Where is my parcel?\n{}", "> quoted\n".repeat(250_000));
    let fitted = DraftEvent::from(&a_draft())
        .with_email(&thread)
        .into_json_within(MAX_DRAFT_EVENT_BYTES);
    assert!(fitted.fits);
    let email = StoredDraft::from_json(&fitted.json).unwrap().email.unwrap();
    assert_eq!(email.text, "Where is my parcel?");
    assert!(email.full_text.ends_with(CUT_MARK));

    // A normal email is left as it is.
    let small = DraftEvent::from(&a_draft()).with_email(&an_email("Where is my parcel?"));
    let fitted = small.clone().into_json_within(MAX_DRAFT_EVENT_BYTES);
    assert!(fitted.fits);
    assert_eq!(fitted.json, serde_json::to_value(small).unwrap());

    // A draft whose own evidence is over the limit is said not to fit.
    let mut draft = a_draft();
    draft.summary = "x".repeat(MAX_DRAFT_EVENT_BYTES + 1);
    let fitted = DraftEvent::from(&draft)
        .with_email(&an_email("short"))
        .into_json_within(MAX_DRAFT_EVENT_BYTES);
    assert!(!fitted.fits);
}
