//! Working days: the city's calendar and deadline arithmetic. A deadline of "5 working days"
//! skips Saturdays, Sundays, the public holidays of the city's country (fixed dates and the
//! ones that move with Easter, computed for any year) and the extra days off a city adds; a city
//! can also name extra working days (a Saturday worked in exchange for a bridge day).
//!
//! Dates are the city's local dates: a report filed at 00:30 in Kraków on a Tuesday was filed on
//! Tuesday, though it is still Monday in UTC.
use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::Invalid;

/// Whose public holidays the calendar knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Holidays {
    /// Poland's (ustawa o dniach wolnych od pracy, as amended: Epiphany from 2011, Christmas
    /// Eve from 2025).
    #[default]
    #[serde(rename = "PL")]
    Poland,
    /// Only the days the city lists.
    #[serde(rename = "none")]
    None,
}

/// The zones a city's local date can be taken in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Zone {
    /// UTC+1, and UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
    /// Sunday of October (the EU's summer-time rule): Warsaw, Berlin, Prague, Vienna, …
    #[default]
    #[serde(
        rename = "Europe/Warsaw",
        alias = "Europe/Berlin",
        alias = "Europe/Prague",
        alias = "Europe/Vienna",
        alias = "CET"
    )]
    CentralEurope,
    #[serde(rename = "UTC")]
    Utc,
}

/// `"calendar"` in city.json; everything optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    #[serde(default)]
    pub holidays: Holidays,
    #[serde(default)]
    pub time_zone: Zone,
    /// Further days off (a city's own holiday, a bridge day).
    #[serde(default)]
    pub days_off: BTreeSet<NaiveDate>,
    /// Days that are worked although they would not be (a Saturday given for a bridge day).
    #[serde(default)]
    pub working_days: BTreeSet<NaiveDate>,
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher").
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

/// Poland's public holidays of `year`, with their Polish names, in date order.
pub fn polish_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("a fixed holiday is a real date");
    let easter = easter_sunday(year);
    let mut days = vec![
        (date(1, 1), "Nowy Rok"),
        (easter, "Wielkanoc"),
        (easter + Duration::days(1), "Poniedziałek Wielkanocny"),
        (date(5, 1), "Święto Pracy"),
        (date(5, 3), "Święto Konstytucji 3 Maja"),
        (easter + Duration::days(49), "Zielone Świątki"),
        (easter + Duration::days(60), "Boże Ciało"),
        (date(8, 15), "Wniebowzięcie Najświętszej Maryi Panny"),
        (date(11, 1), "Wszystkich Świętych"),
        (date(11, 11), "Narodowe Święto Niepodległości"),
        (date(12, 25), "Boże Narodzenie (pierwszy dzień)"),
        (date(12, 26), "Boże Narodzenie (drugi dzień)"),
    ];
    if year >= 2011 {
        days.push((date(1, 6), "Święto Trzech Króli"));
    }
    if year >= 2025 {
        days.push((date(12, 24), "Wigilia Bożego Narodzenia"));
    }
    days.sort();
    days
}

/// Whether `d` is one of Poland's public holidays: the same days as [`polish_holidays`],
/// without building the year's list (deadline arithmetic asks this for every day it counts).
pub fn is_polish_holiday(d: NaiveDate) -> bool {
    let year = d.year();
    let fixed = match (d.month(), d.day()) {
        (1, 1) | (5, 1) | (5, 3) | (8, 15) | (11, 1) | (11, 11) | (12, 25) | (12, 26) => true,
        (1, 6) => year >= 2011,
        (12, 24) => year >= 2025,
        _ => false,
    };
    fixed || {
        let after_easter = (d - easter_sunday(year)).num_days();
        matches!(after_easter, 0 | 1 | 49 | 60)
    }
}

/// The last Sunday of a month, at 01:00 UTC (when EU summer time starts or ends).
fn last_sunday_0100_utc(year: i32, month: u32) -> DateTime<Utc> {
    let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).expect("a month") - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).expect("01:00"))
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    settings: CalendarSettings,
}

impl Calendar {
    pub fn new(settings: CalendarSettings) -> Self {
        Self { settings }
    }

    pub fn settings(&self) -> &CalendarSettings {
        &self.settings
    }

    /// The city's local date at instant `t`.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let offset_hours = match self.settings.time_zone {
            Zone::Utc => 0,
            Zone::CentralEurope => {
                let y = t.year();
                if t >= last_sunday_0100_utc(y, 3) && t < last_sunday_0100_utc(y, 10) {
                    2
                } else {
                    1
                }
            }
        };
        (t + Duration::hours(offset_hours)).date_naive()
    }

    /// Whether `d` is a public holiday or one of the city's days off.
    pub fn is_holiday(&self, d: NaiveDate) -> bool {
        self.settings.days_off.contains(&d)
            || match self.settings.holidays {
                Holidays::Poland => is_polish_holiday(d),
                Holidays::None => false,
            }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.settings.working_days.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(d)
    }

    /// The `n`-th working day after `from` (the day itself does not count: a report filed on
    /// Friday with 1 working day is due on Monday). `n = 0` is `from` itself.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

/// `"escalation"` in city.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSettings {
    /// Warn when this share of the working days between filing and the fix date has gone.
    #[serde(default = "default_share")]
    pub warn_at_share: f64,
    /// Whether the admins hear too (the unit's contact always does).
    #[serde(default = "yes")]
    pub admins: bool,
    /// The day the weekly digests go out.
    #[serde(default = "monday")]
    pub digest_weekday: Weekday,
}

fn default_share() -> f64 {
    0.75
}

fn yes() -> bool {
    true
}

fn monday() -> Weekday {
    Weekday::Mon
}

impl Default for EscalationSettings {
    fn default() -> Self {
        Self {
            warn_at_share: default_share(),
            admins: true,
            digest_weekday: monday(),
        }
    }
}

/// Working days between any two dates of a range, in constant time: the count of working days
/// up to each date, computed once (statistics over many reports).
pub struct WorkdayIndex {
    first: NaiveDate,
    upto: Vec<u32>,
}

impl WorkdayIndex {
    pub fn new(calendar: &Calendar, first: NaiveDate, last: NaiveDate) -> Self {
        let mut upto = Vec::new();
        let mut n = 0;
        let mut d = first;
        while d <= last {
            if calendar.is_working_day(d) {
                n += 1;
            }
            upto.push(n);
            d += Duration::days(1);
        }
        Self { first, upto }
    }

    fn at(&self, d: NaiveDate) -> Option<u32> {
        let i = (d - self.first).num_days();
        (i >= 0)
            .then(|| self.upto.get(i as usize).copied())
            .flatten()
    }

    /// As [`Calendar::working_days_between`], for dates inside the range.
    pub fn between(&self, from: NaiveDate, to: NaiveDate) -> Option<i64> {
        if to <= from {
            return Some(0);
        }
        Some(i64::from(self.at(to)?) - i64::from(self.at(from)?))
    }
}

/// A response and a fix target in working days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    pub response_days: u32,
    pub fix_days: u32,
}

impl Target {
    /// Parses a row of targets.csv: both counts present, at most a year of working days, and
    /// the fix not before the response.
    pub fn parse(response_days: u32, fix_days: u32) -> Result<Self, Invalid> {
        if response_days > 260 || fix_days > 260 {
            return Err(Invalid::malformed(
                "invalid_target",
                "a target is at most 260 working days (a year)",
            ));
        }
        if fix_days < response_days {
            return Err(Invalid::malformed(
                "invalid_target",
                format!("fix_days ({fix_days}) is before response_days ({response_days})"),
            )
            .at("fix_days"));
        }
        Ok(Self {
            response_days,
            fix_days,
        })
    }
}

/// The deadlines a report gets at routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    pub response_due: NaiveDate,
    pub fix_due: NaiveDate,
}

impl Deadlines {
    pub fn from_target(calendar: &Calendar, filed: DateTime<Utc>, target: Target) -> Self {
        let day = calendar.local_date(filed);
        Self {
            response_due: calendar.add_working_days(day, target.response_days),
            fix_due: calendar.add_working_days(day, target.fix_days),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_falls_where_the_church_calendars_put_it() {
        for (year, m, day) in [
            (1961, 4, 2),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(year), d(year, m, day), "{year}");
        }
    }

    #[test]
    fn polish_holidays_include_the_ones_that_move_with_easter() {
        let names = |y| polish_holidays(y).into_iter().collect::<Vec<_>>();
        let h2026 = names(2026);
        assert_eq!(h2026.len(), 14);
        for (day, name) in [
            (d(2026, 4, 6), "Poniedziałek Wielkanocny"),
            (d(2026, 5, 24), "Zielone Świątki"),
            (d(2026, 6, 4), "Boże Ciało"),
            (d(2026, 12, 24), "Wigilia Bożego Narodzenia"),
        ] {
            assert!(h2026.contains(&(day, name)), "{day} {name}");
        }
        // Corpus Christi is always a Thursday, 60 days after Easter.
        for y in 2000..2100 {
            let cc = polish_holidays(y)
                .into_iter()
                .find(|(_, n)| *n == "Boże Ciało")
                .unwrap()
                .0;
            assert_eq!(cc.weekday(), Weekday::Thu, "{y}");
        }
        assert_eq!(
            polish_holidays(2025)
                .iter()
                .find(|(_, n)| n.starts_with("Boże Ciało"))
                .unwrap()
                .0,
            d(2025, 6, 19)
        );
        // Epiphany became a holiday in 2011, Christmas Eve in 2025.
        assert_eq!(names(2010).len(), 12);
        assert_eq!(names(2024).len(), 13);
    }

    #[test]
    fn the_holiday_test_of_a_day_agrees_with_the_years_list() {
        for year in 1990..=2100 {
            let list: Vec<NaiveDate> = polish_holidays(year).into_iter().map(|(h, _)| h).collect();
            let mut day = d(year, 1, 1);
            while day.year() == year {
                assert_eq!(is_polish_holiday(day), list.contains(&day), "{day}");
                day += Duration::days(1);
            }
        }
    }

    #[test]
    fn working_days_skip_weekends_holidays_and_the_citys_days_off() {
        let cal = Calendar::default();
        // Friday 2026-04-03 + 1 working day: Easter Monday (6th) is off, so Tuesday the 7th.
        assert_eq!(cal.add_working_days(d(2026, 4, 3), 1), d(2026, 4, 7));
        // Across Christmas 2026: Wed 23rd + 1 → Mon 28th (24, 25, 26 off; 27 Sunday).
        assert_eq!(cal.add_working_days(d(2026, 12, 23), 1), d(2026, 12, 28));
        // Across May 2026 (1st Friday, 3rd Sunday): Thu 30 April + 2 → Tue 5 May.
        assert_eq!(cal.add_working_days(d(2026, 4, 30), 2), d(2026, 5, 5));
        assert_eq!(cal.add_working_days(d(2026, 12, 1), 0), d(2026, 12, 1));
        // Ten working days from Monday 2026-11-02: 11 November (Wed) is off.
        assert_eq!(cal.add_working_days(d(2026, 11, 2), 10), d(2026, 11, 17));
        assert_eq!(
            cal.working_days_between(d(2026, 11, 2), d(2026, 11, 17)),
            10
        );
        assert_eq!(cal.working_days_between(d(2026, 11, 17), d(2026, 11, 2)), 0);

        let city = Calendar::new(CalendarSettings {
            days_off: [d(2026, 12, 31)].into(),
            working_days: [d(2026, 12, 5)].into(),
            ..CalendarSettings::default()
        });
        assert!(!city.is_working_day(d(2026, 12, 31)));
        assert!(city.is_working_day(d(2026, 12, 5)), "a Saturday worked");
        assert_eq!(city.add_working_days(d(2026, 12, 4), 1), d(2026, 12, 5));
        assert_eq!(city.add_working_days(d(2026, 12, 30), 1), d(2027, 1, 4));
        let none = Calendar::new(CalendarSettings {
            holidays: Holidays::None,
            ..CalendarSettings::default()
        });
        assert!(none.is_working_day(d(2026, 11, 11)));
    }

    #[test]
    fn the_workday_index_counts_as_the_calendar_does() {
        let cal = Calendar::new(CalendarSettings {
            days_off: [d(2026, 12, 31)].into(),
            working_days: [d(2026, 12, 5)].into(),
            ..CalendarSettings::default()
        });
        let index = WorkdayIndex::new(&cal, d(2025, 12, 1), d(2027, 2, 1));
        let mut a = d(2025, 12, 1);
        while a < d(2027, 1, 1) {
            for span in [0, 1, 3, 7, 30] {
                let b = a + Duration::days(span);
                assert_eq!(
                    index.between(a, b),
                    Some(cal.working_days_between(a, b)),
                    "{a} {b}"
                );
            }
            a += Duration::days(5);
        }
        assert_eq!(
            index.between(d(2020, 1, 1), d(2026, 1, 1)),
            None,
            "outside the range"
        );
    }

    #[test]
    fn the_local_date_follows_central_european_summer_time() {
        let cal = Calendar::default();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // 23:30 UTC on a winter Monday is 00:30 Tuesday in Kraków.
        assert_eq!(cal.local_date(at("2026-12-07T23:30:00Z")), d(2026, 12, 8));
        assert_eq!(cal.local_date(at("2026-12-07T22:59:00Z")), d(2026, 12, 7));
        // In summer the day starts at 22:00 UTC.
        assert_eq!(cal.local_date(at("2026-07-06T22:00:00Z")), d(2026, 7, 7));
        assert_eq!(cal.local_date(at("2026-07-06T21:59:00Z")), d(2026, 7, 6));
        // Summer time starts at 01:00 UTC on 2026-03-29 and ends at 01:00 UTC on 2026-10-25.
        assert_eq!(cal.local_date(at("2026-03-28T22:30:00Z")), d(2026, 3, 28));
        assert_eq!(cal.local_date(at("2026-10-24T22:30:00Z")), d(2026, 10, 25));
        let utc = Calendar::new(CalendarSettings {
            time_zone: Zone::Utc,
            ..CalendarSettings::default()
        });
        assert_eq!(utc.local_date(at("2026-12-07T23:30:00Z")), d(2026, 12, 7));
    }

    #[test]
    fn deadlines_count_from_the_local_day_a_report_was_filed() {
        let cal = Calendar::default();
        // Filed at 23:30 UTC on Thursday 2026-12-10: Friday in Kraków; 2 working days → Tuesday.
        let filed = "2026-12-10T23:30:00Z".parse().unwrap();
        let dl = Deadlines::from_target(&cal, filed, Target::parse(1, 2).unwrap());
        assert_eq!(
            (dl.response_due, dl.fix_due),
            (d(2026, 12, 14), d(2026, 12, 15))
        );
        assert_eq!(Target::parse(5, 2).unwrap_err().code, "invalid_target");
        assert!(Target::parse(300, 300).is_err());
    }
}
