//! The review service's test world: the app with its review role, a real SMTP server
//! (aiosmtpd), reviewers, and the requests a reviewer's browser or client makes.

use super::*;
use crate::agent::{load_shop, TODAY};
use deskhand::{Application, Roles};
use deskhand_core::review::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
/// A real SMTP server (Debian's python3-aiosmtpd) storing what it receives in a Maildir.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    pub async fn start(port: u16, maildir: PathBuf) -> Self {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd (apt install python3-aiosmtpd)");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            child,
            port,
            maildir,
        }
    }

    /// The raw messages received so far.
    pub fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect()
    }

    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= n || tokio::time::Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Worker and review service in one process (`deskhand serve`), with reviewers.
pub struct ReviewApp {
    pub world: TestWorld,
    pub base: String,
    pub http: reqwest::Client,
    pub reviewer: String,
    pub lead: String,
    running: RunningWorker,
}

impl ReviewApp {
    /// The app with a fresh SMTP server of its own.
    pub async fn with_smtp(overrides: &[(&str, &str)]) -> (SmtpServer, Self) {
        let smtp = SmtpServer::start(free_port(), temp_dir("maildir")).await;
        let app = Self::start(smtp.port, overrides).await;
        (smtp, app)
    }

    pub async fn start(smtp_port: u16, overrides: &[(&str, &str)]) -> Self {
        let world = TestWorld::new(2).await;
        load_shop(&world).await;
        Self::start_in(world, smtp_port, overrides).await
    }

    pub async fn start_in(world: TestWorld, smtp_port: u16, overrides: &[(&str, &str)]) -> Self {
        // `RUST_LOG=deskhand=debug cargo nextest run …` shows what the service did.
        if std::env::var_os("RUST_LOG").is_some() {
            deskhand::telemetry::init("warn");
        }
        let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
        // Tests share one broker: each review service gets its own consumer group.
        let review_group = unique("review");
        let mut all = vec![
            ("DESKHAND__REVIEW__GROUP_ID", review_group.as_str()),
            ("DESKHAND_HTTP_ADDR", "127.0.0.1:0"),
            ("DESKHAND_SMTP_URL", smtp_url.as_str()),
            ("DESKHAND_MAIL_FROM", "Shop Support <support@shop.example>"),
            ("DESKHAND_TODAY", TODAY),
            ("DESKHAND__SMTP__MAX_RETRY_BACKOFF_MS", "1000"),
            ("DESKHAND__SMTP__TIMEOUT_MS", "3000"),
        ];
        all.extend_from_slice(overrides);
        let settings = world.settings(&unique("group"), &all);
        let app = Application::build(settings, Roles::ALL)
            .await
            .expect("build");
        let port = app.http_port().unwrap();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let handle = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let reviewer = add_reviewer(&world, "rita", Role::Reviewer).await;
        let lead = add_reviewer(&world, "leo", Role::Lead).await;
        Self {
            world,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            reviewer,
            lead,
            running: RunningWorker { shutdown, handle },
        }
    }

    pub async fn stop(self) -> TestWorld {
        self.running.stop().await;
        self.world
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Publishes a late-parcel email in a case of its own and waits for its draft in the
    /// queue: the event id and the draft view.
    pub async fn late_parcel_drafted(&self) -> (String, Value) {
        let [drafted] = self.late_parcels_drafted::<1>().await;
        drafted
    }

    /// `N` late-parcel emails about the same parcel, each in a case of its own, published
    /// together; waits for every draft in the queue.
    pub async fn late_parcels_drafted<const N: usize>(&self) -> [(String, Value); N] {
        let events: [String; N] = std::array::from_fn(|_| unique("ev"));
        let emails: Vec<Value> = events
            .iter()
            .map(|event| late_parcel_email(event, &unique("case")))
            .collect();
        self.world.publish(&emails).await;
        let mut drafted = Vec::with_capacity(N);
        for event in events {
            let detail = self.queued(&event).await;
            drafted.push((event, detail));
        }
        drafted.try_into().expect("one draft per event")
    }

    /// Approves the draft `detail` shows as drafted, at the version shown, with a fresh
    /// idempotency key.
    /// A lead approves `first` and `second` at the same moment, with `table`'s inserts
    /// slowed so that the two overlap; asserts that one was approved and the other
    /// refused (409), and returns both answers.
    pub async fn approve_both_at_once(
        &self,
        table: &str,
        first: &Value,
        second: &Value,
    ) -> [(StatusCode, Value); 2] {
        self.slow_inserts_into(table).await;
        let (a, b) = tokio::join!(
            self.approve(&self.lead, first),
            self.approve(&self.lead, second)
        );
        let statuses = [a.0, b.0];
        assert!(
            statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
            "one approval goes through, the other is refused: {a:?} {b:?}"
        );
        [a, b]
    }

    pub async fn approve(&self, token: &str, detail: &Value) -> (StatusCode, Value) {
        let body = json!({"version": version(detail)});
        let (status, body, _) = self
            .post(
                token,
                &draft_path(detail, "approve"),
                Some(&unique("key")),
                body,
            )
            .await;
        (status, body)
    }

    /// A reviewer's decision on the draft `detail` shows: `verb` is approve, reject or
    /// escalate; without an idempotency key.
    pub async fn decide(
        &self,
        token: &str,
        detail: &Value,
        verb: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let (status, body, _) = self
            .post(token, &draft_path(detail, verb), None, body)
            .await;
        (status, body)
    }

    pub async fn post(
        &self,
        token: &str,
        path: &str,
        key: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (
            status,
            response.json().await.unwrap_or(Value::Null),
            headers,
        )
    }

    /// Waits until the queue (status `all`) holds a draft of `event_id`; returns its line.
    pub async fn queued(&self, event_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (status, page) = self
                .get(&self.lead, "/api/drafts?status=all&limit=200")
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            for item in page["items"].as_array().unwrap() {
                let (_, detail) = self
                    .get(
                        &self.lead,
                        &format!("/api/drafts/{}", item["draft_id"].as_str().unwrap()),
                    )
                    .await;
                if detail["draft"]["event_id"] == event_id {
                    return detail;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no draft of {event_id} reached the review queue"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Everything on the review service's dead-letter topic (reads until idle for `idle`).
    pub async fn review_dead_letters(&self, idle: Duration) -> Vec<deskhand_kafka::ReadMessage> {
        let topic = format!("{}.dlq", self.world.approval);
        let reader = deskhand_kafka::TopicReader::new(&self.world.client, &topic).expect("reader");
        reader.read_until(idle, |_| false).await
    }

    /// Makes every insert into `table` take a second, so that two approvals writing to it
    /// overlap for certain.
    pub async fn slow_inserts_into(&self, table: &str) {
        sqlx::raw_sql(&format!(
            "CREATE FUNCTION slow_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$;
             CREATE TRIGGER slow_{table} BEFORE INSERT ON {table}
             FOR EACH ROW EXECUTE FUNCTION slow_{table}();"
        ))
        .execute(self.world.store.pool())
        .await
        .unwrap();
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.world.store.pool())
            .await
            .unwrap()
    }
}

pub async fn add_reviewer(world: &TestWorld, name: &str, role: Role) -> String {
    let token = deskhand_review::new_token();
    world
        .store
        .add_reviewer(name, role, &deskhand_review::hash_token(&token))
        .await
        .unwrap();
    token
}

/// Ann's parcel is 6 days late and another was late last month: the worker proposes a
/// refund of the full $8.00 fee and a coupon.
pub fn late_parcel_email(event_id: &str, case_id: &str) -> Value {
    json!({
        "event_id": event_id, "case_id": case_id, "customer_id": 1,
        "customer_name": "Ann Lee",
        "received_at": "2026-03-10T09:00:00Z",
        "email": {"from": "Ann Lee <ann@example.com>", "subject": "Where is my parcel?",
                  "message_id": "<ann-1@mail.example>",
                  "text": "Hi, my order with tracking 1Z999AA10123456784 was due on March 4 and still has not arrived. Where is it?"}
    })
}

pub fn draft_path(detail: &Value, verb: &str) -> String {
    let id = detail["summary"]["draft_id"].as_str().unwrap();
    if verb.is_empty() {
        format!("/api/drafts/{id}")
    } else {
        format!("/api/drafts/{id}/{verb}")
    }
}

pub fn version(detail: &Value) -> i64 {
    detail["summary"]["version"].as_i64().unwrap()
}
