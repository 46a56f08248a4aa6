//! Snippets: the text around the first matched word, with the matched words
//! highlighted.

use std::collections::HashSet;

const SNIPPET_CHARS: usize = 80;
const SNIPPET_LEAD: usize = 16;

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
