//! The Danish personal identification number (CPR). Validated for a real birth date; the
//! modulus-11 check is not demanded (numbers issued since 2007 need not satisfy it).

use jiff::civil::Date;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Cpr(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CprError {
    #[error("a CPR number has 10 digits (DDMMYYXXXX, a hyphen after the date is allowed)")]
    Format,
    #[error("the first six digits of a CPR number must be a real date (DDMMYY)")]
    Date,
}

impl Cpr {
    pub fn parse(input: &str) -> Result<Self, CprError> {
        let digits: String = match input.len() {
            10 => input.to_owned(),
            11 if input.as_bytes()[6] == b'-' => format!("{}{}", &input[..6], &input[7..]),
            _ => return Err(CprError::Format),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CprError::Format);
        }
        let num = |range: std::ops::Range<usize>| -> i16 {
            digits[range].bytes().fold(0i16, |acc, b| acc * 10 + i16::from(b - b'0'))
        };
        let (day, month, yy, seventh) = (num(0..2), num(2..4), num(4..6), num(6..7));
        let year = Self::century(seventh, yy) + yy;
        let month = i8::try_from(month).map_err(|_| CprError::Date)?;
        let day = i8::try_from(day).map_err(|_| CprError::Date)?;
        Date::new(year, month, day).map_err(|_| CprError::Date)?;
        Ok(Self(digits))
    }

    /// The century rule of the CPR office: the 7th digit and the two-digit year decide it.
    fn century(seventh: i16, yy: i16) -> i16 {
        match (seventh, yy) {
            (0..=3, _) => 1900,
            (4 | 9, 0..=36) => 2000,
            (4 | 9, _) => 1900,
            (5..=8, 0..=57) => 2000,
            (5..=8, _) => 1800,
            _ => 1900,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date part and a masked serial, safe to show to the authority that sent it.
    pub fn masked(&self) -> String {
        format!("{}-****", &self.0[..6])
    }
}

/// Never print a CPR number by accident (logs, panics, debug output).
impl fmt::Debug for Cpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cpr({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_dates_with_or_without_hyphen() {
        assert_eq!(Cpr::parse("0101901234").unwrap().as_str(), "0101901234");
        assert_eq!(Cpr::parse("290200-4000").unwrap().as_str(), "2902004000"); // 2000 is a leap year
        assert_eq!(Cpr::parse("3112995999").unwrap().as_str(), "3112995999");
    }

    #[test]
    fn rejects_wrong_shape() {
        assert_eq!(Cpr::parse("123"), Err(CprError::Format));
        assert_eq!(Cpr::parse("01019O1234"), Err(CprError::Format));
        assert_eq!(Cpr::parse("010190 1234"), Err(CprError::Format));
        assert_eq!(Cpr::parse("01019012345"), Err(CprError::Format));
    }

    #[test]
    fn rejects_impossible_dates() {
        assert_eq!(Cpr::parse("3202901234"), Err(CprError::Date));
        assert_eq!(Cpr::parse("0013901234"), Err(CprError::Date));
        // 1900 was no leap year (7th digit 0 → 1900s)
        assert_eq!(Cpr::parse("2902000000"), Err(CprError::Date));
        // but 2000 was (7th digit 4, year 00 → 2000)
        assert!(Cpr::parse("2902004000").is_ok());
    }

    #[test]
    fn debug_and_mask_hide_the_serial() {
        let cpr = Cpr::parse("0101901234").unwrap();
        assert_eq!(cpr.masked(), "010190-****");
        assert!(!format!("{cpr:?}").contains("1234"));
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
            fn arbitrary_input_never_panics(input in any::<String>()) {
                if let Ok(cpr) = Cpr::parse(&input) {
                    prop_assert!(cpr.as_str().len() == 10 && cpr.as_str().bytes().all(|b| b.is_ascii_digit()));
                    prop_assert!(cpr.masked().ends_with("-****"));
                }
            }

            /// Ten or eleven bytes of digits, hyphens and multi-byte digits (Arabic-Indic,
            /// full-width): only ASCII digits are a CPR number, and nothing slices inside a character.
            #[test]
            fn look_alike_digits_are_refused(
                chars in prop::collection::vec(prop::sample::select(vec!['0', '1', '3', '9', '-', '٣', '１', '\u{0}', 'é']), 9..12),
            ) {
                let input: String = chars.iter().collect();
                let ascii = input.bytes().all(|b| b.is_ascii_digit() || b == b'-');
                if Cpr::parse(&input).is_ok() {
                    prop_assert!(ascii, "{:?}", input);
                }
            }
        }
    }
}
