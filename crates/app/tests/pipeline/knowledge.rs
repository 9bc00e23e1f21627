//! Policy questions end to end: the worker answers from the shop's knowledge base (the
//! repository's `knowledge/` pages), citing the passage; a reviewer flags a cited passage
//! as outdated and the knowledge owner reads it in the report.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn knowledge_dir() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../knowledge")
        .to_string_lossy()
        .into_owned()
}

fn question(event_id: &str, subject: &str, text: &str) -> Value {
    json!({
        "event_id": event_id, "case_id": unique("case"), "customer_id": 1,
        "customer_name": "Ann Lee",
        "received_at": "2026-03-10T09:00:00Z",
        "email": {"from": "Ann Lee <ann@example.com>", "subject": subject, "text": text}
    })
}

fn cited(detail: &Value) -> Vec<String> {
    detail["draft"]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["source"] == "knowledge")
        .map(|o| o["data"]["passage"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_question_is_answered_citing_its_passage_and_reviewers_flag_a_passage_for_its_owner(
) {
    let dir = knowledge_dir();
    let app = ReviewApp::start(free_port(), &[("DESKHAND_KNOWLEDGE_DIR", dir.as_str())]).await;
    let asked = unique("ev");
    let sponsor = unique("ev");
    app.world
        .publish(&[
            question(
                &asked,
                "Paying",
                "Hello, do you accept PayPal or Apple Pay at checkout? Thanks, Ann",
            ),
            question(
                &sponsor,
                "question",
                "Hi! Would you sponsor our school's charity fun run in May? We'd put your logo on the t-shirts.",
            ),
        ])
        .await;

    let detail = app.queued(&asked).await;
    assert_eq!(detail["draft"]["route"], "answer", "{}", detail["draft"]);
    assert_eq!(cited(&detail), ["payment.md#Accepted payment methods"]);
    let reply = detail["draft"]["reply"]["body"].as_str().unwrap();
    assert!(
        reply.contains("> - PayPal.") && reply.contains("Apple Pay"),
        "the passage is quoted: {reply}"
    );

    // Nothing in the pages answers a sponsorship request: a person gets it, with the
    // closest passages attached and none cited.
    let unanswered = app.queued(&sponsor).await;
    assert_eq!(unanswered["draft"]["route"], "escalate");
    assert!(unanswered["draft"]["escalation"]["reason"]
        .as_str()
        .unwrap()
        .contains("no policy found"));
    assert!(cited(&unanswered).is_empty());
    let near_misses = unanswered["draft"]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["source"] == "knowledge_near_miss")
        .count();
    assert!(
        (1..=3).contains(&near_misses),
        "the closest passages go with it: {}",
        unanswered["draft"]
    );

    let flag = draft_path(&detail, "passages/flag");
    let (status, _, _) = app
        .post(
            &app.reviewer,
            "/api/drafts/7f1c1c3e-5d7a-4b59-9a53-0c6f2f4c9a11/passages/flag",
            None,
            json!({"passage": "payment.md#Accepted payment methods", "verdict": "wrong"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such draft");
    let (status, refused, _) = app
        .post(
            &app.reviewer,
            &flag,
            None,
            json!({"passage": "returns.md#Return window", "verdict": "wrong"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a passage the draft did not cite cannot be flagged: {refused}"
    );
    let passage = "payment.md#Accepted payment methods";
    for (verdict, note) in [
        ("wrong", "first thought"),
        ("outdated", "we take Klarna now too"),
    ] {
        let (status, body, _) = app
            .post(
                &app.reviewer,
                &flag,
                None,
                json!({"passage": passage, "verdict": verdict, "note": note}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, _) = app.get(&app.reviewer, "/api/knowledge/feedback").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the report is for leads");
    let (status, report) = app.get(&app.lead, "/api/knowledge/feedback").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let passages = report["passages"].as_array().unwrap();
    assert_eq!(passages.len(), 1, "{report}");
    assert_eq!(passages[0]["passage"], passage);
    assert_eq!(
        (
            passages[0]["wrong"].as_i64(),
            passages[0]["outdated"].as_i64()
        ),
        (Some(0), Some(1)),
        "a reviewer's second flag on the same passage replaces the first: {report}"
    );
    assert_eq!(passages[0]["notes"][0]["note"], "we take Klarna now too");
    assert_eq!(passages[0]["notes"][0]["reviewer"], "rita");
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'passage_flagged' AND draft_id = '{draft_id}'"
        ))
        .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'read_knowledge_feedback'")
            .await,
        1,
        "the report read by the lead is audited (the refused read is not)"
    );
    app.stop().await;
}

#[test]
fn a_changed_page_is_searched_after_the_recheck_interval_without_a_restart() {
    let dir = temp_dir("knowledge");
    std::fs::write(
        dir.join("shipping.md"),
        "# Shipping\n\n## Shipping to Canada\n\nWe ship to Canada in 5 to 8 business days.\n",
    )
    .unwrap();
    let knowledge =
        deskhand::knowledge::WatchedKnowledge::open(&dir, Duration::from_millis(50)).unwrap();
    use deskhand_core::knowledge::Knowledge as _;
    let best = |question: &str| {
        knowledge
            .search(question, 1)
            .first()
            .map(|p| p.passage.source.to_string())
    };
    assert_eq!(
        best("do you deliver to canada?").as_deref(),
        Some("shipping.md#Shipping to Canada")
    );
    assert_eq!(best("can I pay with a gift card?"), None);
    std::fs::write(
        dir.join("payment.md"),
        "# Payment\n\n## Paying with a gift card\n\nGift cards never expire and pay for any order.\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        best("can I pay with a gift card?").as_deref(),
        Some("payment.md#Paying with a gift card"),
        "the new page is indexed on the next search after the interval"
    );
    assert_eq!(knowledge.passages(), 2);
}
