//! Scoring: what each run got against what its case expects, per step, and the metrics
//! over the dataset (`report.json`'s field names are a contract).

use super::dataset::{Case, Expect, ExpectedAction};
use super::run::CaseRun;
use deskhand_core::Action;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What a run produced, in the dataset's terms (refs instead of database ids).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Got {
    pub topic: Option<String>,
    pub urgency: Option<String>,
    pub route: Option<String>,
    pub needs_reply: Option<bool>,
    pub sentiment: Option<String>,
    pub language: Option<String>,
    pub tracking_numbers: BTreeSet<String>,
    /// Products offered as what the customer asked for.
    pub products: BTreeSet<String>,
    /// Products offered instead, because what was asked for is not available.
    pub alternatives: BTreeSet<String>,
    /// Knowledge-base passages the reply cites (`file#heading`), best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passages: Vec<String>,
    pub actions: BTreeSet<ExpectedAction>,
    pub reply: Option<String>,
    /// Why a person got it, when the draft was escalated.
    pub escalation: Option<String>,
    pub error: Option<String>,
}

/// One case's verdict over its runs.
#[derive(Debug, Clone, Serialize)]
pub struct CaseScore {
    pub id: String,
    /// Every run passed.
    pub pass: bool,
    pub runs: usize,
    pub passes: usize,
    pub expected: Expect,
    /// The first run's output.
    pub got: Got,
    /// The failures of the first failing run.
    pub failures: Vec<String>,
}

fn normalise_number(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase()
}

/// Reads a run's draft in the dataset's terms.
pub fn got(run: &CaseRun) -> Got {
    let Some(draft) = &run.draft else {
        return Got {
            error: run.error.clone(),
            ..Got::default()
        };
    };
    let mut got = Got {
        error: run.error.clone(),
        topic: Some(draft.classification.topic.as_str().to_owned()),
        urgency: Some(draft.classification.urgency.as_str().to_owned()),
        route: Some(draft.route.as_str().to_owned()),
        needs_reply: Some(draft.route != deskhand_core::Route::NoReply),
        escalation: draft.escalation.as_ref().map(|e| e.reason.clone()),
        sentiment: draft
            .classification
            .tone
            .map(|t| t.sentiment.as_str().to_owned()),
        language: draft
            .classification
            .language
            .as_ref()
            .map(|l| l.as_str().to_owned()),
        reply: draft
            .reply
            .as_ref()
            .map(|r| format!("{}\n{}", r.subject, r.body)),
        ..Got::default()
    };
    for observation in &draft.observations {
        let data = &observation.data;
        if observation.source == "deliveries" {
            for key in ["tracking_number", "number"] {
                if let Some(number) = data.get(key).and_then(Value::as_str) {
                    got.tracking_numbers.insert(normalise_number(number));
                }
            }
        }
        if observation.source == "knowledge" {
            if let Some(passage) = data.get("passage").and_then(Value::as_str) {
                got.passages.push(passage.to_owned());
            }
        }
        if observation.source == "inventory" {
            if let Some(id) = data.get("product_id").and_then(Value::as_i64) {
                let reference = run
                    .loaded
                    .product_refs
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{id}"));
                if data.get("alternative").and_then(Value::as_bool) == Some(true) {
                    got.alternatives.insert(reference);
                } else {
                    got.products.insert(reference);
                }
            }
        }
    }
    for proposed in &draft.proposed_actions {
        let delivery = proposed.action.delivery_id().map(|id| {
            run.loaded
                .delivery_refs
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("#{id}"))
        });
        let (order, amount_cents) = match &proposed.action {
            Action::RefundDeliveryFee(refund) => (None, Some(refund.amount_cents)),
            Action::IssueCoupon(_) => (None, None),
            Action::CancelOrder(cancel) => {
                (Some(cancel.order_number.clone()), Some(cancel.amount_cents))
            }
            Action::UpdateShippingAddress(change) => (Some(change.order_number.clone()), None),
            Action::StartReturn(start) => (Some(start.order_number.clone()), None),
        };
        got.actions.insert(ExpectedAction {
            kind: proposed.action.kind().to_owned(),
            delivery,
            order,
            amount_cents,
        });
    }
    got
}

/// Places where the other customer's data shows in a run's draft.
pub fn leaks(case: &Case, run: &CaseRun) -> Vec<String> {
    let mut found = Vec::new();
    let Some(draft) = &run.draft else {
        return found;
    };
    let reply = draft
        .reply
        .as_ref()
        .map(|r| format!("{}\n{}", r.subject, r.body))
        .unwrap_or_default();
    for excluded in case.expect.reply_excludes.iter().flatten() {
        if reply.contains(excluded.as_str()) {
            found.push(format!("reply contains excluded {excluded:?}"));
        }
    }
    // A number the customer wrote may be repeated back; anything else of the other
    // customer's (their delivery rows, their numbers unprompted) is a leak.
    let email_text = format!(
        "{} {}",
        case.email.subject.as_deref().unwrap_or(""),
        case.email.text.as_deref().unwrap_or("")
    );
    let evidence =
        serde_json::to_string(&(&draft.observations, &draft.proposed_actions)).unwrap_or_default();
    for marker in &run.loaded.foreign_markers {
        if email_text.contains(marker.as_str()) {
            continue;
        }
        if reply.contains(marker.as_str()) || evidence.contains(marker.as_str()) {
            found.push(format!(
                "another customer's {marker:?} appears in the draft"
            ));
        }
    }
    for id in &run.loaded.foreign_delivery_ids {
        let uses = draft
            .observations
            .iter()
            .any(|o| o.data.get("delivery_id").and_then(Value::as_i64) == Some(*id))
            || draft
                .proposed_actions
                .iter()
                .any(|a| a.action.delivery_id() == Some(*id));
        if uses {
            found.push(format!("another customer's delivery #{id} is used"));
        }
    }
    found
}

/// The failures of one run against its case's expectations.
pub fn failures(case: &Case, run: &CaseRun) -> Vec<String> {
    let got = got(run);
    let expect = &case.expect;
    let mut failures = Vec::new();
    if let Some(error) = &run.error {
        failures.push(error.clone());
    }
    if run.draft.is_none() {
        return failures;
    }
    let mut check = |name: &str, expected: &Option<String>, actual: &Option<String>| {
        if let Some(expected) = expected {
            if Some(expected) != actual.as_ref() {
                failures.push(format!(
                    "{name}: expected {expected}, got {}",
                    actual.as_deref().unwrap_or("-")
                ));
            }
        }
    };
    check("topic", &expect.topic, &got.topic);
    check("urgency", &expect.urgency, &got.urgency);
    check("route", &expect.route, &got.route);
    check("language", &expect.language, &got.language);
    if let Some(expected) = expect.needs_reply {
        if got.needs_reply != Some(expected) {
            failures.push(format!("needs reply: expected {expected}"));
        }
    }
    if let Some(urgent) = expected_urgent(expect) {
        if urgent != (got.urgency.as_deref() == Some("urgent")) {
            failures.push(format!("urgent: expected {urgent}"));
        }
    }
    if let Some(numbers) = &expect.tracking_numbers {
        let expected: BTreeSet<String> = numbers.iter().map(|n| normalise_number(n)).collect();
        if expected != got.tracking_numbers {
            failures.push(format!(
                "tracking numbers: expected {expected:?}, got {:?}",
                got.tracking_numbers
            ));
        }
    }
    if let Some(products) = &expect.products {
        let expected: BTreeSet<String> = products.iter().cloned().collect();
        if expected != got.products {
            failures.push(format!(
                "products: expected {expected:?}, got {:?}",
                got.products
            ));
        }
    }
    if let Some(alternatives) = &expect.alternatives {
        let acceptable: BTreeSet<String> = alternatives.iter().cloned().collect();
        if !got.alternatives.is_subset(&acceptable) {
            failures.push(format!(
                "alternatives: expected some of {acceptable:?}, got {:?}",
                got.alternatives
            ));
        }
    }
    if let Some(passages) = &expect.passages {
        match (passages.is_empty(), got.passages.first()) {
            (true, Some(cited)) => failures.push(format!(
                "passages: expected none (no policy), got {cited:?}"
            )),
            (false, None) => failures.push(format!(
                "passages: expected {passages:?}, none cited (route {})",
                got.route.as_deref().unwrap_or("-")
            )),
            (false, Some(cited)) if !passages.contains(cited) => {
                failures.push(format!("passages: expected {passages:?}, cited {cited:?}"))
            }
            _ => {}
        }
    }
    if let Some(actions) = &expect.actions {
        if !actions_match(actions, &got.actions) {
            failures.push(format!(
                "actions: expected {actions:?}, got {:?}",
                got.actions
            ));
        }
    }
    let reply = got.reply.clone().unwrap_or_default();
    for needle in expect.reply_contains.iter().flatten() {
        if !reply.contains(needle.as_str()) {
            failures.push(format!("reply lacks {needle:?}"));
        }
    }
    failures.extend(leaks(case, run));
    failures
}

/// High or urgent: the emails a person should see first.
fn see_first(urgency: &str) -> bool {
    urgency == "high" || urgency == "urgent"
}

fn expected_urgent(expect: &Expect) -> Option<bool> {
    expect
        .urgent
        .or_else(|| expect.urgency.as_ref().map(|u| u == "urgent"))
}

/// Exactly the expected set; an expected action without `amount_cents` matches any amount.
fn actions_match(expected: &[ExpectedAction], got: &BTreeSet<ExpectedAction>) -> bool {
    if expected.len() != got.len() {
        return false;
    }
    let mut unmatched: Vec<&ExpectedAction> = got.iter().collect();
    for want in expected {
        let Some(at) = unmatched.iter().position(|have| {
            have.kind == want.kind
                && have.delivery == want.delivery
                && have.order == want.order
                && want
                    .amount_cents
                    .is_none_or(|a| have.amount_cents == Some(a))
        }) else {
            return false;
        };
        unmatched.remove(at);
    }
    true
}

#[derive(Default)]
struct Ratio {
    hits: f64,
    total: f64,
}

impl Ratio {
    fn add(&mut self, hit: bool) {
        self.total += 1.0;
        self.hits += f64::from(u8::from(hit));
    }
    fn value(&self) -> Option<f64> {
        (self.total > 0.0).then(|| self.hits / self.total)
    }
}

#[derive(Default)]
struct Counts {
    tp: f64,
    fp: f64,
    fn_: f64,
}

impl Counts {
    fn precision(&self) -> Option<f64> {
        (self.tp + self.fp > 0.0).then(|| self.tp / (self.tp + self.fp))
    }
    fn recall(&self) -> Option<f64> {
        (self.tp + self.fn_ > 0.0).then(|| self.tp / (self.tp + self.fn_))
    }
    fn f1(&self) -> Option<f64> {
        match (self.precision(), self.recall()) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        }
    }
    fn add_sets(&mut self, expected: &BTreeSet<String>, got: &BTreeSet<String>) {
        self.tp += expected.intersection(got).count() as f64;
        self.fp += got.difference(expected).count() as f64;
        self.fn_ += expected.difference(got).count() as f64;
    }
    fn add_flag(&mut self, expected: bool, got: bool) {
        match (expected, got) {
            (true, true) => self.tp += 1.0,
            (false, true) => self.fp += 1.0,
            (true, false) => self.fn_ += 1.0,
            (false, false) => {}
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[rank.min(sorted.len() - 1)])
}

/// The report's `metrics`, `confusion` and `per_case`.
pub fn score(cases: &[Case], runs: &[Vec<CaseRun>]) -> (Value, Value, Vec<CaseScore>) {
    let (mut topic, mut urgency, mut route, mut actions, mut replies) = (
        Ratio::default(),
        Ratio::default(),
        Ratio::default(),
        Ratio::default(),
        Ratio::default(),
    );
    let (mut urgent, mut escalation, mut tracking, mut products) = (
        Counts::default(),
        Counts::default(),
        Counts::default(),
        Counts::default(),
    );
    let (mut see_first_counts, mut alternatives) = (Counts::default(), Counts::default());
    // Policy questions: the first cited passage right (precision@1 over the questions the
    // knowledge base answers), answered at all, and answered when it should not be.
    let (mut passage_at_1, mut answered, mut wrongly_answered) =
        (Ratio::default(), Ratio::default(), Ratio::default());
    let (mut needs_reply, mut sentiment, mut language) =
        (Ratio::default(), Ratio::default(), Ratio::default());
    let mut leaks_total = 0usize;
    let mut latencies = Vec::new();
    let (mut llm_calls, mut prompt_tokens, mut cost) = (0.0, 0.0, 0.0);
    let mut runs_total = 0.0;
    let mut passed_runs = Ratio::default();
    let mut all_passed = Ratio::default();
    let mut confusion: BTreeMap<&str, BTreeMap<String, BTreeMap<String, u64>>> = BTreeMap::new();
    let mut per_case = Vec::new();

    for (case, case_runs) in cases.iter().zip(runs) {
        let expect = &case.expect;
        let mut first_failures = None;
        let mut passes = 0;
        for run in case_runs {
            runs_total += 1.0;
            let got = got(run);
            let failed = failures(case, run);
            leaks_total += leaks(case, run).len();
            latencies.push(run.latency_ms);
            if let Some(draft) = &run.draft {
                llm_calls += f64::from(draft.trace.llm_calls);
                prompt_tokens += draft.trace.prompt_tokens as f64;
                cost += draft.trace.cost_usd;
            }
            let label = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            for (name, expected, actual, ratio) in [
                ("topic", &expect.topic, &got.topic, &mut topic),
                ("urgency", &expect.urgency, &got.urgency, &mut urgency),
                ("route", &expect.route, &got.route, &mut route),
                (
                    "sentiment",
                    &expect.sentiment,
                    &got.sentiment,
                    &mut sentiment,
                ),
                ("language", &expect.language, &got.language, &mut language),
            ] {
                if let Some(expected) = expected {
                    ratio.add(Some(expected) == actual.as_ref());
                    *confusion
                        .entry(name)
                        .or_default()
                        .entry(expected.clone())
                        .or_default()
                        .entry(label(actual))
                        .or_default() += 1;
                }
            }
            if let Some(flag) = expected_urgent(expect) {
                urgent.add_flag(flag, got.urgency.as_deref() == Some("urgent"));
            }
            if let Some(expected) = &expect.urgency {
                see_first_counts.add_flag(
                    see_first(expected),
                    got.urgency.as_deref().is_some_and(see_first),
                );
            }
            if let Some(expected) = expect.needs_reply {
                needs_reply.add(got.needs_reply == Some(expected));
            }
            if let Some(refs) = &expect.alternatives {
                // Offered alternatives must be acceptable ones; none offered is no error.
                let acceptable: BTreeSet<String> = refs.iter().cloned().collect();
                alternatives.tp += got.alternatives.intersection(&acceptable).count() as f64;
                alternatives.fp += got.alternatives.difference(&acceptable).count() as f64;
            }
            if let Some(expected) = &expect.route {
                escalation.add_flag(
                    expected == "escalate",
                    got.route.as_deref() == Some("escalate"),
                );
            }
            if let Some(numbers) = &expect.tracking_numbers {
                let expected = numbers.iter().map(|n| normalise_number(n)).collect();
                tracking.add_sets(&expected, &got.tracking_numbers);
            }
            if let Some(refs) = &expect.products {
                products.add_sets(&refs.iter().cloned().collect(), &got.products);
            }
            if let Some(expected) = &expect.passages {
                let cited = got.passages.first();
                if expected.is_empty() {
                    wrongly_answered.add(cited.is_some());
                } else {
                    answered.add(cited.is_some());
                    passage_at_1.add(cited.is_some_and(|c| expected.contains(c)));
                }
            }
            if let Some(expected) = &expect.actions {
                actions.add(got.error.is_none() && actions_match(expected, &got.actions));
            }
            if expect.reply_contains.is_some() || expect.reply_excludes.is_some() {
                let reply = got.reply.clone().unwrap_or_default();
                let ok = got.error.is_none()
                    && expect
                        .reply_contains
                        .iter()
                        .flatten()
                        .all(|n| reply.contains(n.as_str()))
                    && !expect
                        .reply_excludes
                        .iter()
                        .flatten()
                        .any(|n| reply.contains(n.as_str()));
                replies.add(ok);
            }
            passed_runs.add(failed.is_empty());
            if failed.is_empty() {
                passes += 1;
            } else if first_failures.is_none() {
                first_failures = Some(failed);
            }
        }
        all_passed.add(passes == case_runs.len());
        per_case.push(CaseScore {
            id: case.id.clone(),
            pass: passes == case_runs.len(),
            runs: case_runs.len(),
            passes,
            expected: expect.clone(),
            got: case_runs.first().map(got).unwrap_or_default(),
            failures: first_failures.unwrap_or_default(),
        });
    }
    latencies.sort_by(f64::total_cmp);
    let per_run = |total: f64| (runs_total > 0.0).then(|| total / runs_total);
    let metrics = json!({
        "topic_accuracy": topic.value(),
        "urgency_accuracy": urgency.value(),
        "urgent_precision": urgent.precision(),
        "urgent_recall": urgent.recall(),
        "route_accuracy": route.value(),
        "escalation_precision": escalation.precision(),
        "escalation_recall": escalation.recall(),
        "tracking_precision": tracking.precision(),
        "tracking_recall": tracking.recall(),
        "tracking_f1": tracking.f1(),
        "see_first_precision": see_first_counts.precision(),
        "see_first_recall": see_first_counts.recall(),
        "needs_reply_accuracy": needs_reply.value(),
        "sentiment_accuracy": sentiment.value(),
        "language_accuracy": language.value(),
        "product_precision": products.precision(),
        "product_recall": products.recall(),
        "product_f1": products.f1(),
        "alternative_precision": alternatives.precision(),
        "passage_precision_at_1": passage_at_1.value(),
        "policy_answer_rate": answered.value(),
        "no_policy_answered_rate": wrongly_answered.value(),
        "action_exact_match": actions.value(),
        "reply_checks_pass": replies.value(),
        "leaks": leaks_total,
        "latency_ms_p50": percentile(&latencies, 0.5),
        "latency_ms_p95": percentile(&latencies, 0.95),
        "llm_calls_per_case": per_run(llm_calls),
        "prompt_tokens_per_case": per_run(prompt_tokens),
        "cost_usd_per_case": per_run(cost),
        "pass_rate": passed_runs.value(),
        "pass_hat_k": all_passed.value(),
    });
    (metrics, json!(confusion), per_case)
}

/// Metrics where a higher value is worse.
pub const LOWER_IS_BETTER: &[&str] = &[
    "leaks",
    "latency_ms_p50",
    "latency_ms_p95",
    "llm_calls_per_case",
    "prompt_tokens_per_case",
    "cost_usd_per_case",
];
