//! `deskhand triage FILE`: one email through the same graph, against the live store, with
//! nothing recorded, published or sent. It prints the draft event the worker would have
//! published (reply, evidence, route, actions, trace): how an integrator checks a mapping,
//! and how a reviewer asks "what would it have said?".

use crate::application::{decode_limits, triage_graph};
use crate::engine::AnyEngine;
use crate::Settings;
use anyhow::Context as _;
use deskhand_contracts::{decode_inbound, DraftEvent};
use deskhand_core::email::{EmailBody, InboundEmail, OriginalMessage};
use deskhand_core::ids::{CaseId, CustomerId, EventId};
use deskhand_db::{DatabaseSettings, Store};
use deskhand_intake::{DryRun, DryRunError};
use deskhand_service::triage::Triage;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What the file holds.
#[derive(Debug, Clone)]
pub enum DryRunInput {
    /// An inbound event as the CRM publishes it (JSON).
    Event(Vec<u8>),
    /// A raw RFC 822 message, for the customer `customer_id` (an .eml file has no customer).
    Message {
        raw: Vec<u8>,
        customer_id: i64,
        case_id: Option<String>,
    },
}

/// Runs the graph on the input and returns the draft event it would publish.
pub async fn dry_run(settings: &Settings, input: DryRunInput) -> anyhow::Result<DraftEvent> {
    let limits = decode_limits(settings);
    let email = match input {
        DryRunInput::Event(payload) => decode_inbound(&payload, &limits)?,
        DryRunInput::Message {
            raw,
            customer_id,
            case_id,
        } => email_of_message(raw, customer_id, case_id, &limits)?,
    };
    GraphDryRun::new(settings.clone())?.run(&email).await
}

/// The worker's graph over a read-only connection, built on the first dry run (the
/// review service starts without waiting for the catalog) and kept.
#[derive(Debug)]
pub struct GraphDryRun {
    settings: Settings,
    store: Store,
    triage: tokio::sync::OnceCell<Triage<AnyEngine>>,
}

impl GraphDryRun {
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        // Read-only at the database: a write anywhere on this path fails instead of landing.
        let store = Store::connect_lazy_read_only(&DatabaseSettings {
            url: settings.database.url.expose().to_owned(),
            max_connections: 2,
            acquire_timeout: settings.database.acquire_timeout,
        })?;
        Ok(Self {
            settings,
            store,
            triage: tokio::sync::OnceCell::new(),
        })
    }

    async fn build(&self) -> anyhow::Result<Triage<AnyEngine>> {
        let settings = &self.settings;
        let vocabulary = self
            .store
            .catalog_vocabulary()
            .await
            .context("reading the catalog; is the database migrated (`deskhand migrate`)?")?;
        let engine = AnyEngine::build(
            settings.llm.engine(),
            settings.triage.load_model()?,
            vocabulary,
        )?;
        let graph = triage_graph(settings, engine, self.store.clone())?;
        // The outbox wake-up and the approval topic are never used: a dry run records nothing.
        Ok(Triage::new(
            graph,
            self.store.clone(),
            settings.topics.approval.clone(),
            Arc::new(tokio::sync::Notify::new()),
            settings.agent.today,
            settings.llm.email_budget,
        ))
    }

    /// The draft event the worker would publish for `email`.
    pub async fn run(&self, email: &InboundEmail) -> anyhow::Result<DraftEvent> {
        let triage = self.triage.get_or_try_init(|| self.build()).await?;
        let draft = triage.dry_run(email).await?;
        Ok(DraftEvent::from(&draft).with_email(email))
    }
}

impl DryRun for GraphDryRun {
    fn dry_run<'a>(
        &'a self,
        email: &'a InboundEmail,
    ) -> Pin<Box<dyn Future<Output = Result<DraftEvent, DryRunError>> + Send + 'a>> {
        Box::pin(async move {
            self.run(email).await.map_err(|error| DryRunError {
                transient: is_transient(&error),
                message: format!("{error:#}"),
            })
        })
    }
}

/// Whether an error, anywhere in its chain, is one a retry can get past (the store or
/// the model away).
fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<deskhand_service::triage::TriageError>()
            .is_some_and(deskhand_core::Transience::is_transient)
            || cause
                .downcast_ref::<deskhand_db::Error>()
                .is_some_and(deskhand_core::Transience::is_transient)
    })
}

/// An inbound email made of a raw message, as the CRM's event would carry it.
fn email_of_message(
    raw: Vec<u8>,
    customer_id: i64,
    case_id: Option<String>,
    limits: &deskhand_contracts::DecodeLimits,
) -> anyhow::Result<InboundEmail> {
    let parsed = deskhand_mail::parse_message(&raw, limits.mail)?;
    let event_id = format!("dry-run-{}", &uuid_like());
    Ok(InboundEmail {
        case_id: CaseId::parse(case_id.as_deref().unwrap_or(&event_id))?,
        event_id: EventId::parse(&event_id)?,
        customer_id: CustomerId::parse(customer_id)?,
        customer_name: None,
        received_at: time::OffsetDateTime::now_utc(),
        from: parsed.from.unwrap_or_default(),
        subject: parsed.subject,
        message_id: parsed.message_id,
        body: EmailBody {
            original: OriginalMessage::Raw(raw),
            full_text: parsed.full_text,
            readable: parsed.readable,
        },
        redraft_of: None,
    })
}

/// A name for the run that no CRM event uses: the time in nanoseconds.
fn uuid_like() -> String {
    time::OffsetDateTime::now_utc()
        .unix_timestamp_nanos()
        .to_string()
}
