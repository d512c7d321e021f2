//! The notice text: who wrote, whether it is important, where to read it, the deadline and
//! how to ask for a call — never the letter's subject or body, since an SMS shows on a locked
//! screen and may be read by anyone holding the phone. The reply keyword stands in for the
//! authority's phone number, which would push most notices into a second (paid) segment.

use jiff::civil::Date;

use crate::domain::Importance;
use crate::i18n::{DEFAULT_LANGUAGE, I18N, t};
use crate::store::DeliveryWork;

/// The language the citizen reads, from their profile's BCP 47 tag; Danish when it is
/// missing or not one Budbringer speaks.
pub fn language(tag: Option<&str>) -> &'static str {
    let primary = tag.and_then(|tag| tag.split(['-', '_']).next()).map(str::to_ascii_lowercase);
    primary.and_then(|p| I18N.languages().find(|l| *l == p)).unwrap_or(DEFAULT_LANGUAGE)
}

/// The notice for `work`, in the citizen's language.
pub fn notice_text(work: &DeliveryWork) -> String {
    let language = language(work.citizen.language.as_deref());
    let sender = vec![("sender", work.authority.name.clone())];
    let headline = match work.letter.importance {
        Importance::Important => "sms-notice-important",
        Importance::Normal => "sms-notice",
    };
    // an exempt citizen's letter comes on paper: never send them to Digital Post
    let read = if work.citizen.exempt_from_digital_post { "sms-read-paper" } else { "sms-read" };
    if let Some(citizen) = &work.for_helper {
        // to a helper: only that the citizen has an unread important letter, never its content
        let args = [("sender", work.authority.name.clone()), ("citizen", citizen.clone())];
        return t(language, "sms-helper-notice", &args);
    }
    let mut parts = vec![t(language, headline, &sender), t(language, read, &[])];
    let deadline = work.letter.deadline.as_deref().or(work.letter.respond_by.as_deref());
    if let Some(date) = deadline.and_then(|d| d.parse::<Date>().ok()) {
        let id = if work.letter.deadline_extended() { "sms-deadline-extended" } else { "sms-deadline" };
        parts.push(t(language, id, &[("date", crate::i18n::long_date(language, date))]));
    }
    let keyword = t(language, "sms-callback-keyword", &[]);
    parts.push(t(language, "sms-callback", &[("keyword", keyword)]));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::sms::segments::{Encoding, measure};
    use crate::channels::test_support::work;
    use crate::domain::ChannelKind;

    #[test]
    fn language_follows_the_profile_and_falls_back_to_danish() {
        assert_eq!(language(Some("en-GB")), "en");
        assert_eq!(language(Some("EN")), "en");
        assert_eq!(language(Some("da")), "da");
        assert_eq!(language(Some("ar")), "ar");
        assert_eq!(language(Some("uk-UA")), "uk");
        assert_eq!(language(Some("fr")), "da");
        assert_eq!(language(None), "da");
    }

    #[test]
    fn every_month_has_its_own_name_in_every_language() {
        for language in I18N.languages() {
            let mut names: Vec<String> =
                (1..=12).map(|month| crate::i18n::long_date(language, Date::new(2026, month, 1).unwrap())).collect();
            assert!(
                names.iter().all(|n| n.starts_with('1') && n.ends_with("2026") && !n.contains("sms-")),
                "{names:?}"
            );
            names.dedup();
            assert_eq!(names.len(), 12, "{language}: {names:?}");
        }
        assert_eq!(crate::i18n::long_date("da", Date::new(2099, 12, 31).unwrap()), "31. december 2099");
        assert_eq!(crate::i18n::long_date("en", Date::new(2099, 12, 31).unwrap()), "31 December 2099");
    }

    #[test]
    /// Latin-script notices fit one GSM-7 segment; Arabic and Cyrillic ones travel as UCS-2
    /// (70 characters a segment) and fit three, also with an extended deadline.
    fn notice_never_carries_subject_or_body_and_fits_gsm7() {
        let mut w = work(ChannelKind::Sms, Some("+4512345678"), None, false);
        w.letter.body = "Hemmelig tekst".into();
        w.letter.deadline = Some("2026-09-30".into());
        let mut seen = Vec::new();
        for extended in [false, true] {
            w.letter.respond_by = Some(if extended { "2026-09-01" } else { "2026-09-30" }.into());
            for tag in I18N.languages() {
                w.citizen.language = Some(tag.into());
                let text = notice_text(&w);
                assert!(text.contains("Aarhus Kommune"), "{text}");
                assert!(!text.contains("Hemmelig") && !text.contains("Boligstøtte"), "{text}");
                assert!(text.contains("30") && text.contains("2026"), "{text}");
                let length = measure(&text);
                if ["ar", "uk"].contains(&tag) {
                    assert_eq!(length.encoding, Encoding::Ucs2, "{text}");
                    assert!(length.segments <= 3, "{} segments: {text}", length.segments);
                } else {
                    assert_eq!(length.encoding, Encoding::Gsm7, "{text}");
                    assert_eq!(length.segments, 1, "{text}");
                }
                seen.push(text);
            }
        }
        let mut distinct = seen.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), seen.len(), "each language and each case has its own text");
    }

    #[test]
    fn normal_letters_without_deadline_get_a_short_notice() {
        let mut w = work(ChannelKind::Sms, Some("+4512345678"), None, false);
        w.letter.importance = Importance::Normal;
        let text = notice_text(&w);
        assert_eq!(
            text,
            "Nyt brev fra Aarhus Kommune. Læs det på borger.dk eller i appen Digital Post. \
             Svar RING, så ringer vi."
        );
    }

    #[test]
    fn an_exempt_citizen_is_told_the_letter_comes_by_post() {
        let mut w = work(ChannelKind::Sms, Some("+4512345678"), None, false);
        w.citizen.exempt_from_digital_post = true;
        let text = notice_text(&w);
        assert!(text.contains("Brevet kommer med posten."), "{text}");
        assert!(!text.contains("Digital Post"), "{text}");
    }
}
