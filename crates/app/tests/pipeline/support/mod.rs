//! A test world: a fresh database, fresh topics on the real broker, and helpers to run
//! workers (in-process or as the real binary) and read back what they published; the
//! review service's world is [`review`].

pub mod review;
pub use review::*;

use deskhand::{Application, Roles, Settings};
use deskhand_contracts::DraftEvent;
use deskhand_db::Store;
use deskhand_kafka::{ClientSettings, ProducerSettings, Publisher, ReadMessage, TopicReader};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub type MockCluster =
    rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

pub fn brokers() -> String {
    std::env::var("KAFKA_BROKERS").expect(
        "KAFKA_BROKERS must point at a Kafka-protocol broker for these tests \
         (scripts/broker.sh starts tansu; .ci/run does it for you)",
    )
}

fn admin_database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub struct TestWorld {
    pub db_url: String,
    pub store: Store,
    pub client: ClientSettings,
    pub inbound: String,
    pub approval: String,
    pub dlq: String,
    pub decided: String,
    pub publisher: Publisher,
}

impl TestWorld {
    /// A new database (migrated) and new topics with `partitions` partitions on the
    /// broker of `KAFKA_BROKERS`.
    pub async fn new(partitions: i32) -> Self {
        Self::assemble(partitions, brokers(), None).await
    }

    /// The same on librdkafka's mock cluster, whose broker can be taken down.
    pub async fn on_mock_cluster(partitions: i32, cluster: &MockCluster) -> Self {
        Self::assemble(partitions, cluster.bootstrap_servers(), Some(cluster)).await
    }

    async fn assemble(partitions: i32, brokers: String, mock: Option<&MockCluster>) -> Self {
        let db_name = unique("deskhand_test").replace('-', "_");
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin_database_url())
            .await
            .expect("connect to Postgres");
        sqlx::query(&format!("CREATE DATABASE {db_name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let db_url = {
            let base = admin_database_url();
            let cut = base.rfind('/').expect("database url has a path");
            format!("{}/{db_name}", &base[..cut])
        };
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&db_url)
            .await
            .expect("connect to test database");
        let store = Store::from_pool(pool);
        store.migrate().await.expect("migrate");

        let client = ClientSettings {
            brokers,
            extra: Default::default(),
        };
        let inbound = unique("inbound");
        let approval = unique("approval");
        let dlq = unique("dlq");
        let decided = unique("decided");
        let review_dlq = format!("{approval}.dlq");
        let topics = [
            (inbound.as_str(), partitions),
            (approval.as_str(), partitions),
            (dlq.as_str(), 1),
            (decided.as_str(), partitions),
            (review_dlq.as_str(), 1),
        ];
        match mock {
            // The mock cluster does not implement CreateTopics; it has its own call.
            Some(cluster) => {
                for (topic, partitions) in topics {
                    cluster
                        .create_topic(topic, partitions, 1)
                        .expect("create topic");
                }
            }
            None => deskhand_kafka::ensure_topics(&client, &topics)
                .await
                .expect("create topics"),
        }
        let publisher = Publisher::new(&ProducerSettings {
            client: client.clone(),
            message_timeout: Duration::from_secs(30),
            max_message_bytes: 16 * 1024 * 1024,
        })
        .expect("producer");
        Self {
            db_url,
            store,
            client,
            inbound,
            approval,
            dlq,
            decided,
            publisher,
        }
    }

    /// The worker's connection: the `deskhand_worker` role, which row-level security binds.
    pub fn worker_db_url(&self) -> String {
        self.db_url
            .replacen("://postgres@", "://deskhand_worker@", 1)
    }

    /// The environment a worker of this world runs with (also for the real binary).
    pub fn env(&self, group: &str) -> Vec<(String, String)> {
        let worker_url = self.worker_db_url();
        [
            ("DATABASE_URL", worker_url.as_str()),
            ("KAFKA_BROKERS", self.client.brokers.as_str()),
            ("DESKHAND_TOPIC_INBOUND", self.inbound.as_str()),
            ("DESKHAND_TOPIC_APPROVAL", self.approval.as_str()),
            ("DESKHAND_TOPIC_DLQ", self.dlq.as_str()),
            ("DESKHAND_TOPIC_DECIDED", self.decided.as_str()),
            ("DESKHAND_GROUP_ID", group),
            ("DESKHAND__KAFKA__CREATE_TOPICS", "false"),
            ("DESKHAND__KAFKA__SESSION_TIMEOUT_MS", "6000"),
            ("DESKHAND__WORKER__DRAIN_TIMEOUT_MS", "10000"),
            ("DESKHAND__WORKER__MAX_RETRY_BACKOFF_MS", "1000"),
            ("DESKHAND__RELAY__POLL_INTERVAL_MS", "50"),
            // `deskhand worker` serves metrics; tests run side by side on free ports.
            ("DESKHAND_HTTP_ADDR", "127.0.0.1:0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    pub fn settings(&self, group: &str, overrides: &[(&str, &str)]) -> Settings {
        let mut env = self.env(group);
        env.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        Settings::load_from(&config_dir(), None, &env).expect("test settings")
    }

    /// Starts a worker in this process.
    pub async fn start_worker(&self, group: &str, overrides: &[(&str, &str)]) -> RunningWorker {
        let app = Application::build(self.settings(group, overrides), Roles::WORKER)
            .await
            .expect("build worker");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        RunningWorker { shutdown, handle }
    }

    /// Starts the real `deskhand worker` binary.
    pub fn spawn_binary(&self, group: &str) -> std::process::Child {
        std::process::Command::new(env!("CARGO_BIN_EXE_deskhand"))
            .arg("worker")
            .envs(self.env(group))
            .env("DESKHAND_CONFIG_DIR", config_dir())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("spawn deskhand worker")
    }

    pub async fn publish(&self, events: &[Value]) {
        for event in events {
            let key = event["case_id"].as_str().expect("case_id").to_owned();
            self.publish_raw(&key, &serde_json::to_vec(event).unwrap())
                .await;
        }
    }

    pub async fn publish_raw(&self, key: &str, payload: &[u8]) {
        self.publisher
            .send(&self.inbound, key, payload, &[])
            .await
            .expect("publish inbound event");
    }

    /// Reads the approval topic until `expected` distinct events have a draft (or `timeout`
    /// passes with nothing new), returning every message read.
    pub async fn read_drafts(
        &self,
        expected: usize,
        idle: Duration,
    ) -> Vec<(ReadMessage, DraftEvent)> {
        let reader = TopicReader::new(&self.client, &self.approval).expect("reader");
        let read = reader
            .read_until(idle, |read| distinct_events(read) >= expected)
            .await;
        read.into_iter()
            .map(|m| {
                let draft = serde_json::from_slice(&m.payload).expect("draft event parses");
                (m, draft)
            })
            .collect()
    }

    /// Everything on the dead-letter topic (reads until it is idle for `idle`).
    pub async fn dead_letters(&self, idle: Duration) -> Vec<ReadMessage> {
        let reader = TopicReader::new(&self.client, &self.dlq).expect("reader");
        reader.read_until(idle, |_| false).await
    }

    /// Waits until the consumer group committed every message of the inbound topic.
    pub async fn wait_caught_up(&self, group: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let (committed, ends) = self.group_position(group).await;
            if committed == ends {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "group {group} did not catch up: committed {committed:?}, ends {ends:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Per partition: the group's committed offset and the partition's end.
    pub async fn group_position(&self, group: &str) -> (BTreeMap<i32, i64>, BTreeMap<i32, i64>) {
        let brokers = self.client.brokers.clone();
        let topic = self.inbound.clone();
        let group = group.to_owned();
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .set("group.id", &group)
                .create()
                .expect("offset probe");
            let metadata = consumer
                .fetch_metadata(Some(&topic), Duration::from_secs(5))
                .expect("metadata");
            let partitions: Vec<i32> = metadata.topics()[0]
                .partitions()
                .iter()
                .map(|p| p.id())
                .collect();
            let mut ends = BTreeMap::new();
            let mut list = TopicPartitionList::new();
            for &p in &partitions {
                let (_, high) = consumer
                    .fetch_watermarks(&topic, p, Duration::from_secs(5))
                    .expect("watermarks");
                ends.insert(p, high);
                list.add_partition(&topic, p);
            }
            let committed = consumer
                .committed_offsets(list, Duration::from_secs(5))
                .expect("committed");
            let committed = partitions
                .iter()
                .map(|&p| {
                    let offset = match committed.find_partition(&topic, p).map(|e| e.offset()) {
                        Some(Offset::Offset(o)) => o,
                        _ => 0,
                    };
                    (p, offset)
                })
                .collect();
            (committed, ends)
        })
        .await
        .expect("probe task")
    }
}

/// The end state every fault test wants: each event has exactly one draft, on the topic
/// and in the store, and nothing was dead-lettered (`why` says why nothing should be).
pub async fn assert_exactly_one_draft_each(
    world: &TestWorld,
    drafts: &[(ReadMessage, DraftEvent)],
    events: &[Value],
    why: &str,
) {
    assert_one_draft_per_event(drafts, &event_ids(events));
    assert_eq!(
        world.store.count_drafts().await.unwrap(),
        events.len() as i64
    );
    assert!(
        world.dead_letters(Duration::from_secs(3)).await.is_empty(),
        "{why}"
    );
}

/// Waits until the store holds at least `at_least` drafts (two minutes at most).
pub async fn wait_for_drafts(world: &TestWorld, at_least: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = world.store.count_drafts().await.unwrap();
        if done >= at_least {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no progress ({done} drafts)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub struct RunningWorker {
    pub shutdown: CancellationToken,
    pub handle: JoinHandle<anyhow::Result<()>>,
}

impl RunningWorker {
    /// Stops the worker through its shutdown path and waits for it to exit cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(60), self.handle)
            .await
            .expect("worker stops within a minute")
            .expect("worker task does not panic")
            .expect("worker exits cleanly");
    }
}

pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

pub fn distinct_events(read: &[ReadMessage]) -> usize {
    read.iter()
        .filter_map(|m| m.headers.get("deskhand.event_id"))
        .collect::<BTreeSet<_>>()
        .len()
}

/// A valid inbound event with a plain-text body.
pub fn text_event(event_id: &str, case_id: &str, customer_id: i64, text: &str) -> Value {
    json!({
        "event_id": event_id,
        "case_id": case_id,
        "customer_id": customer_id,
        "customer_name": "Test Customer",
        "received_at": "2026-11-20T10:00:00Z",
        "email": {"from": "customer@example.com", "subject": "Where is my order?", "text": text}
    })
}

/// `n` events spread round-robin over `cases` cases; event ids carry the case and the
/// position within the case (`<prefix>-c<case>-<seq>`).
pub fn interleaved_events(prefix: &str, cases: usize, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let case = i % cases;
            let seq = i / cases;
            text_event(
                &format!("{prefix}-c{case}-{seq:04}"),
                &format!("{prefix}-case-{case}"),
                1 + case as i64,
                "Hi, my package has not arrived yet. Can you check the tracking?",
            )
        })
        .collect()
}

/// Asserts every event id has exactly one distinct draft id on the topic.
pub fn assert_one_draft_per_event(
    drafts: &[(ReadMessage, DraftEvent)],
    expected: &BTreeSet<String>,
) {
    let mut by_event: BTreeMap<&str, BTreeSet<uuid::Uuid>> = BTreeMap::new();
    for (_, draft) in drafts {
        by_event
            .entry(draft.event_id.as_str())
            .or_default()
            .insert(draft.draft_id);
    }
    let seen: BTreeSet<String> = by_event.keys().map(|k| k.to_string()).collect();
    let missing: Vec<_> = expected.difference(&seen).collect();
    let unexpected: Vec<_> = seen.difference(expected).collect();
    assert!(
        missing.is_empty(),
        "{} events have no draft, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        unexpected.is_empty(),
        "drafts for unknown events: {unexpected:?}"
    );
    let doubled: Vec<_> = by_event.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        doubled.is_empty(),
        "events with two different drafts: {doubled:?}"
    );
}

pub fn event_ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A TCP forwarder whose link can be cut: an outage of whatever stands behind it, as the
/// client sees one (existing connections reset, new ones refused).
pub struct CuttableLink {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl CuttableLink {
    pub async fn to(target: &str) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let target = target.to_owned();
        let accept = {
            let up = up.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        continue;
                    };
                    if !up.load(Ordering::SeqCst) {
                        // Refused: the client sees the connection closed at once.
                        drop(inbound);
                        continue;
                    }
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap().push(task.abort_handle());
                }
            })
        };
        Self {
            port,
            up,
            connections,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones until [`CuttableLink::restore`].
    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for CuttableLink {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// The cents a proposed refund credits; `None` for an action that is not a refund.
pub fn refund_cents(proposed: &deskhand_core::ProposedAction) -> Option<i64> {
    match &proposed.action {
        deskhand_core::Action::RefundDeliveryFee(refund) => Some(refund.amount_cents),
        deskhand_core::Action::IssueCoupon(_)
        | deskhand_core::Action::CancelOrder(_)
        | deskhand_core::Action::UpdateShippingAddress(_)
        | deskhand_core::Action::StartReturn(_) => None,
    }
}

/// The value of the sample of `name` whose labels include every pair of `labels`.
pub fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (label_part, value) = match rest.strip_prefix('{') {
            Some(labelled) => labelled.split_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        labels
            .iter()
            .all(|(k, v)| label_part.contains(&format!("{k}=\"{v}\"")))
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}
