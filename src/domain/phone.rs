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
