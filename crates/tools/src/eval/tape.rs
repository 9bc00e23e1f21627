//! Model traffic on tape: `--record DIR` sits between the engine and the real endpoint and
//! saves every request with its response; `--replay DIR` serves them back, so a recorded
//! run is reproducible offline. A request with no recording is answered 404 and counted,
//! and the case it belongs to fails. Recordings are keyed by a hash of the request and
//! its occurrence, and are never meant to be edited by hand.

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What the tape does with each request.
#[derive(Debug, Clone)]
pub enum TapeMode {
    /// Forward to `upstream` (the real endpoint's base URL) and save the exchange.
    Record { upstream: String },
    /// Answer from the saved exchanges only.
    Replay,
}

#[derive(Debug)]
struct Tape {
    dir: PathBuf,
    mode: TapeMode,
    client: reqwest::Client,
    seen: Mutex<HashMap<String, usize>>,
    misses: AtomicUsize,
}

/// A running tape; the engine's base URL points at it.
#[derive(Debug)]
pub struct ModelTape {
    base_url: String,
    tape: Arc<Tape>,
    shutdown: CancellationToken,
}

impl ModelTape {
    pub async fn start(dir: PathBuf, mode: TapeMode) -> anyhow::Result<Self> {
        if matches!(mode, TapeMode::Record { .. }) {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        } else if !dir.is_dir() {
            anyhow::bail!("no recordings at {}", dir.display());
        }
        let tape = Arc::new(Tape {
            dir,
            mode,
            client: reqwest::Client::new(),
            seen: Mutex::new(HashMap::new()),
            misses: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}/v1", listener.local_addr()?);
        let router = axum::Router::new()
            .fallback(exchange)
            .with_state(tape.clone());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Self {
            base_url,
            tape,
            shutdown,
        })
    }

    /// The OpenAI-compatible base URL to give the engine.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests that found no recording since the last call.
    pub fn take_misses(&self) -> usize {
        self.tape.misses.swap(0, Ordering::SeqCst)
    }
}

impl Drop for ModelTape {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn exchange(
    State(tape): State<Arc<Tape>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return (StatusCode::BAD_REQUEST, format!("not JSON: {error}")).into_response();
        }
    };
    // The path (after our `/v1`) and the request, keys sorted: the same request hashes the
    // same in the recording and the replay run.
    let path = uri.path().trim_start_matches("/v1").to_owned();
    let digest = Sha256::digest(format!("{path}\n{request}").as_bytes());
    let key: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let occurrence = {
        let mut seen = tape.seen.lock().expect("tape lock");
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let file = tape.dir.join(format!("{key}-{occurrence}.json"));
    match &tape.mode {
        TapeMode::Replay => match std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        {
            Some(saved) => {
                let status = saved["status"]
                    .as_u64()
                    .and_then(|s| StatusCode::from_u16(s as u16).ok())
                    .unwrap_or(StatusCode::OK);
                (
                    status,
                    [("content-type", "application/json")],
                    saved["response"].to_string(),
                )
                    .into_response()
            }
            None => {
                tape.misses.fetch_add(1, Ordering::SeqCst);
                tracing::warn!(recording = %file.display(), "no recording for a model request");
                (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"error": {"message": "no recording for this request", "type": "deskhand_replay_miss"}})),
                )
                    .into_response()
            }
        },
        TapeMode::Record { upstream } => {
            let mut forward = tape
                .client
                .post(format!("{}{path}", upstream.trim_end_matches('/')))
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(auth) = headers.get("authorization") {
                forward = forward.header("authorization", auth.clone());
            }
            let answer = match forward.send().await {
                Ok(answer) => answer,
                Err(error) => {
                    // Not recorded: a network failure is not the model's answer.
                    return (StatusCode::BAD_GATEWAY, format!("upstream: {error}")).into_response();
                }
            };
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.unwrap_or_default();
            let response: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            let saved = json!({"request": request, "status": status, "response": response});
            if let Err(error) =
                std::fs::write(&file, serde_json::to_vec_pretty(&saved).unwrap_or_default())
            {
                tracing::error!(%error, file = %file.display(), "could not save a recording");
            }
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                [("content-type", "application/json")],
                bytes,
            )
                .into_response()
        }
    }
}
