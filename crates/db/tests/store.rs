//! The store's guarantees, each test on its own migrated database.

use deskhand_core::*;
use deskhand_db::{OutboxMessage, Recorded, Store};
use sqlx::PgPool;
use std::collections::BTreeMap;
use time::macros::datetime;

fn email(event: &str, case: &str) -> InboundEmail {
    InboundEmail {
        event_id: EventId::parse(event).unwrap(),
        case_id: CaseId::parse(case).unwrap(),
        customer_id: CustomerId::parse(7).unwrap(),
        customer_name: None,
        received_at: datetime!(2026-11-20 10:00 UTC),
        from: "a@b.c".into(),
        subject: None,
        message_id: None,
        body: EmailBody { original: OriginalMessage::Raw(b"Subject: x\r\n\r\nhi".to_vec()), full_text: "hi".into(), readable: "hi".into() },
    }
}

fn draft(email: &InboundEmail) -> Draft {
    Draft {
        draft_id: DraftId::new(),
        event_id: email.event_id.clone(),
        case_id: email.case_id.clone(),
        customer_id: email.customer_id,
        created_at: datetime!(2026-11-20 10:01 UTC),
        classification: Classification { topic: Topic::Other, urgency: Urgency::Low, confidence: Confidence::parse(0.5).unwrap() },
        route: Route::NoReply,
        reply: None,
        summary: "s".into(),
        observations: vec![],
        proposed_actions: vec![],
        escalation: None,
        engine: "test".into(),
        trace: Trace::default(),
        trace_id: "t".into(),
    }
}

fn outbox(n: u8) -> OutboxMessage {
    OutboxMessage { topic: "approval".into(), key: "c1".into(), payload: vec![n], headers: BTreeMap::new() }
}

fn source() -> SourcePosition {
    SourcePosition { topic: "in".into(), partition: 0, offset: 1 }
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn recording_the_same_event_twice_writes_it_once(pool: PgPool) {
    let store = Store::from_pool(pool);
    let email = email("e1", "c1");
    let json = serde_json::json!({});
    assert_eq!(store.record_triage(&email, &source(), &draft(&email), &json, &outbox(1)).await.unwrap(), Recorded::New);
    assert!(store.is_recorded(&email.event_id).await.unwrap());
    // A second draft (a different id) for the same event is refused as a duplicate.
    assert_eq!(store.record_triage(&email, &source(), &draft(&email), &json, &outbox(2)).await.unwrap(), Recorded::Duplicate);
    assert_eq!(store.count_drafts().await.unwrap(), 1);
    assert_eq!(store.outbox_backlog().await.unwrap(), 1);
    let count: i32 = sqlx::query_scalar("SELECT email_count FROM cases WHERE case_id = 'c1'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn only_one_relay_claims_the_outbox_at_a_time_and_in_id_order(pool: PgPool) {
    let store = Store::from_pool(pool);
    for n in 0..3u8 {
        let email = email(&format!("e{n}"), "c1");
        store.record_triage(&email, &source(), &draft(&email), &serde_json::json!({}), &outbox(n)).await.unwrap();
    }
    let batch = store.claim_outbox(10).await.unwrap().expect("first relay claims");
    let payloads: Vec<Vec<u8>> = batch.messages.iter().map(|m| m.message.payload.clone()).collect();
    assert_eq!(payloads, vec![vec![0], vec![1], vec![2]]);
    assert!(store.claim_outbox(10).await.unwrap().is_none(), "a second relay waits its turn");

    let ids: Vec<i64> = batch.messages.iter().map(|m| m.id).collect();
    batch.finish(&ids[..2], &[(ids[2], "broker down".into())]).await.unwrap();
    assert_eq!(store.outbox_backlog().await.unwrap(), 1, "the failed message stays pending");
    let retry = store.claim_outbox(10).await.unwrap().unwrap();
    assert_eq!(retry.messages.len(), 1);
    assert_eq!(retry.messages[0].message.payload, vec![2]);
}
