//! Office hours: when a caseworker can be expected to make a call. Written as
//! `"mon-fri 09:00-15:00"` (days as a range or a comma list, then a time range), in a time
//! zone. Public holidays come with the business-day calendar.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

#[derive(Debug, Clone, PartialEq)]
pub struct OfficeHours {
    /// Open on these days, Monday first.
    days: [bool; 7],
    open: Time,
    close: Time,
    tz: TimeZone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("office hours look like \"mon-fri 09:00-15:00\" and a time zone like \"Europe/Copenhagen\": {0}")]
pub struct OfficeHoursError(String);

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(name: &str) -> Result<usize, OfficeHoursError> {
    DAYS.iter().position(|d| *d == name).ok_or_else(|| OfficeHoursError(format!("unknown day {name:?}")))
}

fn weekday_index(w: Weekday) -> usize {
    w.to_monday_zero_offset() as usize
}

impl OfficeHours {
    pub fn parse(spec: &str, time_zone: &str) -> Result<Self, OfficeHoursError> {
        let tz = TimeZone::get(time_zone).map_err(|e| OfficeHoursError(e.to_string()))?;
        let spec = spec.trim().to_ascii_lowercase();
        let (days_part, times_part) =
            spec.split_once(' ').ok_or_else(|| OfficeHoursError(format!("missing time range in {spec:?}")))?;
        let mut days = [false; 7];
        for item in days_part.split(',') {
            match item.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (day_index(from)?, day_index(to)?);
                    if from > to {
                        return Err(OfficeHoursError(format!("day range {item:?} runs backwards")));
                    }
                    days[from..=to].iter_mut().for_each(|d| *d = true);
                }
                None => days[day_index(item)?] = true,
            }
        }
        let (open, close) = times_part
            .trim()
            .split_once('-')
            .ok_or_else(|| OfficeHoursError(format!("time range {times_part:?} needs a '-'")))?;
        let time = |t: &str| t.trim().parse::<Time>().map_err(|e| OfficeHoursError(format!("{t:?}: {e}")));
        let (open, close) = (time(open)?, time(close)?);
        if open >= close {
            return Err(OfficeHoursError("opening must come before closing".into()));
        }
        Ok(Self { days, open, close, tz })
    }

    /// `at` if the office is open then, otherwise the next opening time.
    pub fn next_open(&self, at: Timestamp) -> Timestamp {
        let local = at.to_zoned(self.tz.clone());
        if !self.days.iter().any(|d| *d) {
            return at;
        }
        let mut day = local.date();
        for _ in 0..8 {
            if self.days[weekday_index(day.weekday())] {
                let opens = day.to_datetime(self.open).to_zoned(self.tz.clone());
                let closes = day.to_datetime(self.close).to_zoned(self.tz.clone());
                if let (Ok(opens), Ok(closes)) = (opens, closes) {
                    if local < opens {
                        return opens.timestamp();
                    }
                    if local < closes {
                        return at;
                    }
                }
            }
            day = day.saturating_add(1.day());
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cph(s: &str) -> Timestamp {
        s.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get("Europe/Copenhagen").unwrap())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn inside_hours_is_now_outside_is_the_next_opening() {
        let hours = OfficeHours::parse("mon-fri 09:00-15:00", "Europe/Copenhagen").unwrap();
        // Wednesday 2026-11-25
        assert_eq!(hours.next_open(cph("2026-11-25T10:30")), cph("2026-11-25T10:30"));
        assert_eq!(hours.next_open(cph("2026-11-25T07:00")), cph("2026-11-25T09:00"));
        assert_eq!(hours.next_open(cph("2026-11-25T15:00")), cph("2026-11-26T09:00"));
        // Friday evening → Monday morning
        assert_eq!(hours.next_open(cph("2026-11-27T18:00")), cph("2026-11-30T09:00"));
    }

    #[test]
    fn day_lists_and_bad_specs() {
        let hours = OfficeHours::parse("mon,wed 10:00-12:00", "Europe/Copenhagen").unwrap();
        assert_eq!(hours.next_open(cph("2026-11-24T11:00")), cph("2026-11-25T10:00")); // Tuesday → Wednesday
        for bad in ["mon-fri", "fri-mon 09:00-15:00", "mon-fri 15:00-09:00", "mon-fry 09:00-15:00"] {
            assert!(OfficeHours::parse(bad, "Europe/Copenhagen").is_err(), "{bad}");
        }
        assert!(OfficeHours::parse("mon-fri 09:00-15:00", "Mars/Olympus").is_err());
    }
}
