//! End-to-end behaviour of the pipeline on the real broker (`KAFKA_BROKERS`) and Postgres
//! (`DATABASE_URL`): events in, drafts out, at least once, idempotent, ordered per case.

mod agent;
mod bench;
mod eval;
mod http;
mod llm;
mod review;
mod support;
mod ui;

use base64::Engine as _;
use deskhand_kafka::dlq_headers;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::*;

const IDLE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_events_in_make_exactly_n_drafts_each_event_once() {
    let world = TestWorld::new(4).await;
    let group = unique("group");
    let worker = world.start_worker(&group, &[]).await;
    let events = interleaved_events(&unique("ev"), 20, 200);
    world.publish(&events).await;

    let drafts = world.read_drafts(events.len(), IDLE).await;
    assert_one_draft_per_event(&drafts, &event_ids(&events));
    assert_eq!(drafts.len(), events.len(), "no draft was published twice");
    for (message, draft) in &drafts {
        assert_eq!(
            message.key.as_deref(),
            Some(draft.case_id.as_str()),
            "drafts are keyed by case"
        );
    }
    world.wait_caught_up(&group, Duration::from_secs(30)).await;
    worker.stop().await;
    assert_eq!(world.store.count_drafts().await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_the_same_events_makes_no_new_drafts() {
    let world = TestWorld::new(3).await;
    let events = interleaved_events(&unique("ev"), 10, 60);
    world.publish(&events).await;
    let first = unique("group");
    let worker = world.start_worker(&first, &[]).await;
    let drafts = world.read_drafts(events.len(), IDLE).await;
    assert_one_draft_per_event(&drafts, &event_ids(&events));
    worker.stop().await;

    // The CRM re-sends everything, and a new consumer group reads the topic from the start.
    world.publish(&events).await;
    let replay = unique("group");
    let worker = world.start_worker(&replay, &[]).await;
    world.wait_caught_up(&replay, Duration::from_secs(60)).await;
    worker.stop().await;

    assert_eq!(
        world.store.count_drafts().await.unwrap(),
        events.len() as i64
    );
    let all = world.read_drafts(usize::MAX, Duration::from_secs(5)).await;
    assert_eq!(all.len(), events.len(), "the replay published nothing new");
    assert!(
        world.dead_letters(Duration::from_secs(3)).await.is_empty(),
        "duplicates are not errors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_of_one_case_are_drafted_in_order_while_cases_run_concurrently() {
    let world = TestWorld::new(4).await;
    let group = unique("group");
    let worker = world
        .start_worker(&group, &[("DESKHAND_MAX_IN_FLIGHT", "32")])
        .await;
    let events = interleaved_events(&unique("ev"), 25, 300);
    world.publish(&events).await;

    let drafts = world.read_drafts(events.len(), IDLE).await;
    worker.stop().await;
    assert_one_draft_per_event(&drafts, &event_ids(&events));
    // Topic order within a partition is commit order; the event ids carry each email's
    // position in its case.
    let mut by_case: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ordered = drafts.clone();
    ordered.sort_by_key(|(m, _)| (m.partition, m.offset));
    for (_, draft) in ordered {
        by_case
            .entry(draft.case_id.clone())
            .or_default()
            .push(draft.event_id.clone());
    }
    assert_eq!(by_case.len(), 25);
    for (case, ids) in by_case {
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "drafts of {case} out of order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_go_to_the_dead_letter_topic_with_the_reason_and_the_consumer_keeps_going()
{
    let world = TestWorld::new(1).await;
    let group = unique("group");
    let worker = world.start_worker(&group, &[]).await;
    let prefix = unique("ev");
    let valid = |n: usize| {
        text_event(
            &format!("{prefix}-ok-{n}"),
            "case-p",
            7,
            "Where is my parcel?",
        )
    };
    let base64 = base64::engine::general_purpose::STANDARD;
    let ten_mb_text = "a".repeat(10 * 1024 * 1024);
    let poison: Vec<(&str, Vec<u8>)> = vec![
        ("invalid_json", b"{\"event_id\": \"x\", oops".to_vec()),
        ("invalid_json", serde_json::to_vec(&json!({"event_id": "x", "customer_id": 1})).unwrap()),
        (
            "invalid_base64",
            serde_json::to_vec(&json!({"event_id": "b64", "case_id": "case-p", "customer_id": 7,
                "received_at": "2026-11-20T10:00:00Z", "email": {"from": "a@b.c", "raw": "%%% not base64 %%%"}}))
            .unwrap(),
        ),
        (
            "too_large",
            serde_json::to_vec(&json!({"event_id": "big", "case_id": "case-p", "customer_id": 7,
                "received_at": "2026-11-20T10:00:00Z", "email": {"from": "a@b.c", "text": ten_mb_text}}))
            .unwrap(),
        ),
        (
            "both_text_and_raw",
            serde_json::to_vec(&json!({"event_id": "both", "case_id": "case-p", "customer_id": 7,
                "received_at": "2026-11-20T10:00:00Z",
                "email": {"from": "a@b.c", "text": "hi", "raw": base64.encode("Subject: x\r\n\r\nhi")}}))
            .unwrap(),
        ),
        (
            "invalid_field",
            serde_json::to_vec(&json!({"event_id": "neg", "case_id": "case-p", "customer_id": -3,
                "received_at": "2026-11-20T10:00:00Z", "email": {"from": "a@b.c", "text": "hi"}}))
            .unwrap(),
        ),
    ];
    let mut sent = Vec::new();
    for (n, (_, payload)) in poison.iter().enumerate() {
        world.publish_raw("case-p", payload).await;
        let ok = valid(n);
        world.publish(std::slice::from_ref(&ok)).await;
        sent.push(ok);
    }

    let drafts = world.read_drafts(sent.len(), IDLE).await;
    assert_one_draft_per_event(&drafts, &event_ids(&sent));

    let reader = deskhand_kafka::TopicReader::new(&world.client, &world.dlq).unwrap();
    let dead = reader
        .read_until(IDLE, |read| read.len() >= poison.len())
        .await;
    world.wait_caught_up(&group, Duration::from_secs(30)).await;
    worker.stop().await;

    assert_eq!(dead.len(), poison.len());
    let codes: Vec<&str> = dead
        .iter()
        .map(|m| m.headers[dlq_headers::REASON_CODE].as_str())
        .collect();
    let expected: Vec<&str> = poison.iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, expected);
    for message in &dead {
        assert_eq!(message.headers[dlq_headers::SOURCE_TOPIC], world.inbound);
        assert_eq!(message.headers[dlq_headers::SOURCE_PARTITION], "0");
        assert!(message.headers[dlq_headers::SOURCE_OFFSET]
            .parse::<i64>()
            .is_ok());
        assert!(!message.headers[dlq_headers::REASON].is_empty());
    }
    assert!(
        dead[1].headers[dlq_headers::REASON].contains("missing field"),
        "{:?}",
        dead[1].headers
    );
    assert_eq!(
        dead[3].payload.len(),
        poison[3].1.len(),
        "the 10 MB event is forwarded unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_leaves_every_event_exactly_one_draft() {
    let world = TestWorld::new(4).await;
    let group = unique("group");
    let events = interleaved_events(&unique("ev"), 40, 800);
    world.publish(&events).await;

    let mut worker = world.spawn_binary(&group);
    // Kill it once it is well into the stream.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = world.store.count_drafts().await.unwrap();
        if done >= 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker made no progress ({done} drafts)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill().expect("SIGKILL the worker");
    worker.wait().unwrap();
    let at_kill = world.store.count_drafts().await.unwrap();
    assert!(
        at_kill < events.len() as i64,
        "the kill came too late to test anything"
    );

    let mut worker = world.spawn_binary(&group);
    world.wait_caught_up(&group, Duration::from_secs(120)).await;
    let drafts = world.read_drafts(events.len(), IDLE).await;
    assert_one_draft_per_event(&drafts, &event_ids(&events));
    assert_eq!(
        world.store.count_drafts().await.unwrap(),
        events.len() as i64
    );
    assert!(
        world.dead_letters(Duration::from_secs(3)).await.is_empty(),
        "redeliveries are not errors"
    );

    // SIGTERM: graceful shutdown, exit code 0.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || worker.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "worker exits 0 on SIGTERM, got {exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_a_group_and_a_stopped_one_hands_its_partitions_over() {
    let world = TestWorld::new(6).await;
    let group = unique("group");
    let first = world.start_worker(&group, &[]).await;
    let second = world.start_worker(&group, &[]).await;
    let events = interleaved_events(&unique("ev"), 60, 900);
    let (early, late) = events.split_at(300);
    world.publish(early).await;

    // Stop one worker while the stream is still flowing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while world.store.count_drafts().await.unwrap() < 150 {
        assert!(tokio::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let publishing = async {
        world.publish(late).await;
    };
    let (_, ()) = tokio::join!(publishing, first.stop());

    let drafts = world.read_drafts(events.len(), IDLE).await;
    world.wait_caught_up(&group, Duration::from_secs(60)).await;
    second.stop().await;
    assert_one_draft_per_event(&drafts, &event_ids(&events));
    assert_eq!(
        world.store.count_drafts().await.unwrap(),
        events.len() as i64
    );
    assert!(
        world.dead_letters(Duration::from_secs(3)).await.is_empty(),
        "handovers are not errors"
    );
    let workers_seen: BTreeSet<i32> = drafts.iter().map(|(m, _)| m.partition).collect();
    assert_eq!(workers_seen.len(), 6, "drafts came from every partition");
}
