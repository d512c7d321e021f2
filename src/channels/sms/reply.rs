//! What a citizen's SMS reply means. The notice asks for "OK" to confirm and for the
//! callback keyword of the citizen's language ("RING", "CALL") to be called; any language's
//! keyword is understood, since people do not always answer in the language they were written in.

use crate::i18n::{I18N, t};

/// The meaning of an inbound SMS, as far as Budbringer acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// "OK": the citizen has seen the notice (evidence of a reaction).
    Reaction,
    /// The callback keyword: the citizen wants a caseworker to call.
    CallbackRequest,
    /// Anything else: a person should read it.
    Other,
}

impl ReplyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Reaction => "reaction",
            ReplyKind::CallbackRequest => "callback_request",
            ReplyKind::Other => "other",
        }
    }
}

/// Classify a reply: case, surrounding blanks and trailing punctuation do not matter
/// ("Ok.", " ring! "); anything longer than the keyword itself is `Other`.
pub fn classify_reply(text: &str) -> ReplyKind {
    let word = normalise(text);
    if matches!(word.as_str(), "ok" | "okay" | "o.k" | "oki") {
        return ReplyKind::Reaction;
    }
    let callback = I18N.languages().any(|language| normalise(&t(language, "sms-callback-keyword", &[])) == word);
    if callback && !word.is_empty() { ReplyKind::CallbackRequest } else { ReplyKind::Other }
}

fn normalise(text: &str) -> String {
    text.trim().trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace()).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_in_any_spelling_is_a_reaction() {
        for text in ["OK", "ok", "Ok.", " ok! ", "Okay", "O.K.", "ok\n"] {
            assert_eq!(classify_reply(text), ReplyKind::Reaction, "{text:?}");
        }
    }

    #[test]
    fn every_languages_keyword_asks_for_a_call() {
        for text in ["RING", "ring", "Ring!", "CALL", "call.", "ДЗВІНОК", "дзвінок", "اتصل", " اتصل. "]
        {
            assert_eq!(classify_reply(text), ReplyKind::CallbackRequest, "{text:?}");
        }
    }

    #[test]
    fn anything_else_is_other() {
        for text in ["", "   ", "Ok tak, men hvad betyder det?", "ring mig i morgen", "nej", "okkk", "?"] {
            assert_eq!(classify_reply(text), ReplyKind::Other, "{text:?}");
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
            ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn any_reply_is_classified_without_panicking(text in any::<String>()) {
                let kind = classify_reply(&text);
                // a keyword is one word: a reply with a space inside its words is for a person
                if text.trim().contains(char::is_whitespace) {
                    prop_assert_eq!(kind, ReplyKind::Other);
                }
            }

            #[test]
            fn the_keyword_is_found_whatever_surrounds_it(
                keyword in prop::sample::select(vec!["ok", "OK", "Okay", "ring", "RING", "Call"]),
                before in "[ \t\r\n]{0,3}",
                after in "[ \t\r\n.!?]{0,3}",
            ) {
                let kind = classify_reply(&format!("{before}{keyword}{after}"));
                prop_assert_ne!(kind, ReplyKind::Other);
            }
        }
    }
}
