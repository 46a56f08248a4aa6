//! Searching: filters, BM25F ranking and the order of a page.

use super::{Hit, Inner, PolicyIndex, Query, Results, snippet::snippet};

/// BM25 saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;
const TITLE_WEIGHT: f32 = 3.0;
const TAG_WEIGHT: f32 = 2.0;
const TEXT_WEIGHT: f32 = 1.0;

impl PolicyIndex {
    pub fn search(&self, query: &Query<'_>) -> Results {
        let words = query.text.map(|t| self.query_terms(t)).filter(|w| !w.is_empty());
        let inner = self.read();
        let passes = |slot: u32| {
            inner.facts[slot as usize].is_some_and(|f| {
                query.regions.as_ref().is_none_or(|regions| regions.contains(&f.region))
                    && query.category.is_none_or(|c| c == f.category)
                    && query.in_force_on.is_none_or(|day| {
                        f.effective_from.is_none_or(|from| from <= day)
                            && f.effective_until.is_none_or(|until| until >= day)
                    })
            }) && query.tag.is_none_or(|tag| {
                inner.slots[slot as usize]
                    .as_ref()
                    .is_some_and(|e| e.policy.tags.iter().chain(&e.policy.audience_tags).any(|x| x == tag))
            })
        };
        let mut ranked: Vec<(u32, f32)> = match &words {
            Some(words) => inner.score(words),
            None => (0..inner.slots.len() as u32).map(|slot| (slot, 0.0)).collect(),
        };
        ranked.retain(|(slot, _)| passes(*slot));
        let policy_of = |slot: u32| {
            &inner.slots[slot as usize]
                .as_ref()
                .expect("retained slots are live")
                .policy
        };
        let facts_of = |slot: u32| inner.facts[slot as usize].expect("retained slots are live");
        // Ids are unique, so the order is total and the same on every
        // instance: a page boundary never depends on which one answers.
        let order = |(a, score_a): &(u32, f32), (b, score_b): &(u32, f32)| {
            let (fa, fb) = (facts_of(*a), facts_of(*b));
            score_b
                .total_cmp(score_a)
                .then(fb.locality.cmp(&fa.locality))
                .then(fb.issued_on.cmp(&fa.issued_on))
                .then(fa.id_prefix.cmp(&fb.id_prefix))
                .then_with(|| policy_of(*a).id.cmp(&policy_of(*b).id))
        };
        let total = ranked.len();
        // Only the requested page is ordered: select it, then sort it.
        let wanted = (query.offset + query.limit).min(total);
        if wanted > 0 && wanted < total {
            ranked.select_nth_unstable_by(wanted - 1, order);
            ranked.truncate(wanted);
        }
        ranked.sort_unstable_by(order);
        let highlight: Vec<&str> = words.iter().flatten().map(|(w, _)| w.as_str()).collect();
        let hits = ranked
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|(slot, score)| {
                let policy = policy_of(slot).clone();
                let snippet = snippet(&policy.text, &highlight);
                Hit { policy, score, snippet }
            })
            .collect();
        Results { total, hits }
    }
}

impl Inner {
    /// BM25F over title, tags and text: one score per slot that matches any
    /// word, accumulated in a dense array (slots are small integers).
    fn score(&self, words: &[(String, f32)]) -> Vec<(u32, f32)> {
        let documents = self.by_id.len().max(1) as f32;
        let average_title = (self.title_len_sum / documents).max(1.0);
        let average_text = (self.text_len_sum / documents).max(1.0);
        let mut scores = vec![0.0f32; self.slots.len()];
        let mut touched: Vec<u32> = Vec::new();
        for (word, weight) in words {
            let Some(postings) = self.vocabulary.get(word).map(|id| &self.postings[*id as usize]) else {
                continue;
            };
            if postings.is_empty() {
                continue;
            }
            let frequency = postings.len() as f32;
            let idf = (1.0 + (documents - frequency + 0.5) / (frequency + 0.5)).ln();
            for posting in postings {
                let (title_len, text_len) = self.lengths[posting.slot as usize];
                let title = f32::from(posting.title) / (1.0 - B + B * title_len / average_title);
                let text = f32::from(posting.text) / (1.0 - B + B * text_len / average_text);
                let tf = TITLE_WEIGHT * title + TAG_WEIGHT * f32::from(posting.tags) + TEXT_WEIGHT * text;
                let score = &mut scores[posting.slot as usize];
                if *score == 0.0 {
                    touched.push(posting.slot);
                }
                *score += weight * idf * tf * (K1 + 1.0) / (tf + K1);
            }
        }
        touched.into_iter().map(|slot| (slot, scores[slot as usize])).collect()
    }
}
