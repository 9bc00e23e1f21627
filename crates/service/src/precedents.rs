//! Keep the precedents fresh: the reviewed emails (unedited approvals and label
//! corrections) a model sees as classify examples, reloaded from the store on a timer so
//! a correction made today shapes tomorrow's labels without a restart.

use deskhand_core::precedent::Precedent;
use deskhand_db::{DecidedExample, Store};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How many precedents to keep and how often to reload them.
#[derive(Debug, Clone, Copy)]
pub struct PrecedentSettings {
    /// The newest this many reviewed emails; older ones drop out.
    pub pool: usize,
    pub refresh_every: Duration,
}

/// The precedent an example stands for, masked: an email whose topic a reviewer vouched
/// for (confirmed or corrected), with its urgency when that was vouched for too.
pub fn precedent(example: &DecidedExample) -> Option<Precedent> {
    Some(Precedent::masked(
        example.subject.as_deref(),
        &example.text,
        example.customer_name.as_deref(),
        example.topic?,
        example.urgency,
    ))
}

/// The newest `pool` precedents in the store, oldest first.
pub async fn load(store: &Store, pool: usize) -> deskhand_db::Result<Vec<Precedent>> {
    let examples = store.latest_decided_examples(pool).await?;
    Ok(examples.iter().filter_map(precedent).collect())
}

/// Loads the precedents and hands them to `rebuilt`; a failed load keeps the last good set
/// and is logged.
pub async fn refresh(
    store: &Store,
    pool: usize,
    rebuilt: &(impl Fn(Vec<Precedent>) + Send + Sync),
) {
    match load(store, pool).await {
        Ok(precedents) => {
            tracing::info!(count = precedents.len(), "classify precedents loaded");
            rebuilt(precedents);
        }
        Err(error) => {
            tracing::warn!(%error, "loading classify precedents failed; keeping the last set");
        }
    }
}

/// Reloads the precedents every `refresh_every` until `shutdown` (the first load is the
/// caller's, before it takes email).
pub async fn run(
    store: Store,
    settings: PrecedentSettings,
    rebuilt: impl Fn(Vec<Precedent>) + Send + Sync,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(settings.refresh_every) => {}
        }
        refresh(&store, settings.pool, &rebuilt).await;
    }
}
