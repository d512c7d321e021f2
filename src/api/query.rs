//! Query-string parameters: field errors that name the parameter (`?name` → `parameter`).

use crate::domain::letter::FieldError;

/// "This value cannot be used" for parameter `name`, with what was expected.
pub fn bad_value(name: &str, expected: &str) -> FieldError {
    FieldError::new(format!("?{name}"), "error-query-value").arg("problem", expected)
}

pub fn unknown_parameter(name: &str) -> FieldError {
    FieldError::new(format!("?{name}"), "error-json-unknown-field")
}

/// Parameters that accept only `all=true|false` (default false), as lists of open items do.
pub fn all_flag(params: &std::collections::HashMap<String, String>) -> Result<bool, Vec<FieldError>> {
    let mut all = false;
    let mut errors = Vec::new();
    for (name, value) in params {
        match (name.as_str(), value.as_str()) {
            ("all", "true") => all = true,
            ("all", "false") => all = false,
            ("all", _) => errors.push(bad_value(name, "true or false")),
            _ => errors.push(unknown_parameter(name)),
        }
    }
    if errors.is_empty() { Ok(all) } else { Err(errors) }
}

/// A page size between 1 and `max`.
pub fn page_limit(name: &str, value: &str, max: u32) -> Result<u32, FieldError> {
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(bad_value(name, &format!("1–{max}"))),
    }
}
