//! # deskhand-intake
//!
//! The HTTP way in, for shops whose CRM or help desk cannot produce to Kafka:
//! - `POST /api/v1/emails`: an inbound event (JSON, the Kafka contract) or a raw email
//!   (`message/rfc822`), with an integration key. Answered `202 Accepted` once the event
//!   is on the inbound topic, from where it takes the same path as a Kafka event.
//! - `GET /api/v1/emails/{event_id}`: how far it has come (received, drafted, decided).
//! - `POST /api/v1/webhooks/postmark`: Postmark's inbound-email webhook, mapped to the
//!   inbound event (the customer is the one with the sender's address on file).
//! - `POST /api/v1/triage:dry-run`: a reviewer runs an email through the graph against
//!   the live store; nothing is recorded (but the audit line), published or sent.
//!
//! Integration keys are good for intake only: the review API does not know them, and
//! they cannot dry-run (a dry run shows a customer's orders; reviewers see those, an
//! integration posts mail). **The rule this crate keeps: handlers parse, call and map.**
//! Receiving is `deskhand_service::reception`; the dry run is a port ([`DryRun`]) the
//! binary implements with the worker's own graph over a read-only connection.

mod auth;
mod body;
mod dry_run;
mod emails;
mod postmark;
mod problem;
mod throttle;

pub use auth::{new_integration_key, IntegrationCaller};
pub use problem::Problem;
pub use throttle::{KeyLimiter, RateLimit};

use axum::routing::{get, post};
use axum::Router;
use deskhand_contracts::{DecodeLimits, DraftEvent};
use deskhand_core::email::InboundEmail;
use deskhand_core::ports::EventPublisher;
use deskhand_db::Store;
use deskhand_service::reception::Reception;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Why a dry run failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DryRunError {
    /// The store or the model was away: the same request may succeed later.
    pub transient: bool,
    pub message: String,
}

/// Runs one email through the triage graph without recording, publishing or sending
/// anything, and returns the draft event the worker would have published.
pub trait DryRun: Send + Sync + std::fmt::Debug + 'static {
    fn dry_run<'a>(
        &'a self,
        email: &'a InboundEmail,
    ) -> Pin<Box<dyn Future<Output = Result<DraftEvent, DryRunError>> + Send + 'a>>;
}

/// What the intake is configured with.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// The largest body taken; also the largest event (a raw email grows by a third as
    /// base64 in the event, and the event must fit the inbound topic).
    pub max_body_bytes: usize,
    pub decode: DecodeLimits,
    pub rate: RateLimit,
}

/// Shared by every handler.
#[derive(Debug)]
pub struct IntakeState<P> {
    pub store: Store,
    pub reception: Reception<P>,
    pub dry_run: Option<Arc<dyn DryRun>>,
    pub settings: IntakeSettings,
    pub limiter: KeyLimiter,
}

impl<P> IntakeState<P> {
    pub fn new(
        store: Store,
        reception: Reception<P>,
        dry_run: Option<Arc<dyn DryRun>>,
        settings: IntakeSettings,
    ) -> Self {
        Self {
            limiter: KeyLimiter::new(settings.rate),
            store,
            reception,
            dry_run,
            settings,
        }
    }
}

/// Every route of the intake, as `(method, path)`; `docs/openapi.json` documents them
/// with the review API's (a test holds them together).
pub const API_ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/emails"),
    ("get", "/api/v1/emails/{event_id}"),
    ("post", "/api/v1/triage:dry-run"),
    ("post", "/api/v1/webhooks/postmark"),
];

/// The intake's routes.
pub fn router<P>(state: Arc<IntakeState<P>>) -> Router
where
    P: EventPublisher + Send + Sync + 'static,
{
    Router::new()
        .route("/api/v1/emails", post(emails::receive::<P>))
        .route("/api/v1/emails/{event_id}", get(emails::status::<P>))
        .route("/api/v1/triage:dry-run", post(dry_run::dry_run::<P>))
        .route("/api/v1/webhooks/postmark", post(postmark::receive::<P>))
        .with_state(state)
}
