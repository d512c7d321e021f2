//! Phone numbers in one form (E.164), so a reply can be matched to the notice it answers.

/// A phone number in international form, or `None` when it is not one. Danish numbers
/// (8 digits) may be written without `+45`; `00` counts as `+`; spaces, dashes, dots and
/// parentheses are dropped.
pub fn normalise_number(raw: &str) -> Option<String> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}')).collect();
    let international = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_owned()
    } else if compact.len() == 8 {
        format!("45{compact}")
    } else {
        return None;
    };
    let digits_only = international.chars().all(|c| c.is_ascii_digit());
    let plausible = match international.strip_prefix("45") {
        Some(national) => national.len() == 8,
        None => (8..=15).contains(&international.len()),
    };
    (digits_only && plausible && !international.starts_with('0')).then(|| format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_normalised_number_is_e164(raw in any::<String>()) {
            if let Some(number) = normalise_number(&raw) {
                let digits = number.strip_prefix('+').unwrap_or_default();
                prop_assert!((8..=15).contains(&digits.len()) || digits.len() == 10, "{}", number);
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'));
                // normalising is idempotent
                prop_assert_eq!(normalise_number(&number), Some(number.clone()));
            }
        }

        #[test]
        fn separators_do_not_matter(digits in "[1-9][0-9]{7}", seps in prop::collection::vec(prop::sample::select(vec![" ", "-", ".", "(", ")", "\u{a0}"]), 8)) {
            let spaced: String = digits.chars().zip(&seps).flat_map(|(d, s)| [d.to_string(), (*s).to_owned()]).collect();
            prop_assert_eq!(normalise_number(&spaced), Some(format!("+45{digits}")));
        }

        #[test]
        fn look_alike_digits_are_not_numbers(raw in "[+]?[0-9٠-٩０-９]{8,12}") {
            if let Some(number) = normalise_number(&raw) {
                prop_assert!(number[1..].bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(raw.chars().all(|c| c.is_ascii_digit() || c == '+'));
            }
        }
    }
}
