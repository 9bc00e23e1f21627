//! Address changes end to end: the worker reads a request to send an order elsewhere and
//! the new address, proposes `update_shipping_address` with the address on file beside
//! the new one, and only a reviewer's approval changes it, exactly once, after checking
//! again that nothing has shipped and that the order still ships where the reviewer saw.

use crate::agent::email;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Ann's order 100005, placed two days ago for $135.00, shipping to her old flat; its one
/// delivery is still being prepared.
async fn unshipped_order(app: &ReviewApp) {
    sqlx::raw_sql(
        "INSERT INTO orders (order_id, order_number, customer_id, placed_on, total_cents, ship_to)
             VALUES (6, '100005', 1, '2026-03-08', 13500, E'Ann Lee\\n12 Elm Street\\nLeeds LS1 4AB');
         INSERT INTO deliveries (order_id, customer_id, carrier, tracking_number, status,
                 expected_start, expected_end, delivered_on, fee_cents)
             VALUES (6, 1, 'UPS', '1Z999AA10123456755', 'processing', '2026-03-12', '2026-03-14', NULL, 800);",
    )
    .execute(app.world.store.pool())
    .await
    .unwrap();
}

/// An email from `customer`'s own address on file (a stranger gets no address change).
fn from_customer(event: &str, customer: i64, subject: &str, text: &str) -> Value {
    let mut mail = email(event, &unique("case"), customer, subject, text);
    let address = match customer {
        1 => "Ann Lee <ann@example.com>",
        _ => "Bob Stone <bob@example.com>",
    };
    mail["email"]["from"] = serde_json::json!(address);
    mail
}

/// A request to send order 100005 to a new address, from `customer`, in a case of its
/// own; waits for its draft.
async fn change_request_drafted(app: &ReviewApp, customer: i64) -> Value {
    let event = unique("ev");
    app.world
        .publish(&[from_customer(
            &event,
            customer,
            "New address for my order",
            "Hello, I have just moved. Could you please send order 100005 to my new address:\n\nAnn Lee\n27 Harbour Road\nLeith EH6 6LU\n\nThank you, Ann",
        )])
        .await;
    app.queued(&event).await
}

/// Where order 100005 ships, and how many address changes were recorded for it.
async fn ship_to(app: &ReviewApp) -> (Option<String>, i64) {
    sqlx::query_as(
        "SELECT o.ship_to, (SELECT count(*) FROM address_changes c WHERE c.order_id = o.order_id)
         FROM orders o WHERE o.order_number = '100005'",
    )
    .fetch_one(app.world.store.pool())
    .await
    .unwrap()
}

const OLD: &str = "Ann Lee\n12 Elm Street\nLeeds LS1 4AB";
const NEW: &str = "Ann Lee\n27 Harbour Road\nLeith EH6 6LU";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_address_change_redirects_the_order_once_and_the_reply_says_where() {
    let (smtp, app) = ReviewApp::with_smtp(&[]).await;
    unshipped_order(&app).await;
    let first = change_request_drafted(&app, 1).await;
    let second = change_request_drafted(&app, 1).await;
    let draft = &first["draft"];
    assert_eq!(draft["route"], "order", "{draft}");
    let actions = draft["proposed_actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{draft}");
    assert_eq!(actions[0]["type"], "update_shipping_address");
    let params = &actions[0]["params"];
    assert_eq!(params["order_number"], "100005");
    assert_eq!(
        (params["from"].as_str(), params["to"].as_str()),
        (Some(OLD), Some(NEW)),
        "the reviewer sees the address on file beside the new one"
    );
    let reply = draft["reply"]["body"].as_str().unwrap();
    assert!(
        reply.contains("order 100005 to Ann Lee, 27 Harbour Road, Leith EH6 6LU"),
        "{reply}"
    );
    assert_eq!(
        ship_to(&app).await,
        (Some(OLD.into()), 0),
        "nothing changes before a person approves"
    );

    // Redirecting $135.00 of goods is over a reviewer's limit: a lead approves it.
    let (status, body) = app.approve(&app.reviewer, &first).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app.approve(&app.lead, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["actions"][0]["type"], "update_shipping_address",
        "{body}"
    );
    assert_eq!(body["actions"][0]["address"], NEW, "{body}");
    assert_eq!(ship_to(&app).await, (Some(NEW.into()), 1));
    let replaced: Option<String> =
        sqlx::query_scalar("SELECT old_address FROM address_changes WHERE order_id = 6")
            .fetch_one(app.world.store.pool())
            .await
            .unwrap();
    assert_eq!(
        replaced.as_deref(),
        Some(OLD),
        "the change keeps what it replaced"
    );
    let sent = smtp.wait_for(1, std::time::Duration::from_secs(30)).await;
    // Quoted-printable folds long lines with a soft break ("=" at the end of a line).
    let sent = String::from_utf8_lossy(&sent[0])
        .replace("=\r\n", "")
        .replace("=\n", "");
    assert!(
        sent.contains("order 100005 to Ann Lee, 27 Harbour Road, Leith EH6 6LU"),
        "{sent}"
    );

    // The same request drafted twice: its diff is from an address the order left.
    let (status, body) = app.approve(&app.lead, &second).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "action_refused", "{body}");
    assert_eq!(ship_to(&app).await, (Some(NEW.into()), 1), "changed once");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_shipped_or_moved_after_the_draft_keeps_its_address_at_approval() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let moved = change_request_drafted(&app, 1).await;
    let shipped = change_request_drafted(&app, 1).await;
    assert_eq!(
        moved["draft"]["proposed_actions"][0]["type"],
        "update_shipping_address"
    );
    // Someone changes the address by hand while the drafts wait in the queue.
    sqlx::query(
        "UPDATE orders SET ship_to = 'Ann Lee, 1 Other Way, York YO1 7HH' WHERE order_id = 6",
    )
    .execute(app.world.store.pool())
    .await
    .unwrap();
    let (status, body) = app.approve(&app.lead, &moved).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("changed since the draft"),
        "{body}"
    );
    // Put back, the parcel leaves the warehouse.
    sqlx::raw_sql(&format!(
        "UPDATE orders SET ship_to = E'{}' WHERE order_id = 6;
         UPDATE deliveries SET status = 'in_transit' WHERE tracking_number = '1Z999AA10123456755';",
        OLD.replace('\n', "\\n")
    ))
    .execute(app.world.store.pool())
    .await
    .unwrap();
    let (status, body) = app.approve(&app.lead, &shipped).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("has shipped"),
        "{body}"
    );
    assert_eq!(ship_to(&app).await, (Some(OLD.into()), 0));
    assert_eq!(app.count("SELECT count(*) FROM outgoing_emails").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_customer_cannot_redirect_an_order_by_naming_its_number() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    // Bob (customer 2) names Ann's order.
    let detail = change_request_drafted(&app, 2).await;
    let draft = &detail["draft"];
    assert_eq!(draft["route"], "order", "{draft}");
    assert_eq!(draft["proposed_actions"], serde_json::json!([]), "{draft}");
    let reply = draft["reply"]["body"].as_str().unwrap();
    assert!(reply.contains("could not find order 100005"), "{reply}");
    assert!(
        !reply.contains("Elm Street"),
        "Ann's address is not shown: {reply}"
    );
    let evidence = draft["observations"].to_string();
    assert!(!evidence.contains("Elm Street"), "{evidence}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_of_one_address_change_at_once_change_it_once() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let first = change_request_drafted(&app, 1).await;
    let second = change_request_drafted(&app, 1).await;
    app.approve_both_at_once("address_changes", &first, &second)
        .await;
    assert_eq!(ship_to(&app).await, (Some(NEW.into()), 1));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reviewer_sees_the_address_on_file_beside_the_new_one_and_markup_in_it_is_text() {
    let dir = crate::ui::ui_tests_dir();
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let event = unique("ev");
    app.world
        .publish(&[from_customer(
            &event,
            1,
            "New address",
            "Please send order 100005 to my new address:\n\n<b>27 Harbour Road</b>\nLeith EH6 6LU <img src=x onerror=window.__xss=1>\n\nThanks",
        )])
        .await;
    let detail = app.queued(&event).await;
    assert_eq!(
        detail["draft"]["proposed_actions"][0]["type"], "update_shipping_address",
        "{detail}"
    );
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap().to_owned();
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut command = std::process::Command::new("timeout");
    command
        .args(["120", "node", "address-diff.mjs"])
        .current_dir(&dir)
        .env("BASE_URL", &app.base)
        .env("TOKEN", &app.reviewer)
        .env("DRAFT_ID", &draft_id)
        .env("FROM", "Ann Lee, 12 Elm Street, Leeds LS1 4AB")
        .env(
            "TO",
            "<b>27 Harbour Road</b>, Leith EH6 6LU <img src=x onerror=window.__xss=1>",
        )
        .env("SCREENSHOT_DIR", &shots);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run node");
    assert!(
        output.status.success(),
        "the diff is not shown as text:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_asking_to_redirect_a_customers_order_gets_it_escalated_not_proposed() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let event = unique("ev");
    // Someone who knows Ann's order number, writing from another mailbox.
    app.world
        .publish(&[email(
            &event,
            &unique("case"),
            1,
            "New address for my order",
            "Please send order 100005 to my new address:\n\n27 Harbour Road\nLeith EH6 6LU\n\nThanks",
        )])
        .await;
    let detail = app.queued(&event).await;
    let draft = &detail["draft"];
    assert_eq!(draft["route"], "escalate", "{draft}");
    assert_eq!(draft["escalation"]["kind"], "sender_mismatch", "{draft}");
    assert_eq!(draft["proposed_actions"], serde_json::json!([]), "{draft}");
    assert_eq!(ship_to(&app).await, (Some(OLD.into()), 0));
    app.stop().await;
}
