//! Who is asking: a bearer token, or a browser session (cookie + CSRF header).

use crate::{ApiError, ReviewState};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use deskhand_db::Reviewer;
use serde::Deserialize;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use time::OffsetDateTime;

pub(crate) const SESSION_COOKIE: &str = "deskhand_session";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// A fresh secret: 244 random bits from two v4 UUIDs, as 64 hex characters.
pub fn new_token() -> String {
    format!(
        "dh_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// What the store keeps of a token ([`deskhand_db::hash_secret`]).
pub fn hash_token(token: &str) -> Vec<u8> {
    deskhand_db::hash_secret(token)
}

/// The reviewer behind a request. Rejects with 401 when nobody signed in, and with 403
/// when a cookie session sends an unsafe method without its CSRF token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub reviewer: Reviewer,
    /// Set for cookie sessions.
    pub csrf_token: Option<String>,
}

impl FromRequestParts<ReviewState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ReviewState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthenticated)?;
            let reviewer = state
                .store
                .reviewer_by_token(&hash_token(token))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            return Ok(Self {
                reviewer,
                csrf_token: None,
            });
        }
        let session = session_cookie(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let (reviewer, csrf) = state
            .store
            .session(&hash_token(&session))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !sent.is_some_and(|sent| constant_time_eq(sent.as_bytes(), csrf.as_bytes())) {
                return Err(ApiError::Csrf);
            }
        }
        Ok(Self {
            reviewer,
            csrf_token: Some(csrf),
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The address a request came from: the first address of the header a trusted proxy
/// sets (`review.client_address_header`), or else the connection's peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub IpAddr);

impl FromRequestParts<ReviewState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ReviewState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .settings
            .client_address_header
            .as_deref()
            .and_then(|name| parts.headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .and_then(|first| first.trim().parse().ok());
        let peer = || {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip())
        };
        Ok(Self(
            forwarded
                .or_else(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignIn {
    token: String,
}

/// Metric names of sign-in.
pub mod names {
    /// Counter: sign-ins refused for a wrong token.
    pub const SIGN_IN_FAILURES: &str = "deskhand_sign_in_failures_total";
    /// Counter: sign-in attempts refused because their address made too many.
    pub const SIGN_IN_THROTTLED: &str = "deskhand_sign_in_throttled_total";
}

/// `POST /api/session`: exchanges an API token for an HTTP-only session cookie. Each
/// client address gets `review.sign_in_attempts` tries per window; a failure is audited
/// once per address and window, and the throttling once, with the count.
pub(crate) async fn sign_in(
    State(state): State<ReviewState>,
    ClientAddress(client): ClientAddress,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    let limiter = &state.sign_in_limiter;
    if let crate::Admission::Throttled {
        retry_after,
        first,
        failures,
    } = limiter.admit(client, std::time::Instant::now())
    {
        metrics::counter!(names::SIGN_IN_THROTTLED).increment(1);
        if first {
            tracing::warn!(%client, failures, "sign-in throttled");
            state
                .store
                .audit(
                    None,
                    "sign_in_throttled",
                    None,
                    None,
                    json!({
                        "client": client.to_string(),
                        "failures": failures,
                        "attempts_allowed": limiter.limits().attempts,
                        "window_seconds": limiter.limits().window.as_secs(),
                    }),
                )
                .await?;
        }
        return Err(ApiError::TooManyRequests {
            retry_after_secs: retry_after.as_secs().max(1),
        });
    }
    let session = new_token();
    let csrf = new_token();
    let ttl = state.settings.session_ttl;
    let expires_at = OffsetDateTime::now_utc() + ttl;
    let reviewer = state
        .store
        .open_session(
            &hash_token(&body.token),
            &hash_token(&session),
            &csrf,
            expires_at,
        )
        .await?;
    let Some(reviewer) = reviewer else {
        metrics::counter!(names::SIGN_IN_FAILURES).increment(1);
        if limiter.failed(client) {
            state
                .store
                .audit(
                    None,
                    "sign_in_failed",
                    None,
                    None,
                    json!({
                        "client": client.to_string(),
                        "note": "the window's first failure from this address; the count comes with a throttle",
                    }),
                )
                .await?;
        }
        return Err(ApiError::Unauthenticated);
    };
    state
        .store
        .audit(Some(reviewer.id), "sign_in", None, None, json!({}))
        .await?;
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        ttl.as_secs()
    );
    let mut response = Json(json!({ "reviewer": reviewer, "csrf_token": csrf })).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| ApiError::Internal)?,
    );
    Ok(response)
}

/// `DELETE /api/session`: signs the browser out.
pub(crate) async fn sign_out(
    State(state): State<ReviewState>,
    who: Authenticated,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(session) = session_cookie(&headers) {
        state.store.end_session(&hash_token(&session)).await?;
    }
    state
        .store
        .audit(Some(who.reviewer.id), "sign_out", None, None, json!({}))
        .await?;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("deskhand_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(response)
}

/// `GET /api/me`: who is signed in (and, for a browser session, its CSRF token).
pub(crate) async fn me(who: Authenticated) -> Json<serde_json::Value> {
    Json(json!({ "reviewer": who.reviewer, "csrf_token": who.csrf_token }))
}
