//! Whether a failure is worth retrying: the one question every layer asks of an error
//! before it retries, dead-letters or hands an email to a person.

/// An error that knows whether trying again can help.
///
/// Transient: an outage, a timeout, a lost race (the database is down, the broker is
/// electing a leader, a rate limit); the same work may pass later. Permanent: the input
/// or the configuration is wrong, and retrying fails the same way; the event goes to the
/// dead-letter topic or the email to a person, with the reason.
pub trait Transience: std::error::Error {
    fn is_transient(&self) -> bool;
}
