//! Money as the worker reads and writes it: yuan, with at most two decimals.
//! Amounts are stored and computed in fen (integers); these two functions
//! are the only crossing between the two.

use serde_json::Value;

/// The most one amount may be: 100 million yuan, far above any subsidy, and
/// well inside what a JSON number carries exactly.
const MAX_FEN: i64 = 10_000_000_000;

/// An amount in yuan as the worker typed it (`3456.78`, `2000`), in fen;
/// `None` unless it is a positive number with at most two decimals.
pub fn fen_from_yuan(value: &Value) -> Option<i64> {
    let number = value.as_number()?;
    let text = number.to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok().filter(|w: &i64| *w >= 0)?;
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    let fen = whole.checked_mul(100)?.checked_add(cents)?;
    (1..=MAX_FEN).contains(&fen).then_some(fen)
}

/// An amount in fen as the worker reads it: `3456.78`.
pub fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn yuan_with_up_to_two_decimals_become_fen() {
        assert_eq!(fen_from_yuan(&json!(3456.78)), Some(345_678));
        assert_eq!(fen_from_yuan(&json!(2000)), Some(200_000));
        assert_eq!(fen_from_yuan(&json!(0.5)), Some(50));
        assert_eq!(fen_from_yuan(&json!(0.01)), Some(1));
        assert_eq!(fen_from_yuan(&json!(10.005)), None);
        assert_eq!(fen_from_yuan(&json!(0)), None);
        assert_eq!(fen_from_yuan(&json!(-3)), None);
        assert_eq!(fen_from_yuan(&json!("3456.78")), None);
        assert_eq!(fen_from_yuan(&json!(1e30)), None);
    }

    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(yuan_text(0), "0.00");
        assert_eq!(yuan_text(345_678), "3456.78");
        assert_eq!(yuan_text(5), "0.05");
        assert_eq!(yuan_text(-150), "-1.50");
    }
}
