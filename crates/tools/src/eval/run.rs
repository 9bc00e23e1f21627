//! Running cases through the real pipeline: over the broker (`--via kafka`: the inbound
//! event is published, the worker drafts it, the draft is read back from the approval
//! topic) or in-process (`--via direct`: the same decoder and graph, no broker).

use super::dataset::{Case, Dataset};
use super::world::{case_id, load_case, LoadedCase, CUSTOMER_ID};
use anyhow::Context as _;
use deskhand::application::client_settings;
use deskhand::engine::AnyEngine;
use deskhand::settings::Secret;
use deskhand::{Application, Roles, Settings};
use deskhand_contracts::{decode_inbound, DraftEvent};
use deskhand_core::{DraftId, RunContext, TriageGraph};
use deskhand_db::{DatabaseSettings, Store};
use deskhand_kafka::{ProducerSettings, Publisher, TopicReader};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use time::Date;
use tokio_util::sync::CancellationToken;

/// How the cases reach the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    Kafka,
    Direct,
}

/// One run of one case.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub draft: Option<DraftEvent>,
    /// Why there is no draft (dead-lettered, timed out, failed).
    pub error: Option<String>,
    pub latency_ms: f64,
    pub loaded: LoadedCase,
}

/// An HTML-only message as a mail client sends it, base64 for the event's `raw` field.
fn html_message(from: &str, html: &str) -> String {
    use base64::Engine as _;
    let message = format!(
        "From: {from}\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n"
    );
    base64::engine::general_purpose::STANDARD.encode(message)
}

/// The inbound event the CRM would publish for `case`.
pub fn inbound_event(case: &Case, event_id: &str) -> serde_json::Value {
    let today = case.today.expect("the loader dates every case");
    let customer = case.customer.clone();
    let from = case.email.from.clone().unwrap_or_else(|| match &customer {
        Some(c) => format!("{} <{}>", c.name, c.email),
        None => "Sam Taylor <sam@example.com>".into(),
    });
    let mut email = json!({"from": from, "message_id": format!("<{event_id}@crm.example>")});
    let html_message = case
        .email
        .html
        .as_ref()
        .map(|html| html_message(&from, html));
    for (key, value) in [
        ("subject", &case.email.subject),
        ("text", &case.email.text),
        ("raw", &case.email.raw),
        ("raw", &html_message),
    ] {
        if let Some(value) = value {
            email[key] = json!(value);
        }
    }
    json!({
        "event_id": event_id,
        "case_id": case_id(case),
        "customer_id": CUSTOMER_ID,
        "customer_name": customer.map_or("Sam Taylor".to_owned(), |c| c.name),
        "received_at": format!("{today}T09:00:00Z"),
        "email": email,
    })
}

/// A fresh database for one evaluation or benchmark run, dropped afterwards.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    pub url: String,
    pub store: Store,
}

impl ScratchDatabase {
    /// `prefix` names the database (`<prefix>_<random>`), on the server of `base_url`.
    pub async fn create(base_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let name = format!(
            "{prefix}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let cut = base_url
            .rfind('/')
            .context("DATABASE_URL has no database name")?;
        let url = format!("{}/{name}", &base_url[..cut]);
        Store::create_database_if_missing(&url)
            .await
            .context("creating the evaluation database (is PostgreSQL running?)")?;
        let store = Store::connect_lazy(&DatabaseSettings {
            url: url.clone(),
            max_connections: 4,
            acquire_timeout: Duration::from_secs(10),
        })?;
        store.migrate().await?;
        Ok(Self {
            // Dropped from the server's maintenance database, which always exists.
            admin_url: format!("{}/postgres", &base_url[..cut]),
            name,
            url,
            store,
        })
    }

    pub async fn drop_database(self) {
        self.store.pool().close().await;
        let Ok(admin) = Store::connect_lazy(&DatabaseSettings {
            url: self.admin_url,
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        }) else {
            return;
        };
        let dropped = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(admin.pool())
        .await;
        if let Err(error) = dropped {
            tracing::warn!(%error, database = %self.name, "could not drop the evaluation database");
        }
    }
}

/// Loads every case's products at once, so the catalog vocabulary the engine starts with
/// covers the whole dataset (as a real shop's catalog would), the same for both `via`s.
async fn load_catalog_union(store: &Store, dataset: &Dataset) -> anyhow::Result<()> {
    let mut conn = store.pool().acquire().await?;
    for (n, case) in dataset.cases.iter().enumerate() {
        for product in &case.given.products {
            super::world::insert_product(
                &mut conn,
                &format!("UNION-{n}-{}", product.reference),
                product,
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs every case `repeat` times; `progress` is called after each run.
pub async fn run_cases(
    settings: &Settings,
    dataset: &Dataset,
    via: Via,
    repeat: usize,
    tape: Option<&super::tape::ModelTape>,
    mut progress: impl FnMut(&Case, &CaseRun),
) -> anyhow::Result<Vec<Vec<CaseRun>>> {
    // A replayed run fails the case whose model request had no recording.
    let checked = |mut run: CaseRun| {
        if let Some(misses) = tape.map(|t| t.take_misses()).filter(|m| *m > 0) {
            run.error = Some(format!("{misses} model request(s) had no recording"));
        }
        run
    };
    let database = ScratchDatabase::create(settings.database.url.expose(), "deskhand_eval").await?;
    let outcome = async {
        load_catalog_union(&database.store, dataset).await?;
        let vocabulary = database.store.catalog_vocabulary().await?;
        // Read once: the engine of every day's run shares the model.
        let model = settings.triage.load_model()?;
        let reply_languages = settings.triage.reply_languages()?;
        // The dataset's own knowledge base, or the configured one (the worker's, over Kafka).
        let mut settings = settings.clone();
        if let Some(dir) = &dataset.knowledge {
            settings.knowledge.dir = dir.clone();
        }
        let knowledge = settings.knowledge.open()?;
        let mut runs: Vec<Vec<CaseRun>> = vec![Vec::new(); dataset.cases.len()];
        // The worker's business date is one setting: cases run grouped by their date.
        let mut by_day: BTreeMap<Date, Vec<usize>> = BTreeMap::new();
        for (n, case) in dataset.cases.iter().enumerate() {
            by_day
                .entry(case.today.expect("dated"))
                .or_default()
                .push(n);
        }
        let nonce = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        for (day, indices) in by_day {
            let mut settings = settings.clone();
            settings.database.url = Secret::new(database.url.clone());
            settings.agent.today = Some(day);
            match via {
                Via::Direct => {
                    let engine =
                        AnyEngine::build(settings.llm.engine(), model.clone(), vocabulary.clone())?;
                    let graph = TriageGraph::new(
                        engine,
                        database.store.clone(),
                        settings
                            .agent
                            .graph(reply_languages.clone(), settings.knowledge.graph()),
                    )
                    .with_knowledge(knowledge.clone());
                    for k in 0..repeat {
                        for &n in &indices {
                            let case = &dataset.cases[n];
                            let run = checked(
                                run_direct(
                                    &settings,
                                    &graph,
                                    &database.store,
                                    case,
                                    &format!("{nonce}-{k}"),
                                )
                                .await?,
                            );
                            progress(case, &run);
                            runs[n].push(run);
                        }
                    }
                }
                Via::Kafka => {
                    // The worker reads the catalog's words when it starts: give it the
                    // whole dataset's catalog again (the last case replaced it).
                    sqlx::query(&format!(
                        "TRUNCATE {} RESTART IDENTITY CASCADE",
                        super::world::BUSINESS_TABLES
                    ))
                    .execute(database.store.pool())
                    .await?;
                    load_catalog_union(&database.store, dataset).await?;
                    let mut kafka = KafkaRunner::start(settings, &nonce).await?;
                    for k in 0..repeat {
                        for &n in &indices {
                            let case = &dataset.cases[n];
                            let run = checked(
                                kafka
                                    .run(&database.store, case, &format!("{nonce}-{k}"))
                                    .await?,
                            );
                            progress(case, &run);
                            runs[n].push(run);
                        }
                    }
                    kafka.stop().await?;
                }
            }
        }
        anyhow::Ok(runs)
    }
    .await;
    database.drop_database().await;
    outcome
}

async fn run_direct(
    settings: &Settings,
    graph: &TriageGraph<AnyEngine, Store>,
    store: &Store,
    case: &Case,
    run_tag: &str,
) -> anyhow::Result<CaseRun> {
    let loaded = load_case(store, case).await?;
    let event_id = format!("{}-{run_tag}", case_id(case));
    let payload = serde_json::to_vec(&inbound_event(case, &event_id))?;
    let started = Instant::now();
    let limits = deskhand::application::decode_limits(settings);
    let email = match decode_inbound(&payload, &limits) {
        Ok(email) => email,
        Err(error) => {
            return Ok(CaseRun {
                draft: None,
                error: Some(format!("dead-lettered: {error}")),
                latency_ms: started.elapsed().as_secs_f64() * 1e3,
                loaded,
            })
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let context = RunContext {
        draft_id: DraftId::new(),
        now,
        today: case.today.expect("dated"),
        trace_id: uuid::Uuid::new_v4().simple().to_string(),
        deadline: deskhand_core::ports::Deadline::after(settings.llm.email_budget),
    };
    let outcome = graph.run(&email, context).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(match outcome {
        Ok(triage) => CaseRun {
            draft: Some(DraftEvent::from(&triage.draft).with_email(&email)),
            error: None,
            latency_ms,
            loaded,
        },
        Err(error) => CaseRun {
            draft: None,
            error: Some(format!("graph failed: {error}")),
            latency_ms,
            loaded,
        },
    })
}

/// Reads the approval topic until the draft of `event_id` arrives (others are skipped).
pub(crate) async fn wait_for_draft(
    reader: &TopicReader,
    event_id: &str,
    timeout: Duration,
) -> anyhow::Result<DraftEvent> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(message) = reader.next(Duration::from_millis(500)).await {
            let draft: DraftEvent = serde_json::from_slice(&message.payload)?;
            if draft.event_id == event_id {
                return Ok(draft);
            }
        }
    }
    anyhow::bail!("no draft for {event_id} within {} s", timeout.as_secs())
}

/// A worker on its own topics, fed one case at a time.
struct KafkaRunner {
    publisher: Publisher,
    reader: TopicReader,
    dead_letters: TopicReader,
    inbound: String,
    shutdown: CancellationToken,
    worker: tokio::task::JoinHandle<anyhow::Result<()>>,
    _embedded:
        Option<rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>>,
}

impl KafkaRunner {
    async fn start(mut settings: Settings, nonce: &str) -> anyhow::Result<Self> {
        let day = settings
            .agent
            .today
            .map(|d| d.to_string())
            .unwrap_or_else(|| "undated".to_owned());
        settings.topics.inbound = format!("deskhand-eval-{nonce}-{day}-inbound");
        settings.topics.approval = format!("deskhand-eval-{nonce}-{day}-approval");
        settings.topics.dlq = format!("deskhand-eval-{nonce}-{day}-dlq");
        settings.kafka.group_id = format!("deskhand-eval-{nonce}-{day}");
        settings.kafka.create_topics = true;
        let embedded = crate::demo::embedded_broker(&mut settings)?;
        if embedded.is_none() {
            deskhand_kafka::ensure_topics(
                &client_settings(&settings),
                &[
                    (settings.topics.inbound.as_str(), 1),
                    (settings.topics.approval.as_str(), 1),
                    (settings.topics.dlq.as_str(), 1),
                ],
            )
            .await?;
            settings.kafka.create_topics = false;
        }
        let client = client_settings(&settings);
        let publisher = Publisher::new(&ProducerSettings {
            client: client.clone(),
            message_timeout: Duration::from_secs(30),
            max_message_bytes: settings.kafka.max_message_bytes,
        })?;
        let reader = TopicReader::new(&client, &settings.topics.approval)?;
        let dead_letters = TopicReader::new(&client, &settings.topics.dlq)?;
        let inbound = settings.topics.inbound.clone();
        let app = Application::build(settings, Roles::WORKER).await?;
        let shutdown = CancellationToken::new();
        let worker = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let mut runner = Self {
            publisher,
            reader,
            dead_letters,
            inbound,
            shutdown,
            worker,
            _embedded: embedded,
        };
        runner.warm_up(&day).await?;
        Ok(runner)
    }

    /// One email through the worker before any case: once its draft is back, the worker
    /// has loaded its catalog vocabulary and joined its group, so resetting the database
    /// for the first case cannot race with its start.
    async fn warm_up(&mut self, day: &str) -> anyhow::Result<()> {
        let event_id = format!("eval-warm-up-{day}-{}", uuid::Uuid::new_v4().simple());
        let event = json!({
            "event_id": event_id, "case_id": "eval-warm-up", "customer_id": CUSTOMER_ID,
            "received_at": format!("{day}T08:00:00Z"),
            "email": {"from": "sam@example.com", "subject": "Thanks", "text": "Thank you!"},
        });
        self.publisher
            .send(
                &self.inbound,
                "eval-warm-up",
                &serde_json::to_vec(&event)?,
                &[],
            )
            .await?;
        wait_for_draft(&self.reader, &event_id, Duration::from_secs(120))
            .await
            .context("the evaluation worker did not start")?;
        Ok(())
    }

    async fn run(&mut self, store: &Store, case: &Case, run_tag: &str) -> anyhow::Result<CaseRun> {
        let loaded = load_case(store, case).await?;
        let event_id = format!("{}-{run_tag}", case_id(case));
        let payload = serde_json::to_vec(&inbound_event(case, &event_id))?;
        let started = Instant::now();
        self.publisher
            .send(&self.inbound, &case_id(case), &payload, &[])
            .await
            .context("publishing the case's email")?;
        // Cases run one at a time: the next draft (or dead letter) is this case's.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            tokio::select! {
                message = self.reader.next(Duration::from_millis(200)) => {
                    if let Some(message) = message {
                        let draft: DraftEvent = serde_json::from_slice(&message.payload)?;
                        if draft.event_id == event_id {
                            return Ok(CaseRun {
                                draft: Some(draft),
                                error: None,
                                latency_ms: started.elapsed().as_secs_f64() * 1e3,
                                loaded,
                            });
                        }
                    }
                }
                dead = self.dead_letters.next(Duration::from_millis(200)) => {
                    if let Some(dead) = dead {
                        let reason = dead.headers.get(deskhand_kafka::dlq_headers::REASON).cloned().unwrap_or_default();
                        return Ok(CaseRun {
                            draft: None,
                            error: Some(format!("dead-lettered: {reason}")),
                            latency_ms: started.elapsed().as_secs_f64() * 1e3,
                            loaded,
                        });
                    }
                }
            }
            if Instant::now() > deadline {
                return Ok(CaseRun {
                    draft: None,
                    error: Some("no draft within 60 s".into()),
                    latency_ms: started.elapsed().as_secs_f64() * 1e3,
                    loaded,
                });
            }
        }
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.worker.await.context("worker panicked")?
    }
}
