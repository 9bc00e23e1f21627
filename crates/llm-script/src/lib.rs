//! # deskhand-llm-script
//!
//! A scripted OpenAI-compatible server for tests: it speaks the real chat-completions wire
//! format (`POST /v1/chat/completions`, JSON bodies, `usage`, error objects, status codes,
//! `Retry-After`) on a real local port, and answers each request with whatever the test's
//! script says. It records every request so tests can inspect the prompts.
//!
//! It is the only stand-in Deskhand's tests use; everything else is real. **The rule it
//! keeps: it is a dev and tool dependency only** (tests, and `bench --llm-latency-ms`);
//! the `deskhand` binary never links it.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Turn {
    /// A successful completion whose message content is this JSON value (serialised).
    Json(Value),
    /// A successful completion whose message content is this text, as is.
    Content(String),
    /// A completion the server cut at `max_tokens` (`finish_reason: "length"`), with this
    /// text.
    CutOff(String),
    /// An error status with an OpenAI error object, and an optional `Retry-After` (seconds).
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// A 200 whose body is not JSON.
    MalformedBody,
    /// Wait, then answer.
    Delay(Duration, Box<Turn>),
    /// Never answer (a hung connection).
    Hang,
}

type Responder = dyn Fn(&Value, usize) -> Turn + Send + Sync;

#[derive(Clone)]
struct Script {
    responder: Arc<Responder>,
    requests: Arc<Mutex<Vec<Value>>>,
    load: Arc<Load>,
}

/// Requests being answered now, and the most there ever were at once.
#[derive(Debug, Default)]
struct Load {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// A running scripted server; stops when dropped.
pub struct ScriptedLlm {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Value>>>,
    load: Arc<Load>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedLlm")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedLlm {
    /// Starts a server on a free local port. `responder` gets each request body and its
    /// 0-based position among all requests.
    pub async fn start(responder: impl Fn(&Value, usize) -> Turn + Send + Sync + 'static) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let load = Arc::new(Load::default());
        let script = Script {
            responder: Arc::new(responder),
            requests: requests.clone(),
            load: load.clone(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind scripted LLM");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("scripted LLM server");
        });
        Self {
            addr,
            requests,
            load,
            task,
        }
    }

    /// The base URL to configure as `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn peak_concurrency(&self) -> usize {
        self.load.peak.load(Ordering::SeqCst)
    }
}

/// The name of the schema a request asks for, in whichever structured-output form it
/// uses: `response_format.json_schema.name`, the forced function's name, or the `title`
/// of a `json_object` schema.
pub fn schema_name(request: &Value) -> &str {
    [
        &request["response_format"]["json_schema"]["name"],
        &request["tool_choice"]["function"]["name"],
        &request["response_format"]["schema"]["title"],
    ]
    .into_iter()
    .find_map(Value::as_str)
    .unwrap_or("")
}

/// All message contents of a request, joined.
pub fn prompt_text(request: &Value) -> String {
    request["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter_map(|m| m["content"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

async fn complete(State(script): State<Script>, Json(request): Json<Value>) -> Response {
    let position = {
        let mut requests = script.requests.lock().expect("requests lock");
        requests.push(request.clone());
        requests.len() - 1
    };
    let turn = (script.responder)(&request, position);
    let now = script.load.now.fetch_add(1, Ordering::SeqCst) + 1;
    script.load.peak.fetch_max(now, Ordering::SeqCst);
    // Counted down when the answer is sent or the client goes away.
    let _answering = Answering(&script.load);
    answer(turn, &request).await
}

struct Answering<'a>(&'a Load);

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn answer(mut turn: Turn, request: &Value) -> Response {
    loop {
        match turn {
            Turn::Delay(wait, next) => {
                tokio::time::sleep(wait).await;
                turn = *next;
            }
            Turn::Hang => {
                std::future::pending::<()>().await;
            }
            Turn::Json(value) => return completion(request, value.to_string(), "stop"),
            Turn::Content(text) => return completion(request, text, "stop"),
            Turn::CutOff(text) => return completion(request, text, "length"),
            Turn::MalformedBody => {
                return Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{\"id\": \"chatcmpl-broken\", \"choices\": [ {"))
                    .expect("response");
            }
            Turn::Status {
                status,
                retry_after,
            } => {
                let status = StatusCode::from_u16(status).expect("valid status");
                let kind = if status == StatusCode::TOO_MANY_REQUESTS {
                    "rate_limit_error"
                } else {
                    "server_error"
                };
                let body = json!({"error": {"message": format!("scripted {status}"), "type": kind, "param": null, "code": null}});
                let mut builder = Response::builder()
                    .status(status)
                    .header(header::CONTENT_TYPE, "application/json");
                if let Some(seconds) = retry_after {
                    builder = builder.header(header::RETRY_AFTER, seconds.to_string());
                }
                return builder
                    .body(Body::from(body.to_string()))
                    .expect("response");
            }
        }
    }
}

/// A chat completion in the real wire format; token counts estimated from the text (about
/// four characters a token), so prompt growth shows in `usage`. A request that forces a
/// function call gets the text as that call's arguments, as OpenAI answers it.
fn completion(request: &Value, content: String, finish_reason: &str) -> Response {
    let prompt_tokens = (prompt_text(request).chars().count() / 4).max(1);
    let completion_tokens = (content.chars().count() / 4).max(1);
    let (message, finish_reason) = match request["tool_choice"]["function"]["name"].as_str() {
        Some(function) => (
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [{
                "id": "call_scripted",
                "type": "function",
                "function": {"name": function, "arguments": content}
            }]}),
            if finish_reason == "stop" {
                "tool_calls"
            } else {
                finish_reason
            },
        ),
        None => (
            json!({"role": "assistant", "content": content, "refusal": null}),
            finish_reason,
        ),
    };
    let body = json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1_767_225_600u32,
        "model": request["model"],
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason,
            "logprobs": null
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}
