//! Learning from reviewers: a correction is kept with the decision and shown in the audit,
//! and a model retrained on the corrections of a systematic mistake stops making it.

use crate::support::unique;
use crate::support::{free_port, temp_dir, ReviewApp, SmtpServer};
use deskhand_offline::train::TrainOptions;
use deskhand_offline::{classify_text, TriageModel};
use deskhand_tools::train::{CsvColumns, TrainRequest};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The shop sends personalisation requests to its engraving desk, which the agent cannot
/// know: such emails are `other` there. The agent reads them as being about the order.
const TARGET: &str = "other";

const PRODUCTS: [&str; 6] = [
    "Pegasus 41",
    "Clifton 9",
    "running cap",
    "Ghost 16",
    "gym bag",
    "Kayano 31",
];
const INITIALS: [&str; 6] = ["J.M.", "AB", "K-L", "S.T.", "RD", "M & P"];

fn engraving(n: usize) -> (String, String) {
    (
        format!("Engraving for order {}", 4100 + n),
        format!(
            "Hello, could you engrave the initials {} on the {} I just ordered? It is a gift. \
             Order {}. Thanks!",
            INITIALS[n % INITIALS.len()],
            PRODUCTS[n % PRODUCTS.len()],
            4100 + n
        ),
    )
}

fn event(event_id: &str, n: usize) -> Value {
    let (subject, text) = engraving(n);
    json!({
        "event_id": event_id, "case_id": unique("case"), "customer_id": 1,
        "customer_name": "Ann Lee", "received_at": "2026-03-10T09:00:00Z",
        "email": {"from": "Ann Lee <ann@example.com>", "subject": subject, "text": text}
    })
}

fn corpus(files: &[&str]) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/corpus");
    files.iter().map(|f| root.join(f)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_of_a_systematic_mistake_fix_it_after_retraining() {
    const N: usize = 16;
    let smtp = SmtpServer::start(free_port(), temp_dir("maildir")).await;
    let app = ReviewApp::start(smtp.port, &[]).await;
    let events: Vec<String> = (0..N).map(|_| unique("engrave")).collect();
    let payloads: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(n, e)| event(e, n))
        .collect();
    app.world.publish(&payloads).await;

    // Reviewers reject each draft and correct its topic.
    let mut mistaken = 0;
    for event_id in &events {
        let detail = app.queued(event_id).await;
        let drafted = detail["draft"]["classification"]["topic"].as_str().unwrap();
        mistaken += usize::from(drafted != TARGET);
        let id = detail["summary"]["draft_id"].as_str().unwrap();
        let (status, body, _) = app
            .post(
                &app.reviewer,
                &format!("/api/drafts/{id}/reject"),
                None,
                json!({
                    "version": detail["summary"]["version"],
                    "reason": "engraving requests go to the engraving desk",
                    "correction": {"topic": TARGET},
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert!(
        mistaken > N / 2,
        "the premise: the shipped model gets these wrong ({mistaken} of {N})"
    );

    // The correction is stored with the decision and shown in the audit.
    let stored = app
        .count(&format!(
            "SELECT count(*) FROM decisions WHERE corrected_topic = '{TARGET}' AND kind = 'reject'"
        ))
        .await;
    assert_eq!(
        stored as usize, mistaken,
        "a correction to the same label is none"
    );
    let (_, audit) = app.get(&app.lead, "/api/audit?limit=1000").await;
    let shown = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"]["correction"]["topic"] == TARGET)
        .count();
    assert_eq!(shown, mistaken, "{audit}");
    // The stats page counts them per topic and per week.
    let (_, stats) = app.get(&app.lead, "/api/stats").await;
    let corrected_in = |list: &str| -> i64 {
        stats[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["corrected"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(corrected_in("per_topic") as usize, mistaken, "{stats}");
    assert_eq!(
        corrected_in("corrections_over_time") as usize,
        mistaken,
        "{stats}"
    );

    // Retraining on a corpus plus the decisions fixes the mistake on emails it never saw.
    let decided = app.world.store.decided_examples(None).await.unwrap();
    assert_eq!(decided.iter().filter(|d| d.corrected).count(), mistaken);
    let out = temp_dir("model").join("triage.model");
    let files = corpus(&[
        "train-terse.jsonl",
        "train-angry.jsonl",
        "train-html-misc.jsonl",
    ]);
    let request = |decided| TrainRequest {
        inputs: files.clone(),
        csv: CsvColumns::default(),
        out: out.clone(),
        options: TrainOptions::default(),
        evaluate_on: Vec::new(),
        decided,
    };
    let probes: Vec<(String, String)> = (N..N + 6).map(engraving).collect();
    let reads = |model: &TriageModel| -> usize {
        probes
            .iter()
            .filter(|(subject, body)| classify_text(subject, body, model).topic.as_str() == TARGET)
            .count()
    };
    deskhand_tools::train::run(&request(Vec::new())).unwrap();
    let without = TriageModel::from_bytes(&std::fs::read(&out).unwrap()).unwrap();
    deskhand_tools::train::run(&request(decided)).unwrap();
    let with = TriageModel::from_bytes(&std::fs::read(&out).unwrap()).unwrap();
    let (before, after) = (reads(&without), reads(&with));
    println!(
        "corrections: {mistaken} of {N} drafts corrected; unseen probes read as {TARGET}: \
         {before}/{} without them, {after}/{} with them",
        probes.len(),
        probes.len()
    );
    assert!(
        before < probes.len() / 2,
        "without the corrections: {before} of {}",
        probes.len()
    );
    assert_eq!(
        after,
        probes.len(),
        "with {mistaken} corrections (before: {before})"
    );
    app.stop().await;
}
