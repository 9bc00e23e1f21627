//! The review web UI in headless Chromium (Playwright driving Debian's chromium): sign in,
//! open the queue, edit and approve a draft, see it leave the queue; and an email full of
//! markup and script shows as text, inert.

use crate::support::{ReviewApp, SmtpServer};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) fn ui_tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui-tests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_signs_in_edits_and_approves_a_draft_in_the_browser_and_it_leaves_the_queue() {
    let dir = ui_tests_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "run `npm ci` in ui-tests/ first (.ci/run does)"
    );
    let smtp = SmtpServer::start(
        crate::support::free_port(),
        crate::support::temp_dir("maildir"),
    )
    .await;
    let app = ReviewApp::start(smtp.port, &[]).await;
    app.late_parcels_drafted::<2>().await;

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let edited = "Hi Ann,\n\nYour parcel is on its way and we refunded the delivery fee.\n\nRita (edited in the browser)";
    let mut command = std::process::Command::new("timeout");
    command
        .args(["120", "node", "review-flow.mjs"])
        .current_dir(&dir)
        .env("BASE_URL", &app.base)
        .env("TOKEN", &app.reviewer)
        .env("EXPECT_QUEUE", "2")
        .env("EDITED_REPLY", edited)
        .env("EDITED_SUBJECT", "Your parcel is on its way")
        .env("SCREENSHOT_DIR", &shots);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run node (the flow is killed after two minutes)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser flow failed:\n{stdout}\n{stderr}"
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(report["evidence"].as_i64().unwrap() >= 1, "{report}");
    assert_eq!(report["actions"], 2, "{report}");

    // What the browser did is what the store holds: one edited approval, one left.
    let approved = report["approved"].as_str().unwrap();
    let (kind, reply, was_edited): (String, String, bool) =
        sqlx::query_as("SELECT kind, reply_body, edited FROM decisions WHERE draft_id = $1::uuid")
            .bind(approved)
            .fetch_one(app.world.store.pool())
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), reply.as_str(), was_edited),
        ("approve", edited, true)
    );
    assert_eq!(
        app.count("SELECT count(*) FROM reviews WHERE status = 'pending'")
            .await,
        1
    );
    let sent = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(sent.len(), 1);
    let message = mail_parser::MessageParser::default()
        .parse(&sent[0])
        .unwrap();
    assert_eq!(message.subject(), Some("Your parcel is on its way"));
    eprintln!("screenshots in {}", shots.display());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_and_script_in_an_email_render_as_inert_text_in_the_queue_and_the_draft() {
    let dir = ui_tests_dir();
    let app = ReviewApp::start(crate::support::free_port(), &[]).await;
    let event = crate::support::unique("ev");
    let mut hostile =
        crate::support::review::late_parcel_email(&event, &crate::support::unique("case"));
    hostile["customer_name"] = serde_json::json!("Ann <svg onload=window.__xss=1>");
    hostile["email"]["from"] =
        serde_json::json!("\"<img src=x onerror=window.__xss=2>\" <ann@example.com>");
    hostile["email"]["subject"] =
        serde_json::json!("Parcel <img src=x onerror=window.__xss=3> late");
    hostile["email"]["text"] = serde_json::json!(
        "My parcel 1Z999AA10123456784 is late. <script data-xss>window.__xss=4</script> <img src=x onerror=window.__xss=5>"
    );
    app.world.publish(&[hostile]).await;
    let detail = app.queued(&event).await;
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap().to_owned();

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut command = std::process::Command::new("timeout");
    command
        .args(["120", "node", "xss.mjs"])
        .current_dir(&dir)
        .env("BASE_URL", &app.base)
        .env("TOKEN", &app.reviewer)
        .env("DRAFT_ID", &draft_id)
        .env("SCREENSHOT_DIR", &shots);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stored markup was not inert:\n{stdout}\n{stderr}"
    );
    app.stop().await;
}
