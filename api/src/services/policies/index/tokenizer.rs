//! The tantivy tokenizer over `Words`: what a policy's title, tags and text
//! are indexed under is exactly what `Words::terms` cuts them into, so a
//! query built from `Words::query_terms` meets the same words.

use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::words::Words;

/// The name the index's text fields refer to the tokenizer by.
pub const JIEBA: &str = "shiminhua_jieba";

#[derive(Clone)]
pub struct JiebaTokenizer {
    words: Arc<Words>,
}

impl JiebaTokenizer {
    pub fn new(words: Arc<Words>) -> Self {
        Self { words }
    }
}

/// The whole text is cut at once (jieba needs the sentence around a word to
/// cut it well); the stream hands the segments out one by one.
pub struct JiebaTokens {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaTokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaTokens {
        let tokens = self
            .words
            .terms(text)
            .into_iter()
            .enumerate()
            .map(|(position, (word, range))| Token {
                offset_from: range.start,
                offset_to: range.end,
                position,
                text: word,
                position_length: 1,
            })
            .collect();
        JiebaTokens { tokens, next: 0 }
    }
}

impl TokenStream for JiebaTokens {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(String, usize, usize)> {
        let mut tokenizer = JiebaTokenizer::new(Arc::new(Words::new()));
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push((token.text.clone(), token.offset_from, token.offset_to));
        }
        out
    }

    #[test]
    fn a_long_word_is_indexed_whole_and_as_its_parts() {
        let words: Vec<String> = tokens("保障性租赁住房").into_iter().map(|t| t.0).collect();
        assert!(words.contains(&"保障性租赁住房".to_owned()), "{words:?}");
        assert!(words.contains(&"住房".to_owned()), "{words:?}");
        assert!(words.contains(&"租赁".to_owned()), "{words:?}");
    }

    #[test]
    fn punctuation_and_stopwords_are_left_out_and_latin_is_lower_cased() {
        let words: Vec<String> = tokens("农民工的工资，请拨打12333或登录APP。")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert!(words.contains(&"农民工".to_owned()), "{words:?}");
        assert!(words.contains(&"app".to_owned()), "{words:?}");
        assert!(words.contains(&"12333".to_owned()), "{words:?}");
        assert!(!words.iter().any(|w| w == "的" || w == "，" || w == "。"), "{words:?}");
    }

    #[test]
    fn offsets_are_byte_ranges_of_the_text() {
        let text = "根治拖欠农民工工资";
        let found = tokens(text);
        assert!(!found.is_empty());
        for (word, from, to) in found {
            assert_eq!(text[from..to].to_lowercase(), word);
        }
    }

    #[test]
    fn an_empty_text_gives_no_tokens() {
        assert!(tokens("").is_empty());
        assert!(tokens("，。！").is_empty());
    }
}
