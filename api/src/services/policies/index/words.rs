//! Words: how policies and queries are cut into words (jieba), which words
//! are left out, and which count as the same.

use std::collections::HashMap;

use super::PolicyIndex;

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

impl PolicyIndex {
    /// What a policy is indexed under: search-mode segments (a long word and
    /// the words inside it), lower-cased, without punctuation and stopwords.
    pub(super) fn terms(&self, text: &str) -> Vec<String> {
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

    /// The query's words with their weights: each word typed, and its synonyms.
    pub(super) fn query_terms(&self, text: &str) -> Vec<(String, f32)> {
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
}

fn clean<'a>(words: impl Iterator<Item = &'a str>) -> Vec<String> {
    words
        .map(|word| word.trim().to_lowercase())
        .filter(|word| word.chars().any(char::is_alphanumeric) && !STOPWORDS.contains(&word.as_str()))
        .collect()
}
