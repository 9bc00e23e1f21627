//! # deskhand-review
//!
//! The human side of Deskhand: a JSON review API (see `docs/openapi.json`) and the web UI
//! that uses it, served by one axum router. Reviewers authenticate with personal API
//! tokens (`Authorization: Bearer …`) or, in the browser, a session cookie made from the
//! same token plus a CSRF header. Every view of customer data and every decision is
//! written to the audit log.
//!
//! **The rule this crate keeps: handlers parse, call and map.** Deciding a draft is the
//! use case `deskhand_service::decide` (one database transaction: the selected actions,
//! the reply's summary in the case memory, the outgoing email and the decision event);
//! the rules (roles, limits, staleness, what is sent) are `deskhand_core::review`'s.
//! Depends on core, db and service; never on the Kafka client.

mod api;
mod assets;
mod auth;
mod decide;
mod error;
mod knowledge;
mod throttle;

pub use assets::OPENAPI_JSON;
pub use auth::{hash_token, new_token};
pub use error::ApiError;
pub use throttle::{Admission, SignInLimiter, SignInLimits};

use axum::routing::{get, post};
use axum::Router;
use deskhand_core::review::SlaTargets;
use deskhand_db::Store;
use deskhand_service::decide::Decisions;
use std::sync::Arc;
use std::time::Duration;

/// What the review API is configured with (deciding has its own settings, in
/// [`Decisions`]).
#[derive(Debug, Clone)]
pub struct ReviewSettings {
    pub sla: SlaTargets,
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (serve over HTTPS in production).
    pub secure_cookies: bool,
    /// Sign-in attempts per client address and window.
    pub sign_in: SignInLimits,
    /// The header a trusted reverse proxy puts the client's address in (its first
    /// address counts), e.g. `x-forwarded-for`; `None`: the connection's peer address.
    pub client_address_header: Option<String>,
}

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct ReviewState {
    pub store: Store,
    pub settings: Arc<ReviewSettings>,
    pub decisions: Decisions,
    pub sign_in_limiter: Arc<SignInLimiter>,
}

impl ReviewState {
    pub fn new(store: Store, settings: ReviewSettings, decisions: Decisions) -> Self {
        Self {
            sign_in_limiter: Arc::new(SignInLimiter::new(settings.sign_in)),
            settings: Arc::new(settings),
            store,
            decisions,
        }
    }
}

/// Every route of the API, as `(method, path)`; `docs/openapi.json` documents exactly
/// these (a test holds them together).
pub const API_ROUTES: &[(&str, &str)] = &[
    ("post", "/api/session"),
    ("delete", "/api/session"),
    ("get", "/api/me"),
    ("get", "/api/drafts"),
    ("get", "/api/drafts/{id}"),
    ("post", "/api/drafts/{id}/approve"),
    ("post", "/api/drafts/{id}/reject"),
    ("post", "/api/drafts/{id}/escalate"),
    ("post", "/api/drafts/{id}/reopen"),
    ("post", "/api/drafts/{id}/passages/flag"),
    ("get", "/api/knowledge/feedback"),
    ("get", "/api/audit"),
    ("get", "/api/stats"),
    ("get", "/api/openapi.json"),
];

/// The review API and the web UI.
pub fn router(state: ReviewState) -> Router {
    Router::new()
        .route("/api/session", post(auth::sign_in).delete(auth::sign_out))
        .route("/api/me", get(auth::me))
        .route("/api/drafts", get(api::list_drafts))
        .route("/api/drafts/{id}", get(api::draft_detail))
        .route("/api/drafts/{id}/approve", post(decide::approve))
        .route("/api/drafts/{id}/reject", post(decide::reject))
        .route("/api/drafts/{id}/escalate", post(decide::escalate))
        .route("/api/drafts/{id}/reopen", post(decide::reopen))
        .route(
            "/api/drafts/{id}/passages/flag",
            post(knowledge::flag_passage),
        )
        .route("/api/knowledge/feedback", get(knowledge::feedback))
        .route("/api/audit", get(api::audit))
        .route("/api/stats", get(api::stats))
        .route("/api/openapi.json", get(assets::openapi))
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .with_state(state)
}
