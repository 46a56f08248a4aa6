//! One-time codes handed from one person to another: an agency's claim code
//! for a transfer case, a worker's invitation to a relative (亲情代办).
//!
//! A code is 12 symbols of an alphabet without the look-alikes 0/O and 1/I
//! (60 random bits), printed as three groups of four. Only its keyed hash
//! (HMAC under the lookup key) is stored; whoever stores it also keeps when
//! it expires and clears or marks it once used. Whoever types codes has a
//! bounded number of tries per window, counted in the store before a code is
//! looked at, so a burst cannot try more; a success gives its try back.

use std::time::Duration;

use rand::Rng;

use crate::{
    error::AppResult,
    infra::crypto::{DataProtector, Purpose},
    state::AppState,
};

/// 32 symbols without 0/O and 1/I, which people confuse on paper.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// 12 symbols: 60 random bits, printed as three groups of four.
const CODE_LENGTH: usize = 12;

/// A fresh code, e.g. `K7M2-Q9XP-4HTD`.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let symbols: Vec<char> = (0..CODE_LENGTH)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect();
    symbols
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The code as typed, without spaces or dashes and in capitals; `None`
/// when it cannot be a code at all.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The keyed hash a code is stored as, under the active lookup key.
pub fn hash(protector: &DataProtector, purpose: Purpose, code: &str) -> Option<String> {
    normalise(code).map(|code| protector.lookup_hash(purpose, &code))
}

/// Every hash a stored code may hold, under each listed lookup key: codes
/// cannot be rehashed after a key rotation, so lookups try them all.
pub fn hashes(protector: &DataProtector, purpose: Purpose, code: &str) -> Option<Vec<String>> {
    normalise(code).map(|code| protector.lookup_hashes(purpose, &code))
}

/// How many codes one person may try in a window.
#[derive(Debug, Clone, Copy)]
pub struct Tries {
    /// The store key's prefix, e.g. `claim_tries`.
    pub name: &'static str,
    pub max: i64,
    pub window: Duration,
}

impl Tries {
    fn key(self, who: &str) -> String {
        format!("{}:{who}", self.name)
    }

    /// Spends one try of `who`: false when the window's tries are used up.
    pub async fn spend(self, state: &AppState, who: &str) -> AppResult<bool> {
        Ok(state.store.increment(&self.key(who), self.window).await? <= self.max)
    }

    /// Gives back the try a right code spent.
    pub async fn give_back(self, state: &AppState, who: &str) -> AppResult<()> {
        state.store.decrement(&self.key(who)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_reads_back_as_itself() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LENGTH + 2, "{code}");
        assert_eq!(normalise(&code), Some(code.replace('-', "")));
    }

    #[test]
    fn typing_slips_are_forgiven_but_not_confusable_symbols() {
        assert_eq!(normalise(" k7m2 q9xp-4htd "), Some("K7M2Q9XP4HTD".to_owned()));
        assert_eq!(normalise("K7M2-Q9XP-4HT0"), None, "0 is not in the alphabet");
        assert_eq!(normalise("K7M2-Q9XP"), None);
        assert_eq!(normalise(""), None);
    }
}
