//! The personal access code printed in paper letters: with their CPR number, a citizen without
//! MitID or a phone logs in to the citizens' pages with it. The code is an HMAC of the CPR
//! number and a 90-day period under an installation key, so nothing is stored that a copy of
//! the database could use; it works in the period it was printed in and the next (90–180 days).

/// What the print channel needs to print access codes: where the pages are, and the key.
#[derive(Clone)]
pub struct AccessCodes {
    pub public_url: String,
    pub key: Vec<u8>,
}

impl std::fmt::Debug for AccessCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCodes").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

/// Crockford's base32: no I, L, O or U, which are easily misread on paper.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PERIOD_MS: i64 = 90 * 86_400_000;

fn period(at_ms: i64) -> i64 {
    at_ms.div_euclid(PERIOD_MS)
}

fn raw(key: &[u8], cpr: &str, period: i64) -> String {
    let mac = crate::domain::secret::keyed_hash(key, &format!("citizen-access-code:{cpr}:{period}"));
    // 80 bits: the first 20 hex digits, 5 bits per character
    let bits = u128::from_str_radix(mac.get(..20).unwrap_or("0"), 16).unwrap_or(0);
    (0..16).rev().map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char).collect()
}

/// The code printed in a letter made at `at_ms`, as `ABCD-EFGH-JKMN-PQRS`.
pub fn code(key: &[u8], cpr: &str, at_ms: i64) -> String {
    let raw = raw(key, cpr, period(at_ms));
    let groups: Vec<&str> = (0..4).filter_map(|i| raw.get(i * 4..i * 4 + 4)).collect();
    groups.join("-")
}

/// A typed code in its canonical form (case, spaces, dashes and look-alikes forgiven), if
/// it has the right length and characters.
pub fn normalise(typed: &str) -> Option<String> {
    let out: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (out.len() == 16 && out.bytes().all(|b| ALPHABET.contains(&b))).then_some(out)
}

/// Whether `typed` is the code of a letter printed for `cpr` in this period or the last.
pub fn matches(key: &[u8], cpr: &str, typed: &str, now_ms: i64) -> bool {
    let Some(typed) = normalise(typed) else { return false };
    let current = period(now_ms);
    [current, current - 1]
        .into_iter()
        .any(|p| crate::domain::secret::constant_time_eq(raw(key, cpr, p).as_bytes(), typed.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_forgiving_and_expire_after_the_next_period() {
        let key = b"key";
        let printed = code(key, "0101901234", 0);
        assert_eq!(printed.len(), 19);
        assert!(matches(key, "0101901234", &printed.to_lowercase().replace('-', " "), 1000));
        assert!(matches(key, "0101901234", &printed, PERIOD_MS + 5));
        assert!(!matches(key, "0101901234", &printed, 2 * PERIOD_MS + 5));
        assert!(!matches(key, "0101901235", &printed, 1000));
        assert!(!matches(b"other", "0101901234", &printed, 1000));
        assert_eq!(normalise("abcd"), None);
    }
}
