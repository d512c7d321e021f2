//! Escalation policies: for an important letter without evidence, which channels to try next,
//! after how long, and how far to extend the deadline so the other way can realistically work.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, Wait};
use super::letter::{ChannelKind, Importance};

/// One rung of the ladder: after `after` without evidence, reach the citizen on `channels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub after: Wait,
    pub channels: Vec<ChannelKind>,
    /// Business days from the escalation the citizen gets to respond (the deadline never shrinks).
    #[serde(default)]
    pub extend_by_business_days: u32,
    /// Raise an "unopened" alert for caseworkers at this rung (by default at the first one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<bool>,
}

impl Escalation {
    /// Does this rung (`step` in the ladder) alert caseworkers?
    pub fn alerts(&self, step: usize) -> bool {
        self.alert.unwrap_or(step == 0)
    }
}

/// The ladder for one kind of letter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub escalations: Vec<Escalation>,
    /// After the last rung, how long to wait before an alert says the citizen is unreachable.
    pub unreachable_after: Option<Wait>,
}

impl Policy {
    /// Does this policy chase letters at all?
    pub fn escalates(&self) -> bool {
        !self.escalations.is_empty() || self.unreachable_after.is_some()
    }

    /// The wait before step `step` (an index into the escalations; `len` is the unreachable alert).
    pub fn wait_before(&self, step: usize) -> Option<Wait> {
        match self.escalations.get(step) {
            Some(e) => Some(e.after),
            None if step == self.escalations.len() => self.unreachable_after,
            None => None,
        }
    }
}

/// Policies per letter kind, and when to suggest offering exemption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policies {
    pub important: Policy,
    pub normal: Policy,
    /// Important letters escalated within the window that make an "offer exemption" alert.
    pub offer_exemption_after_escalations: u32,
    pub offer_exemption_window_days: u32,
}

impl Default for Policies {
    /// The proposal's default: Digital Post → after 5 business days without evidence an SMS
    /// notice and a paper letter (deadline + 10 business days) → after 7 more a phone call
    /// (+ 5) → after 5 more an alert that the citizen cannot be reached. Normal letters are
    /// delivered, not chased.
    fn default() -> Self {
        Self {
            important: Policy {
                escalations: vec![
                    Escalation {
                        after: Wait::BusinessDays(5),
                        channels: vec![ChannelKind::Sms, ChannelKind::Print],
                        extend_by_business_days: 10,
                        alert: None,
                    },
                    Escalation {
                        after: Wait::BusinessDays(7),
                        channels: vec![ChannelKind::Phone],
                        extend_by_business_days: 5,
                        alert: None,
                    },
                ],
                unreachable_after: Some(Wait::BusinessDays(5)),
            },
            normal: Policy::default(),
            offer_exemption_after_escalations: 2,
            offer_exemption_window_days: 365,
        }
    }
}

impl Policies {
    pub fn for_importance(&self, importance: Importance) -> &Policy {
        match importance {
            Importance::Important => &self.important,
            Importance::Normal => &self.normal,
        }
    }
}

/// What the gateway knows of how the citizen can be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub phone: bool,
    pub email: bool,
    pub postal_address: bool,
    pub exempt_from_digital_post: bool,
}

/// The channels a rung really uses: those the citizen can be reached on, not Digital Post for
/// an exempt citizen, and none that already carried this letter.
pub fn step_channels(escalation: &Escalation, reach: &Reach, used: &[ChannelKind]) -> Vec<ChannelKind> {
    let mut channels = Vec::new();
    for channel in &escalation.channels {
        let reachable = match channel {
            ChannelKind::DigitalPost => !reach.exempt_from_digital_post,
            ChannelKind::Print => reach.postal_address,
            ChannelKind::Sms | ChannelKind::Phone => reach.phone,
            ChannelKind::Email => reach.email,
        };
        if reachable && !used.contains(channel) && !channels.contains(channel) {
            channels.push(*channel);
        }
    }
    channels
}

/// What happens to the deadline at an escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineChange {
    Extended {
        old: Date,
        new: Date,
    },
    /// Why not: the letter has no deadline, the rung extends by nothing, or the deadline is
    /// already later than the extension would make it.
    Unchanged {
        reason: &'static str,
    },
}

/// New deadline = max(current, escalation day + `business_days`) — never earlier.
pub fn extend_deadline(current: Option<Date>, today: Date, business_days: u32, calendar: &Calendar) -> DeadlineChange {
    let Some(old) = current else { return DeadlineChange::Unchanged { reason: "no_deadline" } };
    if business_days == 0 {
        return DeadlineChange::Unchanged { reason: "policy_does_not_extend" };
    }
    match calendar.add_business_days(today, business_days) {
        Ok(candidate) if candidate > old => DeadlineChange::Extended { old, new: candidate },
        Ok(_) => DeadlineChange::Unchanged { reason: "deadline_already_later" },
        Err(_) => DeadlineChange::Unchanged { reason: "calendar_out_of_range" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Country;
    use jiff::civil::date;

    fn rung(channels: Vec<ChannelKind>) -> Escalation {
        Escalation { after: Wait::BusinessDays(5), channels, extend_by_business_days: 10, alert: None }
    }

    #[test]
    fn rungs_skip_channels_the_citizen_cannot_be_reached_on() {
        let sms_and_paper = rung(vec![ChannelKind::Sms, ChannelKind::Print]);
        let everything = Reach { phone: true, email: true, postal_address: true, exempt_from_digital_post: false };
        assert_eq!(
            step_channels(&sms_and_paper, &everything, &[ChannelKind::DigitalPost]),
            [ChannelKind::Sms, ChannelKind::Print]
        );
        let no_phone = Reach { phone: false, ..everything.clone() };
        assert_eq!(step_channels(&sms_and_paper, &no_phone, &[]), [ChannelKind::Print]);
        // an exempt citizen who already got paper: only the SMS is new
        assert_eq!(step_channels(&sms_and_paper, &everything, &[ChannelKind::Print]), [ChannelKind::Sms]);
        let digital = rung(vec![ChannelKind::DigitalPost]);
        let exempt = Reach { exempt_from_digital_post: true, ..everything };
        assert!(step_channels(&digital, &exempt, &[]).is_empty());
    }

    #[test]
    fn deadlines_grow_in_business_days_and_never_shrink() {
        let dk = Calendar::new(Country::Denmark);
        // Friday 2026-11-27 + 10 business days = Friday 2026-12-11
        let extended = extend_deadline(Some(date(2026, 12, 1)), date(2026, 11, 27), 10, &dk);
        assert_eq!(extended, DeadlineChange::Extended { old: date(2026, 12, 1), new: date(2026, 12, 11) });
        let later = extend_deadline(Some(date(2027, 6, 1)), date(2026, 11, 27), 10, &dk);
        assert_eq!(later, DeadlineChange::Unchanged { reason: "deadline_already_later" });
        assert_eq!(
            extend_deadline(None, date(2026, 11, 27), 10, &dk),
            DeadlineChange::Unchanged { reason: "no_deadline" }
        );
    }

    #[test]
    fn the_default_policy_chases_important_letters_only() {
        let p = Policies::default();
        assert!(p.important.escalates());
        assert!(!p.normal.escalates());
        assert_eq!(p.important.wait_before(0), Some(Wait::BusinessDays(5)));
        assert_eq!(p.important.wait_before(2), Some(Wait::BusinessDays(5)));
        assert_eq!(p.important.wait_before(3), None);
    }
}
