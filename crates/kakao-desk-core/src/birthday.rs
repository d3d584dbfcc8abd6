//! Birthdays: Kakao's `birthday` / `birthyear` / `birthday_type` /
//! `is_leap_month` turned into one checked date.
//!
//! Kakao sends the month and day as `MMDD`, the year (a separate consent item)
//! as `YYYY`, the calendar as `SOLAR` or `LUNAR`, and a leap-month flag that
//! only means something for lunar dates. [`Birthday`] holds them as numbers
//! that are known to form a real date, and writes them as an ISO 8601 date
//! (`2002-11-30`). When the year is unknown the ISO form uses year `0000`, the
//! OpenID Connect `birthdate` convention; year 0 is a leap year in the
//! proleptic Gregorian calendar, so `0000-02-29` is a valid birthday.
//!
//! Solar dates follow the Gregorian rules. Lunar dates do not: a lunar month
//! has 29 or 30 days depending on the year, and the month table is not
//! something to hard-code, so a lunar date is only checked for month 1–12 and
//! day 1–30.
//!
//! A malformed birthday never fails a login: [`Birthday::from_kakao`] reports a
//! [`BirthdayError`], and profile normalisation turns that into "no birthday"
//! plus a warning.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ErrorCode;

/// The calendar a birthday is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Calendar {
    /// The Gregorian calendar (Kakao `SOLAR`).
    Solar,
    /// The Korean lunisolar calendar (Kakao `LUNAR`).
    Lunar,
}

impl Calendar {
    /// Kakao's spelling: `SOLAR` or `LUNAR`. Also the form stored in the
    /// profile cache.
    pub fn as_kakao_str(self) -> &'static str {
        match self {
            Self::Solar => "SOLAR",
            Self::Lunar => "LUNAR",
        }
    }

    /// Parses Kakao's spelling (ASCII case-insensitive).
    ///
    /// # Errors
    /// [`BirthdayError::UnknownCalendar`] for anything but `SOLAR` / `LUNAR`.
    pub fn from_kakao_str(value: &str) -> Result<Self, BirthdayError> {
        if value.eq_ignore_ascii_case("SOLAR") {
            Ok(Self::Solar)
        } else if value.eq_ignore_ascii_case("LUNAR") {
            Ok(Self::Lunar)
        } else {
            Err(BirthdayError::UnknownCalendar)
        }
    }
}

/// Why a birthday was not accepted. The messages never repeat the input, which
/// is personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BirthdayError {
    /// `birthday` is not exactly four ASCII digits (`MMDD`).
    #[error("birthday is not four digits (MMDD)")]
    MalformedMonthDay,
    /// `birthyear` is not exactly four ASCII digits, or is year 0.
    #[error("birth year is not a four-digit year")]
    MalformedYear,
    /// The month is not 1–12.
    #[error("birthday month is out of range")]
    MonthOutOfRange,
    /// The day does not exist in that month (Gregorian rules for solar dates,
    /// 1–30 for lunar dates).
    #[error("birthday day does not exist in its month")]
    DayOutOfRange,
    /// `birthday_type` is neither `SOLAR` nor `LUNAR`.
    #[error("birthday calendar type is unknown")]
    UnknownCalendar,
    /// A stored ISO date is not `YYYY-MM-DD`.
    #[error("stored birthday is not an ISO date")]
    MalformedIso,
}

impl BirthdayError {
    /// The stable error code. A bad birthday from Kakao never reaches the
    /// user (the login goes on without it); a bad birthday read back from the
    /// profile cache means the cache is damaged.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Storage
    }
}

/// A birthday that is known to be a real date in its calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Birthday {
    year: Option<u16>,
    month: u8,
    day: u8,
    calendar: Calendar,
    leap_month: bool,
}

impl Birthday {
    /// Builds a birthday from its parts, checking that the date exists.
    ///
    /// `year` is `None` when unknown; `Some(0)` is refused (year 0 is only the
    /// ISO placeholder for "unknown"). `leap_month` is kept only for lunar
    /// dates: the solar calendar has no leap months, so it is dropped there.
    ///
    /// # Errors
    /// The first rule the date breaks.
    pub fn new(
        year: Option<u16>,
        month: u8,
        day: u8,
        calendar: Calendar,
        leap_month: bool,
    ) -> Result<Self, BirthdayError> {
        if let Some(y) = year
            && !(1..=9999).contains(&y)
        {
            return Err(BirthdayError::MalformedYear);
        }
        if !(1..=12).contains(&month) {
            return Err(BirthdayError::MonthOutOfRange);
        }
        let max_day = match calendar {
            // Unknown year: assume a leap year so 02-29 stays valid (ISO year 0000).
            Calendar::Solar => solar_days_in_month(year.unwrap_or(0), month),
            Calendar::Lunar => 30,
        };
        if !(1..=max_day).contains(&day) {
            return Err(BirthdayError::DayOutOfRange);
        }
        Ok(Self {
            year,
            month,
            day,
            calendar,
            leap_month: leap_month && calendar == Calendar::Lunar,
        })
    }

    /// Builds a birthday from Kakao's fields as sent by `/v2/user/me`.
    ///
    /// - `birthday`: `MMDD` (required);
    /// - `birthyear`: `YYYY`, or `None` when not consented or not known;
    /// - `birthday_type`: `SOLAR` / `LUNAR`; `None` is read as `SOLAR`, the
    ///   calendar every birthday without a type has been in;
    /// - `is_leap_month`: `None` is read as `false`.
    ///
    /// # Errors
    /// A [`BirthdayError`] when the fields do not form a real date; the caller
    /// stores no birthday then and logs a warning. A malformed `birthyear` is an
    /// error too: a year that cannot be read cannot be checked against `0229`.
    pub fn from_kakao(
        birthday: &str,
        birthyear: Option<&str>,
        birthday_type: Option<&str>,
        is_leap_month: Option<bool>,
    ) -> Result<Self, BirthdayError> {
        let [m1, m2, d1, d2] =
            four_digits(birthday.as_bytes()).ok_or(BirthdayError::MalformedMonthDay)?;
        let year = match birthyear {
            None => None,
            Some(text) => {
                let [a, b, c, d] =
                    four_digits(text.as_bytes()).ok_or(BirthdayError::MalformedYear)?;
                Some(u16::from(a) * 1000 + u16::from(b) * 100 + u16::from(c) * 10 + u16::from(d))
            }
        };
        let calendar = match birthday_type {
            None => Calendar::Solar,
            Some(text) => Calendar::from_kakao_str(text)?,
        };
        Self::new(
            year,
            m1 * 10 + m2,
            d1 * 10 + d2,
            calendar,
            is_leap_month.unwrap_or(false),
        )
    }

    /// Parses the ISO form written by [`Birthday::to_iso`] (`YYYY-MM-DD`, year
    /// `0000` for unknown), with the calendar and leap-month flag stored beside
    /// it.
    ///
    /// # Errors
    /// [`BirthdayError::MalformedIso`] when the text is not `YYYY-MM-DD`, or the
    /// rule the date breaks.
    pub fn from_iso(
        iso: &str,
        calendar: Calendar,
        leap_month: bool,
    ) -> Result<Self, BirthdayError> {
        let bytes = iso.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(BirthdayError::MalformedIso);
        }
        // Byte slices: indexing the &str could split a multi-byte character.
        let year = four_digits(&bytes[0..4]).ok_or(BirthdayError::MalformedIso)?;
        let month = two_digits(&bytes[5..7]).ok_or(BirthdayError::MalformedIso)?;
        let day = two_digits(&bytes[8..10]).ok_or(BirthdayError::MalformedIso)?;
        let year = year
            .iter()
            .fold(0u16, |acc, digit| acc * 10 + u16::from(*digit));
        let year = (year != 0).then_some(year);
        Self::new(year, month, day, calendar, leap_month)
    }

    /// The ISO 8601 date: `YYYY-MM-DD`, or `0000-MM-DD` when the year is
    /// unknown.
    pub fn to_iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.year.unwrap_or(0),
            self.month,
            self.day
        )
    }

    /// The year, when known.
    pub fn year(&self) -> Option<u16> {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31 (1–30 for lunar dates).
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The calendar the date is written in.
    pub fn calendar(&self) -> Calendar {
        self.calendar
    }

    /// Whether the month is a lunar leap month (윤달). Always `false` for solar
    /// dates.
    pub fn is_leap_month(&self) -> bool {
        self.leap_month
    }
}

impl fmt::Display for Birthday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

fn is_gregorian_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn solar_days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_gregorian_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Exactly four ASCII digits, as numbers. `char::is_ascii_digit` refuses the
/// non-ASCII digits that `char::is_numeric` would let through.
fn four_digits(text: &[u8]) -> Option<[u8; 4]> {
    let bytes: [u8; 4] = text.try_into().ok()?;
    bytes
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| bytes.map(|b| b - b'0'))
}

fn two_digits(text: &[u8]) -> Option<u8> {
    let bytes: [u8; 2] = text.try_into().ok()?;
    bytes
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| (bytes[0] - b'0') * 10 + (bytes[1] - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    type KakaoInput = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<bool>,
    );

    #[test]
    fn valid_kakao_birthdays_become_iso_dates() {
        let cases: &[(KakaoInput, &str, Calendar, bool, &str)] = &[
            (
                ("1130", Some("2002"), Some("SOLAR"), Some(false)),
                "2002-11-30",
                Calendar::Solar,
                false,
                "the doc example",
            ),
            (
                ("1130", None, Some("SOLAR"), Some(false)),
                "0000-11-30",
                Calendar::Solar,
                false,
                "unknown year is written as 0000 (OIDC birthdate)",
            ),
            (
                ("0229", None, Some("SOLAR"), None),
                "0000-02-29",
                Calendar::Solar,
                false,
                "year 0 is a leap year, so Feb 29 without a year is valid",
            ),
            (
                ("0229", Some("2000"), Some("SOLAR"), None),
                "2000-02-29",
                Calendar::Solar,
                false,
                "2000 is a leap year (divisible by 400)",
            ),
            (
                ("0229", Some("2024"), Some("SOLAR"), None),
                "2024-02-29",
                Calendar::Solar,
                false,
                "2024 is a leap year",
            ),
            (
                ("0101", Some("1900"), None, None),
                "1900-01-01",
                Calendar::Solar,
                false,
                "no birthday_type means solar",
            ),
            (
                ("1231", Some("1999"), Some("solar"), None),
                "1999-12-31",
                Calendar::Solar,
                false,
                "the calendar type is read case-insensitively",
            ),
            (
                ("0430", Some("1990"), Some("SOLAR"), Some(true)),
                "1990-04-30",
                Calendar::Solar,
                false,
                "a solar date has no leap month; the flag is dropped",
            ),
            (
                ("0230", Some("1990"), Some("LUNAR"), Some(false)),
                "1990-02-30",
                Calendar::Lunar,
                false,
                "lunar months have up to 30 days, Gregorian rules do not apply",
            ),
            (
                ("0630", None, Some("LUNAR"), Some(true)),
                "0000-06-30",
                Calendar::Lunar,
                true,
                "a lunar leap month is kept",
            ),
            (
                ("0229", Some("2001"), Some("LUNAR"), None),
                "2001-02-29",
                Calendar::Lunar,
                false,
                "Gregorian leap-year rules do not apply to lunar dates",
            ),
        ];
        for ((md, year, kind, leap), iso, calendar, leap_out, why) in cases {
            let birthday = Birthday::from_kakao(md, *year, *kind, *leap)
                .unwrap_or_else(|e| panic!("{md} {year:?} {kind:?} must parse ({why}): {e}"));
            assert_eq!(birthday.to_iso(), *iso, "{why}");
            assert_eq!(birthday.calendar(), *calendar, "{why}");
            assert_eq!(birthday.is_leap_month(), *leap_out, "{why}");
            let back =
                Birthday::from_iso(iso, *calendar, *leap_out).expect("our ISO form parses back");
            assert_eq!(back, birthday, "to_iso and from_iso must round-trip: {why}");
        }
    }

    #[test]
    fn invalid_kakao_birthdays_are_refused() {
        let cases: &[(KakaoInput, BirthdayError, &str)] = &[
            (
                ("1345", None, Some("SOLAR"), None),
                BirthdayError::MonthOutOfRange,
                "month 13 does not exist",
            ),
            (
                ("0015", None, Some("SOLAR"), None),
                BirthdayError::MonthOutOfRange,
                "month 0 does not exist",
            ),
            (
                ("0230", None, Some("SOLAR"), None),
                BirthdayError::DayOutOfRange,
                "Feb 30 is not a solar date",
            ),
            (
                ("0431", Some("2000"), Some("SOLAR"), None),
                BirthdayError::DayOutOfRange,
                "April has 30 days",
            ),
            (
                ("0100", None, Some("SOLAR"), None),
                BirthdayError::DayOutOfRange,
                "day 0 does not exist",
            ),
            (
                ("0229", Some("2001"), Some("SOLAR"), None),
                BirthdayError::DayOutOfRange,
                "2001 is not a leap year",
            ),
            (
                ("0229", Some("1900"), Some("SOLAR"), None),
                BirthdayError::DayOutOfRange,
                "1900 is not a leap year (divisible by 100, not 400)",
            ),
            (
                ("0131", None, Some("LUNAR"), None),
                BirthdayError::DayOutOfRange,
                "lunar months have at most 30 days",
            ),
            (
                ("1301", None, Some("LUNAR"), None),
                BirthdayError::MonthOutOfRange,
                "lunar months are 1-12 too",
            ),
            (
                ("ab12", None, Some("SOLAR"), None),
                BirthdayError::MalformedMonthDay,
                "letters are not digits",
            ),
            (
                ("112", None, None, None),
                BirthdayError::MalformedMonthDay,
                "three digits are not MMDD",
            ),
            (
                ("11300", None, None, None),
                BirthdayError::MalformedMonthDay,
                "five digits are not MMDD",
            ),
            (
                ("", None, None, None),
                BirthdayError::MalformedMonthDay,
                "empty is not MMDD",
            ),
            (
                ("11-3", None, None, None),
                BirthdayError::MalformedMonthDay,
                "separators are not digits",
            ),
            (
                ("１１３０", None, None, None),
                BirthdayError::MalformedMonthDay,
                "full-width digits are not ASCII digits",
            ),
            (
                ("birthday", None, None, None),
                BirthdayError::MalformedMonthDay,
                "the literal key name is not a date (a seed's bug)",
            ),
            (
                ("1130", Some("02"), None, None),
                BirthdayError::MalformedYear,
                "a two-digit year is ambiguous",
            ),
            (
                ("1130", Some("0000"), None, None),
                BirthdayError::MalformedYear,
                "year 0 is only our placeholder",
            ),
            (
                ("1130", Some("20o2"), None, None),
                BirthdayError::MalformedYear,
                "letters are not a year",
            ),
            (
                ("1130", None, Some("GREGORIAN"), None),
                BirthdayError::UnknownCalendar,
                "only SOLAR and LUNAR exist",
            ),
            (
                ("1130", None, Some(""), None),
                BirthdayError::UnknownCalendar,
                "an empty type is not a calendar",
            ),
        ];
        for ((md, year, kind, leap), want, why) in cases {
            assert_eq!(
                Birthday::from_kakao(md, *year, *kind, *leap),
                Err(*want),
                "{why}"
            );
        }
    }

    #[test]
    fn bad_iso_forms_are_refused() {
        for (iso, why) in [
            ("2002-1-30", "month needs two digits"),
            ("2002/11/30", "separators are dashes"),
            ("02-11-30", "year needs four digits"),
            ("2002-11-31", "November has 30 days"),
            ("2002-11-30T00:00:00Z", "a date, not a timestamp"),
            ("", "empty"),
            (
                "２0-11-30",
                "multi-byte characters must not panic the slicing",
            ),
        ] {
            assert!(
                Birthday::from_iso(iso, Calendar::Solar, false).is_err(),
                "{iso:?}: {why}"
            );
        }
    }

    #[test]
    fn exhaustive_month_day_counts_match_the_calendars() {
        let count = |year: Option<&str>, kind: &str| {
            (0..10_000)
                .filter(|n| {
                    Birthday::from_kakao(&format!("{n:04}"), year, Some(kind), None).is_ok()
                })
                .count()
        };
        assert_eq!(
            count(None, "SOLAR"),
            366,
            "unknown year: every Gregorian day, Feb 29 included"
        );
        assert_eq!(
            count(Some("2001"), "SOLAR"),
            365,
            "a common year has no Feb 29"
        );
        assert_eq!(count(Some("2024"), "SOLAR"), 366, "a leap year has Feb 29");
        assert_eq!(
            count(None, "LUNAR"),
            12 * 30,
            "lunar: months 1-12, days 1-30, nothing more"
        );
    }

    #[test]
    fn errors_never_repeat_the_input() {
        let err = Birthday::from_kakao("1345", Some("1999"), None, None).expect_err("month 13");
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains("1345") && !text.contains("1999"),
            "a birthday is personal data: {text}"
        );
    }
}
