//! The in-memory search index of published policies: Chinese word
//! segmentation (jieba, search mode), BM25F ranking with the title above tags
//! above the text, synonyms for the words workers really type, and snippets
//! with the matched words highlighted. Every instance keeps its own index and
//! follows changes in the database (see `sync`), so a search never touches
//! the database.

mod search;
mod snippet;
mod words;

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::NaiveDate;
use jieba_rs::Jieba;

use self::words::{EXTRA_WORDS, SYNONYMS};
use super::PolicyCategory;
use crate::domain::RegionCode;

/// What the index holds of one published policy.
#[derive(Debug, Clone)]
pub struct IndexedPolicy {
    pub id: String,
    pub version: i32,
    pub title: String,
    pub summary: String,
    /// Summary and body as plain text, for snippets.
    pub text: String,
    pub category: PolicyCategory,
    pub region: RegionCode,
    pub issuer: String,
    pub doc_number: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub audience_tags: Vec<String>,
    /// 0 national, 1 province, 2 city, 3 county: the more local, the higher.
    pub locality: u8,
}

/// The filters and words of one search.
#[derive(Debug, Default)]
pub struct Query<'a> {
    pub text: Option<&'a str>,
    /// The regions whose policies apply: the region, its ancestors, national.
    pub regions: Option<Vec<RegionCode>>,
    pub category: Option<PolicyCategory>,
    pub tag: Option<&'a str>,
    /// `None`: policies in force on any day.
    pub in_force_on: Option<NaiveDate>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug)]
pub struct Hit {
    pub policy: Arc<IndexedPolicy>,
    pub score: f32,
    /// HTML-escaped text with the matched words in `<em>`.
    pub snippet: String,
}

#[derive(Debug)]
pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Posting {
    slot: u32,
    title: u16,
    tags: u16,
    text: u16,
}

struct Entry {
    policy: Arc<IndexedPolicy>,
    /// The vocabulary ids of the words it is indexed under.
    terms: Vec<u32>,
}

/// What the filters test and the order compares, kept dense per slot so
/// that filtering and ranking thousands of matches stays in cache.
#[derive(Clone, Copy)]
struct Facts {
    region: RegionCode,
    category: PolicyCategory,
    effective_from: Option<NaiveDate>,
    effective_until: Option<NaiveDate>,
    locality: u8,
    issued_on: Option<NaiveDate>,
    /// The id's first eight bytes: ties are broken by id, and this settles
    /// almost all of them without reaching for the policy.
    id_prefix: u64,
}

fn id_prefix(id: &str) -> u64 {
    let mut prefix = [0u8; 8];
    for (to, from) in prefix.iter_mut().zip(id.bytes()) {
        *to = from;
    }
    u64::from_be_bytes(prefix)
}

#[derive(Default)]
struct Inner {
    slots: Vec<Option<Entry>>,
    /// Per slot: the title's and the text's length in words, for BM25.
    lengths: Vec<(f32, f32)>,
    facts: Vec<Option<Facts>>,
    free: Vec<u32>,
    by_id: HashMap<String, u32>,
    /// Each distinct word once, with its id: a policy's words and the
    /// posting lists refer to it by id, so that a word shared by thousands
    /// of policies is stored once, not once per policy.
    vocabulary: HashMap<String, u32>,
    /// Per word id: the slots it occurs in.
    postings: Vec<Vec<Posting>>,
    title_len_sum: f32,
    text_len_sum: f32,
}

pub struct PolicyIndex {
    jieba: Jieba,
    synonyms: HashMap<&'static str, &'static [&'static str]>,
    inner: RwLock<Inner>,
    /// Counts the changes: an answer computed at one generation is stale at
    /// the next.
    generation: AtomicU64,
}

impl Default for PolicyIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl PolicyIndex {
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        for word in EXTRA_WORDS.iter().chain(SYNONYMS.iter().flat_map(|g| g.iter())) {
            jieba.add_word(word, None, None);
        }
        let synonyms = SYNONYMS
            .iter()
            .flat_map(|group| group.iter().map(move |w| (*w, *group)))
            .collect();
        Self {
            jieba,
            synonyms,
            inner: RwLock::new(Inner::default()),
            generation: AtomicU64::new(0),
        }
    }

    /// Read it before searching: an answer is then never filed under a
    /// generation newer than what it was computed from.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indexed version of a policy, if it is indexed.
    pub fn version_of(&self, id: &str) -> Option<i32> {
        let inner = self.read();
        let slot = *inner.by_id.get(id)?;
        inner.slots[slot as usize].as_ref().map(|e| e.policy.version)
    }

    pub fn get(&self, id: &str) -> Option<Arc<IndexedPolicy>> {
        let inner = self.read();
        let slot = *inner.by_id.get(id)?;
        inner.slots[slot as usize].as_ref().map(|e| e.policy.clone())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // Index writes are whole operations under the lock, so a panic
        // elsewhere cannot leave it half-updated.
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds or replaces a policy. Segmentation happens before the lock is taken.
    pub fn upsert(&self, policy: IndexedPolicy) {
        let title = self.terms(&policy.title);
        let tags = self.terms(&policy.tags.join(" "));
        let text = self.terms(&policy.text);
        let mut counts: HashMap<&str, Posting> = HashMap::new();
        for word in &title {
            counts.entry(word).or_default().title += 1;
        }
        for word in &tags {
            counts.entry(word).or_default().tags += 1;
        }
        for word in &text {
            counts.entry(word).or_default().text += 1;
        }
        let (title_len, text_len) = (title.len() as f32, text.len() as f32);

        let mut inner = self.write();
        inner.remove(&policy.id);
        let slot = match inner.free.pop() {
            Some(slot) => slot,
            None => {
                inner.slots.push(None);
                inner.lengths.push((0.0, 0.0));
                inner.facts.push(None);
                (inner.slots.len() - 1) as u32
            }
        };
        inner.lengths[slot as usize] = (title_len, text_len);
        inner.facts[slot as usize] = Some(Facts {
            region: policy.region,
            category: policy.category,
            effective_from: policy.effective_from,
            effective_until: policy.effective_until,
            locality: policy.locality,
            issued_on: policy.issued_on,
            id_prefix: id_prefix(&policy.id),
        });
        let mut terms = Vec::with_capacity(counts.len());
        for (word, mut posting) in counts {
            posting.slot = slot;
            let term = inner.term_id(word);
            inner.postings[term as usize].push(posting);
            terms.push(term);
        }
        inner.title_len_sum += title_len;
        inner.text_len_sum += text_len;
        inner.by_id.insert(policy.id.clone(), slot);
        inner.slots[slot as usize] = Some(Entry {
            policy: Arc::new(policy),
            terms,
        });
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn remove(&self, id: &str) {
        let mut inner = self.write();
        inner.remove(id);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Gives back what bulk loading over-allocated (posting lists grow by
    /// doubling); called once the library is loaded.
    pub fn compact(&self) {
        let mut inner = self.write();
        for list in &mut inner.postings {
            list.shrink_to_fit();
        }
        inner.postings.shrink_to_fit();
        inner.vocabulary.shrink_to_fit();
        inner.by_id.shrink_to_fit();
    }
}

impl Inner {
    fn term_id(&mut self, word: &str) -> u32 {
        if let Some(id) = self.vocabulary.get(word) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.vocabulary.insert(word.to_owned(), id);
        self.postings.push(Vec::new());
        id
    }

    fn remove(&mut self, id: &str) {
        let Some(slot) = self.by_id.remove(id) else {
            return;
        };
        let Some(entry) = self.slots[slot as usize].take() else {
            return;
        };
        for term in entry.terms {
            self.postings[term as usize].retain(|p| p.slot != slot);
        }
        let (title_len, text_len) = std::mem::take(&mut self.lengths[slot as usize]);
        self.facts[slot as usize] = None;
        self.title_len_sum -= title_len;
        self.text_len_sum -= text_len;
        self.free.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TextType;

    fn policy(id: &str, title: &str, text: &str, region: &str) -> IndexedPolicy {
        IndexedPolicy {
            id: id.to_owned(),
            version: 1,
            title: title.to_owned(),
            summary: text.to_owned(),
            text: text.to_owned(),
            category: PolicyCategory::WageRights,
            region: RegionCode::parse(region).unwrap(),
            issuer: "测试".to_owned(),
            doc_number: None,
            issued_on: None,
            effective_from: None,
            effective_until: None,
            tags: vec![],
            audience_tags: vec![],
            locality: 1,
        }
    }

    fn ids(index: &PolicyIndex, text: &str) -> Vec<String> {
        let query = Query {
            text: Some(text),
            limit: 10,
            ..Default::default()
        };
        index
            .search(&query)
            .hits
            .into_iter()
            .map(|h| h.policy.id.clone())
            .collect()
    }

    #[test]
    fn synonyms_find_what_workers_mean() {
        let index = PolicyIndex::new();
        index.upsert(policy(
            "wage",
            "根治拖欠农民工工资",
            "建立工资专用账户，治理拖欠工资问题。",
            "320000",
        ));
        index.upsert(policy(
            "si",
            "参加社会保险",
            "推动农民工参加养老保险和医疗保险。",
            "320000",
        ));
        index.upsert(policy("house", "住房保障", "筹集保障性租赁住房。", "450000"));
        assert_eq!(ids(&index, "欠薪"), ["wage"]);
        assert_eq!(ids(&index, "讨薪"), ["wage"]);
        assert_eq!(ids(&index, "社保"), ["si"]);
        assert_eq!(ids(&index, "租房"), ["house"]);
        assert!(ids(&index, "火星移民").is_empty());
    }

    #[test]
    fn a_title_match_ranks_above_a_text_match() {
        let index = PolicyIndex::new();
        index.upsert(policy(
            "text",
            "稳定就业",
            "也会提供一些创业服务和就业指导，帮助农民工稳定就业。",
            "320000",
        ));
        index.upsert(policy("title", "支持返乡创业", "提供政策咨询。", "320000"));
        assert_eq!(ids(&index, "创业"), ["title", "text"]);
    }

    #[test]
    fn replacing_and_removing_keep_the_index_consistent() {
        let index = PolicyIndex::new();
        index.upsert(policy("p", "随迁子女入学", "随迁子女可以在打工地上学。", "320000"));
        assert_eq!(ids(&index, "随迁子女"), ["p"]);
        let mut changed = policy("p", "住房保障", "租房补贴。", "320000");
        changed.version = 2;
        index.upsert(changed);
        assert!(ids(&index, "随迁子女").is_empty());
        assert_eq!(index.version_of("p"), Some(2));
        index.remove("p");
        assert!(ids(&index, "租房").is_empty());
        assert!(index.is_empty());
    }

    #[test]
    fn filters_apply_to_regions_and_dates() {
        let index = PolicyIndex::new();
        index.upsert(policy("js", "江苏欠薪治理", "欠薪", "320000"));
        index.upsert(policy("gx", "广西欠薪治理", "欠薪", "450000"));
        let mut expired = policy("old", "过期欠薪政策", "欠薪", "320000");
        expired.effective_until = NaiveDate::from_ymd_opt(2020, 1, 1);
        index.upsert(expired);
        let query = Query {
            text: Some("欠薪"),
            regions: Some(vec![RegionCode::parse("320000").unwrap(), RegionCode::NATIONAL]),
            in_force_on: NaiveDate::from_ymd_opt(2026, 11, 22),
            limit: 10,
            ..Default::default()
        };
        let found: Vec<_> = index.search(&query).hits.iter().map(|h| h.policy.id.clone()).collect();
        assert_eq!(found, ["js"]);
    }
}
