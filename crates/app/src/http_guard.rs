//! What every HTTP answer of this process carries, and what keeps the probes cheap.
//!
//! - **Security headers on every route**, not only the UI's: `nosniff`, no framing, no
//!   referrer, a deny-all content policy where a route sets none, and `Cache-Control:
//!   no-store` on the API (its answers hold customer data and tokens).
//! - **A readiness check that cannot hammer the broker**: the broker's answer is cached
//!   for a few seconds and one check runs at a time, however many probes arrive.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use deskhand_kafka::Publisher;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Counter: broker reachability checks `/readyz` actually made (cached answers not counted).
pub const READINESS_BROKER_CHECKS: &str = "deskhand_readiness_broker_checks_total";

/// How long one broker check answers `/readyz` for.
const BROKER_CHECK_TTL: Duration = Duration::from_secs(5);

/// Adds the security headers a response lacks; a route's own (the UI's stricter content
/// policy, say) stand.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in defaults {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The broker's last answer to a readiness check, shared by every probe.
#[derive(Debug, Clone)]
pub struct BrokerCheck {
    publisher: Publisher,
    last: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl BrokerCheck {
    pub fn new(publisher: Publisher) -> Self {
        Self {
            publisher,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// Whether the broker answered, at most [`BROKER_CHECK_TTL`] ago. Probes that arrive
    /// while a check runs wait for it and share its answer.
    pub async fn reachable(&self) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, up)) = *last {
            if at.elapsed() < BROKER_CHECK_TTL {
                return up;
            }
        }
        metrics::counter!(READINESS_BROKER_CHECKS).increment(1);
        let up = self.publisher.is_reachable(Duration::from_secs(2)).await;
        *last = Some((Instant::now(), up));
        up
    }
}
