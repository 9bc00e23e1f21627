//! `deskhand bench`: inbound event → draft on the approval topic, measured on a real broker
//! (`KAFKA_BROKERS`, or the embedded one) and a seeded scratch database, next to a floor
//! (consume → one insert → produce over the same broker and database) measured in the
//! same run. Prints a table, then one JSON line (a contract for scripts).

use crate::eval::run::{wait_for_draft, ScratchDatabase};
use anyhow::Context as _;
use deskhand::application::client_settings;
use deskhand::settings::Secret;
use deskhand::Settings;
use deskhand_kafka::{ProducerSettings, Publisher, TopicReader};
use futures_util::StreamExt as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message as _;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub emails: usize,
    /// Simulated model latency per call; `None`: the offline engine.
    pub llm_latency_ms: Option<u64>,
    pub in_flight: usize,
    pub customers: i64,
    /// Emails per second to publish at; `None`: as fast as the producer goes.
    pub rate: Option<f64>,
    /// Emails per case (per-case order is checked).
    pub emails_per_case: usize,
    /// Emails run through the pipeline before measuring, in cases of their own.
    pub warm_up: usize,
}

struct Measured {
    /// All drafts over the whole run, from the first publish to the last draft.
    emails_per_s: f64,
    /// Between the 10th and the 90th percentile of arrivals: the rate once the pipeline is
    /// full, without the start (the first drafts wait a whole graph run) and the tail.
    sustained_emails_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    received: usize,
    order_violations: usize,
    /// Mean time in each graph node, from the drafts' traces (empty for the floor).
    node_mean_ms: BTreeMap<String, f64>,
}

pub async fn run(mut settings: Settings, options: &BenchOptions) -> anyhow::Result<()> {
    let nonce = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    settings.topics.inbound = format!("deskhand-bench-{nonce}-inbound");
    settings.topics.approval = format!("deskhand-bench-{nonce}-approval");
    settings.topics.dlq = format!("deskhand-bench-{nonce}-dlq");
    settings.kafka.group_id = format!("deskhand-bench-{nonce}");
    settings.worker.max_in_flight = options.in_flight.max(1);
    let _embedded = crate::demo::embedded_broker(&mut settings)?;
    if settings.kafka.create_topics {
        let partitions = settings.kafka.partitions;
        deskhand_kafka::ensure_topics(
            &client_settings(&settings),
            &[
                (settings.topics.inbound.as_str(), partitions),
                (settings.topics.approval.as_str(), partitions),
                (settings.topics.dlq.as_str(), 1),
                (
                    format!("{}-floor-in", settings.topics.inbound).as_str(),
                    partitions,
                ),
                (
                    format!("{}-floor-out", settings.topics.inbound).as_str(),
                    partitions,
                ),
            ],
        )
        .await?;
        settings.kafka.create_topics = false;
    }

    let database =
        ScratchDatabase::create(settings.database.url.expose(), "deskhand_bench").await?;
    let outcome = measure(&mut settings, &database, options).await;
    database.drop_database().await;
    outcome
}

async fn measure(
    settings: &mut Settings,
    database: &ScratchDatabase,
    options: &BenchOptions,
) -> anyhow::Result<()> {
    let today = time::OffsetDateTime::now_utc().date();
    settings.agent.today = Some(today);
    settings.database.url = Secret::new(database.url.clone());
    let seeding = Instant::now();
    let seeded = database
        .store
        .seed(&deskhand_db::SeedSpec {
            customers: options.customers,
            deliveries_per_customer: 2,
            seed: 7,
            today,
        })
        .await
        .context("seeding the benchmark shop")?;
    eprintln!(
        "seeded {} customers, {} deliveries in {:.1}s",
        seeded.customers,
        seeded.deliveries,
        seeding.elapsed().as_secs_f64()
    );

    // The simulated model answers every step after the configured latency.
    let _model = match options.llm_latency_ms {
        Some(latency) => {
            let delay = Duration::from_millis(latency);
            let server = deskhand_llm_script::ScriptedLlm::start(move |request, _| {
                deskhand_llm_script::Turn::Delay(delay, Box::new(simulated_answer(request)))
            })
            .await;
            settings.llm.api_key = Secret::new("bench");
            settings.llm.base_url = server.base_url();
            settings.llm.call_timeout = settings.llm.call_timeout.max(delay * 4);
            Some(server)
        }
        None => {
            settings.llm.api_key = Secret::new("");
            None
        }
    };

    // One tracking number per customer that will write: each email triggers a real lookup.
    let cases = options.emails.div_ceil(options.emails_per_case.max(1));
    let customers: Vec<i64> = (0..cases as i64)
        .map(|c| (c * 7919) % options.customers.max(1) + 1)
        .collect();
    let numbers: BTreeMap<i64, String> = sqlx::query_as::<_, (i64, String)>(
        "SELECT DISTINCT ON (customer_id) customer_id, tracking_number FROM deliveries
         WHERE customer_id = ANY($1) ORDER BY customer_id, delivery_id",
    )
    .bind(&customers)
    .fetch_all(database.store.pool())
    .await?
    .into_iter()
    .collect();

    let client = client_settings(settings);
    let publisher = Publisher::new(&ProducerSettings {
        client: client.clone(),
        message_timeout: Duration::from_secs(60),
        max_message_bytes: settings.kafka.max_message_bytes,
    })?;
    let worker = WorkerProcess::spawn(settings)?;
    let reader = TopicReader::new(&client, &settings.topics.approval)?;

    let event = |case: usize, seq: usize| {
        let customer = customers[case];
        let number = numbers.get(&customer).cloned().unwrap_or_default();
        json!({
            "event_id": format!("bench-{case}-{seq:05}"),
            "case_id": format!("bench-case-{case}"),
            "customer_id": customer,
            "customer_name": "Bench Customer",
            "received_at": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("formats"),
            "email": {"from": "bench@example.com", "subject": "Where is my parcel?",
                      "text": format!("Hi, my parcel {number} has not arrived yet. Can you check?")},
        })
    };
    // Warm-up: the worker has joined its group once this one comes back.
    let warm = event(0, 99_999);
    publisher
        .send(
            &settings.topics.inbound,
            "bench-case-0",
            &serde_json::to_vec(&warm)?,
            &[],
        )
        .await?;
    wait_for_draft(&reader, "bench-0-99999", Duration::from_secs(120)).await?;
    if options.warm_up > 0 {
        let warming = Instant::now();
        warm_up(
            &publisher,
            &reader,
            &settings.topics.inbound,
            options.warm_up,
            &event,
            cases,
        )
        .await?;
        // What autovacuum does on a live store. Without statistics, the plans Postgres
        // caches while these tables are nearly empty scan them whole, and each email then
        // costs more than the one before: the measurement would be of a store's first
        // minute, not of its steady state.
        sqlx::query("ANALYZE cases, emails, drafts, case_memory, outbox")
            .execute(database.store.pool())
            .await?;
        eprintln!(
            "warmed up with {} emails in {:.1}s",
            options.warm_up,
            warming.elapsed().as_secs_f64()
        );
    }

    let mut events = Vec::with_capacity(options.emails);
    for n in 0..options.emails {
        events.push((n % cases, n / cases));
    }
    let cpu_before = worker.cpu_seconds();
    let emails = measure_pipeline(
        &publisher,
        &reader,
        &settings.topics.inbound,
        &events,
        &event,
        options.rate,
    )
    .await?;
    let worker_cpu_ms_per_email =
        (worker.cpu_seconds() - cpu_before) * 1e3 / options.emails.max(1) as f64;
    let prompt_growth = if options.llm_latency_ms.is_some() {
        prompt_tokens_at_1_and_20(&publisher, &reader, &settings.topics.inbound, &event, cases)
            .await?
    } else {
        None
    };
    let worker_peak_rss_mb = worker.stop().await?;

    let floor = measure_floor(settings, database, options, &publisher).await?;
    let rss_mb = worker_peak_rss_mb;
    let bench_rss_mb = peak_rss_mb(std::process::id());
    let ratio = emails.emails_per_s / floor.emails_per_s.max(f64::MIN_POSITIVE);

    println!("{:<34} {:>12} {:>12}", "", "deskhand", "floor");
    println!(
        "{:<34} {:>12.1} {:>12.1}",
        "throughput (emails/s)", emails.emails_per_s, floor.emails_per_s
    );
    println!(
        "{:<34} {:>12.1} {:>12.1}",
        "sustained, p10..p90 arrivals (/s)",
        emails.sustained_emails_per_s,
        floor.sustained_emails_per_s
    );
    println!(
        "{:<34} {:>12.1} {:>12.1}",
        "latency p50 (ms)", emails.p50_ms, floor.p50_ms
    );
    println!(
        "{:<34} {:>12.1} {:>12.1}",
        "latency p99 (ms)", emails.p99_ms, floor.p99_ms
    );
    println!(
        "{:<34} {:>12} {:>12}",
        "drafts received", emails.received, floor.received
    );
    println!(
        "{:<34} {:>12}",
        "per-case order violations", emails.order_violations
    );
    println!("{:<34} {:>12.1}", "worker peak RSS (MB)", rss_mb);
    println!(
        "{:<34} {:>12.1}",
        "worker CPU ms per email", worker_cpu_ms_per_email
    );
    println!(
        "{:<34} {:>12.1}",
        "bench process peak RSS (MB)", bench_rss_mb
    );
    for (node, mean) in &emails.node_mean_ms {
        println!("{:<34} {:>12.1}", format!("mean ms in node {node}"), mean);
    }
    if let Some((first, twentieth)) = prompt_growth {
        println!(
            "{:<34} {:>12} {:>12}",
            "prompt tokens at email 1 / 20", first, twentieth
        );
    }
    println!(
        "{}",
        json!({
            "emails": options.emails,
            "customers": options.customers,
            "in_flight": options.in_flight,
            "warm_up": options.warm_up,
            "llm_latency_ms": options.llm_latency_ms,
            "rate": options.rate,
            "emails_per_s": round(emails.emails_per_s),
            "sustained_emails_per_s": round(emails.sustained_emails_per_s),
            "p50_ms": round(emails.p50_ms),
            "p99_ms": round(emails.p99_ms),
            "received": emails.received,
            "order_violations": emails.order_violations,
            "node_mean_ms": emails.node_mean_ms.iter().map(|(k, v)| (k.clone(), json!(round(*v)))).collect::<serde_json::Map<_, _>>(),
            "floor_emails_per_s": round(floor.emails_per_s),
            "floor_sustained_emails_per_s": round(floor.sustained_emails_per_s),
            "floor_p50_ms": round(floor.p50_ms),
            "ratio_to_floor": round(ratio),
            "rss_mb": round(rss_mb),
            "worker_cpu_ms_per_email": round(worker_cpu_ms_per_email),
            "bench_rss_mb": round(bench_rss_mb),
            "prompt_tokens_email_1": prompt_growth.map(|p| p.0),
            "prompt_tokens_email_20": prompt_growth.map(|p| p.1),
        })
    );
    anyhow::ensure!(
        emails.received == options.emails,
        "only {} of {} drafts arrived",
        emails.received,
        options.emails
    );
    Ok(())
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Publishes `events` (at `rate` per second, or at once) and reads the drafts back.
async fn measure_pipeline(
    publisher: &Publisher,
    reader: &TopicReader,
    topic: &str,
    events: &[(usize, usize)],
    event: &impl Fn(usize, usize) -> serde_json::Value,
    rate: Option<f64>,
) -> anyhow::Result<Measured> {
    let payloads: Vec<(String, String, Vec<u8>)> = events
        .iter()
        .map(|&(case, seq)| {
            let e = event(case, seq);
            (
                e["event_id"].as_str().unwrap_or_default().to_owned(),
                e["case_id"].as_str().unwrap_or_default().to_owned(),
                serde_json::to_vec(&e).expect("an event serialises"),
            )
        })
        .collect();
    let sent_at: Arc<std::sync::Mutex<BTreeMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let publishing = {
        let sent_at = sent_at.clone();
        async move {
            let mut pending = futures_util::stream::FuturesUnordered::new();
            for (n, (event_id, key, payload)) in payloads.iter().enumerate() {
                if let Some(rate) = rate {
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    // A send is enqueued when first polled: keep polling the started ones
                    // while waiting, or they would all leave at the end.
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep_until(due.into()) => break,
                            Some(result) = pending.next(), if !pending.is_empty() => result?,
                        }
                    }
                }
                sent_at
                    .lock()
                    .expect("lock")
                    .insert(event_id.clone(), Instant::now());
                pending.push(publisher.send(topic, key, payload, &[]));
                // Keep the producer's queue bounded without waiting for each ack.
                while pending.len() > 10_000 {
                    pending.next().await;
                }
            }
            while let Some(result) = pending.next().await {
                result?;
            }
            anyhow::Ok(())
        }
    };
    let total = events.len();
    let reading = async {
        let mut latencies = Vec::with_capacity(total);
        let mut arrivals = Vec::with_capacity(total);
        let mut last_seq: BTreeMap<String, usize> = BTreeMap::new();
        let mut node_totals: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        let mut violations = 0;
        let mut last = Instant::now();
        while latencies.len() < total {
            let Some(message) = reader.next(Duration::from_secs(60)).await else {
                break;
            };
            let now = Instant::now();
            // Drafts and the floor's messages both carry these two fields.
            let out: serde_json::Value = serde_json::from_slice(&message.payload)?;
            let event_id = out["event_id"].as_str().unwrap_or_default();
            let case_id = out["case_id"].as_str().unwrap_or_default().to_owned();
            let Some(sent) = sent_at.lock().expect("lock").get(event_id).copied() else {
                continue;
            };
            latencies.push(now.duration_since(sent).as_secs_f64() * 1e3);
            for node in out["trace"]["nodes"].as_array().into_iter().flatten() {
                if let (Some(name), Some(ms)) =
                    (node["node"].as_str(), node["duration_ms"].as_f64())
                {
                    let total = node_totals.entry(name.to_owned()).or_default();
                    *total = (total.0 + ms, total.1 + 1);
                }
            }
            arrivals.push(now.duration_since(started).as_secs_f64());
            last = now;
            let seq: usize = event_id
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if let Some(previous) = last_seq.insert(case_id, seq) {
                if seq < previous {
                    violations += 1;
                }
            }
        }
        let node_mean_ms = node_totals
            .into_iter()
            .map(|(name, (total, count))| (name, total / count as f64))
            .collect();
        anyhow::Ok((latencies, arrivals, violations, last, node_mean_ms))
    };
    let (published, read) = tokio::join!(publishing, reading);
    published?;
    let (mut latencies, arrivals, order_violations, last, node_mean_ms) = read?;
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(Measured {
        emails_per_s: latencies.len() as f64 / last.duration_since(started).as_secs_f64().max(1e-9),
        sustained_emails_per_s: sustained_rate(&arrivals),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        received: latencies.len(),
        order_violations,
        node_mean_ms,
    })
}

/// Runs `count` emails, in cases of their own, through the pipeline and waits for their
/// drafts, so the measured run starts on a store with history.
async fn warm_up(
    publisher: &Publisher,
    reader: &TopicReader,
    topic: &str,
    count: usize,
    event: &impl Fn(usize, usize) -> serde_json::Value,
    cases: usize,
) -> anyhow::Result<()> {
    let mut waiting = std::collections::HashSet::with_capacity(count);
    let mut sends = futures_util::stream::FuturesUnordered::new();
    for n in 0..count {
        let mut e = event(n % cases, 0);
        let (event_id, case_id) = (format!("warm-{n}"), format!("warm-case-{n}"));
        e["event_id"] = json!(event_id);
        e["case_id"] = json!(case_id);
        waiting.insert(event_id);
        let payload = serde_json::to_vec(&e)?;
        sends.push(async move { publisher.send(topic, &case_id, &payload, &[]).await });
    }
    while let Some(sent) = sends.next().await {
        sent?;
    }
    while !waiting.is_empty() {
        let message = reader
            .next(Duration::from_secs(60))
            .await
            .with_context(|| format!("{} warm-up drafts did not arrive", waiting.len()))?;
        let out: serde_json::Value = serde_json::from_slice(&message.payload)?;
        waiting.remove(out["event_id"].as_str().unwrap_or_default());
    }
    Ok(())
}

/// Arrivals per second between the 10th and the 90th percentile arrival (seconds since
/// the start, in arrival order); NaN when too few arrived to tell.
fn sustained_rate(arrivals: &[f64]) -> f64 {
    let (from, to) = (arrivals.len() / 10, arrivals.len() * 9 / 10);
    match (arrivals.get(from), arrivals.get(to)) {
        (Some(start), Some(end)) if to > from && end > start => (to - from) as f64 / (end - start),
        _ => f64::NAN,
    }
}

/// Twenty emails in one new case, one after the other: the prompt of the 20th should be
/// about as large as the 1st's, because the memory keeps summaries, not the thread.
async fn prompt_tokens_at_1_and_20(
    publisher: &Publisher,
    reader: &TopicReader,
    topic: &str,
    event: &impl Fn(usize, usize) -> serde_json::Value,
    cases: usize,
) -> anyhow::Result<Option<(u64, u64)>> {
    let mut tokens = Vec::new();
    for seq in 0..20 {
        let mut e = event(cases.saturating_sub(1), 50_000 + seq);
        e["case_id"] = json!("bench-memory-case");
        let id = e["event_id"].as_str().unwrap_or_default().to_owned();
        publisher
            .send(topic, "bench-memory-case", &serde_json::to_vec(&e)?, &[])
            .await?;
        tokens.push(
            wait_for_draft(reader, &id, Duration::from_secs(120))
                .await?
                .trace
                .prompt_tokens,
        );
    }
    Ok(Some((tokens[0], tokens[19])))
}

/// The floor: consume → one insert → produce, with the same in-flight bound, over the
/// same broker and database.
async fn measure_floor(
    settings: &Settings,
    database: &ScratchDatabase,
    options: &BenchOptions,
    publisher: &Publisher,
) -> anyhow::Result<Measured> {
    let client = client_settings(settings);
    let floor_in = format!("{}-floor-in", settings.topics.inbound);
    let floor_out = format!("{}-floor-out", settings.topics.inbound);
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_floor (event_id text PRIMARY KEY, payload jsonb NOT NULL)")
        .execute(database.store.pool())
        .await?;
    let consumer: StreamConsumer = client
        .client_config()
        .set("group.id", format!("{}-floor", settings.kafka.group_id))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .set(
            "fetch.wait.max.ms",
            settings.kafka.fetch_wait_max.as_millis().to_string(),
        )
        .create()?;
    consumer.subscribe(&[floor_in.as_str()])?;
    // The same idempotent producer the pipeline's measurement used.
    let producer = publisher.clone();
    let stop = CancellationToken::new();
    let loop_stop = stop.clone();
    let store = database.store.clone();
    let in_flight = options.in_flight.max(1);
    let looping = tokio::spawn(async move {
        let stream = consumer
            .stream()
            .take_until(loop_stop.cancelled_owned())
            .filter_map(|m| async move { m.ok().map(|m| m.detach()) });
        stream
            .for_each_concurrent(in_flight, |message| {
                let store = store.clone();
                let producer = producer.clone();
                let floor_out = floor_out.clone();
                async move {
                    let payload = message.payload().unwrap_or_default().to_vec();
                    let value: serde_json::Value =
                        serde_json::from_slice(&payload).unwrap_or_default();
                    let id = value["event_id"].as_str().unwrap_or_default().to_owned();
                    let key = value["case_id"].as_str().unwrap_or_default().to_owned();
                    let inserted = sqlx::query(
                        "INSERT INTO bench_floor VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(&id)
                    .bind(&value)
                    .execute(store.pool())
                    .await;
                    if inserted.is_ok() {
                        let draft = json!({"event_id": id, "case_id": key});
                        let _ = producer
                            .send(
                                &floor_out,
                                &key,
                                &serde_json::to_vec(&draft).expect("serialises"),
                                &[],
                            )
                            .await;
                    }
                }
            })
            .await;
    });
    let reader = TopicReader::new(&client, &format!("{}-floor-out", settings.topics.inbound))?;
    let cases = options.emails.div_ceil(options.emails_per_case.max(1));
    let events: Vec<(usize, usize)> = (0..options.emails)
        .map(|n| (n % cases, n / cases))
        .collect();
    let event = |case: usize, seq: usize| {
        json!({"event_id": format!("floor-{case}-{seq:05}"), "case_id": format!("bench-case-{case}"),
               "email": {"from": "bench@example.com", "text": "Hi, my parcel has not arrived yet. Can you check?"}})
    };
    // Warm-up, as for the pipeline.
    publisher
        .send(
            &floor_in,
            "bench-case-0",
            &serde_json::to_vec(&event(0, 99_999))?,
            &[],
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        anyhow::ensure!(Instant::now() < deadline, "the floor loop did not start");
        if let Some(message) = reader.next(Duration::from_millis(500)).await {
            if String::from_utf8_lossy(&message.payload).contains("floor-0-99999") {
                break;
            }
        }
    }
    let measured =
        measure_pipeline(publisher, &reader, &floor_in, &events, &event, options.rate).await;
    stop.cancel();
    let _ = looping.await;
    measured
}

/// The product binary the worker runs from: `DESKHAND_BIN`, else `deskhand` beside this
/// tool (where cargo builds both).
fn deskhand_binary() -> anyhow::Result<std::path::PathBuf> {
    if let Some(explicit) = std::env::var_os("DESKHAND_BIN") {
        return Ok(explicit.into());
    }
    let name = format!("deskhand{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .context("locating this executable")?
        .with_file_name(name);
    anyhow::ensure!(
        beside.is_file(),
        "the benchmark runs the worker as `deskhand worker`, and there is no {} \
         (build it with `cargo build --release -p deskhand`, or name it in DESKHAND_BIN)",
        beside.display()
    );
    Ok(beside)
}

/// The worker under measurement: `deskhand worker` in a process of its own, so its memory
/// and CPU are its own, not the broker's, the simulated model's or the benchmark's.
struct WorkerProcess {
    child: tokio::process::Child,
}

impl WorkerProcess {
    /// Starts `deskhand worker` with this run's settings (topics, group, broker, scratch
    /// database, model endpoint) over the configuration it inherits.
    fn spawn(settings: &Settings) -> anyhow::Result<Self> {
        let executable = deskhand_binary()?;
        // The worker logs as in production (info, a line per draft), to a file.
        let log_path = std::env::temp_dir().join(format!("{}.log", settings.kafka.group_id));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        eprintln!("worker log: {}", log_path.display());
        let mut command = tokio::process::Command::new(executable);
        command
            .arg("worker")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .env("DATABASE_URL", settings.database.url.expose())
            .env("KAFKA_BROKERS", &settings.kafka.brokers)
            .env("DESKHAND_GROUP_ID", &settings.kafka.group_id)
            .env("DESKHAND_TOPIC_INBOUND", &settings.topics.inbound)
            .env("DESKHAND_TOPIC_APPROVAL", &settings.topics.approval)
            .env("DESKHAND_TOPIC_DLQ", &settings.topics.dlq)
            .env(
                "DESKHAND_MAX_IN_FLIGHT",
                settings.worker.max_in_flight.to_string(),
            )
            .env(
                "DESKHAND_TODAY",
                settings
                    .agent
                    .today
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
            .env("DESKHAND_HTTP_ADDR", "127.0.0.1:0")
            .env("DESKHAND__KAFKA__CREATE_TOPICS", "false")
            .env("OPENAI_API_KEY", settings.llm.api_key.expose())
            .env("OPENAI_BASE_URL", &settings.llm.base_url)
            .env(
                "DESKHAND__LLM__CALL_TIMEOUT_MS",
                settings.llm.call_timeout.as_millis().to_string(),
            )
            // These would override the values above.
            .env_remove("DESKHAND__DATABASE__URL")
            .env_remove("DESKHAND__KAFKA__BROKERS")
            .kill_on_drop(true);
        let child = command.spawn().context("starting deskhand worker")?;
        Ok(Self { child })
    }

    /// CPU seconds the worker has used so far.
    fn cpu_seconds(&self) -> f64 {
        self.child.id().map_or(f64::NAN, cpu_seconds)
    }

    /// Stops the worker as an orchestrator would (SIGTERM); returns its peak RSS in MB.
    async fn stop(mut self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("the worker has already exited")?;
        let peak_rss_mb = peak_rss_mb(pid);
        let status = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        anyhow::ensure!(status.success(), "could not signal the worker");
        let exit = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .context("the worker did not stop within 60 s of SIGTERM")??;
        anyhow::ensure!(exit.success(), "the worker exited with {exit}");
        Ok(peak_rss_mb)
    }
}

/// User plus system CPU time of process `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name.
    let ticks_per_second = 100.0; // USER_HZ, 100 on every Linux architecture Rust targets
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / ticks_per_second)
        })
        .unwrap_or(f64::NAN)
}

/// Peak resident set size (VmHWM) of process `pid`, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// What a quick, well-behaved model answers at each step.
fn simulated_answer(request: &serde_json::Value) -> deskhand_llm_script::Turn {
    use deskhand_llm_script::{schema_name, Turn};
    match schema_name(request) {
        "classification" => Turn::Json(
            json!({"topic": "delivery_delay", "urgency": "medium", "urgent_reason": null,
            "confidence": 0.9, "needs_reply": true, "multiple_requests": false, "sentiment": "neutral", "frustration": 0.2, "summary": "Asks where the parcel is."}),
        ),
        "product_query" => Turn::Json(
            json!({"brand": null, "model_words": [], "size": null, "width": null,
            "color": null, "material": null, "max_price_cents": null, "use_words": []}),
        ),
        _ => {
            let prompt = deskhand_llm_script::prompt_text(request);
            let facts: Vec<&str> = prompt.lines().filter(|l| l.starts_with("- ")).collect();
            Turn::Json(
                json!({"subject": "Re: your parcel", "body": format!("Hi,\n\n{}\n\nKind regards,\nCustomer Support", facts.join("\n"))}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sustained_rate;

    #[test]
    fn the_sustained_rate_leaves_out_a_slow_start_and_a_slow_tail() {
        // Nothing for two seconds, then 100 arrivals a second, then a straggler.
        let mut arrivals: Vec<f64> = (0..1_000).map(|n| 2.0 + n as f64 / 100.0).collect();
        arrivals.push(60.0);
        let rate = sustained_rate(&arrivals);
        assert!((rate - 100.0).abs() < 0.5, "{rate}");
        let overall = arrivals.len() as f64 / 60.0;
        assert!(overall < 20.0, "{overall}");
    }

    #[test]
    fn the_sustained_rate_is_unknown_with_too_few_arrivals() {
        assert!(sustained_rate(&[]).is_nan());
        assert!(sustained_rate(&[1.0]).is_nan());
    }
}
