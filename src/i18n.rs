//! Fluent bundles from `locales/` (embedded at build time) and language negotiation.

use fluent::concurrent::FluentBundle;
use fluent::{FluentArgs, FluentResource};
use std::sync::LazyLock;
use unic_langid::LanguageIdentifier;

/// The Fluent files of one language, embedded at build time.
macro_rules! language {
    ($tag:literal) => {
        (
            $tag,
            &[
                ("main", include_str!(concat!("../locales/", $tag, "/main.ftl"))),
                ("sms", include_str!(concat!("../locales/", $tag, "/sms.ftl"))),
                ("email", include_str!(concat!("../locales/", $tag, "/email.ftl"))),
                ("print", include_str!(concat!("../locales/", $tag, "/print.ftl"))),
                ("digital-post", include_str!(concat!("../locales/", $tag, "/digital-post.ftl"))),
                ("web", include_str!(concat!("../locales/", $tag, "/web.ftl"))),
                ("citizen", include_str!(concat!("../locales/", $tag, "/citizen.ftl"))),
                ("staff", include_str!(concat!("../locales/", $tag, "/staff.ftl"))),
            ],
        )
    };
}

/// Every language Budbringer speaks, with its Fluent files by name; each speaks the whole
/// product (API answers, notices, letters, the citizens' and the caseworkers' pages). Danish
/// first: it is the default.
const LOCALES: &[(&str, &[(&str, &str)])] =
    &[language!("da"), language!("en"), language!("sv"), language!("ar"), language!("uk")];

/// The languages, in the order above.
pub const LANGUAGES: &[&str] = &["da", "en", "sv", "ar", "uk"];

/// Languages written right to left.
pub fn is_rtl(language: &str) -> bool {
    matches!(language, "ar" | "fa" | "he" | "ur")
}

pub const DEFAULT_LANGUAGE: &str = "da";

pub struct I18n {
    bundles: Vec<(&'static str, FluentBundle<FluentResource>)>,
}

/// The embedded catalogue, loaded once.
pub static I18N: LazyLock<I18n> = LazyLock::new(I18n::load);

impl I18n {
    fn load() -> Self {
        let bundles = LOCALES
            .iter()
            .map(|(tag, sources)| {
                let langid: LanguageIdentifier = tag.parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![langid]);
                // no bidi isolation marks: these strings also go into JSON and SMS texts
                bundle.set_use_isolating(false);
                for (_, source) in *sources {
                    let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, errors)| {
                        tracing::error!(language = tag, ?errors, "Fluent file has syntax errors");
                        partial
                    });
                    if let Err(errors) = bundle.add_resource(resource) {
                        tracing::error!(language = tag, ?errors, "Fluent file redefines messages");
                    }
                }
                (*tag, bundle)
            })
            .collect();
        Self { bundles }
    }

    /// The languages notices, letters, pages and API answers are written in.
    pub fn languages(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.bundles.iter().map(|(tag, _)| *tag)
    }

    /// Pick the best language from an `Accept-Language` header.
    pub fn negotiate(&self, accept_language: Option<&str>) -> &'static str {
        self.negotiate_among(accept_language, LANGUAGES)
    }

    /// Pick the best of `offered` from an `Accept-Language` header (Danish when none fits).
    pub fn negotiate_among(&self, accept_language: Option<&str>, offered: &[&'static str]) -> &'static str {
        let Some(header) = accept_language else { return DEFAULT_LANGUAGE };
        let mut wanted: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let q =
                    pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                (!tag.is_empty() && q > 0.0).then_some((q, tag))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in wanted {
            let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
            if let Some(found) = offered.iter().find(|l| **l == primary) {
                return found;
            }
        }
        DEFAULT_LANGUAGE
    }

    /// A message in `language`, falling back to Danish, then to the id itself (never panics).
    pub fn message(&self, language: &str, id: &str, args: &[(&str, String)]) -> String {
        let fluent_args = (!args.is_empty()).then(|| {
            let mut a = FluentArgs::new();
            for (name, value) in args {
                // whole numbers go in as numbers, so plural variants (`[one]`, `*[other]`) match
                match value.parse::<i64>() {
                    // not "+45…" or "012345": those are codes and numbers to show as written
                    Ok(n) if !value.starts_with('+') && (value.len() == 1 || !value.starts_with('0')) => {
                        a.set(*name, n)
                    }
                    _ => a.set(*name, value.clone()),
                }
            }
            a
        });
        let pick = |lang: &str| self.bundles.iter().find(|(tag, _)| *tag == lang).map(|(_, b)| b);
        for bundle in [pick(language), pick(DEFAULT_LANGUAGE)].into_iter().flatten() {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, fluent_args.as_ref(), &mut errors);
                if errors.is_empty() {
                    return text.into_owned();
                }
                tracing::warn!(id, language, ?errors, "Fluent message did not format cleanly");
                return text.into_owned();
            }
        }
        tracing::warn!(id, language, "missing Fluent message");
        id.to_owned()
    }

    pub fn has_message(&self, language: &str, id: &str) -> bool {
        self.bundles.iter().any(|(tag, b)| *tag == language && b.has_message(id))
    }
}

/// A date in words ("31. december 2099", "31 December 2099").
pub fn long_date(language: &str, date: jiff::civil::Date) -> String {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let month = MONTHS.get(usize::from(date.month().unsigned_abs()).saturating_sub(1)).copied().unwrap_or("jan");
    let args = [("day", date.day().to_string()), ("month", month.to_owned()), ("year", date.year().to_string())];
    I18N.message(language, "date-long", &args)
}

/// A stored `YYYY-MM-DD` date in words; the text as it is when it is not such a date.
pub fn long_date_str(language: &str, date: &str) -> String {
    date.parse().map(|d| long_date(language, d)).unwrap_or_else(|_| date.to_owned())
}

/// Shorthand for a message from the embedded catalogue.
pub fn t(language: &str, id: &str, args: &[(&str, String)]) -> String {
    I18N.message(language, id, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(source: &str) -> Vec<String> {
        source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_owned()))
            .collect()
    }

    fn file_ids(language: &str, file: &str) -> Option<Vec<String>> {
        let (_, files) = LOCALES.iter().find(|(tag, _)| *tag == language)?;
        files.iter().find(|(name, _)| *name == file).map(|(_, source)| ids(source))
    }

    /// Every language has every file, and each holds exactly the messages of its Danish
    /// original.
    #[test]
    fn every_language_has_every_message() {
        let (_, danish_files) = LOCALES[0];
        assert_eq!(LOCALES.iter().map(|(tag, _)| *tag).collect::<Vec<_>>(), LANGUAGES);
        for (tag, files) in LOCALES {
            for (file, _) in *files {
                let danish = file_ids("da", file).unwrap_or_else(|| panic!("da has no {file}.ftl"));
                let theirs = file_ids(tag, file).unwrap_or_default();
                for id in &danish {
                    assert!(theirs.contains(id), "{tag}/{file}.ftl lacks {id}");
                }
                for id in &theirs {
                    assert!(danish.contains(id), "da/{file}.ftl lacks {id} that {tag} has");
                }
            }
            for (file, _) in danish_files {
                assert!(file_ids(tag, file).is_some(), "{tag} has no {file}.ftl");
            }
        }
    }

    #[test]
    fn negotiation_honours_quality_and_falls_back_to_danish() {
        assert_eq!(I18N.negotiate(Some("en-GB,en;q=0.9")), "en");
        assert_eq!(I18N.negotiate(Some("fr, en;q=0.5, da;q=0.8")), "da");
        assert_eq!(I18N.negotiate(Some("fr")), "da");
        assert_eq!(I18N.negotiate(None), "da");
        assert_eq!(I18N.negotiate(Some("ar, en;q=0.5")), "ar");
        assert_eq!(I18N.negotiate(Some("uk-UA")), "uk");
        assert_eq!(I18N.negotiate_among(Some("ar, en;q=0.5"), &["da", "en"]), "en");
    }

    #[test]
    fn numbers_choose_plural_forms() {
        assert!(
            t("en", "staff-event-call-logged", &[("outcome", "x".into()), ("minutes", "1".into())])
                .contains("1 minute.")
        );
        assert!(
            t("en", "staff-event-call-logged", &[("outcome", "x".into()), ("minutes", "6".into())])
                .contains("6 minutes.")
        );
        assert!(
            t("da", "staff-event-call-logged", &[("outcome", "x".into()), ("minutes", "1".into())])
                .contains("1 minut.")
        );
        // codes with leading zeros stay as they are
        assert!(t("da", "reading-code-sms", &[("code", "012345".into()), ("sender", "X".into())]).contains("012345"));
    }

    #[test]
    fn messages_take_arguments() {
        let text = t("en", "error-too-long", &[("max", "10".to_owned())]);
        assert!(text.contains("10"), "{text}");
        assert_eq!(t("en", "no-such-message", &[]), "no-such-message");
    }
}
