//! The HTTP transport under the OpenAI client: plain reqwest, plus the server's
//! `Retry-After`, handed to the engine's own retry loop.
//!
//! async-openai's default transport retries 429 and 5xx by itself. Stacked under the
//! engine's retries that multiplied the requests per counted call (4 per call) and hid them
//! from metering and the attempt bound, so the engine uses this one instead.

use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

tokio::task_local! {
    /// Set around one call; the transport writes the answer's `Retry-After` into it.
    static RETRY_AFTER: Cell<Option<Duration>>;
}

/// Runs `call` and returns its result with the `Retry-After` its answer carried, if any.
pub(crate) async fn capturing_retry_after<T>(
    call: impl Future<Output = T>,
) -> (T, Option<Duration>) {
    RETRY_AFTER
        .scope(Cell::new(None), async {
            let result = call.await;
            (result, RETRY_AFTER.with(Cell::get))
        })
        .await
}

/// `ReqwestService` that notes `Retry-After` (seconds) on the answers that carry it.
#[derive(Debug, Clone)]
pub(crate) struct RetryAfterAware(pub(crate) ReqwestService);

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send + 'static>>;

impl tower::Service<HttpRequestFactory> for RetryAfterAware {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let response = self.0.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(delay) = retry_after(response.headers()) {
                // Outside a capturing scope (no engine call) there is nobody to tell.
                let _ = RETRY_AFTER.try_with(|slot| slot.set(Some(delay)));
            }
            Ok(response)
        })
    }
}

/// `Retry-After` as delta-seconds (what OpenAI-compatible servers send); capped so a
/// hostile value cannot park an email.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(300.0)))
}
