//! The product flow: what the customer asked for, what the catalog has, and what the reply
//! offers (the item alone when it can be had; otherwise the fact, and alternatives marked
//! as such).

use super::{unavailable, Findings, GraphError, TraceRecorder, TriageGraph};
use crate::draft::Observation;
use crate::email::InboundEmail;
use crate::ports::{Cognition, Deadline, ShopData};
use crate::product::{
    alternatives_query, choose_offer, rank_alternatives, Offer, ProductCandidate, ProductQuery,
};
use serde_json::json;

impl Findings {
    /// A product offered in the reply, as a fact for the customer and evidence for the
    /// reviewer; `alternative` when it stands in for what was asked.
    fn offer(&mut self, product: &ProductCandidate, alternative: bool) {
        let text = product.availability();
        self.facts.push(text.clone());
        self.observations.push(Observation {
            source: "inventory".to_owned(),
            text: if alternative {
                format!("Alternative: {text}")
            } else {
                text
            },
            data: json!({
                "product_id": product.product_id,
                "name": product.name,
                "brand": product.brand,
                "size": product.size,
                "width": product.width,
                "color": product.color,
                "material": product.material,
                "price_cents": product.price_cents,
                "quantity": product.quantity,
                "next_incoming": product.next_incoming.map(|(date, qty)| json!({"date": date.to_string(), "quantity": qty})),
                "alternative": alternative,
            }),
        });
    }
}

impl<C: Cognition, D: ShopData> TriageGraph<C, D> {
    /// Product flow: extract → catalog query (parameterised, bounded) → rank → stock.
    /// The inner `Err` is a reason to escalate.
    pub(super) async fn product_flow(
        &self,
        email: &InboundEmail,
        deadline: Deadline,
        recorder: &mut TraceRecorder,
    ) -> Result<Result<Findings, String>, GraphError> {
        let query = match self.cognition.extract_product_query(email, deadline).await {
            Ok(metered) => {
                recorder.usage(metered.usage);
                metered.value
            }
            Err(failed) => {
                recorder.usage(failed.usage);
                let error = failed.value;
                return Ok(Err(format!(
                    "product details could not be extracted: {error}"
                )));
            }
        };
        let mut findings = Findings::default();
        for item in query.items() {
            if let Err(reason) = self.offer_item(&item, &mut findings).await? {
                return Ok(Err(reason));
            }
        }
        Ok(Ok(findings))
    }

    /// One item's lookup: what was asked for when it can be had, or the fact and the
    /// alternatives; what to ask the customer when the question names too little. The
    /// `Err` is a reason to escalate.
    async fn offer_item(
        &self,
        query: &ProductQuery,
        findings: &mut Findings,
    ) -> Result<Result<(), String>, GraphError> {
        if query.is_empty() {
            findings.observations.push(Observation {
                source: "catalog".to_owned(),
                text: "The email names no brand, model, size or use; nothing to look up."
                    .to_owned(),
                data: json!({"query": query}),
            });
            findings
                .ask_for
                .get_or_insert("the brand or model, the size and the colour they are looking for");
            return Ok(Ok(()));
        }
        // A brand ("do you carry Hoka?") or a model identifies what to look up; the kind
        // of item alone ("insoles for flat feet", "anything waterproof") is a need.
        let identified = query.brand.is_some() || query.names_a_model();
        if !identified && query.size.is_none() {
            // A recommendation without a size cannot say what is in stock for them.
            findings.observations.push(Observation {
                source: "catalog".to_owned(),
                text: format!(
                    "A recommendation request ({}) without a size; nothing looked up.",
                    query.describe()
                ),
                data: json!({"query": query}),
            });
            findings
                .ask_for
                .get_or_insert("your shoe size, and the width if you need a wide fit");
            return Ok(Ok(()));
        }
        let candidates = match self.search(query).await? {
            Ok(candidates) => candidates,
            Err(reason) => return Ok(Err(reason)),
        };
        let considered = candidates.len();
        let limit = self.settings.max_offers;
        findings.observations.push(Observation {
            source: "catalog".to_owned(),
            text: format!(
                "Looked for {}; {considered} catalog rows considered.",
                query.describe()
            ),
            data: json!({"query": query, "considered": considered}),
        });
        let (sold_out, closest) =
            match choose_offer(query, candidates, self.settings.max_requested_rows) {
                Offer::Requested(products) => {
                    for product in &products {
                        findings.offer(product, false);
                    }
                    return Ok(Ok(()));
                }
                Offer::Nothing => (Vec::new(), None),
                Offer::Unavailable { sold_out, closest } => (sold_out, closest),
            };
        // What was asked for is reported either way: sold out, or not in the catalog.
        for product in &sold_out {
            findings.offer(product, false);
        }
        if sold_out.is_empty() {
            findings.facts.push(format!(
                "We could not find a shoe matching {} in our catalog.",
                query.describe()
            ));
        }
        // Offer what comes closest instead, marked as alternatives.
        let wider = alternatives_query(query);
        let candidates = match self.search(&wider).await? {
            Ok(candidates) => candidates,
            Err(reason) => return Ok(Err(reason)),
        };
        let like = sold_out.first().or(closest.as_deref());
        let alternatives = rank_alternatives(&wider, like, candidates, limit);
        if alternatives.is_empty() {
            findings.observations.push(Observation {
                source: "catalog".to_owned(),
                text: format!("Nothing in stock comes close to: {}.", query.describe()),
                data: json!({"query": wider, "alternatives": 0}),
            });
        } else {
            findings
                .facts
                .push("Instead, we can offer these alternatives:".to_owned());
            for product in &alternatives {
                findings.offer(product, true);
            }
        }
        Ok(Ok(()))
    }

    /// A catalog search: the store being down interrupts the run (retried later); any
    /// other failure is the product flow's to report.
    async fn search(
        &self,
        query: &ProductQuery,
    ) -> Result<Result<Vec<ProductCandidate>, String>, GraphError> {
        match self
            .data
            .search_products(query, self.settings.max_catalog_rows)
            .await
        {
            Ok(candidates) => Ok(Ok(candidates)),
            Err(error) => {
                unavailable(error.clone())?;
                Ok(Err(error.to_string()))
            }
        }
    }
}
