//! The routing rules, in priority order: pure, so they are tested on their own.

use super::GraphSettings;
use crate::draft::{Escalation, EscalationKind, Route, Topic, Urgency};
use crate::ports::Classified;

/// What the route node decided.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDecision {
    pub route: Route,
    pub escalation: Option<Escalation>,
}

/// The routing rules, in priority order. `asked_before` counts earlier customer emails in
/// the case on the same topic. Pure, so it is tested on its own.
pub fn decide_route(
    classified: &Classified,
    settings: &GraphSettings,
    asked_before: u32,
) -> RouteDecision {
    let escalate = |kind: EscalationKind, reason: String| RouteDecision {
        route: Route::Escalate,
        escalation: Some(Escalation::new(kind, reason)),
    };
    if classified.urgency == Urgency::Urgent {
        let why = classified
            .urgent_reason
            .as_deref()
            .unwrap_or("marked urgent");
        return escalate(EscalationKind::Urgent, format!("urgent: {why}"));
    }
    if let Some(language) = classified
        .language
        .as_ref()
        .filter(|l| classified.needs_reply && !settings.reply_languages.contains(l))
    {
        return escalate(
            EscalationKind::Language,
            format!(
                "written in {} ({language}): no reply in that language yet",
                language.name()
            ),
        );
    }
    if classified.multiple_requests {
        return escalate(
            EscalationKind::SeveralRequests,
            "several requests in one email".to_owned(),
        );
    }
    if classified.confidence < settings.min_confidence {
        return escalate(
            EscalationKind::LowConfidence,
            format!(
                "low classification confidence ({:.2} < {:.2})",
                classified.confidence, settings.min_confidence
            ),
        );
    }
    if classified.needs_reply && asked_before + 1 >= settings.repeat_limit {
        return escalate(
            EscalationKind::Repeated,
            format!(
                "customer is asking about {} for the {} time in this case",
                classified.topic,
                ordinal(asked_before + 1)
            ),
        );
    }
    if !classified.needs_reply {
        return RouteDecision {
            route: Route::NoReply,
            escalation: None,
        };
    }
    match classified.topic {
        Topic::ProductAvailabilityOrRecommendation => RouteDecision {
            route: Route::Product,
            escalation: None,
        },
        Topic::DeliveryDelay => RouteDecision {
            route: Route::Delivery,
            escalation: None,
        },
        Topic::TransactionInquiry => escalate(
            EscalationKind::NeedsPerson,
            "transaction inquiry: needs a person".to_owned(),
        ),
        Topic::BillingDispute => escalate(
            EscalationKind::NeedsPerson,
            "billing dispute: needs a person".to_owned(),
        ),
        Topic::Other => escalate(
            EscalationKind::NeedsPerson,
            "no automatic flow for this request".to_owned(),
        ),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
