//! The answer flow: a policy question answered from the shop's knowledge base, grounded
//! only in the passages it cites; or, when no passage is close enough, a hand-over to a
//! person with the near misses attached.

use super::{Findings, GraphError, Outcome, TraceRecorder, TriageGraph};
use crate::draft::{Escalation, EscalationKind, Observation, Route, Topic};
use crate::email::InboundEmail;
use crate::knowledge::{passages_to_cite, ScoredPassage};
use crate::ports::{Classified, Cognition, Deadline, ShopData};
use crate::tracking::find_numbers;
use serde_json::json;
use std::time::Instant;

/// Passages a search returns: the ones cited and the near misses shown on a hand-over.
const SEARCHED: usize = 3;

/// What the knowledge base had for a question.
enum Answered {
    /// The passages cited, as evidence and as the facts the reply may state.
    Cited(Findings),
    /// Nothing above the threshold: the closest passages, for the person taking over.
    NoPolicy(Vec<Observation>),
}

pub(super) fn evidence(found: &ScoredPassage, source: &str) -> Observation {
    let passage = &found.passage;
    Observation {
        source: source.to_owned(),
        text: passage.text.clone(),
        data: json!({
            "file": passage.source.file,
            "heading": passage.source.heading,
            "passage": passage.source.to_string(),
            "score": (found.score * 100.0).round() / 100.0,
        }),
    }
}

impl<C: Cognition, D: ShopData> TriageGraph<C, D> {
    /// A request no flow handles may be a policy question the knowledge base answers: then
    /// the outcome's route becomes `answer` and the passages to ground it are returned;
    /// when no passage clears the bar, the escalation says so and carries the near misses.
    pub(super) fn try_answer(
        &self,
        email: &InboundEmail,
        classified: &Classified,
        outcome: &mut Outcome,
        recorder: &mut TraceRecorder,
    ) -> Option<Findings> {
        let no_flow = outcome
            .escalation
            .as_ref()
            .is_some_and(|e| e.kind == EscalationKind::NeedsPerson);
        // A question about an order in general ("can I still send them back?") is a
        // transaction inquiry by its label, but the policy answers it; one that names an
        // order wants something done to that order, and stays with a person.
        // "Please cancel the order I placed this morning" asks nothing: it wants something
        // done, and a person does it.
        let policy_question = match classified.topic {
            Topic::Other => true,
            Topic::TransactionInquiry => {
                let text = email.subject_and_text();
                find_numbers(&text).is_empty() && text.contains('?')
            }
            _ => false,
        };
        if !no_flow || !policy_question || self.knowledge.passages() == 0 {
            return None;
        }
        let started = Instant::now();
        match self.answer_flow(email) {
            Answered::Cited(findings) => {
                recorder.node(
                    "knowledge",
                    started,
                    Some(format!("{} passages cited", findings.observations.len())),
                );
                outcome.route = Route::Answer;
                outcome.escalation = None;
                Some(findings)
            }
            Answered::NoPolicy(near_misses) => {
                recorder.node("knowledge", started, Some("no policy found".to_owned()));
                // A transaction inquiry keeps its own reason; the near misses still help.
                if classified.topic == Topic::Other {
                    outcome.escalation = Some(Escalation::new(
                        EscalationKind::NeedsPerson,
                        "no policy found: no passage of the knowledge base answers this",
                    ));
                }
                outcome.observations.extend(near_misses);
                None
            }
        }
    }

    /// Whether the email also asks about a product the catalog has (the product lookup
    /// finds a row): then it holds two requests.
    pub(super) async fn names_a_product(
        &self,
        email: &InboundEmail,
        deadline: Deadline,
        recorder: &mut TraceRecorder,
    ) -> Result<bool, GraphError> {
        let found = self.product_flow(email, deadline, recorder).await?;
        // A model named ("the Nimbus 26"), and a row of it offered as asked: "how does
        // Hoka fit?" or "I'm EU 44, which size?" name a brand or a size, not a product.
        let names_a_model = |f: &Findings| {
            f.observations.iter().any(|o| {
                o.source == "catalog"
                    && o.data["query"]["model_words"]
                        .as_array()
                        .is_some_and(|words| !words.is_empty())
            })
        };
        let offers_it = |f: &Findings| {
            f.observations
                .iter()
                .any(|o| o.source == "inventory" && o.data["alternative"] == json!(false))
        };
        Ok(found.is_ok_and(|f| names_a_model(&f) && offers_it(&f)))
    }

    /// Searches the knowledge base with the email's subject and text and cites what
    /// [`passages_to_cite`] allows: one passage, or two nearly as good, never more.
    fn answer_flow(&self, email: &InboundEmail) -> Answered {
        let question = format!(
            "{}\n{}",
            email.subject.as_deref().unwrap_or_default(),
            email.body.readable
        );
        let found = self.knowledge.search(&question, SEARCHED);
        let cited = passages_to_cite(&found, &self.settings.knowledge);
        if cited == 0 {
            return Answered::NoPolicy(
                found
                    .iter()
                    .map(|near| evidence(near, "knowledge_near_miss"))
                    .collect(),
            );
        }
        let mut findings = Findings::default();
        for passage in &found[..cited] {
            findings.facts.push(format!(
                "{}: {}",
                passage.passage.source.heading, passage.passage.text
            ));
            findings.observations.push(evidence(passage, "knowledge"));
        }
        Answered::Cited(findings)
    }
}
