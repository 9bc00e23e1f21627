//! `deskhand triage FILE`: the draft an email would get, with nothing recorded, published
//! or sent.

use crate::agent::{email, load_shop};
use crate::support::*;
use deskhand_contracts::DraftEvent;
use std::time::Duration;

/// Every table of the database, with its row count.
pub(crate) async fn row_counts(world: &TestWorld) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(world.store.pool())
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "drafts"), "{tables:?}");
    let mut counts = Vec::new();
    for table in tables {
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\""))
            .fetch_one(world.store.pool())
            .await
            .unwrap();
        counts.push((table, count));
    }
    counts
}

fn run_triage(world: &TestWorld, args: &[&str]) -> DraftEvent {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_deskhand"))
        .arg("triage")
        .args(args)
        .envs(world.env(&unique("group")))
        .env("DESKHAND_CONFIG_DIR", config_dir())
        .env("DESKHAND_TODAY", "2026-03-10")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run deskhand triage");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the draft event on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_shows_the_draft_and_its_evidence_and_writes_publishes_and_sends_nothing() {
    let world = TestWorld::new(1).await;
    load_shop(&world).await;
    let before = row_counts(&world).await;
    let dir = std::env::temp_dir().join(unique("dry-run"));
    std::fs::create_dir_all(&dir).unwrap();

    // An event as the CRM publishes it: a late parcel with its refund.
    let event = email(
        "dry-1",
        "case-dry",
        1,
        "Where is my parcel?",
        "My parcel 1Z999AA10123456784 was due March 4 and is still not here.",
    );
    let json_file = dir.join("event.json");
    std::fs::write(&json_file, serde_json::to_vec(&event).unwrap()).unwrap();
    let drafted = run_triage(&world, &[json_file.to_str().unwrap()]);
    assert_eq!(drafted.event_id, "dry-1");
    assert_eq!(drafted.route, deskhand_core::Route::Delivery, "{drafted:?}");
    assert!(
        !drafted.proposed_actions.is_empty(),
        "the refund it would propose"
    );
    assert!(
        drafted
            .observations
            .iter()
            .any(|o| o.text.contains("1Z999AA10123456784")),
        "the evidence it read: {:?}",
        drafted.observations
    );
    assert!(drafted.reply.is_some());
    assert!(!drafted.trace.nodes.is_empty(), "and how it got there");
    let sender_checks = |draft: &DraftEvent| {
        draft
            .observations
            .iter()
            .filter(|o| o.source == "sender_check")
            .count()
    };
    assert_eq!(
        sender_checks(&drafted),
        1,
        "someone@example.com is not Ann's address on file"
    );

    // A raw message, for a customer named on the command line.
    let eml = dir.join("message.eml");
    std::fs::write(
        &eml,
        "From: Ann Lee <ann@example.com>\r\nSubject: Pegasus in stock?\r\nMessage-ID: <q1@mail.example>\r\n\r\nDo you have the Nike Pegasus 41 in black, size 9.5?\r\n",
    )
    .unwrap();
    let drafted = run_triage(&world, &[eml.to_str().unwrap(), "--customer-id", "1"]);
    assert_eq!(
        drafted.classification.topic,
        deskhand_core::Topic::ProductAvailabilityOrRecommendation
    );
    assert_eq!(sender_checks(&drafted), 0, "Ann wrote from her own address");
    let email = drafted.email.expect("the email it answers");
    assert_eq!(email.subject.as_deref(), Some("Pegasus in stock?"));

    // Nothing was written, published or sent.
    assert_eq!(row_counts(&world).await, before);
    let reader = deskhand_kafka::TopicReader::new(&world.client, &world.approval).unwrap();
    let published = reader.read_until(Duration::from_secs(3), |_| false).await;
    assert!(published.is_empty(), "nothing on the approval topic");
}
