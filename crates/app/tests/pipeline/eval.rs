//! `deskhand eval`: the same dataset scored through the broker and in-process, the
//! report's contract, comparisons and the baseline gate.

use crate::support::{brokers, config_dir};
use deskhand::Settings;
use deskhand_tools::eval::dataset::Dataset;
use deskhand_tools::eval::run::Via;
use deskhand_tools::eval::{evaluate, report, EngineChoice, EvalOptions};
use serde_json::{json, Value};
use std::path::PathBuf;

const METRICS: [&str; 22] = [
    "topic_accuracy",
    "urgency_accuracy",
    "urgent_precision",
    "urgent_recall",
    "route_accuracy",
    "escalation_precision",
    "escalation_recall",
    "tracking_precision",
    "tracking_recall",
    "tracking_f1",
    "product_precision",
    "product_recall",
    "action_exact_match",
    "reply_checks_pass",
    "leaks",
    "latency_ms_p50",
    "latency_ms_p95",
    "llm_calls_per_case",
    "prompt_tokens_per_case",
    "cost_usd_per_case",
    "pass_rate",
    "pass_hat_k",
];

fn dev_dataset() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/datasets/dev.jsonl")
}

fn settings() -> Settings {
    let env = vec![
        (
            "DATABASE_URL".to_owned(),
            std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        ),
        ("KAFKA_BROKERS".to_owned(), brokers()),
    ];
    Settings::load_from(&config_dir(), None, &env).unwrap()
}

fn options(via: Via, repeat: usize) -> EvalOptions {
    EvalOptions {
        dataset: dev_dataset(),
        engine: EngineChoice::Offline,
        via,
        repeat,
        out: std::env::temp_dir().join(crate::support::unique("eval-out")),
        baseline: None,
        record: None,
        replay: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_engine_scores_the_same_through_the_broker_as_in_process() {
    let direct = evaluate(settings(), &options(Via::Direct, 2))
        .await
        .unwrap();
    let kafka = evaluate(settings(), &options(Via::Kafka, 1)).await.unwrap();

    let cases = Dataset::load(&dev_dataset(), time::macros::date!(2026 - 03 - 10))
        .unwrap()
        .cases
        .len();
    assert_eq!(direct["cases"], cases);
    for name in METRICS {
        assert!(direct["metrics"].get(name).is_some(), "report lacks {name}");
        if !name.starts_with("latency") {
            assert_eq!(direct["metrics"][name], kafka["metrics"][name], "{name}");
        }
    }
    // A deterministic engine passes all or none of its repeats.
    assert_eq!(
        direct["metrics"]["pass_rate"],
        direct["metrics"]["pass_hat_k"]
    );
    let per_case = |report: &Value| -> Vec<(Value, Value, Value)> {
        report["per_case"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].clone(), c["pass"].clone(), c["got"].clone()))
            .collect()
    };
    assert_eq!(per_case(&direct), per_case(&kafka));
    assert_eq!(direct["metrics"]["leaks"], 0, "{}", direct["metrics"]);
}

#[test]
fn a_metric_with_nothing_to_score_is_null_and_compare_names_what_got_worse() {
    let old = json!({"metrics": {"route_accuracy": 0.9, "leaks": 0, "urgent_recall": null},
        "per_case": [{"id": "a", "pass": true, "failures": []}, {"id": "b", "pass": false, "failures": ["x"]}]});
    let new = json!({"metrics": {"route_accuracy": 0.8, "leaks": 1, "urgent_recall": null},
        "per_case": [{"id": "a", "pass": false, "failures": ["route"]}, {"id": "b", "pass": true, "failures": []}]});
    let (text, worse) = report::compare(&old, &new);
    assert_eq!(worse, ["leaks", "route_accuracy"]);
    assert!(text.contains("now FAILS  a"), "{text}");
    assert!(text.contains("now passes b"), "{text}");
    let below = report::below_baseline(&new, &old);
    assert_eq!(below.len(), 2, "{below:?}");
    assert!(report::below_baseline(&old, &old).is_empty());
}

#[test]
fn a_dataset_with_a_dangling_reference_is_refused_with_its_line() {
    let path = std::env::temp_dir().join(format!("{}.jsonl", crate::support::unique("bad")));
    std::fs::write(
        &path,
        "{\"defaults\": {\"today\": \"2026-03-10\"}}\n\
         {\"id\": \"a\", \"email\": {\"text\": \"hi\"}, \"expect\": {\"products\": [\"p9\"]}}\n",
    )
    .unwrap();
    let error = Dataset::load(&path, time::macros::date!(2026 - 01 - 01)).unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains(":2") && message.contains("p9"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_datasets_score_at_or_above_their_committed_baselines() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval");
    for (name, dataset) in [
        ("train", "datasets/train.jsonl"),
        ("dev", "datasets/dev.jsonl"),
        // Written by another author and never trained on: the triage model's dev set.
        ("dev-mixed", "corpus/dev-mixed.jsonl"),
    ] {
        let options = EvalOptions {
            dataset: root.join(dataset),
            baseline: Some(root.join(format!("baselines/{name}.json"))),
            ..options(Via::Direct, 1)
        };
        if let Err(error) = evaluate(settings(), &options).await {
            panic!("{name}: {error:#}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_llm_run_replays_offline_and_a_missing_recording_fails_its_case() {
    let dataset = std::env::temp_dir().join(format!("{}.jsonl", crate::support::unique("tape")));
    std::fs::write(
        &dataset,
        r#"{"defaults": {"today": "2026-03-10"}}
{"id": "late", "given": {"deliveries": [{"ref": "d1", "tracking_number": "1Z999AA10123456784", "carrier": "UPS", "status": "in_transit", "expected_start": "2026-03-02", "expected_end": "2026-03-04", "fee_cents": 800}]}, "email": {"subject": "Late parcel", "text": "My parcel 1Z999AA10123456784 is late."}, "expect": {"route": "delivery", "actions": [{"type": "refund_delivery_fee", "delivery": "d1", "amount_cents": 800}]}}
{"id": "thanks", "email": {"subject": "thanks", "text": "Thank you, all good now."}, "expect": {"route": "no_reply"}}
"#,
    )
    .unwrap();
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = deskhand_llm_script::ScriptedLlm::start(move |request, _| {
        crate::llm::script(request, &flag)
    })
    .await;
    let llm_settings = |base_url: &str, key: &str| {
        let mut settings = settings();
        settings.llm.base_url = base_url.to_owned();
        settings.llm.api_key = deskhand::settings::Secret::new(key);
        settings.llm.call_timeout = std::time::Duration::from_secs(3);
        settings
    };
    let tapes = std::env::temp_dir().join(crate::support::unique("tapes"));
    let run = |record: Option<PathBuf>, replay: Option<PathBuf>| EvalOptions {
        dataset: dataset.clone(),
        engine: EngineChoice::Llm,
        record,
        replay,
        ..options(Via::Direct, 1)
    };
    let recorded = evaluate(
        llm_settings(&server.base_url(), "test-key"),
        &run(Some(tapes.clone()), None),
    )
    .await
    .unwrap();
    let served = server.requests().len();
    assert!(served >= 3, "the model was called ({served} requests)");
    assert_eq!(std::fs::read_dir(&tapes).unwrap().count(), served);
    assert_eq!(
        recorded["metrics"]["pass_rate"], 1.0,
        "{}",
        recorded["per_case"]
    );
    drop(server);

    // Offline: no key, and the endpoint is gone.
    let replayed = evaluate(
        llm_settings("http://127.0.0.1:9/v1", ""),
        &run(None, Some(tapes.clone())),
    )
    .await
    .unwrap();
    let gots = |r: &Value| {
        r["per_case"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["got"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(gots(&replayed), gots(&recorded));
    assert_eq!(
        replayed["metrics"]["llm_calls_per_case"],
        recorded["metrics"]["llm_calls_per_case"]
    );

    // Take one recording away: its case fails, saying why.
    let victim = std::fs::read_dir(&tapes)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).unwrap().contains("Late parcel"))
        .unwrap();
    std::fs::remove_file(victim).unwrap();
    let broken = evaluate(
        llm_settings("http://127.0.0.1:9/v1", ""),
        &run(None, Some(tapes)),
    )
    .await
    .unwrap();
    let late = &broken["per_case"][0];
    assert_eq!(late["pass"], false);
    assert!(
        late["failures"].to_string().contains("no recording"),
        "{late}"
    );
}

#[test]
fn the_dataset_schema_names_exactly_the_fields_the_loader_reads() {
    use deskhand_tools::eval::dataset::{Case, CaseEmail, Expect, ExpectedAction, Given};
    let schema: Value = serde_json::from_str(include_str!(
        "../../../../docs/schemas/eval.case.schema.json"
    ))
    .unwrap();
    let keys = |v: &Value| -> std::collections::BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    let case_schema = &schema["oneOf"][1]["properties"];
    let case = Case {
        id: "x".into(),
        today: None,
        customer: None,
        given: Given::default(),
        email: CaseEmail {
            subject: None,
            text: Some("t".into()),
            raw: None,
            html: Some("<p>t</p>".into()),
            from: None,
        },
        expect: Expect {
            topic: Some("other".into()),
            urgency: Some("low".into()),
            urgent: Some(false),
            route: Some("no_reply".into()),
            needs_reply: Some(false),
            multiple_requests: Some(false),
            sentiment: Some("neutral".into()),
            language: Some("en".into()),
            tracking_numbers: Some(vec![]),
            products: Some(vec![]),
            alternatives: Some(vec![]),
            passages: Some(vec![]),
            actions: Some(vec![ExpectedAction {
                kind: "issue_coupon".into(),
                delivery: Some("d1".into()),
                // Every field written, so that the schema's names are all compared.
                order: Some("100003".into()),
                amount_cents: Some(1),
            }]),
            reply_contains: Some(vec![]),
            reply_excludes: Some(vec![]),
        },
    };
    let written = serde_json::to_value(&case).unwrap();
    assert_eq!(keys(&written), keys(case_schema));
    assert_eq!(
        keys(&written["given"]),
        keys(&case_schema["given"]["properties"])
    );
    assert_eq!(
        keys(&written["email"]),
        keys(&case_schema["email"]["properties"])
    );
    assert_eq!(
        keys(&written["expect"]),
        keys(&case_schema["expect"]["properties"])
    );
    assert_eq!(
        keys(&written["expect"]["actions"][0]),
        keys(&case_schema["expect"]["properties"]["actions"]["items"]["properties"])
    );
}

/// The one run against a real model (Gemma 3 270M behind llama-cpp-python's server, which
/// takes `json_object` and not `json_schema`; docs/models.md), replayed from its tape with
/// the settings it was recorded with: every request the engine makes today must be one
/// that server answered, and the report must come out case for case as it did then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_real_model_run_replays_case_for_case() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("eval/tapes/gemma3-270m.report.json")).unwrap(),
    )
    .unwrap();
    let mut settings = settings();
    settings.llm.base_url = "http://127.0.0.1:9/v1".into();
    settings.llm.model = "gemma3-270m".into();
    settings.llm.structured_output = deskhand_llm::StructuredOutput::JsonObject;
    settings.llm.max_concurrent_calls = 1;
    settings.llm.call_timeout = std::time::Duration::from_secs(90);
    settings.llm.email_budget = std::time::Duration::from_secs(280);
    settings.kafka.max_poll_interval = std::time::Duration::from_secs(600);
    let replayed = evaluate(
        settings,
        &EvalOptions {
            engine: EngineChoice::Llm,
            replay: Some(root.join("eval/tapes/gemma3-270m")),
            ..options(Via::Direct, 1)
        },
    )
    .await
    .unwrap();

    let cases = |report: &Value| report["per_case"].as_array().unwrap().clone();
    assert_eq!(cases(&replayed).len(), cases(&recorded).len());
    for (now, then) in cases(&replayed).iter().zip(cases(&recorded).iter()) {
        assert!(
            !now["failures"].to_string().contains("no recording"),
            "a request the server never answered: {now}"
        );
        assert_eq!(now["id"], then["id"]);
        assert_eq!(now["got"], then["got"], "case {}", now["id"]);
        assert_eq!(now["pass"], then["pass"], "case {}", now["id"]);
    }
    for name in METRICS.iter().filter(|m| !m.starts_with("latency")) {
        assert_eq!(
            replayed["metrics"][name], recorded["metrics"][name],
            "{name}"
        );
    }
    assert!(
        replayed["metrics"]["llm_calls_per_case"].as_f64().unwrap() >= 1.0,
        "the model was asked"
    );
}
