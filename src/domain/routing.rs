//! A citizen's contact profile, and which channels a letter goes out on because of it.

use serde::{Deserialize, Serialize};

use super::letter::{ChannelKind, PostalAddress};

/// How a citizen wants to be reached. A citizen with no profile has the default: Digital Post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactProfile {
    pub name: Option<String>,
    pub address: Option<PostalAddress>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// BCP 47 language tag (`da`, `en`, …).
    pub language: Option<String>,
    pub large_print: bool,
    pub easy_read: bool,
    /// The channel letters should come by: `digital_post`, `print` or `phone`.
    pub preferred_channel: Option<ChannelKind>,
    /// Extra notices when a letter comes: `sms`, `email`.
    pub notice_channels: Vec<ChannelKind>,
    /// Exempt from Digital Post: letters never go there. No reason is asked or kept.
    pub exempt_from_digital_post: bool,
    /// Trusted people the citizen chose, who hear when an important letter goes unread.
    #[serde(default)]
    pub helpers: Vec<Helper>,
}

/// What a helper gets: never more than the citizen granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HelperScope {
    /// A notice (SMS or e-mail) that the citizen has an important letter they have not read.
    Notice,
    /// A paper copy of the letter, to the helper's address.
    Copy,
}

/// A trusted person (family, friend, support worker) named by the citizen, with consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Helper {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<PostalAddress>,
    pub receives: HelperScope,
}

/// The channel that reaches a helper with what they may receive, if any.
pub fn helper_channel(helper: &Helper) -> Option<ChannelKind> {
    match helper.receives {
        HelperScope::Copy => helper.address.as_ref().map(|_| ChannelKind::Print),
        HelperScope::Notice if helper.phone.is_some() => Some(ChannelKind::Sms),
        HelperScope::Notice => helper.email.as_ref().map(|_| ChannelKind::Email),
    }
}

/// The channels one letter goes out on: one that carries the letter, plus notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub letter: ChannelKind,
    pub notices: Vec<ChannelKind>,
}

/// Digital Post by default; paper (or phone, if chosen) for an exempt citizen or one who
/// prefers paper. Notices go only where the profile has the contact detail they need.
pub fn route(profile: &ContactProfile) -> Route {
    let letter = match (profile.exempt_from_digital_post, profile.preferred_channel) {
        (_, Some(ChannelKind::Print)) => ChannelKind::Print,
        (true, Some(ChannelKind::Phone)) if profile.phone.is_some() => ChannelKind::Phone,
        (true, _) => ChannelKind::Print,
        (false, _) => ChannelKind::DigitalPost,
    };
    let mut notices = Vec::new();
    for channel in &profile.notice_channels {
        let reachable = match channel {
            ChannelKind::Sms => profile.phone.is_some(),
            ChannelKind::Email => profile.email.is_some(),
            _ => false,
        };
        if reachable && !notices.contains(channel) {
            notices.push(*channel);
        }
    }
    Route { letter, notices }
}

/// Channels a citizen may choose for letters, and for notices.
pub fn is_letter_channel(channel: ChannelKind) -> bool {
    matches!(channel, ChannelKind::DigitalPost | ChannelKind::Print | ChannelKind::Phone)
}

pub fn is_notice_channel(channel: ChannelKind) -> bool {
    matches!(channel, ChannelKind::Sms | ChannelKind::Email)
}

/// Validate a profile as someone registers it; every problem is named by its JSON pointer.
pub fn validate_profile(p: &ContactProfile) -> Vec<super::letter::FieldError> {
    use super::letter::{FieldError, check_address, check_email, check_optional, check_phone};
    let mut errors = Vec::new();
    check_optional(&mut errors, "/name", p.name.as_ref(), 200);
    if let Some(address) = &p.address {
        check_address(&mut errors, "/address", address);
    }
    if let Some(phone) = &p.phone {
        check_phone(&mut errors, "/phone", phone);
    }
    if let Some(email) = &p.email {
        check_email(&mut errors, "/email", email);
    }
    if let Some(language) = &p.language {
        let mut parts = language.split('-');
        let primary_ok =
            parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
        let rest_ok =
            parts.all(|part| (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !primary_ok || !rest_ok {
            errors.push(FieldError::new("/language", "error-language"));
        }
    }
    if let Some(channel) = p.preferred_channel
        && !is_letter_channel(channel)
    {
        errors.push(FieldError::new("/preferred_channel", "error-letter-channel"));
    }
    for (i, channel) in p.notice_channels.iter().enumerate() {
        if !is_notice_channel(*channel) {
            errors.push(FieldError::new(format!("/notice_channels/{i}"), "error-notice-channel"));
        }
    }
    for (i, h) in p.helpers.iter().enumerate() {
        let at = |field: &str| format!("/helpers/{i}/{field}");
        super::letter::check_text(&mut errors, &at("name"), &h.name, 200);
        if let Some(phone) = &h.phone {
            check_phone(&mut errors, &at("phone"), phone);
        }
        if let Some(email) = &h.email {
            check_email(&mut errors, &at("email"), email);
        }
        if let Some(address) = &h.address {
            check_address(&mut errors, &at("address"), address);
        }
        if helper_channel(h).is_none() {
            errors.push(FieldError::new(at("receives"), "error-helper-unreachable"));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_profile_means_digital_post_and_no_notices() {
        assert_eq!(route(&ContactProfile::default()), Route { letter: ChannelKind::DigitalPost, notices: vec![] });
    }

    #[test]
    fn exemption_routes_to_paper_or_to_phone_when_reachable() {
        let exempt = ContactProfile { exempt_from_digital_post: true, ..Default::default() };
        assert_eq!(route(&exempt).letter, ChannelKind::Print);
        let phone_without_number = ContactProfile { preferred_channel: Some(ChannelKind::Phone), ..exempt.clone() };
        assert_eq!(route(&phone_without_number).letter, ChannelKind::Print);
        let phone = ContactProfile { phone: Some("+4512345678".into()), ..phone_without_number };
        assert_eq!(route(&phone).letter, ChannelKind::Phone);
    }

    #[test]
    fn paper_preference_wins_without_exemption() {
        let paper = ContactProfile { preferred_channel: Some(ChannelKind::Print), ..Default::default() };
        assert_eq!(route(&paper).letter, ChannelKind::Print);
        // a phone preference without exemption still gets Digital Post: the letter must arrive in writing
        let phone = ContactProfile { preferred_channel: Some(ChannelKind::Phone), ..Default::default() };
        assert_eq!(route(&phone).letter, ChannelKind::DigitalPost);
    }

    #[test]
    fn profiles_are_validated_field_by_field() {
        let bad = ContactProfile {
            phone: Some("12".into()),
            language: Some("Dansk".into()),
            preferred_channel: Some(ChannelKind::Sms),
            notice_channels: vec![ChannelKind::Email, ChannelKind::Print],
            ..Default::default()
        };
        let pointers: Vec<String> = validate_profile(&bad).into_iter().map(|e| e.pointer).collect();
        assert_eq!(pointers, ["/phone", "/language", "/preferred_channel", "/notice_channels/1"]);
        let good = ContactProfile { language: Some("uk".into()), email: Some("a@b.dk".into()), ..Default::default() };
        assert!(validate_profile(&good).is_empty());
    }

    #[test]
    fn notices_need_the_contact_detail() {
        let profile = ContactProfile {
            notice_channels: vec![ChannelKind::Sms, ChannelKind::Email, ChannelKind::Sms],
            phone: Some("+4512345678".into()),
            ..Default::default()
        };
        assert_eq!(route(&profile).notices, vec![ChannelKind::Sms]);
    }
}
