//! The knowledge base: policy pages as passages, retrieval, and the answer route.

use crate::graph::{classified, email, engine, product, Shop};
use deskhand_core::knowledge::{split_markdown, KnowledgeIndex};
use deskhand_core::*;
use futures_executor::block_on;
use std::sync::Arc;
use time::macros::{date, datetime};

const RETURNS: &str = "# Returns\n\nHow returns work at the shop.\n\n\
## Return window\n\nYou can return items within 30 days of delivery.\n\n\
## Returning worn running shoes\n\nRunning shoes may be run in for up to 30 days under our running-test guarantee; \
other shoes worn outside cannot be returned.\n\n\
### Small print\n\nOne pair per customer every 12 months.\n";

const EXCHANGES: &str = "# Exchanges\n\n\
## Exchanging for a different size or colour\n\nYou can exchange an item for another size or colour of the same product within 30 days; the new item ships free.\n";

const PAYMENT: &str = "# Payment\n\n\
## Accepted payment methods\n\nWe accept Visa, Mastercard, American Express, PayPal, Apple Pay and Google Pay.\n";

fn index() -> KnowledgeIndex {
    let mut passages = split_markdown("returns.md", RETURNS);
    passages.extend(split_markdown("exchanges.md", EXCHANGES));
    passages.extend(split_markdown("payment.md", PAYMENT));
    KnowledgeIndex::build(passages)
}

fn best(question: &str) -> String {
    index()
        .search(question, 3)
        .first()
        .map(|p| p.passage.source.to_string())
        .unwrap_or_default()
}

#[test]
fn a_page_splits_into_one_passage_per_section_named_by_file_and_heading() {
    let passages = split_markdown("returns.md", RETURNS);
    let names: Vec<String> = passages.iter().map(|p| p.source.to_string()).collect();
    assert_eq!(
        names,
        [
            "returns.md#Return window",
            "returns.md#Returning worn running shoes"
        ],
        "the title and introduction are no passage"
    );
    assert_eq!(passages[0].page_title, "Returns");
    assert!(
        passages[1].text.contains("One pair per customer"),
        "a deeper heading stays inside its section"
    );
}

#[test]
fn the_passage_about_what_is_asked_ranks_first_in_the_customers_own_words() {
    assert_eq!(
        best("I ran in them twice, can I still send them back?"),
        "returns.md#Returning worn running shoes"
    );
    assert_eq!(
        best("can i swap these for a bigger size"),
        "exchanges.md#Exchanging for a different size or colour"
    );
    assert_eq!(
        best("Do you take PayPal?"),
        "payment.md#Accepted payment methods"
    );
    assert!(
        index().search("zzz qqq", 3).is_empty(),
        "a question sharing no word with any page finds nothing"
    );
}

fn answer_settings() -> GraphSettings {
    let mut settings = GraphSettings::default();
    // The test pages are short; their scores are too.
    settings.knowledge.min_score = 1.0;
    settings
}

fn run(engine: crate::graph::Scripted, body: &str) -> Triage {
    run_in(engine, Shop::default(), body)
}

pub(crate) fn run_in(engine: crate::graph::Scripted, shop: Shop, body: &str) -> Triage {
    run_with(engine, shop, answer_settings(), body)
}

fn run_with(
    engine: crate::graph::Scripted,
    shop: Shop,
    settings: GraphSettings,
    body: &str,
) -> Triage {
    let graph = TriageGraph::new(engine, shop, settings).with_knowledge(Arc::new(index()));
    let ctx = RunContext {
        draft_id: DraftId::new(),
        now: datetime!(2026-03-10 10:01 UTC),
        today: date!(2026 - 03 - 10),
        trace_id: "t".into(),
        deadline: ports::Deadline::after(std::time::Duration::from_secs(5)),
    };
    block_on(graph.run(&email(body), ctx)).expect("graph runs")
}

#[test]
fn a_policy_question_is_answered_from_the_passage_it_cites() {
    let triage = run(
        engine(classified(Topic::Other, Urgency::Low)),
        "Do you take PayPal?",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Answer);
    assert!(draft.escalation.is_none());
    let cited: Vec<&Observation> = draft
        .observations
        .iter()
        .filter(|o| o.source == "knowledge")
        .collect();
    assert_eq!(cited.len(), 1, "{:?}", draft.observations);
    assert_eq!(cited[0].data["file"], "payment.md");
    assert_eq!(cited[0].data["heading"], "Accepted payment methods");
    let reply = draft.reply.as_ref().expect("a reply is drafted");
    assert!(reply.body.contains("PayPal, Apple Pay"), "{}", reply.body);
}

#[test]
fn a_question_no_passage_answers_goes_to_a_person_with_the_near_misses() {
    // It shares words with the pages ("return", "shoes"), but not enough to be answered.
    let mut settings = answer_settings();
    settings.knowledge.min_score = 50.0;
    let triage = run_with(
        engine(classified(Topic::Other, Urgency::Low)),
        Shop::default(),
        settings,
        "Would you return the favour and sponsor our club's race? We love your shoes.",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Escalate);
    let escalation = draft.escalation.as_ref().expect("escalated");
    assert!(
        escalation.reason.contains("no policy found"),
        "{}",
        escalation.reason
    );
    assert!(draft.reply.is_none());
    assert!(
        draft.observations.iter().all(|o| o.source != "knowledge"),
        "nothing is cited"
    );
    let near: Vec<&str> = draft
        .observations
        .iter()
        .filter(|o| o.source == "knowledge_near_miss")
        .filter_map(|o| o.data["passage"].as_str())
        .collect();
    assert!(
        near.contains(&"returns.md#Return window"),
        "the closest passages go with it: {near:?}"
    );
}

#[test]
fn a_transaction_inquiry_naming_an_order_stays_with_a_person_and_a_general_one_is_answered() {
    let inquiry = || engine(classified(Topic::TransactionInquiry, Urgency::Low));
    let named = run(inquiry(), "Please swap order 55213 for a bigger size");
    assert_eq!(named.draft.route, Route::Escalate);
    let general = run(inquiry(), "can i swap these for a bigger size?");
    assert_eq!(general.draft.route, Route::Answer);
    let request = run(inquiry(), "Please swap the pair I bought for a bigger size");
    assert_eq!(
        request.draft.route,
        Route::Escalate,
        "a request to act, asking nothing, is a person's"
    );
}

#[test]
fn an_answer_stating_a_number_the_passage_does_not_is_replaced_by_the_quote() {
    let mut scripted = engine(classified(Topic::Other, Urgency::Low));
    scripted.reply_body = Some("You can exchange it within 60 days.".into());
    let triage = run(scripted, "can i swap these for a bigger size");
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Answer);
    let reply = draft.reply.as_ref().expect("a reply");
    assert!(!reply.body.contains("60 days"), "{}", reply.body);
    assert!(reply.body.contains("within 30 days"), "{}", reply.body);
    assert!(draft.observations.iter().any(|o| o.source == "reply_guard"));
}

#[test]
fn a_policy_question_beside_a_stock_question_goes_to_a_person_with_the_stock_looked_up() {
    let mut scripted = engine(classified(Topic::Other, Urgency::Low));
    scripted.query = deskhand_core::product::ProductQuery {
        model_words: vec!["pegasus".into()],
        size: Some(9.5),
        ..Default::default()
    };
    let mut shop = Shop::default();
    shop.products = vec![product(1, 4, None)];
    let triage = run_in(
        scripted,
        shop,
        "Do you take PayPal? And is the Pegasus 41 in a 9.5 in stock?",
    );
    let draft = &triage.draft;
    assert_eq!(draft.route, Route::Escalate);
    assert_eq!(
        draft.escalation.as_ref().map(|e| e.kind),
        Some(EscalationKind::SeveralRequests)
    );
    assert!(
        draft.observations.iter().any(|o| o.source == "inventory"),
        "the person answering gets the stock: {:?}",
        draft.observations
    );
}

#[test]
fn two_passages_nearly_as_good_are_both_cited_and_a_tie_with_a_third_cites_none() {
    use deskhand_core::knowledge::{passages_to_cite, Passage, PassageSource, ScoredPassage};
    let found = |scores: &[f64]| -> Vec<ScoredPassage> {
        scores
            .iter()
            .map(|&score| ScoredPassage {
                passage: Passage {
                    source: PassageSource {
                        file: "f.md".into(),
                        heading: format!("{score}"),
                    },
                    page_title: String::new(),
                    text: String::new(),
                },
                score,
            })
            .collect()
    };
    let settings = KnowledgeSettings {
        second_passage_ratio: 0.9,
        ..KnowledgeSettings::default()
    };
    assert_eq!(passages_to_cite(&found(&[20.0, 12.0, 5.0]), &settings), 1);
    assert_eq!(passages_to_cite(&found(&[20.0, 19.0, 10.0]), &settings), 2);
    assert_eq!(
        passages_to_cite(&found(&[20.0, 19.0, 18.5]), &settings),
        0,
        "three about as good: not clearly about any"
    );
    assert_eq!(
        passages_to_cite(&found(&[11.0]), &settings),
        0,
        "below the bar"
    );
    assert_eq!(passages_to_cite(&found(&[]), &settings), 0);
}
