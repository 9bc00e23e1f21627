//! The HTTP way in: `POST /api/v1/emails` with an integration key puts the email on the
//! inbound topic, from where it takes the Kafka path; its status follows it to the reply.
//! The dry run over HTTP shows a reviewer the draft and changes nothing.

use crate::dry_run::row_counts;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

async fn add_integration(world: &TestWorld, name: &str) -> String {
    let key = deskhand_intake::new_integration_key();
    world
        .store
        .add_integration(name, &deskhand_db::hash_secret(&key))
        .await
        .unwrap();
    key
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
        }
    }
}

async fn post_email(
    app: &ReviewApp,
    key: &str,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

async fn post_event(app: &ReviewApp, key: &str, event: &Value) -> Answer {
    post_email(
        app,
        key,
        "/api/v1/emails",
        "application/json",
        serde_json::to_vec(event).unwrap(),
    )
    .await
}

/// Polls the status URL until `done` holds for the status document.
async fn status_until(
    app: &ReviewApp,
    key: &str,
    url: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = app.get(key, url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the status never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Everything on the inbound topic (reads until idle for `idle`).
async fn inbound_messages(world: &TestWorld, idle: Duration) -> Vec<deskhand_kafka::ReadMessage> {
    let reader = deskhand_kafka::TopicReader::new(&world.client, &world.inbound).unwrap();
    reader.read_until(idle, |_| false).await
}

fn assert_problem(answer: &Answer, status: StatusCode, kind: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(
        answer.headers["content-type"], "application/problem+json",
        "an RFC 9457 problem document"
    );
    assert_eq!(
        answer.body["type"],
        format!("urn:deskhand:problem:{kind}"),
        "{}",
        answer.body
    );
    assert_eq!(answer.body["status"], status.as_u16());
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "says what to fix: {}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_posted_over_http_is_drafted_approved_and_answered_and_its_status_follows_it() {
    let (smtp, app) = ReviewApp::with_smtp(&[]).await;
    let key = add_integration(&app.world, "helpdesk").await;
    let event_id = unique("http");
    let event = late_parcel_email(&event_id, &unique("case"));

    let first = post_event(&app, &key, &event).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let status_url = first.body["status_url"].as_str().unwrap().to_owned();
    assert_eq!(status_url, format!("/api/v1/emails/{event_id}"));
    assert_eq!(first.headers["location"], status_url.as_str());
    assert_eq!(first.body["event_id"], event_id.as_str());
    assert_eq!(first.body["repeat"], false);

    // The CRM retries (a timeout on its side): the first answer, and no second message.
    let again = post_event(&app, &key, &event).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body["repeat"], true);
    assert_eq!(again.body["received_at"], first.body["received_at"]);
    assert_eq!(again.body["published_at"], first.body["published_at"]);
    let on_topic = inbound_messages(&app.world, Duration::from_secs(3)).await;
    assert_eq!(on_topic.len(), 1, "one post, one inbound message");
    assert_eq!(
        on_topic[0].key.as_deref(),
        event["case_id"].as_str(),
        "keyed by case, like the CRM's own events"
    );

    // The worker drafts it like any Kafka event.
    let drafted = status_until(&app, &key, &status_url, |s| s["status"] == "drafted").await;
    assert_eq!(drafted["draft"]["route"], "delivery", "{drafted}");
    assert_eq!(drafted["decision"], Value::Null);

    let detail = app.queued(&event_id).await;
    assert_eq!(
        detail["summary"]["draft_id"], drafted["draft"]["draft_id"],
        "the status names the draft the reviewers see"
    );
    let (status, approved) = app.approve(&app.reviewer, &detail).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(smtp.wait_for(1, Duration::from_secs(30)).await.len(), 1);

    let decided = status_until(&app, &key, &status_url, |s| {
        s["status"] == "decided" && s["decision"]["reply"] == "sent"
    })
    .await;
    assert_eq!(decided["decision"]["outcome"], "approved");
    assert!(decided["decision"]["sent_at"].is_string(), "{decided}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_email_posted_over_http_is_read_from_its_own_headers_and_posting_it_twice_is_one_email(
) {
    let app = ReviewApp::start(free_port(), &[]).await;
    let key = add_integration(&app.world, "mailgun").await;
    let message = format!(
        "From: Bob Stone <bob@example.com>\r\nSubject: Pegasus {}\r\nMessage-ID: <{}@mail.example>\r\n\r\nDo you have the Nike Pegasus 41 in black, size 9.5?\r\n",
        unique("q"),
        unique("m")
    );
    let path = "/api/v1/emails?customer_id=2";
    let first = post_email(&app, &key, path, "message/rfc822", message.clone()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let again = post_email(&app, &key, path, "message/rfc822", message.clone()).await;
    assert_eq!(again.body["event_id"], first.body["event_id"]);
    assert_eq!(again.body["repeat"], true);

    let event_id = first.body["event_id"].as_str().unwrap();
    let detail = app.queued(event_id).await;
    let subject = message
        .lines()
        .nth(1)
        .unwrap()
        .trim_start_matches("Subject: ");
    assert_eq!(detail["draft"]["email"]["subject"], subject);
    assert_eq!(
        detail["draft"]["email"]["from"],
        "Bob Stone <bob@example.com>"
    );
    assert_eq!(detail["draft"]["customer_id"], 2);
    assert_eq!(
        inbound_messages(&app.world, Duration::from_secs(3))
            .await
            .len(),
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_posts_get_a_problem_document_saying_what_to_fix_and_nothing_is_published() {
    let app = ReviewApp::start(free_port(), &[("DESKHAND__INTAKE__MAX_BODY_BYTES", "4096")]).await;
    let key = add_integration(&app.world, "crm").await;
    let event = late_parcel_email(&unique("bad"), &unique("case"));
    let json = "application/json";
    let post = |key: String, content_type: &'static str, body: Vec<u8>| {
        let app = &app;
        async move { post_email(app, &key, "/api/v1/emails", content_type, body).await }
    };

    let none = post(String::new(), json, serde_json::to_vec(&event).unwrap()).await;
    assert_problem(&none, StatusCode::UNAUTHORIZED, "unauthenticated");
    let reviewers_token = post(
        app.reviewer.clone(),
        json,
        serde_json::to_vec(&event).unwrap(),
    )
    .await;
    assert_problem(
        &reviewers_token,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let (status, _) = app.get(&key, "/api/drafts").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an integration key opens nothing in the review API"
    );

    let form = post(key.clone(), "text/plain", b"hello".to_vec()).await;
    assert_problem(
        &form,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    let broken = post(key.clone(), json, b"{\"event_id\": ".to_vec()).await;
    assert_problem(&broken, StatusCode::BAD_REQUEST, "malformed-body");
    let mut no_customer = event.clone();
    no_customer.as_object_mut().unwrap().remove("customer_id");
    let missing = post(key.clone(), json, serde_json::to_vec(&no_customer).unwrap()).await;
    assert_problem(&missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid-email");
    let mut both = event.clone();
    both["email"]["raw"] = json!("RnJvbTogYUBiLmMKCmhp");
    let two_bodies = post(key.clone(), json, serde_json::to_vec(&both).unwrap()).await;
    assert_problem(
        &two_bodies,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-email",
    );
    let mut redraft = event.clone();
    redraft["redraft_of"] = json!("someone-elses-event");
    let forged = post(key.clone(), json, serde_json::to_vec(&redraft).unwrap()).await;
    assert_problem(&forged, StatusCode::UNPROCESSABLE_ENTITY, "invalid-email");
    let nobody = post(
        key.clone(),
        "message/rfc822",
        b"From: a@b.example\r\n\r\nhi".to_vec(),
    )
    .await;
    assert_problem(&nobody, StatusCode::UNPROCESSABLE_ENTITY, "invalid-email");
    let mut long = event.clone();
    long["email"]["text"] = json!("where is my parcel? ".repeat(400));
    let too_large = post(key.clone(), json, serde_json::to_vec(&long).unwrap()).await;
    assert_problem(&too_large, StatusCode::PAYLOAD_TOO_LARGE, "too-large");

    assert_eq!(app.count("SELECT count(*) FROM http_submissions").await, 0);
    assert!(
        inbound_messages(&app.world, Duration::from_secs(3))
            .await
            .is_empty(),
        "nothing half-written: no message on the inbound topic"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_rate_waits_and_a_revoked_key_or_another_integration_gets_nothing() {
    let app = ReviewApp::start(
        free_port(),
        &[("DESKHAND__INTAKE__REQUESTS_PER_MINUTE", "3")],
    )
    .await;
    let key = add_integration(&app.world, "shop").await;
    let other = add_integration(&app.world, "other-shop").await;
    let event_id = unique("mine");
    let event = late_parcel_email(&event_id, &unique("case"));
    assert_eq!(
        post_event(&app, &key, &event).await.status,
        StatusCode::ACCEPTED
    );
    let status_url = format!("/api/v1/emails/{event_id}");

    // Another integration may neither read this email's status nor post under its id.
    let (status, _) = app.get(&other, &status_url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let taken = post_event(&app, &other, &event).await;
    assert_problem(&taken, StatusCode::CONFLICT, "conflict");

    // Three requests a minute: the post and two status reads, then a wait.
    let (status, _) = app.get(&key, &status_url).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&key, &status_url).await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .http
        .get(format!("{}{status_url}", app.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");

    assert!(app
        .world
        .store
        .revoke_integration("other-shop")
        .await
        .unwrap());
    let (status, _) = app.get(&other, &status_url).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked key stops at once"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_over_http_shows_a_reviewer_the_draft_and_changes_nothing_but_the_audit_log() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let key = add_integration(&app.world, "crm").await;
    let before = row_counts(&app.world).await;
    let event = late_parcel_email(&unique("dry"), &unique("case"));
    let body = serde_json::to_vec(&event).unwrap();

    let answer = post_email(
        &app,
        &app.reviewer,
        "/api/v1/triage:dry-run",
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let draft: deskhand_contracts::DraftEvent = serde_json::from_value(answer.body).unwrap();
    assert_eq!(draft.route, deskhand_core::Route::Delivery);
    assert!(
        !draft.proposed_actions.is_empty(),
        "the refund it would propose"
    );
    assert!(
        draft
            .observations
            .iter()
            .any(|o| o.text.contains("1Z999AA10123456784")),
        "with the evidence it read"
    );

    let by_key = post_email(
        &app,
        &key,
        "/api/v1/triage:dry-run",
        "application/json",
        body,
    )
    .await;
    assert_problem(&by_key, StatusCode::FORBIDDEN, "forbidden");

    let after = row_counts(&app.world).await;
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(_, a)| a.clone())
        .collect();
    let audit_rows = |counts: &[(String, i64)]| {
        counts
            .iter()
            .find(|(table, _)| table == "audit_log")
            .map(|(_, n)| *n)
            .unwrap()
    };
    assert_eq!(
        audit_rows(&after),
        audit_rows(&before) + 1,
        "who ran a dry run on which customer is audited"
    );
    assert_eq!(
        changed.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["audit_log"],
        "no other row: {changed:?}"
    );
    assert!(inbound_messages(&app.world, Duration::from_secs(2))
        .await
        .is_empty());
    let reader = deskhand_kafka::TopicReader::new(&app.world.client, &app.world.approval).unwrap();
    assert!(reader
        .read_until(Duration::from_secs(2), |_| false)
        .await
        .is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_intake_routes_and_each_wants_a_key() {
    let doc: Value = serde_json::from_str(deskhand_review::OPENAPI_JSON).unwrap();
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/"))
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let served = deskhand_intake::API_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);

    let app = ReviewApp::start(free_port(), &[]).await;
    for (method, path) in &documented {
        let url = format!("{}{}", app.base, path.replace("{event_id}", "e-1"));
        let request = match method.as_str() {
            "get" => app.http.get(&url),
            "post" => app
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body("{}"),
            other => panic!("undocumented method {other}"),
        };
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    app.stop().await;
}

/// The shell examples of `docs/integrate.md`, by name (`<!-- example: NAME -->` above a
/// fenced block).
fn guide_examples() -> std::collections::BTreeMap<String, String> {
    let guide = std::fs::read_to_string(config_dir().join("../docs/integrate.md")).unwrap();
    let mut examples = std::collections::BTreeMap::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("<!-- example: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(lines.next(), Some("```sh"), "example {name} is a sh block");
        let script: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        examples.insert(name.to_owned(), script.join("\n"));
    }
    examples
}

async fn run_example(app: &ReviewApp, script: &str, key: &str) -> Value {
    let (owned, base, key, token) = (
        script.to_owned(),
        app.base.clone(),
        key.to_owned(),
        app.reviewer.clone(),
    );
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &owned])
            .env("DESKHAND_URL", base)
            .env("DESKHAND_KEY", key)
            .env("DESKHAND_TOKEN", token)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_in_the_integration_guide_work_as_written() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let key = add_integration(&app.world, "helpdesk").await;
    let examples = guide_examples();
    assert_eq!(
        examples.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "dry-run",
            "post-event",
            "post-message",
            "postmark",
            "status"
        ]
    );

    let posted = run_example(&app, &examples["post-event"], &key).await;
    assert_eq!(posted["status"], "received", "{posted}");
    assert_eq!(posted["event_id"], "helpdesk-20261203-0001");
    let message = run_example(&app, &examples["post-message"], &key).await;
    assert_eq!(message["status"], "received", "{message}");
    let postmark = run_example(&app, &examples["postmark"], &key).await;
    assert_eq!(
        postmark["event_id"], "postmark-5f2b1c4e-0b8a-4a4e-9d55-2f0e6c1d7a10",
        "{postmark}"
    );

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = run_example(&app, &examples["status"], &key).await;
        assert_eq!(status["event_id"], "helpdesk-20261203-0001");
        if status["status"] == "drafted" {
            assert_eq!(status["draft"]["topic"], "delivery_delay", "{status}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let dry = run_example(&app, &examples["dry-run"], &key).await;
    assert_eq!(dry["route"], "delivery", "{dry}");
    assert!(dry["reply"].is_string(), "{dry}");
    app.stop().await;
}

async fn post_postmark(app: &ReviewApp, key: &str, query: &str, payload: Value) -> Answer {
    let response = app
        .http
        .post(format!("{}/api/v1/webhooks/postmark{query}", app.base))
        .basic_auth("postmark", Some(key))
        .json(&payload)
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postmark_webhook_becomes_an_email_of_the_customer_with_that_address() {
    let app = ReviewApp::start(free_port(), &[]).await;
    let key = add_integration(&app.world, "postmark").await;
    let message_id = unique("pm");
    let text = json!({
        "MessageID": message_id,
        "FromFull": {"Email": "ANN@example.com", "Name": "Ann Lee"},
        "Subject": "Where is my parcel?",
        "Date": "Tue, 10 Mar 2026 09:00:00 +0000",
        "TextBody": "Hi, my order with tracking 1Z999AA10123456784 was due on March 4 and still has not arrived.",
        "MailboxHash": "",
        "Headers": [{"Name": "Message-ID", "Value": "<ann-pm@mail.example>"}],
        "Attachments": []
    });
    let first = post_postmark(&app, &key, "", text.clone()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let event_id = format!("postmark-{message_id}");
    assert_eq!(first.body["event_id"], event_id.as_str());
    // Postmark retries a webhook it got no answer to: one email.
    let again = post_postmark(&app, &key, "", text).await;
    assert_eq!(again.body["repeat"], true);
    let detail = app.queued(&event_id).await;
    assert_eq!(detail["draft"]["customer_id"], 1, "Ann's address on file");
    assert_eq!(detail["draft"]["route"], "delivery");
    assert_eq!(
        detail["draft"]["email"]["from"],
        "Ann Lee <ANN@example.com>"
    );
    assert_eq!(
        detail["draft"]["email"]["message_id"],
        "<ann-pm@mail.example>"
    );
    assert_eq!(
        detail["draft"]["email"]["received_at"],
        "2026-03-10T09:00:00Z"
    );

    // HTML only, threaded by the mailbox hash.
    let html_id = unique("pm");
    let html = post_postmark(
        &app,
        &key,
        "",
        json!({
            "MessageID": html_id,
            "FromFull": {"Email": "bob@example.com", "Name": "Bob Stone"},
            "Subject": "Pegasus?",
            "TextBody": "",
            "HtmlBody": "<html><body><p>Do you have the <b>Nike Pegasus 41</b> in black, size 9.5?</p></body></html>",
            "MailboxHash": "ticket-77"
        }),
    )
    .await;
    assert_eq!(html.status, StatusCode::ACCEPTED, "{}", html.body);
    let detail = app.queued(&format!("postmark-{html_id}")).await;
    assert_eq!(detail["draft"]["customer_id"], 2);
    assert_eq!(detail["draft"]["case_id"], "postmark-case-ticket-77");
    let read = detail["draft"]["email"]["text"].as_str().unwrap();
    assert!(
        read.contains("Nike Pegasus 41") && !read.contains("<b>"),
        "{read}"
    );

    // A sender with no address on file is refused until the customer is named.
    let stranger = json!({
        "MessageID": unique("pm"),
        "FromFull": {"Email": "nobody@elsewhere.example"},
        "TextBody": "Where is my parcel?"
    });
    let refused = post_postmark(&app, &key, "", stranger.clone()).await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid-email");
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("customer_id"));
    let named = post_postmark(&app, &key, "?customer_id=2", stranger).await;
    assert_eq!(named.status, StatusCode::ACCEPTED, "{}", named.body);
    // The key in the URL is the key: a wrong one is refused.
    let wrong = post_postmark(&app, "dhi_wrong", "", json!({})).await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "unauthenticated");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_recorded_but_never_published_goes_out_with_the_sweep_and_an_id_is_one_emails() {
    let app = ReviewApp::start(free_port(), &[("DESKHAND__INTAKE__SWEEP_MS", "200")]).await;
    let key = add_integration(&app.world, "crm").await;
    let integration = app
        .world
        .store
        .integration_by_key(&deskhand_db::hash_secret(&key))
        .await
        .unwrap()
        .unwrap();

    // Recorded, then the process died before the broker took it: nobody posts it again.
    let stranded = unique("stranded");
    let event = late_parcel_email(&stranded, &unique("case"));
    let payload = serde_json::to_vec(&event).unwrap();
    let recorded = app
        .world
        .store
        .record_submission(deskhand_db::NewSubmission {
            event_id: &stranded,
            integration_id: integration.id,
            case_id: event["case_id"].as_str().unwrap(),
            customer_id: 1,
            payload: &payload,
            body_sha256: &[7; 32],
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.published_at, None);
    let drafted = status_until(&app, &key, &format!("/api/v1/emails/{stranded}"), |s| {
        s["status"] == "drafted"
    })
    .await;
    assert!(drafted["published_at"].is_string(), "{drafted}");

    // One id, one email: the same id with another email is refused, not dropped quietly.
    let id = unique("once");
    let first = late_parcel_email(&id, &unique("case"));
    assert_eq!(
        post_event(&app, &key, &first).await.status,
        StatusCode::ACCEPTED
    );
    let mut other = first.clone();
    other["email"]["text"] = json!("A different email under the same id.");
    let refused = post_event(&app, &key, &other).await;
    assert_problem(&refused, StatusCode::CONFLICT, "conflict");

    // An email that came in from the CRM's topic is not the poster's to take or to read.
    let from_kafka = unique("kafka");
    app.world
        .publish(&[late_parcel_email(&from_kafka, &unique("case"))])
        .await;
    app.queued(&from_kafka).await;
    let taken = post_event(&app, &key, &late_parcel_email(&from_kafka, "case-x")).await;
    assert_problem(&taken, StatusCode::CONFLICT, "conflict");
    let (status, _) = app.get(&key, &format!("/api/v1/emails/{from_kafka}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nor may a posted id pass for a redraft of another email.
    let posing = late_parcel_email(&format!("{id}~redraft-0123456789ab"), "case-y");
    let refused = post_event(&app, &key, &posing).await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid-email");
    app.stop().await;
}
