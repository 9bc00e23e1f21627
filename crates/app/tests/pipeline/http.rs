//! The HTTP side of `serve`: liveness and readiness.

use crate::support::*;
use deskhand::{Application, Roles};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

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
    let settings = world.settings(&unique("group"), &[("DESKHAND_HTTP_ADDR", "127.0.0.1:0")]);
    let app = Application::build(
        settings,
        Roles {
            worker: true,
            review: false,
            http: true,
        },
    )
    .await
    .unwrap();
    let port = app.http_port().expect("serve binds a port");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let health = get(port, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = get(port, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(
        ready.contains("database: up") && ready.contains("broker: up"),
        "{ready}"
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
