//! Which reports a map shows: categories, statuses and a creation-time range, as bit sets over
//! the caller's vocabularies.
use crate::record::ReportRec;

/// Which reports a tile shows. Bit sets index the caller's category and status vocabularies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filter {
    /// Bit i set: category i is shown. `None`: all.
    pub categories: Option<u64>,
    /// Bit i set: status i is shown.
    pub statuses: u64,
    /// Unix seconds, inclusive.
    pub created_from: Option<i64>,
    /// Unix seconds, exclusive.
    pub created_to: Option<i64>,
}

impl Filter {
    pub fn everything() -> Self {
        Self {
            categories: None,
            statuses: u64::MAX,
            created_from: None,
            created_to: None,
        }
    }

    /// Called once per report of a tile: inlined into the tile builders' loops.
    #[inline]
    pub fn matches(&self, r: &ReportRec) -> bool {
        (self.statuses >> (r.status as u32 & 63)) & 1 == 1
            && r.status < 64
            && self
                .categories
                .is_none_or(|c| r.category < 64 && (c >> r.category) & 1 == 1)
            && self.created_from.is_none_or(|t| r.created_at >= t)
            && self.created_to.is_none_or(|t| r.created_at < t)
    }
}
