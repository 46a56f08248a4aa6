//! Rendered search answers, kept while the index is unchanged. Workers ask
//! the same few things (欠薪, 社保转移, 创业补贴) in the same counties, so
//! most searches are answered from here: no ranking, no snippets, no JSON
//! rendering. An answer is filed under the index generation and the China
//! day it was computed at, so an edit (any instance's, once the follower has
//! applied it) or midnight makes it stale at once.

use bytes::Bytes;
use chrono::NaiveDate;
use quick_cache::{Weighter, sync::Cache};

use super::{PolicyCategory, Search};
use crate::domain::RegionCode;

/// About 400 answers of a full page of 20 hits: bounded by bytes, so that
/// queries made up to fill it cannot hold more.
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;
const ESTIMATED_ANSWERS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    text: Option<String>,
    region: Option<RegionCode>,
    category: Option<PolicyCategory>,
    tag: Option<String>,
    include_inactive: bool,
    page: u32,
    page_size: u32,
    day: NaiveDate,
}

#[derive(Clone)]
struct Answer {
    generation: u64,
    body: Bytes,
}

#[derive(Clone)]
struct BodySize;

impl Weighter<Key, Answer> for BodySize {
    fn weight(&self, key: &Key, answer: &Answer) -> u64 {
        (answer.body.len() + key.text.as_ref().map_or(0, String::len) + key.tag.as_ref().map_or(0, String::len)) as u64
    }
}

pub struct SearchAnswers {
    cache: Cache<Key, Answer, BodySize>,
}

impl Default for SearchAnswers {
    fn default() -> Self {
        Self {
            cache: Cache::with_weighter(ESTIMATED_ANSWERS, CAPACITY_BYTES, BodySize),
        }
    }
}

/// Where a fresh answer is filed once rendered.
pub struct Slot<'a> {
    answers: &'a SearchAnswers,
    key: Key,
    generation: u64,
}

impl Slot<'_> {
    pub fn fill(self, body: Bytes) {
        self.answers.cache.insert(
            self.key,
            Answer {
                generation: self.generation,
                body,
            },
        );
    }
}

/// A search answered from the cache, or the slot its answer goes into.
pub enum Lookup<'a> {
    Hit(Bytes),
    Miss(Slot<'a>),
}

impl SearchAnswers {
    /// Looks `search` up as of `generation` (read from the index before
    /// searching) and `day`.
    pub(super) fn lookup(&self, search: &Search<'_>, generation: u64, day: NaiveDate) -> Lookup<'_> {
        let key = Key {
            text: search.text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
            region: search.region,
            category: search.category,
            tag: search.tag.map(str::to_owned),
            include_inactive: search.include_inactive,
            page: search.page,
            page_size: search.page_size,
            day,
        };
        match self.cache.get(&key) {
            Some(answer) if answer.generation == generation => Lookup::Hit(answer.body),
            _ => Lookup::Miss(Slot {
                answers: self,
                key,
                generation,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(text: &str) -> Search<'_> {
        Search {
            text: Some(text),
            region: None,
            category: None,
            tag: None,
            include_inactive: false,
            page: 1,
            page_size: 20,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn fill(answers: &SearchAnswers, text: &str, generation: u64, day: NaiveDate, body: &'static str) {
        match answers.lookup(&search(text), generation, day) {
            Lookup::Miss(slot) => slot.fill(Bytes::from_static(body.as_bytes())),
            Lookup::Hit(_) => panic!("{text} was already answered"),
        }
    }

    #[test]
    fn an_answer_is_served_only_at_its_generation_and_day() {
        let answers = SearchAnswers::default();
        fill(&answers, "欠薪", 7, day(22), "first");
        assert!(matches!(answers.lookup(&search(" 欠薪 "), 7, day(22)), Lookup::Hit(body) if body == "first"));
        assert!(matches!(answers.lookup(&search("欠薪"), 8, day(22)), Lookup::Miss(_)));
        assert!(matches!(answers.lookup(&search("欠薪"), 7, day(23)), Lookup::Miss(_)));
        assert!(matches!(answers.lookup(&search("社保"), 7, day(22)), Lookup::Miss(_)));
        fill(&answers, "欠薪", 8, day(22), "second");
        assert!(matches!(answers.lookup(&search("欠薪"), 8, day(22)), Lookup::Hit(body) if body == "second"));
    }

    #[test]
    fn the_cache_holds_no_more_than_its_bytes() {
        let answers = SearchAnswers::default();
        let body: &'static str = Box::leak("字".repeat(100_000).into_boxed_str());
        for i in 0..200 {
            fill(&answers, &format!("查询{i}"), 1, day(22), body);
        }
        let held = (0..200)
            .filter(|i| matches!(answers.lookup(&search(&format!("查询{i}")), 1, day(22)), Lookup::Hit(_)))
            .count();
        assert!(
            held > 0 && held as u64 * 300_000 <= CAPACITY_BYTES,
            "{held} answers held"
        );
    }
}
