//! # deskhand-db
//!
//! The Postgres adapter: schema migrations ([`MIGRATOR`]), the one transaction that
//! records a triaged email with its draft and outbox message ([`Store::record_triage`]),
//! and the outbox the relay drains ([`Store::claim_outbox`]); the review side's queue,
//! decisions (one transaction each, [`Store::begin_decision`]), outgoing email, audit log
//! and statistics.
//!
//! **The rule it keeps: it stores what the caller decided, atomically, and every read
//! of customer data is scoped to one customer** (row-level security plus the query's own
//! filter). Depends on `deskhand-core` for the domain types; it never decides anything.

mod error;
mod intake;
mod knowledge;
mod memory;
mod outbox;
mod outgoing;
mod review;
mod seed;
mod shop;
mod stats;
mod training;
mod triage;

pub use error::{Error, Result};
pub use intake::{
    DraftProgress, Integration, IntegrationAccount, NewSubmission, Submission, SubmissionProgress,
    SubmissionRefused,
};
pub use knowledge::{FeedbackNote, PassageFeedback, PassageVerdict};
pub use outbox::{FailedPublish, OutboxBatch, OutboxMessage, ParkedMessage, PendingMessage};
pub use outgoing::DueEmail;
pub use review::{
    ActionRefused, ActionResult, ActionToRun, Approval, ApprovalOutcome, AuditEntry, CaseDraft,
    DecisionRecord, DecisionStart, IdempotencyKey, Outcome, OutgoingState, PendingDecision,
    Provenance, QueueFilter, QueueItem, QueuePage, QueuedDraft, Recorded as RecordedDecision,
    Reopening, ReviewDetail, Reviewer, ReviewerAccount, Verdict,
};
pub use seed::{SeedReport, SeedSpec};
pub use stats::{CorrectionWeek, Durations, QueuePoint, ReviewStats, SlaStats, TopicOutcomes};
pub use training::DecidedExample;
pub use triage::Recorded;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// What the store keeps of a secret (a reviewer's API token, an integration's key).
/// They are high-entropy random strings, so one SHA-256 is enough to store them safely;
/// surrounding whitespace, as a copy-paste brings, is not part of the secret.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(secret.trim().as_bytes()).to_vec()
}

/// The schema, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before it counts as unavailable.
    pub acquire_timeout: Duration,
}

/// The handle every use-case goes through.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Builds a lazily-connecting pool: the process starts even while Postgres is down,
    /// and each query reports the outage as a transient error.
    pub fn connect_lazy(settings: &DatabaseSettings) -> Result<Self> {
        let options = PgConnectOptions::from_str(&settings.url).map_err(Error::Config)?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// A store whose every transaction is read-only (`default_transaction_read_only`):
    /// for a dry run, where writing anything would be a bug the database refuses.
    pub fn connect_lazy_read_only(settings: &DatabaseSettings) -> Result<Self> {
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(Error::Config)?
            .options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the database named in `url` when it does not exist yet (development and
    /// the demo; production databases are provisioned by their owners).
    pub async fn create_database_if_missing(url: &str) -> Result<()> {
        use sqlx::ConnectOptions as _;
        let options = PgConnectOptions::from_str(url).map_err(Error::Config)?;
        let Some(name) = options.get_database().map(str::to_owned) else {
            return Ok(());
        };
        let mut admin = options.database("postgres").connect().await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&name)
                .fetch_one(&mut admin)
                .await?;
        if !exists {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            match sqlx::query(&format!("CREATE DATABASE {quoted}"))
                .execute(&mut admin)
                .await
            {
                Ok(_) => tracing::info!(database = %name, "database created"),
                // Another process created it between our check and our CREATE.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(Error::Migrate)
    }

    /// Sets the password of the `deskhand_worker` login role.
    pub async fn set_worker_password(&self, password: &str) -> Result<()> {
        // ALTER ROLE takes no bind parameters; quote the literal the way Postgres does.
        let literal = format!("'{}'", password.replace('\'', "''"));
        sqlx::query(&format!("ALTER ROLE deskhand_worker PASSWORD {literal}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// True when the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
