//! Wiring: builds the worker (inbound consumer), the review service (approval-topic
//! consumer, review API and UI, SMTP relay), the outbox relay and the HTTP server from
//! [`Settings`], and runs them under one cancellation token.

use crate::dry_run::GraphDryRun;
use crate::http_guard::{security_headers, BrokerCheck};
use crate::review_intake::ReviewIntake;
use crate::settings::Settings;
use crate::triage::TriageHandler;
use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use deskhand_core::review::ReviewPolicy;
use deskhand_core::TriageGraph;
use deskhand_db::{DatabaseSettings, Store};
use deskhand_intake::{DryRun, IntakeSettings, IntakeState, RateLimit};
use deskhand_kafka::{
    ClientSettings, ConsumerSettings, EventConsumer, ProducerSettings, Publisher,
};
use deskhand_mail::{MailLimits, SmtpSender};
use deskhand_offline::PrecedentIndex;
use deskhand_review::{ReviewSettings, ReviewState};
use deskhand_service::decide::{DecideSettings, Decisions};
use deskhand_service::intake::Intake;
use deskhand_service::mail::{self as mail_relay, MailRelayConfig};
use deskhand_service::outbox::{self as relay, RelayConfig};
use deskhand_service::reception::Reception;
use deskhand_service::triage::{Redeliveries, Triage};
use deskhand_service::Wakeups;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Which parts of Deskhand this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// Consume inbound emails, triage them, publish drafts.
    pub worker: bool,
    /// Materialise drafts for review, serve the review API and UI, send approved replies.
    pub review: bool,
    /// Serve HTTP (health, readiness and metrics; the review API and UI when `review`).
    pub http: bool,
}

impl Roles {
    /// A worker without HTTP, for embedding (demo, evaluation, benchmark).
    pub const WORKER: Roles = Roles {
        worker: true,
        review: false,
        http: false,
    };
    /// `deskhand worker`: a worker with health, readiness and metrics endpoints.
    pub const WORKER_SERVICE: Roles = Roles {
        worker: true,
        review: false,
        http: true,
    };
    /// `deskhand review`.
    pub const REVIEW: Roles = Roles {
        worker: false,
        review: true,
        http: true,
    };
    /// `deskhand serve`: everything.
    pub const ALL: Roles = Roles {
        worker: true,
        review: true,
        http: true,
    };
}

/// A built, not yet running, Deskhand process.
#[derive(Debug)]
pub struct Application {
    settings: Settings,
    roles: Roles,
    store: Store,
    publisher: Publisher,
    smtp: Option<SmtpSender>,
    listener: Option<TcpListener>,
}

impl Application {
    /// Builds every client; binds the HTTP port when `roles.http` (port 0 picks a free one).
    pub async fn build(settings: Settings, roles: Roles) -> anyhow::Result<Self> {
        // Installed before any component records (a no-op when already installed).
        crate::telemetry::metrics();
        anyhow::ensure!(
            !settings.kafka.brokers.trim().is_empty(),
            "KAFKA_BROKERS is not set: point it at a Kafka-protocol broker \
             (or run `deskhand demo`, which starts an embedded one)"
        );
        let store = Store::connect_lazy(&DatabaseSettings {
            url: settings.database.url.expose().to_owned(),
            max_connections: settings.database.max_connections,
            acquire_timeout: settings.database.acquire_timeout,
        })?;
        let publisher = Publisher::new(&ProducerSettings {
            client: client_settings(&settings),
            message_timeout: settings.relay.publish_timeout,
            max_message_bytes: settings.kafka.max_message_bytes,
        })?;
        // Checked even when no SMTP URL is set: the sender address names our Message-IDs.
        let smtp = if roles.review {
            let url = settings.smtp.url.expose();
            let url = if url.trim().is_empty() {
                tracing::warn!("DESKHAND_SMTP_URL is empty: approved replies wait until it is set");
                None
            } else {
                Some(url)
            };
            let sender = SmtpSender::from_url(
                url.unwrap_or("smtp://127.0.0.1:25"),
                &settings.smtp.from,
                settings.smtp.timeout,
            )
            .context("configuring SMTP")?;
            url.map(|_| sender)
        } else {
            None
        };
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
            smtp,
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

    /// Runs until `shutdown` is cancelled. The consumers stop taking messages and drain,
    /// the HTTP server finishes its requests; then the relays publish and send what was
    /// committed; then the process may exit.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let settings = self.settings;
        let roles = self.roles;
        // Components that write to the outbox; the relays outlive them.
        let mut writers = tokio::task::JoinSet::new();
        let relay_stop = CancellationToken::new();
        let mut relays = tokio::task::JoinSet::new();
        let wakeups = Wakeups::default();

        if settings.kafka.create_topics {
            let partitions = settings.kafka.partitions;
            let mut topics = vec![
                (settings.topics.inbound.as_str(), partitions),
                (settings.topics.approval.as_str(), partitions),
                (settings.topics.dlq.as_str(), 1),
            ];
            let review_dlq = review_dlq_topic(&settings);
            if roles.review {
                topics.push((settings.topics.decided.as_str(), partitions));
                topics.push((review_dlq.as_str(), 1));
            }
            deskhand_kafka::ensure_topics(&client_settings(&settings), &topics)
                .await
                .context("creating topics")?;
        }

        if let Some(listener) = self.listener {
            let health = Health {
                store: self.store.clone(),
                broker: BrokerCheck::new(self.publisher.clone()),
            };
            let mut router = health_router(health);
            if roles.review {
                router = router.merge(deskhand_review::router(ReviewState::new(
                    self.store.clone(),
                    review_settings(&settings),
                    Decisions::new(
                        self.store.clone(),
                        decide_settings(&settings)?,
                        wakeups.clone(),
                    ),
                )));
                let reception = Reception::new(
                    self.store.clone(),
                    self.publisher.clone(),
                    settings.topics.inbound.clone(),
                );
                router = router.merge(intake_router(&settings, &self.store, reception.clone())?);
                // What was posted while the broker was away, and not posted again, goes out.
                let (token, every) = (shutdown.clone(), settings.intake.sweep);
                writers.spawn(async move {
                    reception.run_sweeps(every, token).await;
                    Ok(())
                });
            }
            let router = router.layer(axum::middleware::from_fn(security_headers));
            let token = shutdown.clone();
            writers.spawn(async move {
                tracing::info!(addr = %listener.local_addr()?, "HTTP server listening");
                // The peer address is what sign-in throttling counts by.
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                )
                .with_graceful_shutdown(token.cancelled_owned())
                .await
                .context("HTTP server failed")
            });
        }

        if roles.worker {
            let Some(vocabulary) = load_vocabulary(&self.store, &shutdown).await else {
                return Ok(());
            };
            let engine = crate::engine::AnyEngine::build(
                settings.llm.engine(),
                settings.triage.load_model()?,
                vocabulary,
            )?;
            tracing::info!(engine = %deskhand_core::ports::Cognition::engine_name(&engine), "engine ready");
            // A prompt that shows precedents needs them loaded before the first email is
            // taken, then kept fresh.
            let shows_precedents = settings.llm.classify_examples > 0;
            if let (crate::engine::AnyEngine::Llm(llm), true) = (&engine, shows_precedents) {
                let shared = llm.precedents();
                let rebuild = move |precedents| shared.replace(PrecedentIndex::new(precedents));
                let precedent_settings = deskhand_service::precedents::PrecedentSettings {
                    pool: settings.llm.precedent_pool,
                    refresh_every: settings.llm.precedent_refresh,
                };
                deskhand_service::precedents::refresh(
                    &self.store,
                    precedent_settings.pool,
                    &rebuild,
                )
                .await;
                let refresh = deskhand_service::precedents::run(
                    self.store.clone(),
                    precedent_settings,
                    rebuild,
                    shutdown.clone(),
                );
                writers.spawn(async move {
                    refresh.await;
                    Ok(())
                });
            }
            let graph = triage_graph(&settings, engine, self.store.clone())?;
            let handler = Arc::new(TriageHandler::new(
                Triage::new(
                    graph,
                    self.store.clone(),
                    settings.topics.approval.clone(),
                    wakeups.outbox.clone(),
                    settings.agent.today,
                    settings.llm.email_budget,
                )
                .with_redeliveries(if settings.llm.engine().is_some() {
                    Redeliveries::CheckFirst
                } else {
                    Redeliveries::LeaveToTheWrite
                }),
                decode_limits(&settings),
            ));
            let consumer = EventConsumer::new(
                consumer_settings(
                    &settings,
                    &settings.kafka.group_id,
                    &settings.topics.inbound,
                    &settings.topics.dlq,
                ),
                handler,
                self.publisher.clone(),
            );
            let token = shutdown.clone();
            writers
                .spawn(async move { consumer.run(token).await.context("inbound consumer failed") });
        }

        if roles.review {
            let intake = EventConsumer::new(
                consumer_settings(
                    &settings,
                    &settings.review.group_id,
                    &settings.topics.approval,
                    &review_dlq_topic(&settings),
                ),
                Arc::new(ReviewIntake::new(
                    Intake::new(self.store.clone()).closing_no_reply(
                        settings.review.no_reply == crate::settings::NoReplyHandling::Close,
                    ),
                )),
                self.publisher.clone(),
            );
            let token = shutdown.clone();
            writers.spawn(async move { intake.run(token).await.context("review consumer failed") });
            if let Some(sender) = self.smtp {
                relays.spawn(mail_relay::run(
                    self.store.clone(),
                    sender,
                    MailRelayConfig {
                        poll_interval: settings.relay.poll_interval.max(Duration::from_millis(500)),
                        max_retry_backoff: settings.smtp.max_retry_backoff,
                    },
                    wakeups.mail.clone(),
                    relay_stop.clone(),
                ));
            }
        }

        relays.spawn(relay::run(
            self.store.clone(),
            self.publisher.clone(),
            RelayConfig {
                batch_size: settings.relay.batch_size,
                poll_interval: settings.relay.poll_interval,
                drain_timeout: settings.worker.drain_timeout,
                park_after: settings.relay.park_after,
            },
            wakeups.outbox.clone(),
            relay_stop.clone(),
        ));

        let mut first_error = None;
        while let Some(joined) = writers.join_next().await {
            let result = joined.context("task panicked").and_then(|r| r);
            if let Err(error) = result {
                tracing::error!(error = %format!("{error:#}"), "component failed; shutting down");
                shutdown.cancel();
                first_error.get_or_insert(error);
            }
        }
        // Whatever the consumers and decisions committed is published before we exit.
        relay_stop.cancel();
        while let Some(joined) = relays.join_next().await {
            if let Err(error) = joined {
                first_error.get_or_insert(anyhow::anyhow!("relay panicked: {error}"));
            }
        }
        self.publisher.flush(Duration::from_secs(5));
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Undecodable drafts go here, apart from the inbound dead letters.
fn review_dlq_topic(settings: &Settings) -> String {
    format!("{}.dlq", settings.topics.approval)
}

/// The triage graph as configured, on `engine` and `store` (the worker's, or a dry run's
/// read-only one).
pub fn triage_graph(
    settings: &Settings,
    engine: crate::engine::AnyEngine,
    store: Store,
) -> anyhow::Result<TriageGraph<crate::engine::AnyEngine, Store>> {
    Ok(TriageGraph::new(
        engine,
        store,
        settings.agent.graph(
            settings.triage.reply_languages()?,
            settings.knowledge.graph(),
        ),
    )
    .with_knowledge(settings.knowledge.open()?))
}

/// The HTTP way in, served with the review API: posted emails go to the inbound topic
/// through this process's producer.
fn intake_router(
    settings: &Settings,
    store: &Store,
    reception: Reception<Publisher>,
) -> anyhow::Result<Router> {
    let dry_run: Option<Arc<dyn DryRun>> = if settings.intake.dry_run {
        Some(Arc::new(GraphDryRun::new(settings.clone())?))
    } else {
        None
    };
    Ok(deskhand_intake::router(Arc::new(IntakeState::new(
        store.clone(),
        reception,
        dry_run,
        IntakeSettings {
            max_body_bytes: settings.intake.max_body_bytes,
            decode: decode_limits(settings),
            rate: RateLimit {
                per_minute: settings.intake.requests_per_minute,
            },
        },
    ))))
}

fn review_settings(settings: &Settings) -> ReviewSettings {
    ReviewSettings {
        sla: settings.review.sla(),
        session_ttl: Duration::from_secs(settings.review.session_ttl_minutes * 60),
        secure_cookies: settings.review.secure_cookies,
        sign_in: deskhand_review::SignInLimits {
            attempts: settings.review.sign_in_attempts,
            window: Duration::from_secs(settings.review.sign_in_window_seconds),
        },
        client_address_header: Some(settings.review.client_address_header.trim().to_lowercase())
            .filter(|h| !h.is_empty()),
    }
}

fn decide_settings(settings: &Settings) -> anyhow::Result<DecideSettings> {
    let mail_domain = settings
        .smtp
        .from
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim_end_matches('>').trim().to_owned())
        .filter(|d| !d.is_empty())
        .context("DESKHAND_MAIL_FROM has no domain")?;
    Ok(DecideSettings {
        policy: ReviewPolicy {
            reviewer_max_action_cents: settings.review.reviewer_max_action_cents,
            coupon_value_cents: settings.review.coupon_value_cents,
        },
        delivery_policy: settings.agent.policy(),
        memory: settings.agent.memory(),
        mail_domain,
        decided_topic: settings.topics.decided.clone(),
        inbound_topic: settings.topics.inbound.clone(),
        today: settings.agent.today,
    })
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

pub fn client_settings(settings: &Settings) -> ClientSettings {
    ClientSettings {
        brokers: settings.kafka.brokers.clone(),
        extra: settings.kafka.properties.clone(),
    }
}

/// The consumer of `topic` for `group_id`, dead-lettering to `dlq_topic`, as configured.
pub fn consumer_settings(
    settings: &Settings,
    group_id: &str,
    topic: &str,
    dlq_topic: &str,
) -> ConsumerSettings {
    ConsumerSettings {
        client: client_settings(settings),
        group_id: group_id.to_owned(),
        topic: topic.to_owned(),
        dlq_topic: dlq_topic.to_owned(),
        max_in_flight: settings.worker.max_in_flight,
        session_timeout: settings.kafka.session_timeout,
        fetch_wait_max: settings.kafka.fetch_wait_max,
        max_poll_interval: settings.kafka.max_poll_interval,
        auto_commit_interval: settings.kafka.auto_commit_interval,
        drain_timeout: settings.worker.drain_timeout,
        max_retry_backoff: settings.worker.max_retry_backoff,
    }
}

pub fn decode_limits(settings: &Settings) -> deskhand_contracts::DecodeLimits {
    deskhand_contracts::DecodeLimits {
        max_event_bytes: settings.worker.max_event_bytes,
        mail: MailLimits {
            max_depth: settings.worker.mime_max_depth,
            max_parts: settings.worker.mime_max_parts,
        },
    }
}

#[derive(Debug, Clone)]
struct Health {
    store: Store,
    broker: BrokerCheck,
}

fn health_router(state: Health) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

/// Ready when both the database and a broker answer (the broker's answer is cached: a
/// probe storm does not become a metadata storm).
async fn ready(State(state): State<Health>) -> (StatusCode, String) {
    let database = state.store.ping().await.is_ok();
    let broker = state.broker.reachable().await;
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

/// The Prometheus text exposition of every metric this process recorded.
async fn render_metrics() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::telemetry::metrics().render(),
    )
}

fn up(ok: bool) -> &'static str {
    if ok {
        "up"
    } else {
        "down"
    }
}
