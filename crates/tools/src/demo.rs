//! `deskhand demo`: the whole pipeline on sample emails, on a real Kafka-protocol broker
//! (the configured one, or an embedded librdkafka mock cluster) and the real database.

use anyhow::Context as _;
use deskhand::application::client_settings;
use deskhand::{Application, Roles, Settings};
use deskhand_contracts::DraftEvent;
use deskhand_db::{DatabaseSettings, Store};
use deskhand_kafka::consumer::dlq_headers;
use deskhand_kafka::{ProducerSettings, Publisher, TopicReader};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Sample inbound events; each line is one CRM event (the last one is deliberately broken).
const INBOX: &str = include_str!("../../../eval/demo/inbox.jsonl");
/// The demo's customers and deliveries, dated relative to today.
const FIXTURES: &str = include_str!("../../../eval/demo/fixtures.sql");

/// When no broker is configured: starts librdkafka's mock cluster on a local port with
/// the worker's topics and points `settings` at it. Keep the cluster alive as long as the
/// broker is needed; dropping it stops the broker.
pub(crate) fn embedded_broker(
    settings: &mut Settings,
) -> anyhow::Result<
    Option<rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>>,
> {
    if !settings.kafka.brokers.trim().is_empty() {
        println!("Using the Kafka broker at {}", settings.kafka.brokers);
        return Ok(None);
    }
    let cluster = rdkafka::mocking::MockCluster::new(1).context("starting the embedded broker")?;
    // librdkafka's mock cluster does not implement CreateTopics; it has its own call.
    let partitions = settings.kafka.partitions;
    for (topic, partitions) in [
        (&settings.topics.inbound, partitions),
        (&settings.topics.approval, partitions),
        (&settings.topics.dlq, 1),
    ] {
        cluster
            .create_topic(topic, partitions, 1)
            .context("creating embedded topics")?;
    }
    settings.kafka.brokers = cluster.bootstrap_servers();
    settings.kafka.create_topics = false;
    println!(
        "Embedded Kafka-protocol broker listening on {}",
        settings.kafka.brokers
    );
    Ok(Some(cluster))
}

pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    // Kept alive until the end of the demo: dropping it stops the embedded broker.
    let embedded = embedded_broker(&mut settings)?;
    // Each run is its own world: fresh ids, so earlier runs' drafts do not count.
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    settings.kafka.group_id = format!("deskhand-demo-{run_id}");
    // The demo's fixtures are dated relative to the real today.
    settings.agent.today = None;
    // The demo drives the worker in-process; a short drain keeps Ctrl-C snappy.
    settings.worker.drain_timeout = settings.worker.drain_timeout.min(Duration::from_secs(5));

    let url = settings.database.url.expose().to_owned();
    Store::create_database_if_missing(&url)
        .await
        .with_context(|| "creating the database (is PostgreSQL running? set DATABASE_URL)")?;
    let store = Store::connect_lazy(&DatabaseSettings {
        url,
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })?;
    store.migrate().await.context("applying migrations")?;
    let catalog_empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM products)")
        .fetch_one(store.pool())
        .await?;
    if catalog_empty {
        let today = time::OffsetDateTime::now_utc().date();
        let report = store
            .seed(&deskhand_db::SeedSpec {
                customers: 200,
                deliveries_per_customer: 10,
                seed: 42,
                today,
            })
            .await
            .context("seeding the demo shop")?;
        println!(
            "Seeded a demo shop: {} products, {} customers, {} deliveries",
            report.products, report.customers, report.deliveries
        );
    }
    sqlx::raw_sql(FIXTURES)
        .execute(store.pool())
        .await
        .context("loading demo fixtures")?;

    let app = Application::build(settings.clone(), Roles::WORKER).await?;
    let shutdown = CancellationToken::new();
    let mut running = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    tokio::select! {
        outcome = &mut running => {
            outcome.context("worker panicked")??;
            anyhow::bail!("the worker stopped before the demo finished");
        }
        shown = show(&settings, &run_id) => {
            shutdown.cancel();
            running.await.context("worker panicked")??;
            drop(embedded);
            shown
        }
    }
}

/// Publishes the sample inbox and prints the drafts and dead letters that come back.
async fn show(settings: &Settings, run_id: &str) -> anyhow::Result<()> {
    let client = client_settings(settings);
    let publisher = Publisher::new(&ProducerSettings {
        client: client.clone(),
        message_timeout: Duration::from_secs(30),
        max_message_bytes: settings.kafka.max_message_bytes,
    })?;
    let mut expected = Vec::new();
    let mut subjects = BTreeMap::new();
    for line in INBOX.lines().filter(|l| !l.trim().is_empty()) {
        let mut event: serde_json::Value = serde_json::from_str(line).context("demo inbox line")?;
        let event_id = format!("{}-{run_id}", event["event_id"].as_str().unwrap_or("demo"));
        event["event_id"] = serde_json::Value::String(event_id.clone());
        let case_id = event["case_id"].as_str().unwrap_or("").to_owned();
        let who = event["customer_name"].as_str().unwrap_or("?").to_owned();
        let subject = event["email"]["subject"]
            .as_str()
            .unwrap_or("(MIME message)")
            .to_owned();
        subjects.insert(event_id.clone(), format!("{who}: {subject}"));
        let payload = serde_json::to_vec(&event)?;
        publisher
            .send(&settings.topics.inbound, &case_id, &payload, &[])
            .await?;
        expected.push(event_id);
    }
    println!(
        "Published {} CRM email events to {}\n",
        expected.len(),
        settings.topics.inbound
    );

    let drafts_reader = TopicReader::new(&client, &settings.topics.approval)?;
    let drafts: Vec<DraftEvent> = drafts_reader
        .read_until(Duration::from_secs(60), |read| {
            ours(read, run_id).count() >= expected.len() - 1
        })
        .await
        .iter()
        .filter_map(|m| serde_json::from_slice::<DraftEvent>(&m.payload).ok())
        .filter(|d| d.event_id.ends_with(run_id))
        .collect();
    for draft in &drafts {
        print_draft(
            draft,
            subjects
                .get(&draft.event_id)
                .map(String::as_str)
                .unwrap_or(""),
        );
    }

    let dlq_reader = TopicReader::new(&client, &settings.topics.dlq)?;
    let dead = dlq_reader
        .read_until(Duration::from_secs(10), |read| {
            read.iter()
                .any(|m| String::from_utf8_lossy(&m.payload).contains(run_id))
        })
        .await;
    let dead: Vec<_> = dead
        .into_iter()
        .filter(|m| String::from_utf8_lossy(&m.payload).contains(run_id))
        .collect();
    for message in &dead {
        println!(
            "── dead letter on {} ({}): {}",
            settings.topics.dlq,
            message
                .headers
                .get(dlq_headers::REASON_CODE)
                .map(String::as_str)
                .unwrap_or("?"),
            message
                .headers
                .get(dlq_headers::REASON)
                .map(String::as_str)
                .unwrap_or("?"),
        );
    }
    println!(
        "\n{} drafts on {}, {} dead letter(s). Drafts are stored in Postgres (table drafts).",
        drafts.len(),
        settings.topics.approval,
        dead.len()
    );
    anyhow::ensure!(
        drafts.len() == expected.len() - 1,
        "not every demo email got a draft"
    );
    Ok(())
}

fn ours<'a>(
    read: &'a [deskhand_kafka::ReadMessage],
    run_id: &'a str,
) -> impl Iterator<Item = &'a deskhand_kafka::ReadMessage> + 'a {
    read.iter().filter(move |m| {
        m.headers
            .get(deskhand_contracts::headers::EVENT_ID)
            .is_some_and(|id| id.ends_with(run_id))
    })
}

fn print_draft(draft: &DraftEvent, about: &str) {
    println!("── {} · {}", draft.case_id, about);
    println!(
        "   route: {}   topic: {}   urgency: {}   confidence: {:.2}   engine: {}",
        draft.route,
        draft.classification.topic,
        draft.classification.urgency,
        draft.classification.confidence.get(),
        draft.engine
    );
    println!("   summary: {}", draft.summary);
    if let Some(escalation) = &draft.escalation {
        println!("   escalated: {}", escalation.reason);
    }
    match &draft.reply {
        Some(reply) => {
            println!("   reply ({}):", reply.subject);
            for line in reply.body.lines() {
                println!("     | {line}");
            }
        }
        None => println!("   reply: none"),
    }
    for proposed in &draft.proposed_actions {
        let amount = proposed.credits_cents();
        println!(
            "   action {} (runs only on approval): {}{}",
            proposed.id,
            proposed.action.kind(),
            if amount > 0 {
                format!(" {}", deskhand_core::delivery::format_cents(amount))
            } else {
                String::new()
            }
        );
        if let deskhand_core::Action::UpdateShippingAddress(change) = &proposed.action {
            let from = change
                .from
                .as_ref()
                .map_or_else(|| "no address on file".to_owned(), |a| a.one_line());
            println!("     from: {from}\n     to:   {}", change.to.one_line());
        }
    }
    let nodes: Vec<String> = draft
        .trace
        .nodes
        .iter()
        .map(|n| format!("{} {:.2}ms", n.node, n.duration_ms))
        .collect();
    println!("   trace: {}\n", nodes.join(" → "));
}
