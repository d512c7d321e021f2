//! Which channel a letter goes to first, from the citizen's contact profile.

use super::letter::ChannelKind;

/// What routing needs to know about a citizen. A citizen with no profile has the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactProfile {
    pub preferred_channel: Option<ChannelKind>,
    pub exempt_from_digital_post: bool,
}

/// Digital Post by default; an exempt citizen gets paper unless they chose another analog
/// channel. Notices (SMS/e-mail) alone never carry the letter, so they cannot be the route.
pub fn first_channel(profile: &ContactProfile) -> ChannelKind {
    match (profile.exempt_from_digital_post, profile.preferred_channel) {
        (_, Some(ChannelKind::Print)) => ChannelKind::Print,
        (true, Some(ChannelKind::Phone)) => ChannelKind::Phone,
        (true, _) => ChannelKind::Print,
        (false, _) => ChannelKind::DigitalPost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_profile_means_digital_post() {
        assert_eq!(first_channel(&ContactProfile::default()), ChannelKind::DigitalPost);
    }

    #[test]
    fn exemption_routes_to_paper_or_phone() {
        let exempt = ContactProfile { exempt_from_digital_post: true, preferred_channel: None };
        assert_eq!(first_channel(&exempt), ChannelKind::Print);
        let phone = ContactProfile { preferred_channel: Some(ChannelKind::Phone), ..exempt.clone() };
        assert_eq!(first_channel(&phone), ChannelKind::Phone);
        let sms = ContactProfile { preferred_channel: Some(ChannelKind::Sms), ..exempt };
        assert_eq!(first_channel(&sms), ChannelKind::Print);
    }

    #[test]
    fn paper_preference_wins_without_exemption() {
        let paper = ContactProfile { preferred_channel: Some(ChannelKind::Print), exempt_from_digital_post: false };
        assert_eq!(first_channel(&paper), ChannelKind::Print);
    }
}
