//! Keeping to deadlines, in figures: per month of filing and per unit or category, the share
//! of reports resolved by their target date, the median working days to a first response and
//! to resolution, and the share reopened after being resolved.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::calendar::WorkdayIndex;

/// One report as the statistics see it (dates are the city's local dates).
#[derive(Clone, Debug)]
pub struct Fact {
    pub month: String,
    pub key: String,
    pub filed: NaiveDate,
    pub first_response: Option<NaiveDate>,
    pub resolved: Option<NaiveDate>,
    /// The target date (or, without a target, the date staff gave).
    pub due: Option<NaiveDate>,
    pub reopened: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    pub month: String,
    pub key: String,
    pub reported: u64,
    pub resolved: u64,
    /// Resolved reports that had a date to keep, and those resolved by it.
    pub resolved_with_deadline: u64,
    pub resolved_on_time: u64,
    /// `resolved_on_time / resolved_with_deadline`, None when there is none.
    pub on_time_share: Option<f64>,
    pub median_working_days_to_first_response: Option<f64>,
    pub median_working_days_to_resolve: Option<f64>,
    pub reopened: u64,
    /// `reopened / resolved`.
    pub reopened_share: Option<f64>,
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m] as f64
    } else {
        (v[m - 1] + v[m]) as f64 / 2.0
    })
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

/// Figures per (month, key), in month then key order.
pub fn aggregate(facts: &[Fact], index: &WorkdayIndex) -> Vec<Figures> {
    #[derive(Default)]
    struct Acc {
        reported: u64,
        resolved: u64,
        with_deadline: u64,
        on_time: u64,
        reopened: u64,
        to_response: Vec<i64>,
        to_resolve: Vec<i64>,
    }
    let mut groups: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for f in facts {
        let a = groups.entry((f.month.clone(), f.key.clone())).or_default();
        a.reported += 1;
        if let Some(r) = f.first_response.and_then(|d| index.between(f.filed, d)) {
            a.to_response.push(r);
        }
        if let Some(done) = f.resolved {
            a.resolved += 1;
            if let Some(days) = index.between(f.filed, done) {
                a.to_resolve.push(days);
            }
            if let Some(due) = f.due {
                a.with_deadline += 1;
                if done <= due {
                    a.on_time += 1;
                }
            }
            if f.reopened {
                a.reopened += 1;
            }
        }
    }
    groups
        .into_iter()
        .map(|((month, key), a)| Figures {
            month,
            key,
            reported: a.reported,
            resolved: a.resolved,
            resolved_with_deadline: a.with_deadline,
            resolved_on_time: a.on_time,
            on_time_share: share(a.on_time, a.with_deadline),
            median_working_days_to_first_response: median(a.to_response),
            median_working_days_to_resolve: median(a.to_resolve),
            reopened: a.reopened,
            reopened_share: share(a.reopened, a.resolved),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Calendar;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn fact(
        key: &str,
        filed: NaiveDate,
        response: Option<NaiveDate>,
        resolved: Option<NaiveDate>,
        due: Option<NaiveDate>,
        reopened: bool,
    ) -> Fact {
        Fact {
            month: filed.format("%Y-%m").to_string(),
            key: key.into(),
            filed,
            first_response: response,
            resolved,
            due,
            reopened,
        }
    }

    #[test]
    fn figures_count_working_days_and_deadlines_kept() {
        let index = WorkdayIndex::new(&Calendar::default(), d(1, 1), d(12, 31));
        let facts = [
            // Monday 2 Nov → answered Tue 3rd (1), resolved Mon 9th (5), due 10th: on time.
            fact(
                "ZDMK",
                d(11, 2),
                Some(d(11, 3)),
                Some(d(11, 9)),
                Some(d(11, 10)),
                false,
            ),
            // Fri 6 Nov → answered Thu 12th (3: 11 Nov is a holiday), resolved Mon 16th (5), due 13th: late; reopened.
            fact(
                "ZDMK",
                d(11, 6),
                Some(d(11, 12)),
                Some(d(11, 16)),
                Some(d(11, 13)),
                true,
            ),
            // Still open.
            fact("ZDMK", d(11, 20), None, None, Some(d(12, 4)), false),
            fact("ZZM", d(11, 2), None, Some(d(11, 2)), None, false),
            fact("ZDMK", d(10, 30), None, None, None, false),
        ];
        let out = aggregate(&facts, &index);
        assert_eq!(
            out.iter()
                .map(|f| (f.month.as_str(), f.key.as_str()))
                .collect::<Vec<_>>(),
            [("2026-10", "ZDMK"), ("2026-11", "ZDMK"), ("2026-11", "ZZM")]
        );
        let zdmk = &out[1];
        assert_eq!(
            (
                zdmk.reported,
                zdmk.resolved,
                zdmk.resolved_with_deadline,
                zdmk.resolved_on_time
            ),
            (3, 2, 2, 1)
        );
        assert_eq!(zdmk.on_time_share, Some(0.5));
        assert_eq!(zdmk.median_working_days_to_first_response, Some(2.0));
        assert_eq!(zdmk.median_working_days_to_resolve, Some(5.0));
        assert_eq!((zdmk.reopened, zdmk.reopened_share), (1, Some(0.5)));
        let zzm = &out[2];
        assert_eq!(
            (zzm.on_time_share, zzm.median_working_days_to_resolve),
            (None, Some(0.0))
        );
        assert_eq!(out[0].median_working_days_to_first_response, None);
    }
}
