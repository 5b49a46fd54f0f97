//! Sync bookkeeping: the `rev` of the last row applied, per category (see the module above for
//! why a per-category cursor is enough).
use std::collections::HashMap;

/// Per-category `rev` of the last row applied.
#[derive(Default)]
pub struct Cursor {
    pub last_seen: HashMap<String, i64>,
}

impl Cursor {
    pub fn get(&self, category: &str) -> i64 {
        self.last_seen.get(category).copied().unwrap_or(0)
    }

    /// Notes a row read at start-up, where rows come in any order: the cursor is the highest `rev`.
    pub(super) fn note(&mut self, category: &str, rev: i64) {
        let seen = self.last_seen.entry(category.to_owned()).or_insert(0);
        *seen = (*seen).max(rev);
    }

    /// Moves the cursor to a changed row, given in `rev` order: false (and no move) for a row not
    /// newer than what was applied, which must then be skipped.
    pub(super) fn advance(&mut self, category: &str, rev: i64) -> bool {
        let seen = self.last_seen.entry(category.to_owned()).or_insert(0);
        if rev <= *seen {
            return false;
        }
        *seen = rev;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_not_newer_than_the_cursor_are_skipped_per_category() {
        let mut cursor = Cursor::default();
        cursor.note("pothole", 7);
        cursor.note("pothole", 3);
        assert_eq!(cursor.get("pothole"), 7);
        assert_eq!(cursor.get("litter"), 0);
        assert!(!cursor.advance("pothole", 7));
        assert!(cursor.advance("pothole", 9));
        assert!(!cursor.advance("pothole", 8));
        assert!(cursor.advance("litter", 1));
        assert_eq!((cursor.get("pothole"), cursor.get("litter")), (9, 1));
    }
}
