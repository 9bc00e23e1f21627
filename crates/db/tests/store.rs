//! The store's guarantees, each test on its own migrated database.

use deskhand_core::*;
use deskhand_db::{OutboxMessage, Recorded, Store};
use sqlx::PgPool;
use std::collections::BTreeMap;
use time::macros::datetime;

fn email(event: &str, case: &str) -> InboundEmail {
    InboundEmail {
        event_id: EventId::parse(event).unwrap(),
        case_id: CaseId::parse(case).unwrap(),
        customer_id: CustomerId::parse(7).unwrap(),
        customer_name: None,
        received_at: datetime!(2026-11-20 10:00 UTC),
        from: "a@b.c".into(),
        subject: None,
        message_id: None,
        redraft_of: None,
        body: EmailBody {
            original: OriginalMessage::Raw(b"Subject: x\r\n\r\nhi".to_vec()),
            full_text: "hi".into(),
            readable: "hi".into(),
        },
    }
}

fn draft(email: &InboundEmail) -> Draft {
    Draft {
        draft_id: DraftId::new(),
        event_id: email.event_id.clone(),
        case_id: email.case_id.clone(),
        customer_id: email.customer_id,
        created_at: datetime!(2026-11-20 10:01 UTC),
        classification: Classification {
            topic: Topic::Other,
            urgency: Urgency::Low,
            confidence: Confidence::parse(0.5).unwrap(),
            tone: None,
            language: None,
        },
        route: Route::NoReply,
        reply: None,
        summary: "s".into(),
        observations: vec![],
        proposed_actions: vec![],
        escalation: None,
        engine: "test".into(),
        trace: Trace::default(),
        trace_id: "t".into(),
    }
}

fn outbox(n: u8) -> OutboxMessage {
    OutboxMessage {
        topic: "approval".into(),
        key: "c1".into(),
        payload: vec![n],
        headers: BTreeMap::new(),
    }
}

fn source() -> SourcePosition {
    SourcePosition {
        topic: "in".into(),
        partition: 0,
        offset: 1,
    }
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn recording_the_same_event_twice_writes_it_once(pool: PgPool) {
    let store = Store::from_pool(pool);
    let email = email("e1", "c1");
    let json = serde_json::json!({});
    assert_eq!(
        store
            .record_triage(
                &email,
                &source(),
                &draft(&email),
                &json,
                &CaseMemory::default(),
                &outbox(1)
            )
            .await
            .unwrap(),
        Recorded::New
    );
    assert!(store.is_recorded(&email.event_id).await.unwrap());
    // A second draft (a different id) for the same event is refused as a duplicate.
    assert_eq!(
        store
            .record_triage(
                &email,
                &source(),
                &draft(&email),
                &json,
                &CaseMemory::default(),
                &outbox(2)
            )
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(store.count_drafts().await.unwrap(), 1);
    assert_eq!(store.outbox_backlog().await.unwrap(), 1);
    let count: i32 = sqlx::query_scalar("SELECT email_count FROM cases WHERE case_id = 'c1'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn only_one_relay_claims_the_outbox_at_a_time_and_in_id_order(pool: PgPool) {
    let store = Store::from_pool(pool);
    for n in 0..3u8 {
        let email = email(&format!("e{n}"), &format!("c{n}"));
        store
            .record_triage(
                &email,
                &source(),
                &draft(&email),
                &serde_json::json!({}),
                &CaseMemory::default(),
                &outbox(n),
            )
            .await
            .unwrap();
    }
    let batch = store
        .claim_outbox(10)
        .await
        .unwrap()
        .expect("first relay claims");
    let payloads: Vec<Vec<u8>> = batch
        .messages
        .iter()
        .map(|m| m.message.payload.clone())
        .collect();
    assert_eq!(payloads, vec![vec![0], vec![1], vec![2]]);
    assert!(
        store.claim_outbox(10).await.unwrap().is_none(),
        "a second relay waits its turn"
    );

    let ids: Vec<i64> = batch.messages.iter().map(|m| m.id).collect();
    batch
        .finish(
            &ids[..2],
            &[deskhand_db::FailedPublish {
                id: ids[2],
                error: "broker down".into(),
                strike: false,
            }],
            3,
        )
        .await
        .unwrap();
    assert_eq!(
        store.outbox_backlog().await.unwrap(),
        1,
        "the failed message stays pending"
    );
    let retry = store.claim_outbox(10).await.unwrap().unwrap();
    assert_eq!(retry.messages.len(), 1);
    assert_eq!(retry.messages[0].message.payload, vec![2]);
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn a_memory_written_from_a_stale_read_is_refused_as_a_transient_conflict(pool: PgPool) {
    use deskhand_core::ports::ShopData;
    let store = Store::from_pool(pool);
    let settings = deskhand_core::memory::MemorySettings::default();
    let first = email("e1", "c1");
    let scope = CustomerScope::of(&first);
    let read = store.recall(scope, &first.case_id).await.unwrap().memory;
    let next = read.with_customer_email("asks about parcel", Topic::DeliveryDelay, &settings);
    store
        .record_triage(
            &first,
            &source(),
            &draft(&first),
            &serde_json::json!({}),
            &next,
            &outbox(1),
        )
        .await
        .unwrap();

    // A second email computed from the same (now stale) read must not overwrite it.
    let second = email("e2", "c1");
    let stale = read.with_customer_email("asks again", Topic::DeliveryDelay, &settings);
    let error = store
        .record_triage(
            &second,
            &source(),
            &draft(&second),
            &serde_json::json!({}),
            &stale,
            &outbox(2),
        )
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(
        store.count_drafts().await.unwrap(),
        1,
        "the whole transaction rolled back"
    );

    let fresh = store.recall(scope, &first.case_id).await.unwrap().memory;
    assert_eq!(fresh.customer_emails, 1);
    assert_eq!(fresh.entries[0].summary, "asks about parcel");
    assert_eq!(fresh.times_asked(Topic::DeliveryDelay), 1);
}

async fn two_customers_with_deliveries(store: &Store) {
    sqlx::raw_sql(
        "INSERT INTO customers VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', 'bob@example.com');
         INSERT INTO orders (order_id, order_number, customer_id, placed_on, total_cents)
             VALUES (1, '100001', 1, '2026-03-01', 1000), (2, '100002', 2, '2026-03-01', 1000);
         INSERT INTO deliveries (order_id, customer_id, carrier, tracking_number, status, expected_start, expected_end, fee_cents)
             VALUES (1, 1, 'UPS', '1Z999AA10123456784', 'in_transit', '2026-03-02', '2026-03-04', 800),
                    (2, 2, 'UPS', '1Z999AA10000000002', 'in_transit', '2026-03-02', '2026-03-04', 800);",
    )
    .execute(store.pool())
    .await
    .unwrap();
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn a_customer_scope_never_sees_another_customers_delivery(pool: PgPool) {
    use deskhand_core::ports::{DeliveryLookup, ShopData};
    use deskhand_core::tracking::TrackingNumber;
    let store = Store::from_pool(pool);
    two_customers_with_deliveries(&store).await;
    let mut bob_email = email("e1", "c1");
    bob_email.customer_id = CustomerId::parse(2).unwrap();
    let lookup = DeliveryLookup {
        tracking: vec![TrackingNumber::normalise("1Z999AA10123456784")],
        orders: vec!["100001".into()],
    };
    let since = datetime!(2026-01-01 0:00 UTC).date();
    let found = store
        .deliveries(CustomerScope::of(&bob_email), &lookup, since)
        .await
        .unwrap();
    assert!(
        found.matched.is_empty(),
        "Ann's number and order are invisible to Bob"
    );
    assert_eq!(found.recent.len(), 1);
    assert_eq!(found.recent[0].tracking_number, "1Z999AA10000000002");

    // Even raw SQL inside a scoped transaction sees only the scope's rows (row-level security).
    let mut tx = store.scoped(CustomerScope::of(&bob_email)).await.unwrap();
    let visible: Vec<i64> = sqlx::query_scalar("SELECT customer_id FROM deliveries ORDER BY 1")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(visible, vec![2]);
    let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(customers, 1);
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn the_worker_role_cannot_read_customer_rows_without_a_scope(pool: PgPool) {
    let store = Store::from_pool(pool);
    two_customers_with_deliveries(&store).await;
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE deskhand_worker")
        .execute(&mut *tx)
        .await
        .unwrap();
    let unscoped: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(unscoped, 0, "no scope, no rows");
    sqlx::query("SELECT set_config('deskhand.customer_id', '1', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let scoped: Vec<String> = sqlx::query_scalar("SELECT tracking_number FROM deliveries")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(scoped, vec!["1Z999AA10123456784".to_owned()]);
    let bypass: bool = sqlx::query_scalar(
        "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = 'deskhand_worker'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(!bypass);
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn the_seed_is_deterministic_and_its_tracking_numbers_are_unique(pool: PgPool) {
    let store = Store::from_pool(pool);
    let spec = deskhand_db::SeedSpec {
        customers: 300,
        deliveries_per_customer: 4,
        seed: 7,
        today: datetime!(2026-03-10 0:00 UTC).date(),
    };
    let report = store.seed(&spec).await.unwrap();
    assert_eq!(report.deliveries, 1_200);
    let fingerprint = |store: Store| async move {
        let digest: String = sqlx::query_scalar(
            "SELECT md5(string_agg(tracking_number || status || expected_end::text || fee_cents::text, ',' ORDER BY delivery_id)) FROM deliveries",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        digest
    };
    let first = fingerprint(store.clone()).await;
    store.seed(&spec).await.unwrap();
    assert_eq!(fingerprint(store.clone()).await, first);
    let duplicates: i64 =
        sqlx::query_scalar("SELECT count(*) - count(DISTINCT tracking_number) FROM deliveries")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(duplicates, 0);
    let late_in_transit: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE delivered_on IS NULL AND status <> 'cancelled' AND expected_end < '2026-03-10'").fetch_one(store.pool()).await.unwrap();
    assert!(
        late_in_transit > 0,
        "the shop has late parcels to talk about"
    );
}

fn queued_draft(
    event: &str,
    urgency: Urgency,
    received_hour: u8,
    subject: &str,
) -> (Draft, serde_json::Value, time::OffsetDateTime, String) {
    let mut draft = draft(&email(event, &format!("case-{event}")));
    draft.classification.urgency = urgency;
    draft.summary = subject.to_owned();
    let received = datetime!(2026-11-20 00:00 UTC) + time::Duration::hours(received_hour.into());
    (
        draft,
        serde_json::json!({"summary": subject, "proposed_actions": []}),
        received,
        subject.to_owned(),
    )
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn a_draft_is_queued_once_and_the_queue_is_most_urgent_then_oldest_first(pool: PgPool) {
    use deskhand_db::{QueueFilter, QueuedDraft};
    let store = Store::from_pool(pool);
    let drafts = [
        queued_draft("low-old", Urgency::Low, 1, "Thanks a lot"),
        queued_draft("urgent-new", Urgency::Urgent, 9, "Chargeback threat"),
        queued_draft("urgent-old", Urgency::Urgent, 3, "Lawyer letter"),
        queued_draft("medium", Urgency::Medium, 2, "Where is 100_% of my order"),
    ];
    for (draft, event, received, search) in &drafts {
        for attempt in 0..2 {
            let queued = store
                .queue_draft(QueuedDraft {
                    draft,
                    email_received_at: *received,
                    sender: Some("Ann <ann@example.com>"),
                    reply_to: EmailAddress::from_mailbox("Ann <ann@example.com>").as_ref(),
                    subject: Some(search.as_str()),
                    email_text: Some("the text the agent read"),
                    search_text: search.clone(),
                    event,
                    source: &source(),
                    trace_parent: None,
                    status: deskhand_core::review::ReviewStatus::Pending,
                })
                .await
                .unwrap();
            assert_eq!(
                queued,
                attempt == 0,
                "a redelivered draft is not queued again"
            );
        }
    }
    let page = store
        .list_queue(&QueueFilter {
            limit: 10,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    let order: Vec<&str> = page.items.iter().map(|i| i.summary.as_str()).collect();
    assert_eq!(
        order,
        [
            "Lawyer letter",
            "Chargeback threat",
            "Where is 100_% of my order",
            "Thanks a lot"
        ]
    );
    assert_eq!(page.total, 4);
    assert_eq!(page.counts["pending"], 4);
    let first = &page.items[0];
    assert_eq!(first.from.as_deref(), Some("Ann <ann@example.com>"));
    assert_eq!(first.subject.as_deref(), Some("Lawyer letter"));
    assert_eq!(first.urgency, Urgency::Urgent);
    assert_eq!(first.draft_id, drafts[2].0.draft_id);

    // `q` matches words literally: `%` and `_` are not wildcards.
    let search = |q: &str| {
        let store = store.clone();
        let q = q.to_owned();
        async move {
            store
                .list_queue(&QueueFilter {
                    query: Some(q),
                    limit: 10,
                    ..QueueFilter::default()
                })
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|i| i.summary)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("LAWYER").await, ["Lawyer letter"]);
    assert_eq!(search("100_%").await, ["Where is 100_% of my order"]);
    assert!(search("_%_").await.is_empty());
    // Paging keeps the total.
    let second = store
        .list_queue(&QueueFilter {
            limit: 1,
            offset: 1,
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    assert_eq!((second.items.len(), second.total), (1, 4));
    assert_eq!(second.items[0].summary, "Chargeback threat");
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn drafts_queued_before_reply_to_existed_get_the_address_the_code_would_parse(pool: PgPool) {
    use deskhand_db::QueuedDraft;
    let store = Store::from_pool(pool.clone());
    let senders = [
        "Ann Lee <ann@example.com>",
        " bob@example.com ",
        "Cy <cy@example.com> (work)",
        "Dee Lee",
        "a@b.com, c@d.com",
        "<eve @example.com>",
        "Fay <fay@example.com",
        "gus@example.com\n",
        "\thal@example.com",
        "Ivy <ivy@example.com> <",
        "jo@example.com\u{a0}",
    ];
    for (n, sender) in senders.iter().enumerate() {
        let (draft, _, received, search) =
            queued_draft(&format!("backfill-{n}"), Urgency::Low, 1, "s");
        let event = serde_json::json!({"email": {"from": sender}});
        store
            .queue_draft(QueuedDraft {
                draft: &draft,
                email_received_at: received,
                sender: Some(sender),
                reply_to: None,
                subject: None,
                email_text: None,
                search_text: search,
                event: &event,
                source: &source(),
                trace_parent: None,
                status: deskhand_core::review::ReviewStatus::Pending,
            })
            .await
            .unwrap();
    }
    // The backfill of the migration that added the column, run again over these rows.
    let migration = include_str!("../../../migrations/20261202000009_review_reply_to.sql");
    let backfill = &migration[migration.find("UPDATE reviews").unwrap()..];
    sqlx::raw_sql(backfill).execute(&pool).await.unwrap();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT draft->'email'->>'from', reply_to FROM reviews")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), senders.len());
    for (sender, stored) in rows {
        // What an approval reads back: the stored column, through the same parser.
        let read = stored.and_then(|s| EmailAddress::from_mailbox(&s));
        assert_eq!(read, EmailAddress::from_mailbox(&sender), "{sender:?}");
    }
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn a_sign_in_racing_a_token_rotation_opens_no_session_with_the_old_token(pool: PgPool) {
    use deskhand_core::review::Role;
    let store = Store::from_pool(pool.clone());
    store
        .add_reviewer("ann", Role::Reviewer, b"old-token-hash")
        .await
        .unwrap();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    // A rotation is under way: the token is replaced and Ann's sessions ended, not yet
    // committed.
    let mut rotation = pool.begin().await.unwrap();
    sqlx::query("UPDATE reviewers SET token_hash = 'new-token-hash' WHERE name = 'ann'")
        .execute(&mut *rotation)
        .await
        .unwrap();
    sqlx::query("DELETE FROM review_sessions")
        .execute(&mut *rotation)
        .await
        .unwrap();
    let sign_in = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .open_session(b"old-token-hash", b"session-hash", "csrf", expires)
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!sign_in.is_finished(), "the sign-in waits for the rotation");
    rotation.commit().await.unwrap();
    let opened = sign_in.await.unwrap().unwrap();
    assert!(opened.is_none(), "the old token finds no one once rotated");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM review_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);

    // The new token opens a session.
    let opened = store
        .open_session(b"new-token-hash", b"session-hash", "csrf", expires)
        .await
        .unwrap();
    assert_eq!(opened.map(|r| r.name), Some("ann".to_owned()));
}

#[sqlx::test(migrator = "deskhand_db::MIGRATOR")]
async fn a_message_refused_for_good_is_parked_and_its_case_waits_behind_it(pool: PgPool) {
    use deskhand_db::FailedPublish;
    let store = Store::from_pool(pool.clone());
    // Case a: a poison message, then a later one; case b: one message.
    for (key, payload) in [("a", 1u8), ("a", 2), ("b", 3)] {
        sqlx::query("INSERT INTO outbox (topic, message_key, payload) VALUES ('t', $1, $2)")
            .bind(key)
            .bind(vec![payload])
            .execute(&pool)
            .await
            .unwrap();
    }
    let claimed = |store: Store| async move {
        let batch = store.claim_outbox(10).await.unwrap().unwrap();
        let payloads: Vec<u8> = batch
            .messages
            .iter()
            .map(|m| m.message.payload[0])
            .collect();
        (batch, payloads)
    };
    let refuse = |id: i64, strike: bool| FailedPublish {
        id,
        error: "Message size too large".into(),
        strike,
    };

    let (batch, payloads) = claimed(store.clone()).await;
    assert_eq!(payloads, [1, 2, 3]);
    let poison = batch.messages[0].id;
    let parked = batch.finish(&[], &[refuse(poison, true)], 3).await.unwrap();
    assert!(parked.is_empty(), "one strike does not park");

    // While it fails, its case's later message waits; another case goes on.
    let (batch, payloads) = claimed(store.clone()).await;
    assert_eq!(payloads, [1, 3]);
    let other = batch.messages[1].id;
    let parked = batch
        .finish(&[other], &[refuse(poison, true)], 3)
        .await
        .unwrap();
    assert!(parked.is_empty());
    // A round the broker refused whole (it is down) strikes no one.
    let (batch, _) = claimed(store.clone()).await;
    let parked = batch
        .finish(&[], &[refuse(poison, false)], 3)
        .await
        .unwrap();
    assert!(parked.is_empty());
    let (batch, payloads) = claimed(store.clone()).await;
    assert_eq!(payloads, [1]);
    let parked = batch.finish(&[], &[refuse(poison, true)], 3).await.unwrap();
    assert_eq!(parked, [poison], "the third strike parks it");

    // Parked: nothing of case a is claimed, and it is listed with what waits behind it.
    let (batch, payloads) = claimed(store.clone()).await;
    assert!(payloads.is_empty(), "{payloads:?}");
    batch.finish(&[], &[], 3).await.unwrap();
    assert_eq!(store.parked_count().await.unwrap(), 1);
    let listed = store.parked_messages().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].waiting), (poison, 1));
    assert_eq!(listed[0].attempts, 4);
    assert_eq!(
        listed[0].last_error.as_deref(),
        Some("Message size too large")
    );

    // Released, it is first in line again, before its case's later message.
    assert!(store.release_parked(poison).await.unwrap());
    assert!(
        !store.release_parked(poison).await.unwrap(),
        "no longer parked"
    );
    let (batch, payloads) = claimed(store.clone()).await;
    assert_eq!(payloads, [1]);
    let ids: Vec<i64> = batch.messages.iter().map(|m| m.id).collect();
    batch.finish(&ids, &[], 3).await.unwrap();
    let (_, payloads) = claimed(store.clone()).await;
    assert_eq!(payloads, [2]);
}

#[tokio::test]
async fn a_read_only_store_cannot_write_anything() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let store = Store::connect_lazy_read_only(&deskhand_db::DatabaseSettings {
        url,
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(10),
    })
    .unwrap();
    let refused = sqlx::query("CREATE TABLE deskhand_read_only_probe (id int)")
        .execute(store.pool())
        .await
        .expect_err("a read-only store cannot create a table");
    assert!(refused.to_string().contains("read-only"), "{refused}");
}
