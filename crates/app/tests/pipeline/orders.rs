//! Order cancellations end to end: the worker reads a request to cancel, proposes the
//! `cancel_order` action from the store's facts, and only a reviewer's approval cancels
//! the order, exactly once, after checking the policy again on the order as it is then.

use crate::agent::email;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Ann's order 100003, placed two days ago, one delivery still being prepared.
async fn unshipped_order(app: &ReviewApp) {
    sqlx::raw_sql(
        "INSERT INTO orders (order_id, order_number, customer_id, placed_on, total_cents)
             VALUES (4, '100003', 1, '2026-03-08', 13500);
         INSERT INTO deliveries (order_id, customer_id, carrier, tracking_number, status,
                 expected_start, expected_end, delivered_on, fee_cents)
             VALUES (4, 1, 'UPS', '1Z999AA10123456799', 'processing', '2026-03-12', '2026-03-14', NULL, 800);",
    )
    .execute(app.world.store.pool())
    .await
    .unwrap();
}

/// A request to cancel order 100003, in a case of its own; waits for its draft.
async fn cancel_request_drafted(app: &ReviewApp) -> Value {
    let event = unique("ev");
    app.world
        .publish(&[email(
            &event,
            &unique("case"),
            1,
            "Cancel my order",
            "Hello, please cancel order 100003, I ordered the wrong size by mistake. Thanks, Ann",
        )])
        .await;
    app.queued(&event).await
}

/// The order's status, its delivery's status, and how many cancellations were recorded.
async fn order_status(app: &ReviewApp) -> (String, String, i64) {
    sqlx::query_as(
        "SELECT o.status, d.status,
                (SELECT count(*) FROM order_cancellations c WHERE c.order_id = o.order_id)
         FROM orders o JOIN deliveries d USING (order_id) WHERE o.order_number = '100003'",
    )
    .fetch_one(app.world.store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_cancellation_cancels_the_order_once_and_sends_the_reply() {
    let (smtp, app) = ReviewApp::with_smtp(&[]).await;
    unshipped_order(&app).await;
    let first = cancel_request_drafted(&app).await;
    let second = cancel_request_drafted(&app).await;
    let draft = &first["draft"];
    assert_eq!(draft["route"], "order", "{draft}");
    let actions = draft["proposed_actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{draft}");
    assert_eq!(actions[0]["type"], "cancel_order");
    assert_eq!(actions[0]["params"]["order_number"], "100003");
    assert_eq!(actions[0]["params"]["amount_cents"], 13500);
    let reply = draft["reply"]["body"].as_str().unwrap();
    assert!(
        reply.contains("order 100003") && reply.contains("$135.00"),
        "{reply}"
    );
    assert_eq!(
        order_status(&app).await,
        ("placed".into(), "processing".into(), 0),
        "nothing happens before a person approves"
    );

    // $135.00 is over a reviewer's limit: a lead approves it.
    let (status, body) = app.approve(&app.reviewer, &first).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app.approve(&app.lead, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["actions"][0]["type"], "cancel_order", "{body}");
    assert_eq!(
        order_status(&app).await,
        ("cancelled".into(), "cancelled".into(), 1)
    );
    let sent = smtp.wait_for(1, std::time::Duration::from_secs(30)).await;
    let sent = String::from_utf8_lossy(&sent[0]).to_string();
    assert!(sent.contains("100003"), "{sent}");

    // The same request drafted twice: the second approval finds the order cancelled.
    let (status, body) = app.approve(&app.lead, &second).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "action_refused", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("already cancelled"),
        "{body}"
    );
    assert_eq!(order_status(&app).await.2, 1, "cancelled and refunded once");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_shipped_after_the_draft_is_not_cancelled_at_approval() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let detail = cancel_request_drafted(&app).await;
    assert_eq!(
        detail["draft"]["proposed_actions"][0]["type"],
        "cancel_order"
    );
    // The parcel leaves the warehouse while the draft waits in the queue.
    sqlx::query(
        "UPDATE deliveries SET status = 'in_transit' WHERE tracking_number = '1Z999AA10123456799'",
    )
    .execute(app.world.store.pool())
    .await
    .unwrap();
    let (status, body) = app.approve(&app.lead, &detail).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("has shipped"),
        "{body}"
    );
    assert_eq!(
        order_status(&app).await,
        ("placed".into(), "in_transit".into(), 0)
    );
    assert_eq!(app.count("SELECT count(*) FROM outgoing_emails").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_whose_amount_was_tampered_with_is_refused() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let detail = cancel_request_drafted(&app).await;
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap().to_owned();
    sqlx::query(
        "UPDATE reviews SET draft = jsonb_set(draft, '{proposed_actions,0,params,amount_cents}', '13600')
         WHERE draft_id = $1::uuid",
    )
    .bind(&draft_id)
    .execute(app.world.store.pool())
    .await
    .unwrap();
    let (_, tampered) = app.get(&app.lead, &draft_path(&detail, "")).await;
    let (status, body) = app.approve(&app.lead, &tampered).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("refunds 13500 cents, not 13600"),
        "{body}"
    );
    assert_eq!(order_status(&app).await.0, "placed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_customer_cannot_have_an_order_cancelled_by_naming_its_number() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let event = unique("ev");
    // Bob (customer 2) names Ann's order.
    app.world
        .publish(&[email(
            &event,
            &unique("case"),
            2,
            "Cancel my order",
            "Please cancel order 100003, I changed my mind.",
        )])
        .await;
    let detail = app.queued(&event).await;
    let draft = &detail["draft"];
    assert_eq!(draft["route"], "order", "{draft}");
    assert_eq!(draft["proposed_actions"], serde_json::json!([]), "{draft}");
    let reply = draft["reply"]["body"].as_str().unwrap();
    assert!(reply.contains("could not find order 100003"), "{reply}");
    assert!(
        !reply.contains("135.00") && !reply.contains("2026-03-08"),
        "{reply}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_of_one_cancellation_at_once_cancel_and_refund_it_once() {
    let app = ReviewApp::start(free_port(), &[]).await;
    unshipped_order(&app).await;
    let first = cancel_request_drafted(&app).await;
    let second = cancel_request_drafted(&app).await;
    app.approve_both_at_once("order_cancellations", &first, &second)
        .await;
    assert_eq!(
        order_status(&app).await,
        ("cancelled".into(), "cancelled".into(), 1)
    );
    app.stop().await;
}
