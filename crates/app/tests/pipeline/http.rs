//! The HTTP side: liveness, readiness and metrics.

use crate::support::*;
use deskhand::{Application, Roles};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Starts this process's HTTP side on a free port, with the worker and/or review roles.
async fn serving(
    world: &TestWorld,
    worker: bool,
    review: bool,
) -> (
    u16,
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let settings = world.settings(&unique("group"), &[("DESKHAND_HTTP_ADDR", "127.0.0.1:0")]);
    let roles = Roles {
        worker,
        review,
        http: true,
    };
    let app = Application::build(settings, roles).await.unwrap();
    let port = app.http_port().expect("serve binds a port");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    (port, shutdown, running)
}

async fn get(port: u16, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("response within 10 s")
    .unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_health_and_readiness_and_readiness_follows_the_database() {
    let world = TestWorld::new(1).await;
    let (port, shutdown, running) = serving(&world, true, false).await;

    let health = get(port, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // A probe storm on a cold cache is answered from one broker check, not forty.
    let storm: Vec<_> = (0..40)
        .map(|_| tokio::spawn(async move { get(port, "/readyz").await }))
        .collect();
    for probe in storm {
        let answer = probe.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains("database: up") && answer.contains("broker: up"),
            "{answer}"
        );
    }
    let ready = get(port, "/readyz").await;
    assert!(ready.contains("broker: up"), "{ready}");
    let checks = sample(
        &get(port, "/metrics").await,
        deskhand::http_guard::READINESS_BROKER_CHECKS,
        &[],
    )
    .unwrap_or(0.0);
    assert!(
        (1.0..=2.0).contains(&checks),
        "41 probes made {checks} broker checks"
    );
    shutdown.cancel();
    running.await.unwrap().unwrap();

    // The same process pointed at a database that does not answer is alive but not ready.
    let settings = world.settings(
        &unique("group"),
        &[
            ("DESKHAND_HTTP_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none"),
            ("DESKHAND__DATABASE__ACQUIRE_TIMEOUT_MS", "500"),
        ],
    );
    let app = Application::build(
        settings,
        Roles {
            worker: false,
            review: false,
            http: true,
        },
    )
    .await
    .unwrap();
    let port = app.http_port().unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    assert!(get(port, "/healthz").await.starts_with("HTTP/1.1 200"));
    let ready = get(port, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains("database: down"), "{ready}");
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_service_exposes_what_it_consumed_drafted_escalated_and_dead_lettered_at_metrics()
{
    let world = TestWorld::new(1).await;
    let group = unique("group");
    let app = Application::build(world.settings(&group, &[]), Roles::WORKER_SERVICE)
        .await
        .unwrap();
    let port = app.http_port().expect("a worker service binds a port");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let p = unique("ev");
    world
        .publish(&[
            text_event(&format!("{p}-1"), "case-m1", 1, "Thank you, got it!"),
            text_event(
                &format!("{p}-2"),
                "case-m2",
                2,
                "My lawyer will hear about this parcel. I am filing a chargeback.",
            ),
        ])
        .await;
    world.publish_raw("case-m3", b"{ not json").await;
    world.wait_caught_up(&group, Duration::from_secs(60)).await;

    // The lag gauge comes from librdkafka's statistics, every 5 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let response = get(port, "/metrics").await;
        let published = sample(&response, "deskhand_outbox_published_total", &[]);
        let lag = sample(
            &response,
            "deskhand_consumer_lag",
            &[("topic", &world.inbound), ("group", &group)],
        );
        if published == Some(2.0) && lag.is_some() || tokio::time::Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    shutdown.cancel();
    running.await.unwrap().unwrap();

    let topic = world.inbound.as_str();
    let value = |name: &str, labels: &[(&str, &str)]| sample(&metrics, name, labels);
    assert_eq!(
        value("deskhand_events_consumed_total", &[("topic", topic)]),
        Some(3.0),
        "{metrics}"
    );
    assert_eq!(
        value(
            "deskhand_dead_letters_total",
            &[("topic", topic), ("reason", "invalid_json")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value("deskhand_escalations_total", &[("kind", "urgent")]),
        Some(1.0),
        "{metrics}"
    );
    let drafts: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("deskhand_drafts_total{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(drafts, 2.0, "{metrics}");
    assert_eq!(
        value(
            "deskhand_node_duration_seconds_count",
            &[("node", "classify")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value("deskhand_email_duration_seconds_count", &[]),
        Some(2.0)
    );
    assert_eq!(value("deskhand_outbox_published_total", &[]), Some(2.0));
    assert_eq!(
        value("deskhand_events_in_flight", &[("topic", topic)]),
        Some(0.0)
    );
    assert_eq!(
        value(
            "deskhand_consumer_lag",
            &[("topic", topic), ("group", &group)]
        ),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        value("deskhand_llm_calls_total", &[]).is_none(),
        "the offline engine calls no model"
    );
}

/// The value of header `name` in a raw HTTP/1.1 response, if present.
fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_with_the_security_headers_and_the_api_is_never_cached() {
    let world = TestWorld::new(1).await;
    let (port, shutdown, running) = serving(&world, false, true).await;

    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/me",
        "/api/drafts",
        "/",
        "/nowhere",
    ] {
        let response = get(port, path).await;
        assert_eq!(
            header(&response, "x-content-type-options"),
            Some("nosniff"),
            "{path}: {response}"
        );
        assert_eq!(header(&response, "x-frame-options"), Some("DENY"), "{path}");
        let policy = header(&response, "content-security-policy").unwrap_or("");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        let cache = header(&response, "cache-control");
        if path.starts_with("/api/") {
            assert_eq!(cache, Some("no-store"), "{path}: {response}");
        }
    }
    // The UI keeps its own policy, which lets its script and style load.
    let ui = get(port, "/").await;
    assert!(
        header(&ui, "content-security-policy").is_some_and(|p| p.contains("script-src 'self'")),
        "{ui}"
    );
    shutdown.cancel();
    running.await.unwrap().unwrap();
}
