//! API errors: a status, a stable code and a sentence for the person reading it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use deskhand_core::Transience as _;
use serde_json::json;

/// Everything a review request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in: send `Authorization: Bearer <token>` or sign in to the web UI")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("the CSRF token is missing or wrong; reload the page")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        current_version: Option<i32>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    /// Too many attempts from this address; try again after `retry_after_secs`.
    #[error("too many sign-in attempts from this address; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database is unreachable; the client may retry (with the same idempotency key).
    #[error("the review service cannot reach its database; retry shortly")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Csrf => "csrf",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<deskhand_db::Error> for ApiError {
    fn from(error: deskhand_db::Error) -> Self {
        if error.is_transient() {
            tracing::warn!(%error, "review request: database unavailable");
            ApiError::Unavailable
        } else {
            tracing::error!(%error, "review request failed");
            ApiError::Internal
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let ApiError::Conflict {
            current_version: Some(version),
            ..
        } = &self
        {
            body["current_version"] = json!(version);
        }
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unavailable) {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("5"));
        }
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(
                "retry-after",
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}
