//! The k most similar precedents to an email, by the triage model's own features (cosine
//! over hashed word and character n-grams), for the model endpoint's classify prompt.
//!
//! The index is rebuilt from the store now and then and swapped in whole
//! ([`SharedPrecedents::replace`]); lookups take a snapshot and never wait for a rebuild.

use crate::features::{extract, Features};
use deskhand_core::precedent::Precedent;
use std::sync::{Arc, RwLock};

/// Below this cosine, a precedent says nothing about the email: none is better than a
/// misleading one.
const MIN_SIMILARITY: f32 = 0.15;

/// Precedents and their feature vectors.
#[derive(Debug, Default)]
pub struct PrecedentIndex {
    entries: Vec<(Features, Precedent)>,
}

impl PrecedentIndex {
    pub fn new(precedents: impl IntoIterator<Item = Precedent>) -> Self {
        Self {
            entries: precedents
                .into_iter()
                .map(|p| (extract(&p.subject, &p.excerpt), p))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `k` precedents most similar to the email's subject and own words, most similar
    /// first; ties keep the newer precedent (later in the index). Near-duplicates of one
    /// another count once, so `k` examples show `k` different emails.
    pub fn nearest(&self, subject: &str, body: &str, k: usize) -> Vec<&Precedent> {
        if k == 0 || self.entries.is_empty() {
            return Vec::new();
        }
        let query = extract(subject, body);
        let mut scored: Vec<(f32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (features, _))| (query.dot(features), i))
            .filter(|(score, _)| *score >= MIN_SIMILARITY)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        for (_, i) in scored {
            let features = &self.entries[i].0;
            if chosen
                .iter()
                .all(|&c| self.entries[c].0.dot(features) < 0.95)
            {
                chosen.push(i);
                if chosen.len() == k {
                    break;
                }
            }
        }
        chosen.into_iter().map(|i| &self.entries[i].1).collect()
    }
}

/// The current index, shared between the engine that reads it and the task that rebuilds
/// it.
#[derive(Debug, Clone, Default)]
pub struct SharedPrecedents(Arc<RwLock<Arc<PrecedentIndex>>>);

impl SharedPrecedents {
    /// The index as it is now.
    pub fn snapshot(&self) -> Arc<PrecedentIndex> {
        // A writer that panicked left a whole index behind (it swaps an Arc): still usable.
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Swaps in a rebuilt index.
    pub fn replace(&self, index: PrecedentIndex) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskhand_core::{Topic, Urgency};

    fn precedent(subject: &str, text: &str, topic: Topic) -> Precedent {
        Precedent::masked(Some(subject), text, None, topic, Some(Urgency::Medium))
    }

    #[test]
    fn the_most_similar_precedents_come_first_and_unrelated_ones_not_at_all() {
        let index = PrecedentIndex::new([
            precedent(
                "Charged twice",
                "You charged my card twice for one order, refund the second charge",
                Topic::BillingDispute,
            ),
            precedent(
                "Parcel late",
                "My parcel is two weeks late and the tracking has not moved",
                Topic::DeliveryDelay,
            ),
            precedent(
                "Trail shoes",
                "Do you have the Speedgoat in a wide fit, size 11?",
                Topic::ProductAvailabilityOrRecommendation,
            ),
        ]);
        let found = index.nearest(
            "Double charge",
            "I was charged twice on my card for the same order",
            3,
        );
        assert_eq!(found[0].topic, Topic::BillingDispute);
        assert!(
            found
                .iter()
                .all(|p| p.topic != Topic::ProductAvailabilityOrRecommendation),
            "an unrelated email is no example: {found:?}"
        );
        assert!(index
            .nearest("Double charge", "charged twice", 0)
            .is_empty());
    }

    #[test]
    fn a_precedent_repeated_many_times_is_shown_once() {
        let same = "Where is my parcel? It is late.";
        let index = PrecedentIndex::new(
            std::iter::repeat_with(|| precedent("Late", same, Topic::DeliveryDelay))
                .take(5)
                .chain([precedent(
                    "Late order",
                    "My order is late, where is the parcel now?",
                    Topic::DeliveryDelay,
                )]),
        );
        let found = index.nearest("Late", "Where is my parcel? It is very late.", 3);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_ne!(found[0].excerpt, found[1].excerpt);
    }

    #[test]
    fn a_replaced_index_is_what_the_next_snapshot_sees() {
        let shared = SharedPrecedents::default();
        let reader = shared.clone();
        assert!(reader.snapshot().is_empty());
        shared.replace(PrecedentIndex::new([precedent(
            "x",
            "late parcel",
            Topic::DeliveryDelay,
        )]));
        assert_eq!(
            reader.snapshot().len(),
            1,
            "every holder sees the new index"
        );
    }
}
