//! Returns end to end: the worker reads a request to send a delivered order back, proposes
//! `start_return` with a return code inside the window, and only a reviewer's approval
//! opens the return, once per order, after checking the window again.

use crate::agent::email;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Ann's order 100007 for $135.00, delivered on 2026-03-01 (the pinned today is
/// 2026-03-10, inside a 30-day window).
async fn delivered_order(app: &ReviewApp) {
    sqlx::raw_sql(
        "INSERT INTO orders (order_id, order_number, customer_id, placed_on, total_cents)
             VALUES (8, '100007', 1, '2026-02-25', 13500);
         INSERT INTO deliveries (order_id, customer_id, carrier, tracking_number, status,
                 expected_start, expected_end, delivered_on, fee_cents)
             VALUES (8, 1, 'UPS', '1Z999AA10123456777', 'delivered', '2026-02-28', '2026-03-02', '2026-03-01', 800);",
    )
    .execute(app.world.store.pool())
    .await
    .unwrap();
}

/// A request to return order 100007, in a case of its own; waits for its draft.
async fn return_request_drafted(app: &ReviewApp) -> Value {
    let event = unique("ev");
    let mut mail = email(
        &event,
        &unique("case"),
        1,
        "Return",
        "Hi, the shoes from order 100007 are too small. I'd like to return them please. Ann",
    );
    // From Ann's own address: a stranger gets no return opened on her order.
    mail["email"]["from"] = serde_json::json!("Ann Lee <ann@example.com>");
    app.world.publish(&[mail]).await;
    app.queued(&event).await
}

/// The return codes opened for order 100007.
async fn returns(app: &ReviewApp) -> Vec<String> {
    sqlx::query_scalar("SELECT code FROM returns WHERE order_id = 8")
        .fetch_all(app.world.store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_return_is_opened_once_with_the_code_the_reply_gave() {
    let (smtp, app) = ReviewApp::with_smtp(&[]).await;
    delivered_order(&app).await;
    let first = return_request_drafted(&app).await;
    let second = return_request_drafted(&app).await;
    let draft = &first["draft"];
    assert_eq!(draft["route"], "order", "{draft}");
    let action = &draft["proposed_actions"][0];
    assert_eq!(action["type"], "start_return", "{draft}");
    assert_eq!(action["params"]["last_day"], "2026-03-31");
    let code = action["params"]["code"].as_str().unwrap().to_owned();
    let reply = draft["reply"]["body"].as_str().unwrap();
    assert!(
        reply.contains(&code) && reply.contains("2026-03-31"),
        "{reply}"
    );
    assert!(
        returns(&app).await.is_empty(),
        "nothing opens before approval"
    );

    // A return of $135.00 of goods is over a reviewer's limit: a lead approves it.
    let (status, body) = app.approve(&app.reviewer, &first).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app.approve(&app.lead, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["actions"][0]["type"], "start_return", "{body}");
    assert_eq!(body["actions"][0]["code"], code.as_str(), "{body}");
    assert_eq!(returns(&app).await, vec![code.clone()]);
    let sent = smtp.wait_for(1, std::time::Duration::from_secs(30)).await;
    let sent = String::from_utf8_lossy(&sent[0]).to_string();
    assert!(sent.contains(&code), "{sent}");

    // The same request drafted again: the order already has its return.
    let (status, body) = app.approve(&app.lead, &second).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("already open"),
        "{body}"
    );
    assert_eq!(returns(&app).await, vec![code], "one return per order");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_of_one_return_at_once_open_it_once() {
    let app = ReviewApp::start(free_port(), &[]).await;
    delivered_order(&app).await;
    let first = return_request_drafted(&app).await;
    let second = return_request_drafted(&app).await;
    app.approve_both_at_once("returns", &first, &second).await;
    assert_eq!(returns(&app).await.len(), 1);
    app.stop().await;
}
