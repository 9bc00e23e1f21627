//! Errors as RFC 9457 problem documents (`application/problem+json`): a stable type per
//! kind of failure, the HTTP status, and a sentence saying what to fix.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use deskhand_core::Transience as _;
use serde_json::json;

/// Everything an intake request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("send `Authorization: Bearer <key>` with an active integration key")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The body is not what its content type says (malformed JSON, no body).
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error(
        "send `application/json` (an inbound event) or `message/rfc822` (a raw email), not {0:?}"
    )]
    UnsupportedMediaType(String),
    /// Well-formed, but not an email Deskhand can take (a missing field, a bad id).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("this key is over its limit of requests; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database or the broker is away; the same request may be sent again.
    #[error("{0}; send the same request again shortly")]
    Unavailable(String),
    #[error("internal error")]
    Internal,
}

impl Problem {
    /// The problem's type, a stable name for clients to branch on.
    fn kind(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Malformed(_) => "malformed-body",
            Self::TooLarge(_) => "too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Invalid(_) => "invalid-email",
            Self::Conflict(_) => "conflict",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) => "unavailable",
            Self::Internal => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<deskhand_db::Error> for Problem {
    fn from(error: deskhand_db::Error) -> Self {
        if error.is_transient() {
            tracing::warn!(%error, "intake request: database unavailable");
            Self::Unavailable("the database is unavailable".to_owned())
        } else {
            tracing::error!(%error, "intake request failed");
            Self::Internal
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = json!({
            "type": format!("urn:deskhand:problem:{}", self.kind()),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Self::Unauthenticated => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"deskhand-intake\""),
                );
            }
            _ => {}
        }
        response
    }
}
