//! Who is posting: an integration key (`Authorization: Bearer dhi_…`), checked against
//! the store's hashes and throttled per key; and, for dry runs, a reviewer's API token.

use crate::{IntakeState, Problem};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use deskhand_db::{hash_secret, Integration, Reviewer};
use std::sync::Arc;
use std::time::Instant;

/// A fresh integration key: 244 random bits from two v4 UUIDs. The prefix tells a leaked
/// key's kind at a glance (reviewers' tokens start `dh_`).
pub fn new_integration_key() -> String {
    format!(
        "dhi_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The secret of `Authorization: Bearer KEY`, or of `Basic` credentials (the password, or
/// the user when there is none): webhooks that cannot set a header carry the key in their
/// URL (`https://postmark:KEY@host/…`), which arrives as basic auth.
fn presented_secret(parts: &Parts) -> Result<String, Problem> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(Problem::Unauthenticated)?;
    let secret = if let Some(token) = value.strip_prefix("Bearer ") {
        token.trim().to_owned()
    } else if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(Problem::Unauthenticated)?;
        let (user, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
        if password.is_empty() { user } else { password }
            .trim()
            .to_owned()
    } else {
        return Err(Problem::Unauthenticated);
    };
    if secret.is_empty() {
        return Err(Problem::Unauthenticated);
    }
    Ok(secret)
}

/// The integration behind a request, within its rate limit.
#[derive(Debug, Clone)]
pub struct IntegrationCaller(pub Integration);

impl<P: Send + Sync> FromRequestParts<Arc<IntakeState<P>>> for IntegrationCaller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<IntakeState<P>>,
    ) -> Result<Self, Self::Rejection> {
        let key = presented_secret(parts)?;
        let integration = state
            .store
            .integration_by_key(&hash_secret(&key))
            .await?
            .ok_or(Problem::Unauthenticated)?;
        state
            .limiter
            .admit(integration.id, Instant::now())
            .map_err(|wait| {
                metrics::counter!("deskhand_http_intake_throttled_total").increment(1);
                Problem::TooManyRequests {
                    // Rounded up: a retry a whole second early would be refused again.
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                }
            })?;
        Ok(Self(integration))
    }
}

/// The reviewer behind a dry run (a bearer token; the review UI's cookie sessions are
/// the review API's business).
#[derive(Debug, Clone)]
pub(crate) struct ReviewerCaller(pub Reviewer);

impl<P: Send + Sync> FromRequestParts<Arc<IntakeState<P>>> for ReviewerCaller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<IntakeState<P>>,
    ) -> Result<Self, Self::Rejection> {
        let token = presented_secret(parts)?;
        let hash = hash_secret(&token);
        if let Some(reviewer) = state.store.reviewer_by_token(&hash).await? {
            // A dry run may call the model: reviewers share the keys' rate, each their
            // own bucket (negative ids keep them apart from integrations').
            state
                .limiter
                .admit(-reviewer.id, Instant::now())
                .map_err(|wait| Problem::TooManyRequests {
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                })?;
            return Ok(Self(reviewer));
        }
        if state.store.integration_by_key(&hash).await?.is_some() {
            return Err(Problem::Forbidden(
                "integration keys post emails; a dry run shows a customer's data and needs a \
                 reviewer's token"
                    .to_owned(),
            ));
        }
        Err(Problem::Unauthenticated)
    }
}
