//! Topic administration: make sure the topics Deskhand uses exist.

use crate::{ClientSettings, Error, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use std::time::Duration;

/// Creates each topic that does not exist yet; existing topics are left as they are.
pub async fn ensure_topics(client: &ClientSettings, topics: &[(&str, i32)]) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        client.client_config().create().map_err(Error::Config)?;
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(Error::Admin)?;
    for result in results {
        match result {
            Ok(name) => tracing::info!(topic = %name, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(Error::Admin(rdkafka::error::KafkaError::AdminOp(code))).inspect_err(
                    |_| tracing::error!(topic = %name, ?code, "topic creation failed"),
                );
            }
        }
    }
    Ok(())
}
