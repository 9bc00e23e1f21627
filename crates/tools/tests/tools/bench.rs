//! `deskhand bench` runs end to end (through the product binary, which hands it to the
//! tools) and ends with the JSON line scripts rely on.

use crate::support::{config_dir, deskhand_binary};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmark_drafts_every_email_in_case_order_and_prints_its_json_line() {
    let database = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut command = std::process::Command::new(deskhand_binary());
    command
        .args([
            "bench",
            "--emails",
            "60",
            "--customers",
            "300",
            "--in-flight",
            "16",
            "--warm-up",
            "20",
        ])
        .env("DATABASE_URL", database)
        // The embedded broker: the benchmark must run on a machine with only Postgres.
        .env_remove("KAFKA_BROKERS")
        .env("DESKHAND_CONFIG_DIR", config_dir())
        .env("RUST_LOG", "error");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run deskhand bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    for key in [
        "emails_per_s",
        "sustained_emails_per_s",
        "p50_ms",
        "p99_ms",
        "floor_emails_per_s",
        "ratio_to_floor",
        "rss_mb",
    ] {
        assert!(
            line[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} in {line}"
        );
    }
    assert_eq!(line["received"], 60);
    assert_eq!(line["order_violations"], 0);
}
