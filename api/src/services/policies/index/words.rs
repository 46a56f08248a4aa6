//! Words: how policies and queries are cut into words (jieba), which words
//! are left out, and which count as the same.

use std::collections::HashMap;

use jieba_rs::Jieba;

/// A synonym counts a little less than the word the worker typed.
const SYNONYM_WEIGHT: f32 = 0.8;

/// Words a worker types for the same thing. Each group is searched together.
pub(super) const SYNONYMS: &[&[&str]] = &[
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
pub(super) const EXTRA_WORDS: &[&str] = &[
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

/// The segmenter with the programme's own words, and the synonym groups.
/// Shared by the index's tokenizer and the query side, so that both cut a
/// text the same way.
pub struct Words {
    jieba: Jieba,
    synonyms: HashMap<&'static str, &'static [&'static str]>,
}

impl Default for Words {
    fn default() -> Self {
        Self::new()
    }
}

impl Words {
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        for word in EXTRA_WORDS.iter().chain(SYNONYMS.iter().flat_map(|g| g.iter())) {
            jieba.add_word(word, None, None);
        }
        let synonyms = SYNONYMS
            .iter()
            .flat_map(|group| group.iter().map(move |w| (*w, *group)))
            .collect();
        Self { jieba, synonyms }
    }

    /// What a policy is indexed under: search-mode segments (a long word and
    /// the words inside it), lower-cased, without punctuation and stopwords,
    /// each with its byte range in `text`.
    pub fn terms(&self, text: &str) -> Vec<(String, std::ops::Range<usize>)> {
        self.jieba
            .cut_for_search(text, true)
            .into_iter()
            .filter_map(|token| clean_one(token.word).map(|word| (word, token.byte_start..token.byte_end)))
            .collect()
    }

    /// What a query looks for: precise-mode segments, so that a long word a
    /// worker types (保障性租赁住房) is looked for whole, not as its parts.
    fn query_words(&self, text: &str) -> Vec<String> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .filter_map(|token| clean_one(token.word))
            .collect()
    }

    /// The query's words with their weights: each word typed, and its synonyms.
    pub fn query_terms(&self, text: &str) -> Vec<(String, f32)> {
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
        let mut terms: Vec<(String, f32)> = weighted.into_iter().collect();
        // One order whatever the hash map's: the same query builds the same
        // tantivy query, and sums its scores in the same order.
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        terms
    }
}

/// A segment as it is indexed: lower-cased; `None` for punctuation and stopwords.
fn clean_one(word: &str) -> Option<String> {
    let word = word.trim().to_lowercase();
    (word.chars().any(char::is_alphanumeric) && !STOPWORDS.contains(&word.as_str())).then_some(word)
}
