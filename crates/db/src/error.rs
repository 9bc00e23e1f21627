/// A database failure, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database query failed: {0}")]
    Query(#[source] sqlx::Error),
    #[error("invalid database configuration: {0}")]
    Config(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("{0} changed concurrently; retry with fresh data")]
    Conflict(&'static str),
    /// The reviewer's idempotency key was taken, meanwhile, by a decision of another
    /// request (another draft): this one is not recorded.
    #[error("this Idempotency-Key was used by another request at the same time")]
    KeyTaken,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl deskhand_core::Transience for Error {
    /// Outages, timeouts, serialization failures and deadlocks pass; a retry can help.
    fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Conflict(_))
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if is_transient(&error) {
            Self::Unavailable(error)
        } else {
            Self::Query(error)
        }
    }
}

fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATE classes that describe the server's condition rather than the query:
/// 08 connection, 53 insufficient resources, 57 operator intervention (shutdown),
/// 58 system error, 40001 serialization failure, 40P01 deadlock.
fn is_transient_sqlstate(code: &str) -> bool {
    matches!(&code[..code.len().min(2)], "08" | "53" | "57" | "58")
        || code == "40001"
        || code == "40P01"
}
