//! Wiring: builds the worker (consumer + relay) and the HTTP server from [`Settings`], and
//! runs them under one cancellation token.

use crate::relay::{self, RelayConfig};
use crate::settings::Settings;
use crate::triage::TriageHandler;
use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use deskhand_core::TriageGraph;
use deskhand_db::{DatabaseSettings, Store};
use deskhand_kafka::{
    ClientSettings, ConsumerSettings, DecodeLimits, EmailConsumer, ProducerSettings, Publisher,
};
use deskhand_mail::MailLimits;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Which parts of Deskhand this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub worker: bool,
    pub http: bool,
}

/// A built, not yet running, Deskhand process.
#[derive(Debug)]
pub struct Application {
    settings: Settings,
    roles: Roles,
    store: Store,
    publisher: Publisher,
    listener: Option<TcpListener>,
}

impl Application {
    /// Builds every client; binds the HTTP port when `roles.http` (port 0 picks a free one).
    pub async fn build(settings: Settings, roles: Roles) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !settings.kafka.brokers.trim().is_empty(),
            "KAFKA_BROKERS is not set: point it at a Kafka-protocol broker \
             (or run `deskhand demo`, which starts an embedded one)"
        );
        let store = Store::connect_lazy(&DatabaseSettings {
            url: settings.database.url.expose().to_owned(),
            max_connections: settings.database.max_connections,
            acquire_timeout: Settings::ms(settings.database.acquire_timeout_ms),
        })?;
        let publisher = Publisher::new(&ProducerSettings {
            client: client_settings(&settings),
            message_timeout: Settings::ms(settings.relay.publish_timeout_ms),
            max_message_bytes: settings.kafka.max_message_bytes,
        })?;
        let listener = if roles.http {
            let addr = &settings.http.addr;
            Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr}"))?,
            )
        } else {
            None
        };
        Ok(Self {
            settings,
            roles,
            store,
            publisher,
            listener,
        })
    }

    /// The bound HTTP port, when this process serves HTTP.
    pub fn http_port(&self) -> Option<u16> {
        self.listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs until `shutdown` is cancelled. The consumer stops taking messages and drains;
    /// then the relay publishes what was committed; then the process may exit.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let settings = self.settings;
        let mut tasks = tokio::task::JoinSet::new();

        if let Some(listener) = self.listener {
            let state = Health {
                store: self.store.clone(),
                publisher: self.publisher.clone(),
            };
            let router = router(state);
            let token = shutdown.clone();
            tasks.spawn(async move {
                tracing::info!(addr = %listener.local_addr()?, "HTTP server listening");
                axum::serve(listener, router)
                    .with_graceful_shutdown(token.cancelled_owned())
                    .await
                    .context("HTTP server failed")
            });
        }

        if self.roles.worker {
            if settings.kafka.create_topics {
                let partitions = settings.kafka.partitions;
                let topics = [
                    (settings.topics.inbound.as_str(), partitions),
                    (settings.topics.approval.as_str(), partitions),
                    (settings.topics.dlq.as_str(), 1),
                ];
                deskhand_kafka::ensure_topics(&client_settings(&settings), &topics)
                    .await
                    .context("creating topics")?;
            }
            let wakeup = Arc::new(Notify::new());
            let Some(vocabulary) = load_vocabulary(&self.store, &shutdown).await else {
                return Ok(());
            };
            let engine = crate::engine::AnyEngine::build(settings.llm.engine(), vocabulary)?;
            tracing::info!(engine = %deskhand_core::ports::Cognition::engine_name(&engine), "engine ready");
            let graph = TriageGraph::new(engine, self.store.clone(), settings.agent.graph());
            let handler = Arc::new(TriageHandler::new(
                graph,
                self.store.clone(),
                settings.topics.approval.clone(),
                wakeup.clone(),
                settings.agent.pinned_today()?,
                Settings::ms(settings.llm.email_budget_ms),
            ));
            let consumer = EmailConsumer::new(
                consumer_settings(&settings),
                handler,
                self.publisher.clone(),
            );
            // The relay outlives the consumer: it stops only after the consumer drained.
            let relay_stop = CancellationToken::new();
            let relay = tokio::spawn(relay::run(
                self.store.clone(),
                self.publisher.clone(),
                RelayConfig {
                    batch_size: settings.relay.batch_size,
                    poll_interval: Settings::ms(settings.relay.poll_interval_ms),
                    drain_timeout: Settings::ms(settings.worker.drain_timeout_ms),
                },
                wakeup,
                relay_stop.clone(),
            ));
            let token = shutdown.clone();
            let publisher = self.publisher.clone();
            tasks.spawn(async move {
                let consumed = consumer.run(token).await;
                relay_stop.cancel();
                relay.await.context("relay task panicked")?;
                publisher.flush(Duration::from_secs(5));
                consumed.context("consumer failed")
            });
        }

        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined.context("task panicked").and_then(|r| r);
            if let Err(error) = result {
                tracing::error!(error = %format!("{error:#}"), "component failed; shutting down");
                shutdown.cancel();
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The catalog's words, for the offline engine. Waits for the database rather than start
/// with an empty vocabulary (which would quietly miss every brand); `None` on shutdown.
async fn load_vocabulary(
    store: &Store,
    shutdown: &CancellationToken,
) -> Option<deskhand_core::product::CatalogVocabulary> {
    let mut delay = Duration::from_millis(200);
    loop {
        match store.catalog_vocabulary().await {
            Ok(vocabulary) => {
                tracing::info!(
                    brands = vocabulary.brands.len(),
                    models = vocabulary.models.len(),
                    "catalog vocabulary loaded"
                );
                return Some(vocabulary);
            }
            Err(error) => tracing::warn!(%error, "loading the catalog vocabulary failed; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

pub(crate) fn client_settings(settings: &Settings) -> ClientSettings {
    ClientSettings {
        brokers: settings.kafka.brokers.clone(),
        extra: settings.kafka.properties.clone(),
    }
}

fn consumer_settings(settings: &Settings) -> ConsumerSettings {
    ConsumerSettings {
        client: client_settings(settings),
        group_id: settings.kafka.group_id.clone(),
        topic: settings.topics.inbound.clone(),
        dlq_topic: settings.topics.dlq.clone(),
        max_in_flight: settings.worker.max_in_flight,
        session_timeout: Settings::ms(settings.kafka.session_timeout_ms),
        max_poll_interval: Settings::ms(settings.kafka.max_poll_interval_ms),
        auto_commit_interval: Settings::ms(settings.kafka.auto_commit_interval_ms),
        drain_timeout: Settings::ms(settings.worker.drain_timeout_ms),
        max_retry_backoff: Settings::ms(settings.worker.max_retry_backoff_ms),
        decode: DecodeLimits {
            max_event_bytes: settings.worker.max_event_bytes,
            mail: MailLimits {
                max_depth: settings.worker.mime_max_depth,
                max_parts: settings.worker.mime_max_parts,
            },
        },
    }
}

#[derive(Debug, Clone)]
struct Health {
    store: Store,
    publisher: Publisher,
}

fn router(state: Health) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(state)
}

/// Ready when both the database and a broker answer.
async fn ready(State(state): State<Health>) -> (StatusCode, String) {
    let database = state.store.ping().await.is_ok();
    let broker = state.publisher.is_reachable(Duration::from_secs(2)).await;
    let status = if database && broker {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        format!("database: {}\nbroker: {}\n", up(database), up(broker)),
    )
}

fn up(ok: bool) -> &'static str {
    if ok {
        "up"
    } else {
        "down"
    }
}
