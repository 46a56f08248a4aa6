//! The in-memory search index of published policies: Chinese word
//! segmentation (jieba, search mode), BM25F ranking with the title above tags
//! above the text, synonyms for the words workers really type, and snippets
//! with the matched words highlighted. Every instance keeps its own index and
//! follows changes in the database (see `sync`), so a search never touches
//! the database.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::NaiveDate;
use jieba_rs::Jieba;

use super::PolicyCategory;
use crate::domain::RegionCode;

/// BM25 saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;
const TITLE_WEIGHT: f32 = 3.0;
const TAG_WEIGHT: f32 = 2.0;
const TEXT_WEIGHT: f32 = 1.0;
/// A synonym counts a little less than the word the worker typed.
const SYNONYM_WEIGHT: f32 = 0.8;
const SNIPPET_CHARS: usize = 80;
const SNIPPET_LEAD: usize = 16;

/// Words a worker types for the same thing. Each group is searched together.
const SYNONYMS: &[&[&str]] = &[
    &["欠薪", "拖欠工资", "讨薪", "欠工资", "工资拖欠", "讨要工资"],
    &["社保", "社会保险"],
    &["补贴", "补助", "资助"],
    &["落户", "户口", "户籍"],
    &["租房", "住房", "住房保障"],
    &["上学", "入学", "就学", "读书"],
    &["找工作", "求职", "就业"],
    &["培训", "技能培训", "职业技能培训"],
];

/// Words jieba should keep whole, so that both the whole and its parts match.
const EXTRA_WORDS: &[&str] = &[
    "欠薪",
    "讨薪",
    "拖欠工资",
    "工资拖欠",
    "社保",
    "随迁子女",
    "保障性租赁住房",
    "返乡创业",
    "创业担保贷款",
    "零工市场",
    "点对点",
    "市民化",
    "农民工",
    "工资专用账户",
];

const STOPWORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "是", "等", "对", "为", "把", "被", "将", "其", "之",
];

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

    /// What a policy is indexed under: search-mode segments (a long word and
    /// the words inside it), lower-cased, without punctuation and stopwords.
    fn terms(&self, text: &str) -> Vec<String> {
        clean(
            self.jieba
                .cut_for_search(text, true)
                .into_iter()
                .map(|token| token.word),
        )
    }

    /// What a query looks for: precise-mode segments, so that a long word a
    /// worker types (保障性租赁住房) is looked for whole, not as its parts.
    fn query_words(&self, text: &str) -> Vec<String> {
        clean(self.jieba.cut(text, true).into_iter().map(|token| token.word))
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

    /// The query's words with their weights: each word typed, and its synonyms.
    fn query_terms(&self, text: &str) -> Vec<(String, f32)> {
        let mut weighted: HashMap<String, f32> = HashMap::new();
        let mut add = |word: String, weight: f32| {
            let entry = weighted.entry(word).or_insert(0.0);
            *entry = entry.max(weight);
        };
        for word in self.query_words(text) {
            if let Some(group) = self.synonyms.get(word.as_str()) {
                for synonym in group.iter().filter(|s| **s != word) {
                    add((*synonym).to_owned(), SYNONYM_WEIGHT);
                }
            }
            add(word, 1.0);
        }
        weighted.into_iter().collect()
    }

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

fn clean<'a>(words: impl Iterator<Item = &'a str>) -> Vec<String> {
    words
        .map(|word| word.trim().to_lowercase())
        .filter(|word| word.chars().any(char::is_alphanumeric) && !STOPWORDS.contains(&word.as_str()))
        .collect()
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

fn escape_into(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        '\n' | '\r' | '\t' => out.push(' '),
        c => out.push(c),
    }
}

/// About 80 characters of `text` around the first matched word, HTML-escaped,
/// with every matched word wrapped in `<em>`. The start of the text when
/// nothing matches there (the words were in the title).
pub fn snippet(text: &str, words: &[&str]) -> String {
    // Words are indexed lower-cased; Chinese has no case, Latin letters match
    // ignoring it. Lower-casing ASCII keeps every byte where it was, so a
    // position in one is the same position in the other.
    let haystack = text.to_ascii_lowercase();
    let needles: Vec<&str> = {
        let mut unique: HashSet<&str> = HashSet::new();
        let mut needles: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !w.is_empty() && unique.insert(w))
            .collect();
        // The longest word matching at a position is the one highlighted.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles
    };
    let match_at = |at: usize| {
        let lead = haystack.as_bytes()[at];
        needles
            .iter()
            .find(|n| n.as_bytes()[0] == lead && haystack[at..].starts_with(**n))
            .map(|n| n.len())
    };
    // A word is valid UTF-8, so where it is found a character starts.
    let first = needles.iter().filter_map(|n| haystack.find(n)).min();
    let start = first.map_or(0, |at| {
        text[..at]
            .char_indices()
            .rev()
            .nth(SNIPPET_LEAD - 1)
            .map_or(0, |(i, _)| i)
    });
    let end = text[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(i, _)| start + i);
    let mut out = String::with_capacity((end - start) + 32);
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    while at < end {
        match match_at(at) {
            Some(length) => {
                out.push_str("<em>");
                for c in text[at..at + length].chars() {
                    escape_into(&mut out, c);
                }
                out.push_str("</em>");
                at += length;
            }
            None => {
                let c = text[at..].chars().next().expect("at is inside the text");
                escape_into(&mut out, c);
                at += c.len_utf8();
            }
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
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

    #[test]
    fn snippets_escape_html_and_highlight_words() {
        let text = "前面的一些内容。用人单位<script>拖欠工资</script>的，可以投诉。";
        let snippet = snippet(text, &["拖欠工资", "拖欠"]);
        assert!(snippet.contains("<em>拖欠工资</em>"), "{snippet}");
        assert!(snippet.contains("&lt;script&gt;"), "{snippet}");
        assert!(!snippet.contains("<script>"));
        assert_eq!(super::snippet("没有匹配", &["欠薪"]), "没有匹配");
    }

    #[test]
    fn snippets_start_shortly_before_the_first_match_and_ignore_latin_case() {
        let text = format!("{}请拨打12333或登录APP办理。{}", "前".repeat(40), "后".repeat(100));
        let snippet = snippet(&text, &["app", "12333", ""]);
        assert!(snippet.starts_with('…') && snippet.ends_with('…'), "{snippet}");
        assert!(snippet.contains("<em>12333</em>或登录<em>APP</em>办理"), "{snippet}");
        let lead: String = snippet.chars().skip(1).take_while(|c| *c == '前').collect();
        assert_eq!(lead.chars().count(), SNIPPET_LEAD - "请拨打".chars().count());
        let visible = snippet.replace("<em>", "").replace("</em>", "");
        assert_eq!(visible.chars().count(), SNIPPET_CHARS + 2, "{visible}");
    }
}
