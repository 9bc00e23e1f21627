//! Learning from reviewers: a correction is kept with the decision and shown in the audit,
//! and a model retrained on the corrections of a systematic mistake stops making it.

use crate::support::unique;
use crate::support::{free_port, temp_dir, ReviewApp, SmtpServer};
use deskhand_llm_script::{schema_name, ScriptedLlm, Turn};
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
            "Hello, Ann Lee here. Could you engrave the initials {} on the {} I just ordered? \
             It is a gift. Order {}. Thanks!",
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

    // With a model endpoint, the corrections become the classify prompt's examples: the
    // corrected topic, the urgency nobody vouched for left out, the customer masked.
    let decided = app.world.store.decided_examples(None).await.unwrap();
    assert_eq!(decided.iter().filter(|d| d.corrected).count(), mistaken);
    let precedents = deskhand_service::precedents::load(&app.world.store, 1000)
        .await
        .unwrap();
    assert_eq!(precedents.len(), mistaken, "{precedents:?}");
    for precedent in &precedents {
        assert_eq!(precedent.topic.as_str(), TARGET);
        assert_eq!(
            precedent.urgency, None,
            "a rejection vouches for no urgency"
        );
    }
    let names: Vec<&str> = decided
        .iter()
        .filter_map(|d| d.customer_name.as_deref())
        .flat_map(str::split_whitespace)
        .collect();
    assert!(!names.is_empty(), "the emails carry customer names");
    for precedent in &precedents {
        let shown = format!("{} {}", precedent.subject, precedent.excerpt);
        for name in &names {
            assert!(!shown.contains(name), "{name} shown: {shown}");
        }
        assert!(
            !shown
                .split(|c: char| !c.is_ascii_digit())
                .any(|digits| digits.len() >= 3),
            "order numbers are masked: {shown}"
        );
        assert!(shown.contains("[number]"), "{shown}");
    }
    let newest = deskhand_service::precedents::load(&app.world.store, 2)
        .await
        .unwrap();
    assert_eq!(
        newest,
        precedents[precedents.len() - 2..],
        "the pool keeps the newest, oldest first"
    );

    // A worker on a model endpoint loads them and shows the most similar in its prompts.
    let server = ScriptedLlm::start(|request, _| match schema_name(request) {
        "classification" => Turn::Json(json!({
            "topic": "other", "urgency": "low", "urgent_reason": null, "confidence": 0.9,
            "needs_reply": true, "multiple_requests": false, "sentiment": "positive",
            "frustration": 0.0, "summary": "Engraving request"})),
        "reply" => Turn::Json(json!({"subject": "Your engraving", "body": "We will check."})),
        _ => Turn::Json(
            json!({"brand": null, "model_words": [], "size": null, "width": null,
            "color": null, "material": null, "max_price_cents": null, "use_words": []}),
        ),
    })
    .await;
    // On an inbound topic of its own: the review app's offline worker takes the shared one.
    let inbound = unique("inbound-llm");
    deskhand_kafka::ensure_topics(&app.world.client, &[(inbound.as_str(), 1)])
        .await
        .unwrap();
    let worker = crate::llm::start_llm_worker(
        &app.world,
        &unique("llm-precedents"),
        &server,
        &[("DESKHAND_TOPIC_INBOUND", inbound.as_str())],
    )
    .await;
    let later = event(&unique("later"), N + 10);
    app.world
        .publisher
        .send(&inbound, "later", &serde_json::to_vec(&later).unwrap(), &[])
        .await
        .unwrap();
    let shown = tokio::time::timeout(std::time::Duration::from_secs(90), async {
        loop {
            let prompts: Vec<String> = server
                .requests()
                .iter()
                .filter(|r| schema_name(r) == "classification")
                .map(|r| {
                    r["messages"][1]["content"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect();
            if let Some(prompt) = prompts.into_iter().find(|p| p.contains("<example")) {
                return prompt;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no classify prompt with examples; the model saw: {:#?}",
            server.requests()
        )
    });
    worker.stop().await;
    let examples = shown.split("<email>").next().unwrap();
    assert!(
        examples.contains(&format!("<example topic=\"{TARGET}\">")),
        "{shown}"
    );
    assert!(
        !examples.contains("Ann") && !examples.contains("Lee"),
        "{examples}"
    );

    // Retraining on a corpus plus the decisions fixes the mistake on emails it never saw.
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
