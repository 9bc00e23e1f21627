//! Human review end to end: the worker drafts from a real inbound email, the review
//! service queues the draft from the approval topic, reviewers decide over HTTP, and an
//! approval executes its actions, sends the reply to a real SMTP server (aiosmtpd) and
//! publishes the decision event.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_must_sign_in_and_their_role_bounds_what_they_may_decide() {
    let app = ReviewApp::start(
        free_port(),
        &[("DESKHAND__REVIEW__REVIEWER_MAX_ACTION_CENTS", "500")],
    )
    .await;
    let (_, detail) = app.late_parcel_drafted().await;
    assert_eq!(
        detail["draft"]["proposed_actions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // No token, a wrong token: 401, and nothing about the queue is revealed.
    let anonymous = app
        .http
        .get(format!("{}/api/drafts", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = app.get("dh_not-a-token", "/api/drafts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app
        .post(
            "dh_wrong",
            &draft_path(&detail, "approve"),
            Some("k"),
            json!({"version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A reviewer may not read the audit log, nor approve the $8.00 refund over their $5 limit.
    let (status, _) = app.get(&app.reviewer, "/api/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app.approve(&app.reviewer, &detail).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("$5.00"),
        "{body}"
    );
    // ... but may approve the coupon alone, which moves no money; here a lead approves all.
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);

    // A browser session: the cookie alone cannot decide (CSRF), the cookie + token can.
    let browser = reqwest::Client::new();
    let signed_in = browser
        .post(format!("{}/api/session", app.base))
        .json(&json!({"token": app.lead}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let csrf = signed_in.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let without_csrf = browser
        .post(format!("{}{}", app.base, draft_path(&detail, "approve")))
        .header("cookie", &session)
        .header("idempotency-key", unique("key"))
        .json(&json!({"version": version(&detail)}))
        .send()
        .await
        .unwrap();
    assert_eq!(without_csrf.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);
    let with_csrf = browser
        .post(format!("{}{}", app.base, draft_path(&detail, "approve")))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .header("idempotency-key", unique("key"))
        .json(&json!({"version": version(&detail)}))
        .send()
        .await
        .unwrap();
    assert_eq!(with_csrf.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 1);

    let (status, audit) = app.get(&app.lead, "/api/audit").await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in ["view_draft", "list_drafts", "sign_in", "approve"] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_runs_its_actions_once_and_sends_the_edited_reply_threaded_to_the_customer() {
    // Spans of this process go to memory: the decision must join the email's trace.
    let (spans, provider, _telemetry) = crate::traces::spans_in_memory();
    let (smtp, app) = ReviewApp::with_smtp(&[]).await;
    let event = unique("ev");
    let case = unique("case");
    app.world.publish(&[late_parcel_email(&event, &case)]).await;
    let detail = app.queued(&event).await;
    assert_eq!(detail["summary"]["status"], "pending");
    // The queue line says who is writing and how they sound.
    assert_eq!(detail["summary"]["language"], "en", "{}", detail["summary"]);
    assert!(
        ["negative", "neutral", "positive"]
            .contains(&detail["summary"]["sentiment"].as_str().unwrap_or("")),
        "{}",
        detail["summary"]
    );
    assert!(detail["summary"]["frustration"]
        .as_f64()
        .is_some_and(|f| (0.0..=1.0).contains(&f)));
    let kinds: Vec<&str> = detail["draft"]["proposed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund_delivery_fee", "issue_coupon"]);
    // Proposed is not done: no money moves before a person approves.
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM coupons").await, 0);

    let edited = "Hi Ann,\n\nSorry for the wait. Your parcel 1Z999AA10123456784 is on its way; we refunded the $8.00 delivery fee and added a free express shipping coupon.\n\nBest, Rita";
    // An empty subject is refused, and nothing is decided.
    let (status, refused, _) = app
        .post(
            &app.reviewer,
            &draft_path(&detail, "approve"),
            Some("key-0"),
            json!({"version": version(&detail), "reply_subject": "  "}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let subject = "Your parcel 1Z999AA10123456784 is on its way";
    let body = json!({"version": version(&detail), "reply_body": edited, "reply_subject": subject});
    let (status, first, _) = app
        .post(
            &app.reviewer,
            &draft_path(&detail, "approve"),
            Some("key-1"),
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "approved");
    assert_eq!(first["edited"], true);

    // The same request again (a client retry): the same answer, nothing runs twice.
    let (status, again, headers) = app
        .post(
            &app.reviewer,
            &draft_path(&detail, "approve"),
            Some("key-1"),
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);
    assert_eq!(headers["idempotent-replayed"], "true");
    // A second approval with another key: the draft is already decided.
    let (status, conflict, _) = app
        .post(
            &app.reviewer,
            &draft_path(&detail, "approve"),
            Some("key-2"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"], "already_decided");

    assert_eq!(
        app.count("SELECT count(*) FROM refunds WHERE customer_id = 1 AND amount_cents = 800")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM coupons WHERE customer_id = 1")
            .await,
        1
    );
    let code: String = sqlx::query_scalar("SELECT code FROM coupons")
        .fetch_one(app.world.store.pool())
        .await
        .unwrap();
    let coupon = first["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "issue_coupon")
        .unwrap();
    assert_eq!(coupon["code"], code.as_str());
    assert_eq!(
        coupon["expires_on"], "2026-06-08",
        "90 days from the pinned today"
    );

    // The reply reached the SMTP server once, threaded under Ann's message, as edited.
    let received = smtp.wait_for(1, Duration::from_secs(30)).await;
    let (_, now) = app.get(&app.reviewer, &draft_path(&detail, "")).await;
    assert_eq!(received.len(), 1, "{}", now["outgoing"]);
    let message = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    assert_eq!(message.in_reply_to().as_text(), Some("ann-1@mail.example"));
    assert_eq!(message.references().as_text(), Some("ann-1@mail.example"));
    assert_eq!(
        message.to().unwrap().first().unwrap().address(),
        Some("ann@example.com")
    );
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("support@shop.example")
    );
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap();
    assert_eq!(
        message.message_id(),
        Some(format!("draft-{draft_id}@shop.example").as_str())
    );
    assert_eq!(message.body_text(0).unwrap().trim_end(), edited);
    assert_eq!(
        message.subject(),
        Some(subject),
        "the subject as the reviewer wrote it"
    );

    // The decision event for the CRM.
    let reader = deskhand_kafka::TopicReader::new(&app.world.client, &app.world.decided).unwrap();
    let decided = reader
        .read_until(Duration::from_secs(30), |read| !read.is_empty())
        .await;
    assert_eq!(decided.len(), 1);
    let decision: Value = serde_json::from_slice(&decided[0].payload).unwrap();
    let schema: Value = serde_json::from_str(include_str!(
        "../../../../docs/schemas/deskhand.draft.decided.schema.json"
    ))
    .unwrap();
    let documented: std::collections::BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let sent: std::collections::BTreeSet<&str> = decision
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(sent, documented, "the decision event matches its schema");
    assert_eq!(decision["decision"], "approve");
    assert_eq!(decision["draft_id"], draft_id);
    assert_eq!(decision["reviewer"]["name"], "rita");
    assert_eq!(decision["edited"], true);
    assert_eq!(decision["reply"]["body"], edited);
    assert_eq!(decision["reply"]["subject"], subject);
    assert_eq!(decided[0].key.as_deref(), Some(case.as_str()));

    // The decision is in the email's trace: its event carries that trace onward, and the
    // trace holds both the email's root span and the decision's span.
    let trace_id = decision["trace_id"].as_str().unwrap().to_owned();
    assert_eq!(trace_id, detail["draft"]["trace_id"].as_str().unwrap());
    assert!(
        decided[0].headers["traceparent"].starts_with(&format!("00-{trace_id}-")),
        "{:?}",
        decided[0].headers
    );
    provider.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let in_trace: Vec<&opentelemetry_sdk::trace::SpanData> = finished
        .iter()
        .filter(|s| s.span_context.trace_id().to_string() == trace_id)
        .collect();
    let named = |name: &str| {
        *in_trace
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} missing from the trace"))
    };
    // A child of the span that made the draft, not of a parent no tool can show.
    assert_eq!(
        named("review approve").parent_span_id,
        named("triage email").span_context.span_id(),
        "the decision hangs under the email's span"
    );

    // The case memory keeps a line about the reply, not the reply.
    let memory: String = sqlx::query_scalar(
        "SELECT e->>'summary' FROM case_memory, jsonb_array_elements(entries) AS e
         WHERE case_id = $1 AND e->>'role' = 'agent'",
    )
    .bind(&case)
    .fetch_one(app.world.store.pool())
    .await
    .unwrap();
    assert!(
        memory.starts_with("Replied: Sorry for the wait."),
        "{memory}"
    );
    assert!(memory.len() < edited.len());

    // The draft view says it was sent; the queue no longer shows it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, now) = app.get(&app.reviewer, &draft_path(&detail, "")).await;
        if now["outgoing"]["status"] == "sent" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, pending) = app.get(&app.reviewer, "/api/drafts").await;
    assert_eq!(pending["total"], 0, "{pending}");
    assert_eq!(pending["counts"]["approved"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_of_one_draft_have_exactly_one_winner() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let (_, detail) = app.late_parcel_drafted().await;
    let attempts = (0..8).map(|n| {
        let app = &app;
        let detail = &detail;
        async move {
            app.post(
                if n % 2 == 0 { &app.reviewer } else { &app.lead },
                &draft_path(detail, "approve"),
                Some(&format!("race-{n}")),
                json!({"version": version(detail)}),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::OK)
        .count();
    let lost = results
        .iter()
        .filter(|(s, b, _)| *s == StatusCode::CONFLICT && b["error"] == "already_decided")
        .count();
    assert_eq!((won, lost), (1, 7), "{results:?}");
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM coupons").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM decisions").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM outgoing_emails").await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_overtaken_by_a_newer_email_is_refused_as_stale_and_drafted_afresh() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let case = unique("case");
    let first = unique("ev");
    app.world.publish(&[late_parcel_email(&first, &case)]).await;
    let old = app.queued(&first).await;

    let second = unique("ev");
    let mut newer = late_parcel_email(&second, &case);
    newer["received_at"] = json!("2026-03-10T11:00:00Z");
    newer["email"]["text"] = json!("Also, can you send it to my office instead?");
    app.world.publish(&[newer]).await;
    app.queued(&second).await;

    let (status, body) = app.approve(&app.reviewer, &old).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "stale");
    assert!(
        body["message"].as_str().unwrap().contains("newer email"),
        "{body}"
    );
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);
    let (_, now) = app.get(&app.reviewer, &draft_path(&old, "")).await;
    assert_eq!(now["summary"]["status"], "stale");

    // The worker made a fresh draft of the first email, which can be approved.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let fresh = loop {
        let (_, page) = app.get(&app.reviewer, "/api/drafts?limit=200").await;
        let mut fresh = None;
        for item in page["items"].as_array().unwrap() {
            let path = format!("/api/drafts/{}", item["draft_id"].as_str().unwrap());
            let (_, d) = app.get(&app.reviewer, &path).await;
            let event_id = d["draft"]["event_id"].as_str().unwrap();
            if event_id.starts_with(&format!("{first}~redraft-")) {
                fresh = Some(d);
            }
        }
        if let Some(fresh) = fresh {
            break fresh;
        }
        assert!(tokio::time::Instant::now() < deadline, "no fresh draft");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // It is not counted as another customer email in the case memory.
    let emails: i32 =
        sqlx::query_scalar("SELECT customer_emails FROM case_memory WHERE case_id = $1")
            .bind(&case)
            .fetch_one(app.world.store.pool())
            .await
            .unwrap();
    assert_eq!(emails, 2);
    let (status, body) = app.approve(&app.reviewer, &fresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redraft_of_an_email_cut_to_fit_the_topic_reads_the_whole_recorded_email() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let case = unique("case");
    let first = unique("ev");
    // Long enough that the draft event (which carries the email twice) is cut to fit.
    let mut long = late_parcel_email(&first, &case);
    let text = long["email"]["text"].as_str().unwrap().to_owned();
    let history = "Earlier, on the phone, I was told it would come soon. ".repeat(12_000);
    long["email"]["text"] = json!(format!("{text}\n\n{history}\nThe very end."));
    // A subject long enough to be cut too.
    let subject = format!("Where is my parcel?{}", " Still waiting.".repeat(100));
    long["email"]["subject"] = json!(subject);
    app.world.publish(&[long]).await;
    let old = app.queued(&first).await;
    let second = unique("ev");
    let mut newer = late_parcel_email(&second, &case);
    newer["received_at"] = json!("2026-03-10T11:00:00Z");
    app.world.publish(&[newer]).await;
    app.queued(&second).await;

    let (status, body) = app.approve(&app.reviewer, &old).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (original, redrafted) = loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT event_id, full_text FROM emails WHERE event_id LIKE $1
             ORDER BY event_id = $2 DESC",
        )
        .bind(format!("{first}%"))
        .bind(&first)
        .fetch_all(app.world.store.pool())
        .await
        .unwrap();
        if let [original, redrafted] = rows.as_slice() {
            break (original.1.clone(), redrafted.clone());
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no redraft recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(redrafted.0.starts_with(&format!("{first}~redraft-")));
    assert!(original.ends_with("The very end."));
    assert_eq!(redrafted.1, original, "the redraft read the whole email");
    let subjects: Vec<String> =
        sqlx::query_scalar("SELECT subject FROM emails WHERE event_id LIKE $1")
            .bind(format!("{first}%"))
            .fetch_all(app.world.store.pool())
            .await
            .unwrap();
    assert_eq!(
        subjects,
        [subject.clone(), subject],
        "the subject whole too"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_waits_while_smtp_is_down_and_is_delivered_once_when_it_returns() {
    let port = free_port();
    let app = ReviewApp::start(port, &[]).await;
    let (_, detail) = app.late_parcel_drafted().await;
    let (status, body) = app.approve(&app.reviewer, &detail).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Nothing listens on the SMTP port: the reply stays "sending" and is retried.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, now) = app.get(&app.reviewer, &draft_path(&detail, "")).await;
        let outgoing = &now["outgoing"];
        if outgoing["attempts"].as_i64().unwrap_or(0) >= 2 {
            assert_eq!(outgoing["status"], "sending");
            assert!(!outgoing["last_error"].is_null(), "{outgoing}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let smtp = SmtpServer::start(port, temp_dir("maildir")).await;
    let received = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 1);
    // Several more relay rounds: still exactly one message.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.received().len(), 1);
    let (_, now) = app.get(&app.reviewer, &draft_path(&detail, "")).await;
    assert_eq!(now["outgoing"]["status"], "sent");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejecting_sends_nothing_and_an_escalated_draft_waits_for_a_lead() {
    let (smtp, app) = ReviewApp::with_smtp(&[]).await;
    let (a, b) = (unique("ev"), unique("ev"));
    app.world
        .publish(&[
            late_parcel_email(&a, &unique("case")),
            late_parcel_email(&b, &unique("case")),
        ])
        .await;
    let rejected = app.queued(&a).await;
    let escalated = app.queued(&b).await;

    let (status, body) = app
        .decide(
            &app.reviewer,
            &rejected,
            "reject",
            json!({"version": version(&rejected), "reason": "  "}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .decide(
            &app.reviewer,
            &rejected,
            "reject",
            json!({"version": version(&rejected) + 1, "reason": "wrong"}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("version_conflict"))
    );
    let (status, body) = app
        .decide(
            &app.reviewer,
            &rejected,
            "reject",
            json!({"version": version(&rejected), "reason": "Customer already called"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "rejected");

    let (status, body) = app
        .decide(
            &app.reviewer,
            &escalated,
            "escalate",
            json!({"version": version(&escalated), "note": "Goodwill beyond policy?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let escalated_version = body["version"].as_i64().unwrap();
    let (_, queue) = app.get(&app.reviewer, "/api/drafts?status=escalated").await;
    assert_eq!(queue["total"], 1);
    let (status, _, _) = app
        .post(
            &app.reviewer,
            &draft_path(&escalated, "approve"),
            Some(&unique("k")),
            json!({"version": escalated_version}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an escalated draft is a lead's"
    );
    let (status, body, _) = app
        .post(
            &app.lead,
            &draft_path(&escalated, "approve"),
            Some(&unique("k")),
            json!({"version": escalated_version, "action_ids": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["actions"],
        json!([]),
        "the lead chose to run no action"
    );

    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);
    assert_eq!(
        smtp.wait_for(1, Duration::from_secs(30)).await.len(),
        1,
        "only the approval sends"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(smtp.received().len(), 1);

    let reader = deskhand_kafka::TopicReader::new(&app.world.client, &app.world.decided).unwrap();
    let decided = reader
        .read_until(Duration::from_secs(30), |read| read.len() >= 3)
        .await;
    let kinds: Vec<String> = decided
        .iter()
        .map(|m| {
            serde_json::from_slice::<Value>(&m.payload).unwrap()["decision"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(sorted, ["approve", "escalate", "reject"]);

    let (status, stats) = app.get(&app.lead, "/api/stats").await;
    assert_eq!(status, StatusCode::OK);
    let delivery = stats["per_topic"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == "delivery_delay")
        .unwrap();
    assert_eq!(delivery["rejected"], 1);
    assert_eq!(delivery["approved_unedited"], 1);
    assert_eq!(delivery["escalated"], 1);
    assert_eq!(stats["email_to_draft"]["count"], 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_queued_once_however_often_it_arrives() {
    let app = ReviewApp::start(free_port(), &[]).await;
    app.late_parcel_drafted().await;
    let drafts = app.world.read_drafts(1, Duration::from_secs(10)).await;
    let (message, _) = &drafts[0];
    // Redelivered twice: a replay of the topic.
    for _ in 0..2 {
        app.world
            .publisher
            .send(
                &app.world.approval,
                message.key.as_deref().unwrap(),
                &message.payload,
                &[],
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.count("SELECT count(*) FROM reviews").await, 1);
    assert!(app
        .review_dead_letters(Duration::from_secs(2))
        .await
        .is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_the_worker_did_not_record_is_refused_counted_audited_and_dead_lettered() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let (_, detail) = app.late_parcel_drafted().await;
    let drafts = app.world.read_drafts(1, Duration::from_secs(10)).await;
    let (message, _) = &drafts[0];
    let genuine: Value = serde_json::from_slice(&message.payload).unwrap();
    assert!(
        refund_in(&genuine) > 0,
        "the genuine draft refunds: {genuine}"
    );

    // Someone who can produce to the approval topic: the same draft paying more to another
    // address, and a draft of their own making.
    let mut altered = genuine.clone();
    altered["proposed_actions"][0]["params"]["amount_cents"] = json!(99_900);
    altered["email"]["from"] = json!("attacker@evil.example");
    let mut invented = genuine.clone();
    invented["draft_id"] = json!(uuid::Uuid::new_v4());
    invented["event_id"] = json!("crm-made-1");
    for forged in [&altered, &invented] {
        app.world
            .publisher
            .send(
                &app.world.approval,
                message.key.as_deref().unwrap(),
                &serde_json::to_vec(forged).unwrap(),
                &[],
            )
            .await
            .unwrap();
    }

    let dead = app.review_dead_letters(Duration::from_secs(5)).await;
    let mut codes: Vec<&str> = dead
        .iter()
        .map(|m| m.headers[deskhand_kafka::dlq_headers::REASON_CODE].as_str())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["altered_draft", "unknown_draft"], "{dead:?}");
    // Nothing forged reached the queue, and the genuine draft is as the worker wrote it.
    assert_eq!(app.count("SELECT count(*) FROM reviews").await, 1);
    let (_, view) = app.get(&app.lead, &draft_path(&detail, "")).await;
    assert_eq!(
        view["draft"], genuine,
        "the queued draft is the recorded one"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'draft_refused'")
            .await,
        2
    );
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in ["altered_draft", "unknown_draft"] {
        assert_eq!(
            sample(
                &metrics,
                "deskhand_review_drafts_refused_total",
                &[("reason", reason)]
            ),
            Some(1.0),
            "{reason}"
        );
    }
    // Approving pays what the worker proposed, to the customer on file.
    let (status, body) = app.approve(&app.lead, &detail).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.count("SELECT coalesce(sum(amount_cents), 0)::bigint FROM refunds")
            .await,
        refund_in(&genuine)
    );
    app.stop().await;
}

fn refund_in(draft: &Value) -> i64 {
    draft["proposed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "refund_delivery_fee")
        .map(|a| a["params"]["amount_cents"].as_i64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_whose_sender_names_no_address_is_queued_but_cannot_be_approved() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let event = unique("ev");
    let mut email = late_parcel_email(&event, &unique("case"));
    email["email"]["from"] = json!("Ann Lee, Accounts <no address given>");
    app.world.publish(&[email]).await;
    let detail = app.queued(&event).await;
    assert_eq!(detail["summary"]["status"], "pending");

    let (status, body) = app.approve(&app.reviewer, &detail).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("no address"),
        "{body}"
    );
    // Refused before anything ran: no money moved, nothing queued to send.
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outgoing_emails").await, 0);
    // A person can still reject it.
    let (status, body) = app
        .decide(
            &app.reviewer,
            &detail,
            "reject",
            json!({"version": version(&detail), "reason": "no address to answer"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_drafts_approved_at_once_never_refund_one_delivery_past_its_fee() {
    let app = ReviewApp::start(free_port(), &[]).await;
    // Two emails about the same late parcel, in two cases: both drafts propose the full
    // refund, as neither knows of the other.
    let [(_, first), (_, second)] = app.late_parcels_drafted().await;
    app.slow_inserts_into("refunds").await;

    let (a, b) = tokio::join!(
        app.approve(&app.lead, &first),
        app.approve(&app.lead, &second)
    );
    let statuses = [a.0, b.0];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
        "one approval pays, the other is refused: {a:?} {b:?}"
    );
    let refused = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert_eq!(refused["error"], "action_refused", "{refused}");
    let (refunds, refunded, fee): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(r.*), coalesce(sum(r.amount_cents), 0)::bigint, d.fee_cents
         FROM deliveries d LEFT JOIN refunds r USING (delivery_id)
         WHERE d.tracking_number = '1Z999AA10123456784' GROUP BY d.fee_cents",
    )
    .fetch_one(app.world.store.pool())
    .await
    .unwrap();
    assert_eq!(refunds, 1);
    assert!(refunded <= fee, "refunded {refunded} of a {fee} fee");
    assert_eq!(app.count("SELECT count(*) FROM coupons").await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_the_reviewers_own_and_bound_to_the_request_it_came_with() {
    let (_smtp, app) = ReviewApp::with_smtp(&[]).await;
    let [(_, first), (_, second)] = app.late_parcels_drafted::<2>().await;
    let approve = |detail: &Value| json!({"version": version(detail)});
    let (status, answer, _) = app
        .post(
            &app.reviewer,
            &draft_path(&first, "approve"),
            Some("shared-key"),
            approve(&first),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // The same key with another body is a client bug, not a retry: refused, not replayed.
    let (status, refused, headers) = app
        .post(
            &app.reviewer,
            &draft_path(&first, "approve"),
            Some("shared-key"),
            json!({"version": version(&first), "reply_body": "Other words entirely."}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("different request")),
        "{refused}"
    );
    assert!(headers.get("idempotent-replayed").is_none());
    // Nor does it decide another draft.
    let (status, refused, _) = app
        .post(
            &app.reviewer,
            &draft_path(&second, "approve"),
            Some("shared-key"),
            approve(&second),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    // Another person's key of the same spelling is theirs: it decides their request. (Both
    // emails are about one delivery, whose fee the first approval refunded: no actions.)
    let (status, theirs, headers) = app
        .post(
            &app.lead,
            &draft_path(&second, "approve"),
            Some("shared-key"),
            json!({"version": version(&second), "action_ids": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert_eq!(theirs["draft_id"], second["summary"]["draft_id"]);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(
        app.count("SELECT count(*) FROM decisions WHERE idempotency_key = 'shared-key'")
            .await,
        2
    );

    // One key sent for two drafts at the same moment: one is decided, the other refused
    // as the client's mistake it is (never a server error), whichever commits first.
    let drafts = app.late_parcels_drafted::<6>().await;
    for (round, pair) in drafts.chunks(2).enumerate() {
        let key = format!("race-key-{round}");
        let app = &app;
        let send = |detail: &Value| {
            let path = draft_path(detail, "approve");
            let body = json!({"version": version(detail), "action_ids": []});
            let key = key.clone();
            async move { app.post(&app.reviewer, &path, Some(&key), body).await }
        };
        let ((a, _, _), (b, _, _)) = tokio::join!(send(&pair[0].1), send(&pair[1].1));
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
            "round {round}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_pays_what_the_policy_gives_now_not_what_the_queued_draft_says() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let (_, detail) = app.late_parcel_drafted().await;
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap().to_owned();
    // The queued copy tampered with (a compromised writer, a bad migration): the refund
    // raised by a cent past the policy, the coupon made to last ten years.
    sqlx::query(
        "UPDATE reviews SET draft = jsonb_set(jsonb_set(draft,
             '{proposed_actions,0,params,amount_cents}',
             to_jsonb((draft #>> '{proposed_actions,0,params,amount_cents}')::bigint + 1)),
             '{proposed_actions,1,params,valid_days}', '3650')
         WHERE draft_id = $1::uuid",
    )
    .bind(&draft_id)
    .execute(app.world.store.pool())
    .await
    .unwrap();
    let (_, tampered) = app.get(&app.lead, &draft_path(&detail, "")).await;
    assert_eq!(
        tampered["draft"]["proposed_actions"][1]["params"]["valid_days"],
        3650
    );

    for only in ["a1", "a2"] {
        let (status, body, _) = app
            .post(
                &app.lead,
                &draft_path(&detail, "approve"),
                Some(&unique("key")),
                json!({"version": version(&detail), "action_ids": [only]}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{only}: {body}");
        assert_eq!(body["error"], "action_refused", "{body}");
        let expected = if only == "a1" {
            "more than the policy"
        } else {
            "longer than the policy"
        };
        assert!(
            body["message"].as_str().unwrap().contains(expected),
            "{only}: {body}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM refunds").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM coupons").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outgoing_emails").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_throttled_per_address_and_its_failures_are_audited_once_per_window() {
    let app = ReviewApp::start(free_port(), &[("DESKHAND__REVIEW__SIGN_IN_ATTEMPTS", "3")]).await;
    let sign_in = |token: String| {
        app.http
            .post(format!("{}/api/session", app.base))
            .json(&json!({ "token": token }))
            .send()
    };
    for guess in 0..3 {
        let response = sign_in(format!("dh_guess{guess}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // The address used its attempts: even the right token waits for the window to end.
    for token in [app.reviewer.clone(), "dh_guess4".to_owned()] {
        let response = sign_in(token).await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=300).contains(&retry_after), "{retry_after}");
    }
    // Three failures and two throttled attempts: one row each, not five.
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed'")
            .await,
        1
    );
    let throttled: Value =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'sign_in_throttled'")
            .fetch_one(app.world.store.pool())
            .await
            .unwrap();
    assert_eq!(throttled["failures"], 3, "{throttled}");
    assert_eq!(throttled["client"], "127.0.0.1", "{throttled}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_recorded_before_digests_is_queued_from_the_workers_own_copy() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let (_, detail) = app.late_parcel_drafted().await;
    let drafts = app.world.read_drafts(1, Duration::from_secs(10)).await;
    let (message, _) = &drafts[0];
    let genuine: Value = serde_json::from_slice(&message.payload).unwrap();
    // As if recorded by a worker from before the upgrade, and not yet queued.
    sqlx::raw_sql("UPDATE drafts SET event_sha256 = NULL; DELETE FROM reviews;")
        .execute(app.world.store.pool())
        .await
        .unwrap();
    let mut altered = genuine.clone();
    altered["proposed_actions"][0]["params"]["amount_cents"] = json!(99_900);
    app.world
        .publisher
        .send(
            &app.world.approval,
            message.key.as_deref().unwrap(),
            &serde_json::to_vec(&altered).unwrap(),
            &[],
        )
        .await
        .unwrap();
    let queued = app.queued(genuine["event_id"].as_str().unwrap()).await;
    assert_eq!(
        queued["draft"]["proposed_actions"][0]["params"]["amount_cents"],
        genuine["proposed_actions"][0]["params"]["amount_cents"],
        "the worker's copy, not the topic's: {queued}"
    );
    assert_eq!(queued["summary"]["draft_id"], detail["summary"]["draft_id"]);
    app.stop().await;
}

/// Runs `deskhand users ARGS` (the real binary) as the worker's role: stdout, or the
/// failure's stderr.
fn users_command(app: &ReviewApp, args: &[&str]) -> Result<String, String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_deskhand"))
        .arg("users")
        .args(args)
        .envs(app.world.env(&unique("group")))
        .env("DESKHAND_CONFIG_DIR", config_dir())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run deskhand users");
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_lists_rotates_and_disables_reviewers_without_ddl_and_old_tokens_stop_at_once() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let me = |token: String| {
        let request = app
            .http
            .get(format!("{}/api/me", app.base))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    let token = users_command(&app, &["add", "nina", "--role", "reviewer"])
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(me(token.clone()).await, StatusCode::OK);

    let rotated = users_command(&app, &["rotate", "nina"])
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(rotated, token);
    assert_eq!(
        me(token).await,
        StatusCode::UNAUTHORIZED,
        "the old token ends"
    );
    assert_eq!(me(rotated.clone()).await, StatusCode::OK);

    users_command(&app, &["disable", "nina"]).unwrap();
    assert_eq!(me(rotated).await, StatusCode::UNAUTHORIZED);
    let listed = users_command(&app, &["list"]).unwrap();
    let nina = listed
        .lines()
        .find(|l| l.starts_with("nina "))
        .expect(&listed);
    assert!(!nina.contains(" - "), "nina is listed as disabled: {nina}");
    assert!(listed.lines().any(|l| l.starts_with("rita ")), "{listed}");
    let refused = users_command(&app, &["disable", "nobody"]).unwrap_err();
    assert!(refused.contains("no active reviewer named"), "{refused}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_log WHERE action IN ('token_rotated', 'reviewer_disabled')"
        )
        .await,
        2
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_that_needs_no_reply_is_closed_on_arrival_audited_and_can_be_reopened() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let event = unique("ev");
    app.world.publish(&[thank_you_email(&event)]).await;
    let detail = app.queued(&event).await;
    assert_eq!(detail["draft"]["route"], "no_reply", "{}", detail["draft"]);
    assert_eq!(detail["summary"]["status"], "closed");

    // Not in the queue, so not in its SLA; listed under closed, and audited.
    let (_, pending) = app.get(&app.reviewer, "/api/drafts").await;
    assert_eq!(pending["total"], 0, "{pending}");
    let (_, closed) = app.get(&app.reviewer, "/api/drafts?status=closed").await;
    assert_eq!(closed["total"], 1, "{closed}");
    let draft_id = detail["summary"]["draft_id"].as_str().unwrap();
    let audited = |action: &'static str| {
        let app = &app;
        async move {
            app.count(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}' AND draft_id = '{draft_id}'"
            ))
            .await
        }
    };
    assert_eq!(audited("auto_closed").await, 1);
    let (status, refused) = app.approve(&app.reviewer, &detail).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("reopen it first"),
        "{refused}"
    );

    // A reviewer who disagrees reopens it: it joins the queue, audited with their name.
    let reopen = draft_path(&detail, "reopen");
    let (status, stale, _) = app
        .post(
            &app.reviewer,
            &reopen,
            None,
            json!({"version": version(&detail) + 7}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    assert_eq!(stale["error"], "version_conflict");
    let (status, reopened, _) = app
        .post(
            &app.reviewer,
            &reopen,
            None,
            json!({"version": version(&detail)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "pending");
    let (_, pending) = app.get(&app.reviewer, "/api/drafts").await;
    assert_eq!(pending["total"], 1, "{pending}");
    assert_eq!(audited("reopened").await, 1);
    let (status, again, _) = app
        .post(
            &app.reviewer,
            &reopen,
            None,
            json!({"version": reopened["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"], "not_closed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_reply_set_to_queue_a_thank_you_waits_in_the_queue() {
    let app = ReviewApp::start(free_port(), &[("DESKHAND__REVIEW__NO_REPLY", "queue")]).await;
    let event = unique("ev");
    app.world.publish(&[thank_you_email(&event)]).await;
    let detail = app.queued(&event).await;
    assert_eq!(detail["draft"]["route"], "no_reply");
    assert_eq!(detail["summary"]["status"], "pending");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_refuse_a_stranger_writing_for_a_customer_gets_no_draft_and_only_a_lead_decides() {
    let app = ReviewApp::start(
        free_port(),
        &[("DESKHAND__AGENT__SENDER_MISMATCH", "refuse")],
    )
    .await;
    let event = unique("ev");
    let mut email = late_parcel_email(&event, &unique("case"));
    email["email"]["from"] = json!("Ann Lee <ann.lee@elsewhere.example>");
    app.world.publish(&[email]).await;
    let detail = app.queued(&event).await;
    let draft = &detail["draft"];
    assert_eq!(draft["route"], "escalate", "{draft}");
    assert_eq!(draft["escalation"]["kind"], "sender_mismatch");
    assert!(draft["reply"].is_null() && draft["proposed_actions"] == json!([]));
    assert!(
        draft["observations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["source"] == "sender_check"),
        "{draft}"
    );
    assert_eq!(detail["summary"]["status"], "escalated");
    // A reviewer cannot send anything to that sender; a lead decides.
    let written = json!({"version": version(&detail), "reply_body": "Your parcel is on its way."});
    let (status, refused, _) = app
        .post(
            &app.reviewer,
            &draft_path(&detail, "approve"),
            Some("k1"),
            written,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    app.stop().await;
}

/// A thank-you that needs no reply.
fn thank_you_email(event: &str) -> Value {
    let mut thanks = late_parcel_email(event, &unique("case"));
    thanks["email"]["subject"] = json!("Thank you!");
    thanks["email"]["text"] = json!(
        "Just a quick note to say thank you, the shoes arrived and fit perfectly. No need to reply!\n\nAnn"
    );
    thanks
}
