//! Reports as the spatial core sees them: one compact record per report, and the sorted merge
//! that the store and the heat index both fold their new records in with.
use geo::Geometry;

use crate::mercator;

/// What a report was drawn as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Point = 0,
    Line = 1,
    Area = 2,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Point => "point",
            Kind::Line => "line",
            Kind::Area => "area",
        }
    }

    pub fn of(g: &Geometry<f64>) -> Kind {
        match g {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Kind::Point,
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                Kind::Line
            }
            _ => Kind::Area,
        }
    }
}

/// One report as the map needs it. Categories and statuses are indexes into the city's
/// vocabulary, which the caller owns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReportRec {
    /// Z-order key of the report's anchor (see [`mercator::key_of`]).
    pub key: u64,
    pub id: u64,
    /// Unix seconds.
    pub created_at: i64,
    pub supporters: u32,
    pub category: u16,
    pub status: u8,
    pub kind: Kind,
}

impl ReportRec {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        lon: f64,
        lat: f64,
        category: u16,
        status: u8,
        created_at: i64,
        supporters: u32,
        kind: Kind,
    ) -> Self {
        Self {
            key: mercator::key_of(lon, lat),
            id,
            created_at,
            supporters,
            category,
            status,
            kind,
        }
    }

    /// Anchor position on the unit square.
    #[inline]
    pub fn unit_position(&self) -> (f64, f64) {
        mercator::unit_of_key(self.key)
    }
}

/// Two vectors sorted by `key` as one sorted sequence (ties: `a` first).
pub(crate) fn merge_sorted<T, K: Ord>(
    a: Vec<T>,
    b: Vec<T>,
    key: impl Fn(&T) -> K,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if key(x) > key(y) => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_order_and_puts_ties_from_the_first_vector_first() {
        let a = vec![(1, 'a'), (3, 'a'), (3, 'b'), (7, 'a')];
        let b = vec![(0, 'x'), (3, 'x'), (8, 'x')];
        let merged: Vec<_> = merge_sorted(a, b, |p| p.0).collect();
        assert_eq!(
            merged,
            vec![
                (0, 'x'),
                (1, 'a'),
                (3, 'a'),
                (3, 'b'),
                (3, 'x'),
                (7, 'a'),
                (8, 'x')
            ]
        );
    }

    #[test]
    fn a_record_keeps_its_position_to_the_key_resolution() {
        let r = ReportRec::new(1, 19.9383, 50.0614, 0, 0, 0, 1, Kind::Point);
        let (x, y) = r.unit_position();
        let (ex, ey) = mercator::to_unit(19.9383, 50.0614);
        assert!((x - ex).abs() < 1e-9 && (y - ey).abs() < 1e-9);
    }
}
