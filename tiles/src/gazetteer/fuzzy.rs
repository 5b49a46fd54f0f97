//! The vocabulary of folded name words, and the ways a query word finds its words in it: exactly,
//! as a prefix (type-ahead), or within a few typos.
//!
//! A city's names hold some tens of thousands of distinct words, so the typo search scans all
//! of them, but rejects almost every word on two cheap integer tests before any edit distance is
//! computed: the length differs by more than the typos allowed, or the *letter sets* differ by
//! more than two letters per typo (a substitution changes at most two bits of a 32-bit set of
//! letters, an insertion, deletion or transposition at most one). That costs a few nanoseconds a
//! word and no memory beyond one `u32` a word, where a deletion neighbourhood (SymSpell) would
//! store every word's variants and a trigram index would need posting lists and still verify.

/// One bit per letter a–z, per digit class and one for anything else.
fn letter_mask(w: &[u8]) -> u32 {
    w.iter().fold(0u32, |m, &b| {
        m | match b {
            b'a'..=b'z' => 1 << (b - b'a'),
            b'0'..=b'9' => 1 << (26 + (b - b'0') % 5),
            _ => 1 << 31,
        }
    })
}

/// Typos forgiven in a word of `len` bytes: none up to 3, one up to 7, two from 8.
pub(super) fn max_typos(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions) between `a` and
/// `b`, if it is at most `k`.
pub(super) fn osa_within(a: &[u8], b: &[u8], k: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > k {
        return None;
    }
    let n = b.len();
    let mut prev2 = vec![0usize; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0usize; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > k {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[n] <= k).then_some(prev[n])
}

/// The smallest OSA distance between `q` and any prefix of `w`, if it is at most `k`: how far a
/// half-typed word is from the start of a word.
pub(super) fn prefix_osa_within(q: &[u8], w: &[u8], k: usize) -> Option<usize> {
    if w.len() + k < q.len() {
        return None;
    }
    // Only prefixes of w up to |q| + k bytes can be within k.
    let w = &w[..w.len().min(q.len() + k)];
    let n = w.len();
    let mut prev2 = vec![0usize; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0usize; n + 1];
    for i in 1..=q.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(q[i - 1] != w[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && q[i - 1] == w[j - 2] && q[i - 2] == w[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > k {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let best = *prev.iter().min()?;
    (best <= k).then_some(best)
}

/// Distinct folded words, sorted, each with its letter set.
#[derive(Debug, Default)]
pub(super) struct Vocabulary {
    words: Vec<Box<str>>,
    masks: Vec<u32>,
}

impl Vocabulary {
    /// From distinct words in sorted order.
    pub fn new(words: Vec<Box<str>>) -> Self {
        debug_assert!(words.windows(2).all(|w| w[0] < w[1]));
        let masks = words.iter().map(|w| letter_mask(w.as_bytes())).collect();
        Self { words, masks }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn word(&self, id: u32) -> &str {
        &self.words[id as usize]
    }

    pub fn id(&self, w: &str) -> Option<u32> {
        self.words
            .binary_search_by(|x| x.as_ref().cmp(w))
            .ok()
            .map(|i| i as u32)
    }

    /// Ids of the words that start with `p` (`p` itself included).
    pub fn with_prefix(&self, p: &str) -> std::ops::Range<u32> {
        let start = self.words.partition_point(|w| w.as_ref() < p);
        let len = self.words[start..]
            .iter()
            .take_while(|w| w.starts_with(p))
            .count();
        start as u32..(start + len) as u32
    }

    /// Every word within `k` typos of `q` (other than `q` itself), with its distance.
    pub fn within(&self, q: &str, k: usize, mut found: impl FnMut(u32, usize)) {
        let qb = q.as_bytes();
        let qm = letter_mask(qb);
        for (i, (w, &m)) in self.words.iter().zip(&self.masks).enumerate() {
            if w.len().abs_diff(qb.len()) > k || ((m ^ qm).count_ones() as usize) > 2 * k {
                continue;
            }
            if let Some(d) = osa_within(qb, w.as_bytes(), k).filter(|&d| d > 0) {
                found(i as u32, d);
            }
        }
    }

    /// Every word whose start is within `k` typos of `q` but does not start with `q` itself.
    /// Only words with the same first letter are tried: a typo in the first letter of a
    /// half-typed word is left to the whole-word search.
    pub fn prefix_within(&self, q: &str, k: usize, mut found: impl FnMut(u32, usize)) {
        let qb = q.as_bytes();
        let Some(first) = q.get(..1) else {
            return;
        };
        let qm = letter_mask(qb);
        for i in self.with_prefix(first) {
            let w = self.words[i as usize].as_bytes();
            // Letters of the query missing from the word: each typo adds at most one.
            if ((qm & !self.masks[i as usize]).count_ones() as usize) > k || w.starts_with(qb) {
                continue;
            }
            if let Some(d) = prefix_osa_within(qb, w, k) {
                found(i, d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> Vocabulary {
        let mut w: Vec<Box<str>> = words.iter().map(|s| (*s).into()).collect();
        w.sort();
        w.dedup();
        Vocabulary::new(w)
    }

    #[test]
    fn distance_counts_substitutions_insertions_and_transpositions_as_one() {
        assert_eq!(osa_within(b"florianska", b"florianska", 2), Some(0));
        assert_eq!(osa_within(b"flrianska", b"florianska", 2), Some(1));
        assert_eq!(osa_within(b"folrianska", b"florianska", 2), Some(1));
        assert_eq!(osa_within(b"florjanska", b"florianska", 2), Some(1));
        assert_eq!(osa_within(b"flrjanska", b"florianska", 2), Some(2));
        assert_eq!(osa_within(b"flrjnska", b"florianska", 2), None);
    }

    #[test]
    fn a_half_typed_word_with_a_typo_is_near_the_start_of_its_word() {
        assert_eq!(prefix_osa_within(b"florj", b"florianska", 1), Some(1));
        assert_eq!(prefix_osa_within(b"flor", b"florianska", 1), Some(0));
        assert_eq!(prefix_osa_within(b"fxyz", b"florianska", 1), None);
    }

    #[test]
    fn the_letter_set_filter_never_drops_a_word_within_the_typos() {
        let v = vocab(&["florianska", "floriana", "dluga", "karmelicka", "szewska"]);
        let mut found = Vec::new();
        v.within("florainska", 2, |id, d| {
            found.push((v.word(id).to_string(), d))
        });
        assert_eq!(found, [("florianska".to_string(), 1)]);
        let mut found = Vec::new();
        v.within("karmelciak", 2, |id, d| {
            found.push((v.word(id).to_string(), d))
        });
        assert_eq!(found, [("karmelicka".to_string(), 2)]);
        assert_eq!(v.with_prefix("flori").len(), 2);
        assert_eq!(v.with_prefix("x").len(), 0);
    }
}
