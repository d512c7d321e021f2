//! The business-day calendar. Deadlines are extended "in business days, with holidays" and end
//! "at the end of a business day in the authority's time zone", so every such rule needs to
//! know which days an authority is closed: weekends, the country's public holidays (computed per
//! year from Easter, never from a table that runs out), the de facto closing days 24 and 31
//! December, and days the authority itself closes.
//!
//! Holiday rules are current law. The only dated rule is Denmark's store bededag (abolished from
//! 2024), because deadlines running in 2023 still have to be recomputed correctly.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

/// A country whose public holidays we know. Written as the ISO 3166-1 code (`"dk"`, `"se"`,
/// `"no"`), which is what configuration and the database store; the English name (`"denmark"`)
/// is accepted too, so a hand-written config reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Country {
    #[serde(rename = "dk", alias = "denmark")]
    Denmark,
    #[serde(rename = "se", alias = "sweden")]
    Sweden,
    #[serde(rename = "no", alias = "norway")]
    Norway,
}

impl Country {
    pub fn code(self) -> &'static str {
        match self {
            Country::Denmark => "dk",
            Country::Sweden => "se",
            Country::Norway => "no",
        }
    }

    /// The IANA zone of the country's authorities, used unless a calendar says otherwise.
    pub fn default_time_zone(self) -> &'static str {
        match self {
            Country::Denmark => "Europe/Copenhagen",
            Country::Sweden => "Europe/Stockholm",
            Country::Norway => "Europe/Oslo",
        }
    }

    /// Local names of 24 and 31 December, for when a calendar closes on them.
    fn eve_names(self) -> (&'static str, &'static str) {
        match self {
            Country::Denmark => ("juleaftensdag", "nytårsaftensdag"),
            Country::Sweden => ("julafton", "nyårsafton"),
            Country::Norway => ("julaften", "nyttårsaften"),
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Country {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dk" | "denmark" => Ok(Country::Denmark),
            "se" | "sweden" => Ok(Country::Sweden),
            "no" | "norway" => Ok(Country::Norway),
            _ => Err(CalendarError::UnknownCountry(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown country {0:?}: use \"dk\", \"se\" or \"no\"")]
    UnknownCountry(String),
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// Only reachable near jiff's limits (year ±9999); reported instead of saturating so that a
    /// deadline is never silently wrong.
    #[error("date arithmetic left the supported range (years -9999 to 9999)")]
    OutOfRange,
}

/// 23:59:59.999: the last instant of the day that still survives a round trip through
/// millisecond precision (JSON clients, JavaScript), so a deadline never slides to the next day.
const END_OF_DAY: Time = Time::constant(23, 59, 59, 999_000_000);

/// Which days an authority is closed, and when its day ends.
///
/// Defaults: the country's time zone, 24 and 31 December closed (Danish and Norwegian public
/// employees have them off or close at noon by collective agreement, Swedish authorities close
/// de facto; counting them as closed can only make a citizen's deadline later, never earlier),
/// and a business day that ends at 23:59:59.999 local time, because a deadline "at the end of a
/// business day" is met by a letter sent in the evening.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    country: Country,
    tz: TimeZone,
    christmas_eve_closed: bool,
    new_years_eve_closed: bool,
    closing_days: BTreeSet<Date>,
    closes_at: Time,
}

impl Calendar {
    pub fn new(country: Country) -> Self {
        // The bundled tz database always has the three zones; UTC is only a defensive fallback.
        let tz = TimeZone::get(country.default_time_zone()).unwrap_or(TimeZone::UTC);
        Self {
            country,
            tz,
            christmas_eve_closed: true,
            new_years_eve_closed: true,
            closing_days: BTreeSet::new(),
            closes_at: END_OF_DAY,
        }
    }

    pub fn with_time_zone(mut self, tz: TimeZone) -> Self {
        self.tz = tz;
        self
    }

    pub fn with_christmas_eve_closed(mut self, closed: bool) -> Self {
        self.christmas_eve_closed = closed;
        self
    }

    pub fn with_new_years_eve_closed(mut self, closed: bool) -> Self {
        self.new_years_eve_closed = closed;
        self
    }

    /// Days the authority closes on top of the holidays (moving day, a local feast).
    pub fn with_closing_days(mut self, days: impl IntoIterator<Item = Date>) -> Self {
        self.closing_days.extend(days);
        self
    }

    /// For an authority whose deadlines end when its office closes rather than at midnight.
    pub fn with_closing_time(mut self, closes_at: Time) -> Self {
        self.closes_at = closes_at;
        self
    }

    pub fn country(&self) -> Country {
        self.country
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn closing_days(&self) -> impl Iterator<Item = Date> + '_ {
        self.closing_days.iter().copied()
    }

    /// The country's holidays in `year` with their local names, sorted by date, including 24
    /// and 31 December when this calendar closes on them, but not the authority's own closing
    /// days. Two holidays can share a date (Norway's 1 May and Kristi himmelfartsdag in 2008);
    /// both are listed.
    pub fn holidays(&self, year: i16) -> Vec<(Date, &'static str)> {
        let mut days = public_holidays(self.country, year);
        let (christmas_eve, new_years_eve) = self.country.eve_names();
        if self.christmas_eve_closed {
            days.extend(Date::new(year, 12, 24).ok().map(|d| (d, christmas_eve)));
        }
        if self.new_years_eve_closed {
            days.extend(Date::new(year, 12, 31).ok().map(|d| (d, new_years_eve)));
        }
        days.sort_by_key(|(d, _)| *d);
        days
    }

    /// Weekdays in `year` on which the authority is closed, sorted and without duplicates.
    fn closed_weekdays(&self, year: i16) -> Vec<Date> {
        let mut days: Vec<Date> = self
            .holidays(year)
            .into_iter()
            .map(|(d, _)| d)
            .chain(self.closing_days.iter().copied().filter(|d| d.year() == year))
            .filter(|d| !is_weekend(*d))
            .collect();
        days.sort();
        days.dedup();
        days
    }

    pub fn is_business_day(&self, date: Date) -> bool {
        !is_weekend(date) && self.closed_weekdays(date.year()).binary_search(&date).is_err()
    }

    /// The first business day strictly after `date`. For "this day if it is a business day,
    /// otherwise the next", use `add_business_days(date, 0)`.
    pub fn next_business_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.add_business_days(date, 1)
    }

    /// The `n`th business day after `date` (`date` itself is never counted, so from a Saturday
    /// one business day is Monday). With `n == 0`: `date` if it is a business day, otherwise the
    /// next one, because a deadline cannot end on a closed day.
    pub fn add_business_days(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        let mut closed = YearCache::new(self);
        if n == 0 {
            let mut day = date;
            while !closed.is_business_day(day) {
                day = day.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
            }
            return Ok(day);
        }
        let mut day = date;
        let mut remaining = n;
        while remaining > 0 {
            if remaining >= 20 {
                // Whole weeks hold at most 5 business days each, so jumping `remaining / 5 - 1`
                // weeks cannot pass the answer; it keeps huge `n` from walking day by day.
                let weeks = i64::from(remaining / 5 - 1).min(1_000_000);
                let target = add_days(day, weeks * 7)?;
                let counted = u32::try_from(self.business_days_between(day, target)).unwrap_or(0);
                day = target;
                remaining = remaining.saturating_sub(counted);
                continue;
            }
            day = day.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
            if closed.is_business_day(day) {
                remaining -= 1;
            }
        }
        Ok(day)
    }

    /// Business days `d` with `from < d <= to`, negative when `to` is before `from`; the inverse
    /// of `add_business_days` for a business day `from`.
    pub fn business_days_between(&self, from: Date, to: Date) -> i64 {
        if to < from {
            return -self.business_days_between(to, from);
        }
        let weekdays = weekdays_up_to(day_number(to)) - weekdays_up_to(day_number(from));
        let closed: usize = (from.year()..=to.year())
            .map(|year| self.closed_weekdays(year).into_iter().filter(|d| from < *d && *d <= to).count())
            .sum();
        weekdays - i64::try_from(closed).unwrap_or(0)
    }

    /// When `date` ends for deadlines: its closing time (23:59:59.999 unless configured) in the
    /// calendar's time zone. Does not check that `date` is a business day.
    pub fn end_of_business_day(&self, date: Date) -> Result<Timestamp, CalendarError> {
        date.to_datetime(self.closes_at)
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .map_err(|_| CalendarError::OutOfRange)
    }
}

/// How a calendar is written in configuration; `Calendar::try_from` fills in the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub country: Country,
    /// IANA name; the country's zone when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default = "closed")]
    pub christmas_eve_closed: bool,
    #[serde(default = "closed")]
    pub new_years_eve_closed: bool,
    #[serde(default)]
    pub closing_days: Vec<Date>,
    /// Local time the business day ends; 23:59:59.999 when absent.
    #[serde(default)]
    pub closes_at: Option<Time>,
}

fn closed() -> bool {
    true
}

impl TryFrom<CalendarConfig> for Calendar {
    type Error = CalendarError;

    fn try_from(config: CalendarConfig) -> Result<Self, Self::Error> {
        let mut calendar = Calendar::new(config.country)
            .with_christmas_eve_closed(config.christmas_eve_closed)
            .with_new_years_eve_closed(config.new_years_eve_closed)
            .with_closing_days(config.closing_days);
        if let Some(name) = config.time_zone {
            let tz = TimeZone::get(&name).map_err(|_| CalendarError::UnknownTimeZone(name))?;
            calendar = calendar.with_time_zone(tz);
        }
        if let Some(closes_at) = config.closes_at {
            calendar = calendar.with_closing_time(closes_at);
        }
        Ok(calendar)
    }
}

/// Holiday lookups for loops that walk day by day, recomputed only when the year changes.
struct YearCache<'a> {
    calendar: &'a Calendar,
    year: Option<i16>,
    closed: Vec<Date>,
}

impl<'a> YearCache<'a> {
    fn new(calendar: &'a Calendar) -> Self {
        Self { calendar, year: None, closed: Vec::new() }
    }

    fn is_business_day(&mut self, date: Date) -> bool {
        if is_weekend(date) {
            return false;
        }
        if self.year != Some(date.year()) {
            self.year = Some(date.year());
            self.closed = self.calendar.closed_weekdays(date.year());
        }
        self.closed.binary_search(&date).is_err()
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn add_days(date: Date, days: i64) -> Result<Date, CalendarError> {
    Span::new().try_days(days).and_then(|span| date.checked_add(span)).map_err(|_| CalendarError::OutOfRange)
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`): plain integer arithmetic, so
/// counting days can never fail.
fn day_number(date: Date) -> i64 {
    let (y, m, d) = (i64::from(date.year()), i64::from(date.month()), i64::from(date.day()));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Monday to Friday days up to and including day number `day`, counted from Monday 1970-01-05
/// (negative before it); differences of it count weekdays in a range.
fn weekdays_up_to(day: i64) -> i64 {
    let since_monday = day - 4;
    since_monday.div_euclid(7) * 5 + (since_monday.rem_euclid(7) + 1).min(5)
}

/// Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The first `weekday` on or after `date`, for holidays defined as "the Saturday between ...".
fn on_or_after(date: Date, weekday: Weekday) -> Option<Date> {
    let offset = (weekday.to_monday_zero_offset() - date.weekday().to_monday_zero_offset()).rem_euclid(7);
    add_days(date, i64::from(offset)).ok()
}

/// A country's public holidays in `year` (for Sweden with midsommarafton, closed de facto), without
/// 24 and 31 December, which each calendar decides; unsorted.
fn public_holidays(country: Country, year: i16) -> Vec<(Date, &'static str)> {
    let fixed = |month: i8, day: i8| Date::new(year, month, day).ok();
    let easter = easter_sunday(year);
    let from_easter = |days: i64| easter.and_then(|e| add_days(e, days).ok());
    let rules: Vec<(Option<Date>, &'static str)> = match country {
        Country::Denmark => vec![
            (fixed(1, 1), "nytårsdag"),
            (from_easter(-3), "skærtorsdag"),
            (from_easter(-2), "langfredag"),
            (easter, "påskedag"),
            (from_easter(1), "2. påskedag"),
            (if year <= 2023 { from_easter(26) } else { None }, "store bededag"),
            (from_easter(39), "Kristi himmelfartsdag"),
            (from_easter(49), "pinsedag"),
            (from_easter(50), "2. pinsedag"),
            (fixed(6, 5), "grundlovsdag"),
            (fixed(12, 25), "juledag"),
            (fixed(12, 26), "2. juledag"),
        ],
        Country::Sweden => {
            let midsummer_eve = fixed(6, 19).and_then(|d| on_or_after(d, Weekday::Friday));
            vec![
                (fixed(1, 1), "nyårsdagen"),
                (fixed(1, 6), "trettondedag jul"),
                (from_easter(-2), "långfredagen"),
                (easter, "påskdagen"),
                (from_easter(1), "annandag påsk"),
                (fixed(5, 1), "första maj"),
                (from_easter(39), "Kristi himmelsfärdsdag"),
                (from_easter(49), "pingstdagen"),
                (fixed(6, 6), "Sveriges nationaldag"),
                (midsummer_eve, "midsommarafton"),
                (midsummer_eve.and_then(|d| d.tomorrow().ok()), "midsommardagen"),
                (fixed(10, 31).and_then(|d| on_or_after(d, Weekday::Saturday)), "alla helgons dag"),
                // julafton and nyårsafton, de facto closed, come from the calendar's flags
                (fixed(12, 25), "juldagen"),
                (fixed(12, 26), "annandag jul"),
            ]
        }
        Country::Norway => vec![
            (fixed(1, 1), "første nyttårsdag"),
            (from_easter(-3), "skjærtorsdag"),
            (from_easter(-2), "langfredag"),
            (easter, "første påskedag"),
            (from_easter(1), "andre påskedag"),
            (fixed(5, 1), "arbeidernes dag"),
            (fixed(5, 17), "grunnlovsdag"),
            (from_easter(39), "Kristi himmelfartsdag"),
            (from_easter(49), "første pinsedag"),
            (from_easter(50), "andre pinsedag"),
            (fixed(12, 25), "første juledag"),
            (fixed(12, 26), "andre juledag"),
        ],
    };
    rules.into_iter().filter_map(|(date, name)| date.map(|d| (d, name))).collect()
}

/// How long an escalation step waits: a number of business days in the authority's calendar, or
/// a plain duration. Written `"5 business days"` (or Danish `"5 hverdage"`, Swedish
/// `"5 arbetsdagar"`, Norwegian `"5 virkedager"`), `"30s"`, `"10m"`, `"2h"` or `"3d"`; `d` is 24
/// hours, not a calendar day, so that plain durations never depend on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Wait {
    BusinessDays(u32),
    Duration(SignedDuration),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a wait looks like \"5 business days\", \"5 hverdage\", \"30s\", \"10m\", \"2h\" or \"3d\": {0}")]
pub struct WaitParseError(String);

const BUSINESS_DAY_UNITS: &[&str] = &[
    "business day",
    "business days",
    "hverdag",
    "hverdage",
    "arbejdsdag",
    "arbejdsdage",
    "arbetsdag",
    "arbetsdagar",
    "vardag",
    "vardagar",
    "virkedag",
    "virkedager",
];

impl Wait {
    pub fn parse(input: &str) -> Result<Self, WaitParseError> {
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(digits);
        if number.is_empty() {
            return Err(WaitParseError(format!("{input:?} must start with a whole number")));
        }
        let too_long = || WaitParseError(format!("{input:?} is too long"));
        let n: u64 = number.parse().map_err(|_| too_long())?;
        let unit = unit.trim();
        if BUSINESS_DAY_UNITS.contains(&unit) {
            return Ok(Wait::BusinessDays(u32::try_from(n).map_err(|_| too_long())?));
        }
        let seconds_per_unit = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "" => return Err(WaitParseError(format!("{input:?} needs a unit"))),
            other => return Err(WaitParseError(format!("unknown unit {other:?}"))),
        };
        let seconds = i64::try_from(n).ok().and_then(|n| n.checked_mul(seconds_per_unit)).ok_or_else(too_long)?;
        Ok(Wait::Duration(SignedDuration::from_secs(seconds)))
    }

    /// When the wait is over if it starts at `at`. Business days count from `at`'s local date and
    /// end at the end of the last one; zero business days is the end of the current (or next)
    /// business day, never earlier than `at`.
    pub fn after(&self, calendar: &Calendar, at: Timestamp) -> Result<Timestamp, CalendarError> {
        match *self {
            Wait::Duration(duration) => at.checked_add(duration).map_err(|_| CalendarError::OutOfRange),
            Wait::BusinessDays(n) => {
                let today = at.to_zoned(calendar.tz.clone()).date();
                let mut end = calendar.end_of_business_day(calendar.add_business_days(today, n)?)?;
                if end < at {
                    // Only with a closing time before `at` and n == 0: today's business is over.
                    end = calendar.end_of_business_day(calendar.next_business_day(today)?)?;
                }
                Ok(end)
            }
        }
    }
}

impl FromStr for Wait {
    type Err = WaitParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Wait::parse(s)
    }
}

impl TryFrom<String> for Wait {
    type Error = WaitParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Wait::parse(&s)
    }
}

impl From<Wait> for String {
    fn from(wait: Wait) -> Self {
        wait.to_string()
    }
}

/// Written so that `Wait::parse` reads it back (durations in their largest whole unit).
impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Wait::BusinessDays(1) => f.write_str("1 business day"),
            Wait::BusinessDays(n) => write!(f, "{n} business days"),
            Wait::Duration(d) if d.subsec_nanos() != 0 || d.is_negative() => write!(f, "{d:#}"),
            Wait::Duration(d) => {
                let s = d.as_secs();
                match s {
                    _ if s != 0 && s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
                    _ if s != 0 && s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
                    _ if s != 0 && s % 60 == 0 => write!(f, "{}m", s / 60),
                    _ => write!(f, "{s}s"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn dk() -> Calendar {
        Calendar::new(Country::Denmark)
    }

    fn dates(cal: &Calendar, year: i16) -> Vec<(String, &'static str)> {
        cal.holidays(year).into_iter().map(|(d, n)| (d.to_string(), n)).collect()
    }

    fn local(tz: &str, s: &str) -> Timestamp {
        s.parse::<jiff::civil::DateTime>().unwrap().to_zoned(TimeZone::get(tz).unwrap()).unwrap().timestamp()
    }

    #[test]
    fn easter_sunday_2024_to_2030() {
        let expected =
            ["2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28", "2028-04-16", "2029-04-01", "2030-04-21"];
        for (year, want) in (2024..=2030).zip(expected) {
            assert_eq!(easter_sunday(year).unwrap().to_string(), want);
        }
        assert_eq!(easter_sunday(2023).unwrap(), date(2023, 4, 9));
        assert_eq!(easter_sunday(2019).unwrap(), date(2019, 4, 21));
        assert_eq!(easter_sunday(1818).unwrap(), date(1818, 3, 22)); // the earliest possible
        assert_eq!(easter_sunday(2038).unwrap(), date(2038, 4, 25)); // the latest possible
    }

    #[test]
    fn danish_holidays_2024_to_2030() {
        // (skærtorsdag, langfredag, påskedag, 2. påskedag, Kristi himmelfart, pinse, 2. pinse)
        let movable = [
            (2024, ["03-28", "03-29", "03-31", "04-01", "05-09", "05-19", "05-20"]),
            (2025, ["04-17", "04-18", "04-20", "04-21", "05-29", "06-08", "06-09"]),
            (2026, ["04-02", "04-03", "04-05", "04-06", "05-14", "05-24", "05-25"]),
            (2027, ["03-25", "03-26", "03-28", "03-29", "05-06", "05-16", "05-17"]),
            (2028, ["04-13", "04-14", "04-16", "04-17", "05-25", "06-04", "06-05"]),
            (2029, ["03-29", "03-30", "04-01", "04-02", "05-10", "05-20", "05-21"]),
            (2030, ["04-18", "04-19", "04-21", "04-22", "05-30", "06-09", "06-10"]),
        ];
        let names = [
            "skærtorsdag",
            "langfredag",
            "påskedag",
            "2. påskedag",
            "Kristi himmelfartsdag",
            "pinsedag",
            "2. pinsedag",
        ];
        let cal = dk().with_christmas_eve_closed(false).with_new_years_eve_closed(false);
        for (year, days) in movable {
            let mut expected = vec![(format!("{year}-01-01"), "nytårsdag")];
            expected.extend(days.iter().zip(names).map(|(d, n)| (format!("{year}-{d}"), n)));
            expected.push((format!("{year}-06-05"), "grundlovsdag"));
            expected.push((format!("{year}-12-25"), "juledag"));
            expected.push((format!("{year}-12-26"), "2. juledag"));
            expected.sort();
            let mut actual = dates(&cal, year);
            actual.sort();
            assert_eq!(actual, expected, "{year}");
        }
    }

    #[test]
    fn store_bededag_until_2023() {
        let names = |year| dk().holidays(year).into_iter().filter(|(_, n)| *n == "store bededag").collect::<Vec<_>>();
        assert_eq!(names(2023), vec![(date(2023, 5, 5), "store bededag")]);
        assert_eq!(names(2022), vec![(date(2022, 5, 13), "store bededag")]);
        assert!(names(2024).is_empty());
        assert!(dk().is_business_day(date(2024, 4, 26))); // the Friday it would have been
        assert!(!dk().is_business_day(date(2023, 5, 5)));
    }

    #[test]
    fn christmas_and_new_years_eve_are_configurable() {
        let closed = dk();
        assert!(closed.holidays(2026).contains(&(date(2026, 12, 24), "juleaftensdag")));
        assert!(closed.holidays(2026).contains(&(date(2026, 12, 31), "nytårsaftensdag")));
        assert!(!closed.is_business_day(date(2026, 12, 24)));
        assert!(!closed.is_business_day(date(2026, 12, 31)));
        let open = dk().with_christmas_eve_closed(false);
        assert!(open.is_business_day(date(2026, 12, 24)));
        assert!(!open.is_business_day(date(2026, 12, 31)));
        let sweden = Calendar::new(Country::Sweden).with_new_years_eve_closed(false);
        assert!(sweden.holidays(2026).contains(&(date(2026, 12, 24), "julafton")));
        assert!(!sweden.holidays(2026).iter().any(|(d, _)| *d == date(2026, 12, 31)));
        assert!(sweden.is_business_day(date(2026, 12, 31)));
    }

    #[test]
    fn swedish_midsummer_and_all_saints() {
        let se = Calendar::new(Country::Sweden);
        for (year, eve, saints) in [
            (2024, date(2024, 6, 21), date(2024, 11, 2)),
            (2025, date(2025, 6, 20), date(2025, 11, 1)),
            (2026, date(2026, 6, 19), date(2026, 10, 31)),
            (2027, date(2027, 6, 25), date(2027, 11, 6)),
            (2028, date(2028, 6, 23), date(2028, 11, 4)),
        ] {
            let h = se.holidays(year);
            assert!(h.contains(&(eve, "midsommarafton")), "{year}");
            assert!(h.contains(&(eve.tomorrow().unwrap(), "midsommardagen")), "{year}");
            assert!(h.contains(&(saints, "alla helgons dag")), "{year}");
            assert_eq!(eve.weekday(), Weekday::Friday);
            assert!(!se.is_business_day(eve));
        }
        let h = se.holidays(2026);
        for (d, name) in [
            (date(2026, 1, 6), "trettondedag jul"),
            (date(2026, 5, 1), "första maj"),
            (date(2026, 6, 6), "Sveriges nationaldag"),
            (date(2026, 4, 3), "långfredagen"),
        ] {
            assert!(h.contains(&(d, name)), "{name}");
        }
        assert!(!h.iter().any(|(_, n)| *n == "skärtorsdagen")); // Maundy Thursday is a workday
        assert!(se.is_business_day(date(2026, 4, 2)));
    }

    #[test]
    fn norwegian_constitution_day_and_easter() {
        let no = Calendar::new(Country::Norway);
        for year in 2024..=2030 {
            assert!(no.holidays(year).contains(&(date(year, 5, 17), "grunnlovsdag")), "{year}");
        }
        assert!(!no.is_business_day(date(2029, 5, 17))); // a Thursday
        assert!(!no.is_business_day(date(2026, 4, 2))); // skjærtorsdag
        assert!(!no.is_business_day(date(2026, 5, 1)));
        assert!(no.is_business_day(date(2026, 6, 5))); // Danish grundlovsdag is nothing in Norway
        assert_eq!(no.holidays(2026).len(), 14); // 12 holidays, julaften, nyttårsaften
    }

    #[test]
    fn business_days_across_easter() {
        let cal = dk();
        let wednesday = date(2026, 3, 25);
        assert_eq!(cal.add_business_days(wednesday, 5).unwrap(), date(2026, 4, 1));
        // skærtorsdag, langfredag, the weekend and 2. påskedag are skipped
        assert_eq!(cal.add_business_days(wednesday, 6).unwrap(), date(2026, 4, 7));
        assert_eq!(cal.next_business_day(date(2026, 4, 1)).unwrap(), date(2026, 4, 7));
        assert_eq!(cal.business_days_between(wednesday, date(2026, 4, 7)), 6);
        assert_eq!(cal.business_days_between(date(2026, 4, 7), wednesday), -6);
        // In Sweden only långfredagen and annandag påsk close
        let se = Calendar::new(Country::Sweden);
        assert_eq!(se.add_business_days(date(2026, 4, 1), 1).unwrap(), date(2026, 4, 2));
        assert_eq!(se.add_business_days(date(2026, 4, 1), 2).unwrap(), date(2026, 4, 7));
    }

    #[test]
    fn business_days_across_christmas_and_new_year() {
        let cal = dk();
        let wednesday = date(2026, 12, 23);
        assert_eq!(cal.add_business_days(wednesday, 1).unwrap(), date(2026, 12, 28));
        assert_eq!(cal.add_business_days(wednesday, 3).unwrap(), date(2026, 12, 30));
        assert_eq!(cal.add_business_days(wednesday, 4).unwrap(), date(2027, 1, 4));
        assert_eq!(cal.business_days_between(wednesday, date(2027, 1, 4)), 4);
        let open = dk().with_christmas_eve_closed(false).with_new_years_eve_closed(false);
        assert_eq!(open.add_business_days(wednesday, 1).unwrap(), date(2026, 12, 24));
        assert_eq!(open.add_business_days(wednesday, 5).unwrap(), date(2026, 12, 31));
        assert_eq!(open.add_business_days(wednesday, 6).unwrap(), date(2027, 1, 4));
    }

    #[test]
    fn weekends_and_zero_days() {
        let cal = dk();
        let (friday, saturday, monday) = (date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 30));
        assert!(!cal.is_business_day(saturday));
        assert!(!cal.is_business_day(date(2026, 11, 29)));
        assert_eq!(cal.add_business_days(friday, 0).unwrap(), friday);
        assert_eq!(cal.add_business_days(saturday, 0).unwrap(), monday);
        assert_eq!(cal.add_business_days(saturday, 1).unwrap(), monday);
        assert_eq!(cal.add_business_days(friday, 1).unwrap(), monday);
        assert_eq!(cal.add_business_days(friday, 10).unwrap(), date(2026, 12, 11));
        assert_eq!(cal.business_days_between(friday, friday), 0);
        assert_eq!(cal.business_days_between(friday, date(2026, 11, 29)), 0);
    }

    #[test]
    fn authority_closing_days() {
        let cal = dk().with_closing_days([date(2026, 11, 30), date(2026, 12, 1), date(2026, 11, 29)]);
        assert!(!cal.is_business_day(date(2026, 11, 30)));
        assert_eq!(cal.add_business_days(date(2026, 11, 27), 1).unwrap(), date(2026, 12, 2));
        assert_eq!(cal.business_days_between(date(2026, 11, 27), date(2026, 12, 2)), 1);
        // a closing day that is also a holiday or a Sunday is counted once
        let cal = dk().with_closing_days([date(2026, 4, 2), date(2026, 4, 5)]);
        assert_eq!(cal.business_days_between(date(2026, 3, 25), date(2026, 4, 7)), 6);
        assert!(!cal.holidays(2026).iter().any(|(d, n)| *d == date(2026, 4, 2) && *n != "skærtorsdag"));
        assert_eq!(cal.closing_days().count(), 2);
    }

    #[test]
    fn end_of_business_day_is_local() {
        let cal = dk();
        let winter = cal.end_of_business_day(date(2026, 12, 23)).unwrap();
        assert_eq!(winter, "2026-12-23T22:59:59.999Z".parse().unwrap());
        let summer = cal.end_of_business_day(date(2026, 6, 24)).unwrap();
        assert_eq!(summer, "2026-06-24T21:59:59.999Z".parse().unwrap());
        let office = dk().with_closing_time(Time::constant(15, 0, 0, 0));
        assert_eq!(office.end_of_business_day(date(2026, 12, 23)).unwrap(), "2026-12-23T14:00:00Z".parse().unwrap());
        assert_eq!(cal.end_of_business_day(date(9999, 12, 31)), Err(CalendarError::OutOfRange));
    }

    #[test]
    fn wait_parse_accepts_and_rejects() {
        for (text, wait) in [
            ("5 business days", Wait::BusinessDays(5)),
            ("1 business day", Wait::BusinessDays(1)),
            ("5 hverdage", Wait::BusinessDays(5)),
            ("  3   Business  Days ", Wait::BusinessDays(3)),
            ("2 arbetsdagar", Wait::BusinessDays(2)),
            ("0 hverdage", Wait::BusinessDays(0)),
            ("30s", Wait::Duration(SignedDuration::from_secs(30))),
            ("10m", Wait::Duration(SignedDuration::from_mins(10))),
            ("2h", Wait::Duration(SignedDuration::from_hours(2))),
            ("2 h", Wait::Duration(SignedDuration::from_hours(2))),
            ("3d", Wait::Duration(SignedDuration::from_hours(72))),
        ] {
            assert_eq!(Wait::parse(text), Ok(wait), "{text}");
        }
        for bad in [
            "",
            "5",
            "d",
            "-1d",
            "1.5h",
            "5x",
            "five business days",
            "5 days",
            "5 business",
            "99999999999 business days",
            "99999999999999999d",
            "999999999999999999999999s",
        ] {
            assert!(Wait::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wait_round_trips_through_text_and_serde() {
        for text in ["5 business days", "1 business day", "30s", "10m", "2h", "3d", "90s", "0s"] {
            assert_eq!(Wait::parse(text).unwrap().to_string(), text);
        }
        let wait: Wait = serde_json::from_str("\"5 hverdage\"").unwrap();
        assert_eq!(wait, Wait::BusinessDays(5));
        assert_eq!(serde_json::to_string(&wait).unwrap(), "\"5 business days\"");
        assert!(serde_json::from_str::<Wait>("\"soon\"").is_err());
    }

    #[test]
    fn wait_after() {
        let cal = dk();
        let cph = |s| local("Europe/Copenhagen", s);
        let five = Wait::BusinessDays(5);
        assert_eq!(five.after(&cal, cph("2026-03-25T10:00")).unwrap(), cph("2026-04-01T23:59:59.999"));
        // 23:30 UTC on 24 March is already 25 March in Copenhagen
        let late: Timestamp = "2026-03-24T23:30:00Z".parse().unwrap();
        assert_eq!(five.after(&cal, late).unwrap(), cph("2026-04-01T23:59:59.999"));
        let zero = Wait::BusinessDays(0);
        assert_eq!(zero.after(&cal, cph("2026-11-28T12:00")).unwrap(), cph("2026-11-30T23:59:59.999"));
        assert_eq!(zero.after(&cal, cph("2026-11-27T12:00")).unwrap(), cph("2026-11-27T23:59:59.999"));
        let office = dk().with_closing_time(Time::constant(15, 0, 0, 0));
        assert_eq!(zero.after(&office, cph("2026-11-27T16:00")).unwrap(), cph("2026-11-30T15:00"));
        let two_hours = Wait::parse("2h").unwrap();
        assert_eq!(two_hours.after(&cal, cph("2026-11-28T23:00")).unwrap(), cph("2026-11-29T01:00"));
        assert_eq!(Wait::BusinessDays(u32::MAX).after(&cal, cph("2026-11-27T12:00")), Err(CalendarError::OutOfRange));
    }

    #[test]
    fn config_fills_in_defaults() {
        let config: CalendarConfig = serde_json::from_str(r#"{"country": "se"}"#).unwrap();
        let cal = Calendar::try_from(config).unwrap();
        assert_eq!(cal, Calendar::new(Country::Sweden));
        assert_eq!(cal.time_zone().iana_name(), Some("Europe/Stockholm"));
        let config: CalendarConfig = serde_json::from_str(
            r#"{"country": "denmark", "time_zone": "Atlantic/Faroe", "christmas_eve_closed": false,
                "closing_days": ["2026-11-30"], "closes_at": "15:00"}"#,
        )
        .unwrap();
        let cal = Calendar::try_from(config).unwrap();
        assert_eq!(cal.country(), Country::Denmark);
        assert!(cal.is_business_day(date(2026, 12, 24)));
        assert!(!cal.is_business_day(date(2026, 11, 30)));
        assert_eq!(cal.end_of_business_day(date(2026, 12, 23)).unwrap(), "2026-12-23T15:00:00Z".parse().unwrap());
        let config: CalendarConfig = serde_json::from_str(r#"{"country": "no", "time_zone": "Mars/Olympus"}"#).unwrap();
        assert_eq!(Calendar::try_from(config), Err(CalendarError::UnknownTimeZone("Mars/Olympus".into())));
        assert!(serde_json::from_str::<CalendarConfig>(r#"{"country": "fi"}"#).is_err());
        assert_eq!(serde_json::to_string(&Country::Norway).unwrap(), "\"no\"");
        assert_eq!("Sweden".parse::<Country>(), Ok(Country::Sweden));
        assert!("fi".parse::<Country>().is_err());
    }

    #[test]
    fn day_numbers_match_jiff() {
        for d in [date(1970, 1, 1), date(2000, 2, 29), date(2026, 11, 22), date(-9999, 1, 1), date(9999, 12, 31)] {
            let jiff_days = date(1970, 1, 1).until(d).unwrap().get_days();
            assert_eq!(day_number(d), i64::from(jiff_days), "{d}");
        }
        // Monday 1970-01-05 starts the weekday count
        assert_eq!(weekdays_up_to(day_number(date(1970, 1, 9))) - weekdays_up_to(day_number(date(1970, 1, 4))), 5);
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..45_000).prop_map(|n| date(1990, 1, 1).checked_add(Span::new().days(n)).unwrap())
    }

    fn any_calendar() -> impl Strategy<Value = Calendar> {
        (
            prop_oneof![Just(Country::Denmark), Just(Country::Sweden), Just(Country::Norway)],
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(c, xmas, nye)| {
                Calendar::new(c)
                    .with_christmas_eve_closed(xmas)
                    .with_new_years_eve_closed(nye)
                    .with_closing_days([date(2026, 11, 30), date(2030, 6, 7)])
            })
    }

    /// Day-by-day reference for the week-jumping `add_business_days`.
    fn step(cal: &Calendar, d: Date, n: u32) -> Date {
        let mut day = d;
        let mut left = n;
        while left > 0 || !cal.is_business_day(day) {
            day = day.tomorrow().unwrap();
            if cal.is_business_day(day) {
                left = left.saturating_sub(1);
            }
        }
        day
    }

    proptest! {
        #[test]
        fn added_days_are_business_days_after_the_start(cal in any_calendar(), d in any_date(), n in 0u32..400) {
            let end = cal.add_business_days(d, n).unwrap();
            prop_assert!(cal.is_business_day(end));
            if n >= 1 {
                prop_assert!(end > d);
            } else {
                prop_assert!(end >= d);
            }
            prop_assert_eq!(end, step(&cal, d, n));
        }

        #[test]
        fn adding_is_monotonic(cal in any_calendar(), d in any_date(), n in 0u32..300, more in 1u32..50) {
            prop_assert!(cal.add_business_days(d, n).unwrap() < cal.add_business_days(d, n + more).unwrap());
        }

        #[test]
        fn between_inverts_adding(cal in any_calendar(), d in any_date(), n in 0u32..2_000) {
            let d = cal.add_business_days(d, 0).unwrap();
            let end = cal.add_business_days(d, n).unwrap();
            prop_assert_eq!(cal.business_days_between(d, end), i64::from(n));
            prop_assert_eq!(cal.business_days_between(end, d), -i64::from(n));
        }

        #[test]
        fn between_matches_counting(cal in any_calendar(), from in any_date(), days in 0i64..800) {
            let to = from.checked_add(Span::new().days(days)).unwrap();
            let mut count = 0;
            let mut day = from;
            while day < to {
                day = day.tomorrow().unwrap();
                count += i64::from(cal.is_business_day(day));
            }
            prop_assert_eq!(cal.business_days_between(from, to), count);
        }
    }
}
