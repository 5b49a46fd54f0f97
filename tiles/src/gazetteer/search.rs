//! Forward search: query words to candidate vocabulary words, the driving word's entries scored,
//! house numbers looked up on the streets found (see the module documentation of the gazetteer
//! for the ranking).
use std::cell::RefCell;

use super::fuzzy::max_typos;
use super::text::{
    base_forms, building_part, digits_part, is_postcode, number_base, number_key, tokens, TypeWord,
};
use super::{Address, Gazetteer, Kind};

/// What a search may return.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    pub limit: usize,
    /// Prefer hits near this lon/lat (the map's centre, the user's position): up to +0.05 score,
    /// halving about every 2 km.
    pub near: Option<(f64, f64)>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<Kind>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            limit: 10,
            near: None,
            kinds: Vec::new(),
        }
    }
}

/// Why an address hit is not the number asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The number asked for is not known; this is the same building without the flat or the
    /// letter ("12/3" → "12", "12A" → "12"), or with a letter ("12" → "12A").
    SimilarNumber { asked: String },
    /// The number asked for is not known on this street; this is the nearest one.
    NearestNumber { asked: String },
    /// The number asked for is not known on this street; the hit is the street.
    NumberNotFound { asked: String },
}

/// One search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub kind: Kind,
    /// What to show: "Floriańska 12", "Floriańska", "Teatr im. Juliusza Słowackiego".
    pub label: String,
    pub lon: f64,
    pub lat: f64,
    /// Higher is better; comparable within one search (about 0–1.1).
    pub score: f32,
    /// The street of an address, or the street's own name.
    pub street: Option<String>,
    /// The house number of an address as shown ("12A").
    pub number: Option<String>,
    /// An official address's postcode.
    pub postcode: Option<String>,
    /// An address from the city's register rather than the basemap.
    pub official: bool,
    /// The basemap category of a point of interest ("pharmacy"); "stop" for stops.
    pub category: Option<String>,
    /// The district the hit lies in (districts themselves: none).
    pub district: Option<String>,
    /// A street's extent: west, south, east, north.
    pub bbox: Option<[f64; 4]>,
    pub note: Option<Note>,
}

/// Query words beyond this many are not used.
const MAX_WORDS: usize = 8;

#[derive(Debug)]
struct QWord {
    text: String,
    /// Matched as a prefix too: the word being typed, or an abbreviation.
    prefix: bool,
}

#[derive(Debug)]
struct QNumber {
    /// Number key ([`number_key`]).
    key: String,
    /// The vocabulary word for numbers in names ("29" of "29 Listopada").
    word: Option<u32>,
}

#[derive(Debug, Default)]
struct Query {
    words: Vec<QWord>,
    numbers: Vec<QNumber>,
    types: Vec<TypeWord>,
}

/// Per-thread buffers reused between searches: match quality per (query word, vocabulary word)
/// and a bit per entry already scored. Only the cells written are cleared afterwards.
#[derive(Default)]
struct Scratch {
    quality: Vec<f32>,
    touched: Vec<usize>,
    seen: Vec<u64>,
    seen_touched: Vec<usize>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

struct Scored {
    entry: u32,
    score: f32,
    /// The query number that is a house number on this street.
    house: Option<usize>,
}

enum Found {
    Exact,
    Similar,
    Nearest,
}

impl Gazetteer {
    /// The best `limit` hits for `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.search_with(
            query,
            &SearchOptions {
                limit,
                ..Default::default()
            },
        )
    }

    /// Search with a position bias and a filter on kinds.
    pub fn search_with(&self, query: &str, opts: &SearchOptions) -> Vec<Hit> {
        let q = self.parse(query);
        if q.words.is_empty() || opts.limit == 0 {
            return Vec::new();
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let scored = self.score_entries(&q, opts, &mut s);
            for i in s.touched.drain(..).collect::<Vec<_>>() {
                s.quality[i] = 0.0;
            }
            for i in s.seen_touched.drain(..).collect::<Vec<_>>() {
                s.seen[i] = 0;
            }
            self.hits(&q, opts, scored)
        })
    }

    fn parse(&self, query: &str) -> Query {
        let toks = tokens(query);
        let open_end = query.chars().last().is_some_and(char::is_alphanumeric);
        let mut q = Query::default();
        let mut type_tokens = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let mut t = toks[i].clone();
            // "12 a": a letter after a number belongs to it.
            if t.is_number()
                && toks.get(i + 1).is_some_and(|n| {
                    n.text.len() == 1 && n.text.bytes().all(|b| b.is_ascii_alphabetic())
                })
            {
                t.text.push_str(&toks[i + 1].text);
                i += 1;
            }
            let last = i + 1 == toks.len();
            i += 1;
            let typing = last && open_end;
            if is_postcode(&t.text) || (!typing && self.ignored.contains(&t.text)) {
                continue;
            }
            if t.is_number() {
                q.numbers.push(QNumber {
                    key: number_key(&t.text),
                    word: self.vocab.id(&t.text),
                });
                continue;
            }
            let word = QWord {
                prefix: t.abbrev || typing,
                text: t.text,
            };
            if let Some(ty) = super::text::type_word(&word.text) {
                q.types.push(ty);
                type_tokens.push(word);
            } else {
                q.words.push(word);
            }
        }
        if q.words.is_empty() {
            // Only type words ("Osiedle", "Rondo"): they are the words then.
            q.words = type_tokens;
            q.types.clear();
        }
        q.words.truncate(MAX_WORDS);
        q
    }

    /// Vocabulary words a query word may stand for, with a match quality in (0, 1].
    fn word_candidates(&self, w: &QWord) -> Vec<(u32, f32)> {
        let v = &self.vocab;
        let mut out = Vec::new();
        let mut exact = false;
        if let Some(id) = v.id(&w.text) {
            out.push((id, 1.0));
            exact = true;
        }
        if let Some(id) = base_forms(&w.text).and_then(|b| v.id(&b)) {
            out.push((id, 0.96));
            exact = true;
        }
        let len = w.text.len();
        if (w.prefix && len >= 1) || (!exact && len >= 3) {
            for id in v.with_prefix(&w.text) {
                let full = v.word(id).len();
                if full > len {
                    out.push((id, 0.72 + 0.2 * len as f32 / full as f32));
                }
            }
        }
        if !exact {
            let k = max_typos(len);
            if k > 0 {
                v.within(&w.text, k, |id, d| out.push((id, 0.9 - 0.1 * d as f32)));
            }
            if w.prefix && len >= 4 {
                v.prefix_within(&w.text, 1, |id, _| out.push((id, 0.62)));
            }
        }
        out
    }

    fn kind_allowed(&self, kind: Kind, opts: &SearchOptions) -> bool {
        opts.kinds.is_empty() || opts.kinds.contains(&kind)
    }

    fn score_entries(&self, q: &Query, opts: &SearchOptions, s: &mut Scratch) -> Vec<Scored> {
        let vl = self.vocab.len();
        let nw = q.words.len();
        if s.quality.len() < nw * vl {
            s.quality.resize(nw * vl, 0.0);
        }
        let seen_len = self.entries.len().div_ceil(64);
        if s.seen.len() < seen_len {
            s.seen.resize(seen_len, 0);
        }
        let mut cands = Vec::with_capacity(nw);
        for (i, w) in q.words.iter().enumerate() {
            let c = self.word_candidates(w);
            if c.is_empty() {
                return Vec::new();
            }
            for &(t, quality) in &c {
                let cell = i * vl + t as usize;
                if s.quality[cell] == 0.0 {
                    s.touched.push(cell);
                }
                s.quality[cell] = s.quality[cell].max(quality);
            }
            cands.push(c);
        }
        let postings = |t: u32| {
            &self.postings
                [self.post_start[t as usize] as usize..self.post_start[t as usize + 1] as usize]
        };
        // The word with the fewest entries drives.
        let driver = (0..nw)
            .min_by_key(|&i| {
                cands[i]
                    .iter()
                    .map(|&(t, _)| postings(t).len())
                    .sum::<usize>()
            })
            .unwrap_or(0);
        let mut scored = Vec::new();
        for &(t, _) in &cands[driver] {
            for &e in postings(t) {
                let (word, bit) = (e as usize / 64, 1u64 << (e % 64));
                if s.seen[word] & bit != 0 {
                    continue;
                }
                if s.seen[word] == 0 {
                    s.seen_touched.push(word);
                }
                s.seen[word] |= bit;
                if let Some(sc) = self.score_entry(e, q, &s.quality, vl, opts) {
                    scored.push(sc);
                }
            }
        }
        scored
    }

    fn score_entry(
        &self,
        e: u32,
        q: &Query,
        quality: &[f32],
        vl: usize,
        opts: &SearchOptions,
    ) -> Option<Scored> {
        let entry = &self.entries[e as usize];
        let allowed = self.kind_allowed(entry.kind, opts)
            || (entry.kind == Kind::Street && self.kind_allowed(Kind::Address, opts));
        if !allowed {
            return None;
        }
        let toks = &self.entry_tokens
            [entry.tok_start as usize..entry.tok_start as usize + entry.tok_len as usize];
        let toks = &toks[..toks.len().min(64)];
        let mut used = 0u64;
        let mut sum = 0.0f32;
        for i in 0..q.words.len() {
            let row = &quality[i * vl..(i + 1) * vl];
            // The best word of the name, a word no other query word took if there is a tie.
            let mut best = (0.0f32, 0usize);
            for (p, &t) in toks.iter().enumerate() {
                let v = row[t as usize];
                let free = used & (1 << p) == 0;
                let best_free = used & (1 << best.1) == 0;
                if v > best.0 + 1e-6
                    || (v > 0.0 && (v - best.0).abs() <= 1e-6 && free && !best_free)
                {
                    best = (v, p);
                }
            }
            if best.0 <= 0.0 {
                return None;
            }
            sum += best.0;
            used |= 1 << best.1;
        }
        let mut loose = Vec::new();
        for (j, n) in q.numbers.iter().enumerate() {
            let at = n.word.and_then(|id| {
                toks.iter()
                    .enumerate()
                    .position(|(p, &t)| t == id && used & (1 << p) == 0)
            });
            match at {
                Some(p) => used |= 1 << p,
                None => loose.push(j),
            }
        }
        let (mut own, mut covered) = (0u32, 0u32);
        for (p, &t) in toks.iter().enumerate() {
            if self.word_types[t as usize].is_none() {
                own += 1;
                covered += u32::from(used & (1 << p) != 0);
            }
        }
        let coverage = if own == 0 {
            1.0
        } else {
            covered as f32 / own as f32
        };
        let mut score = 0.7 * sum / q.words.len() as f32 + 0.2 * coverage + entry.prior;
        if !q.types.is_empty() {
            let typed = q.types.iter().any(|&ty| match ty {
                TypeWord::District => entry.kind == Kind::District,
                TypeWord::Stop => entry.kind == Kind::Stop,
                ty => toks
                    .iter()
                    .any(|&t| self.word_types[t as usize] == Some(ty)),
            });
            if typed {
                score += 0.03;
            }
        }
        let house = if entry.kind == Kind::Street {
            if loose.len() > 1 {
                score -= 0.1;
            }
            loose.last().copied()
        } else {
            if !loose.is_empty() {
                score -= 0.15;
            }
            None
        };
        if let Some((lon, lat)) = opts.near {
            let d = self.proj.distance_m(
                geo::Point::new(lon, lat),
                geo::Point::new(entry.lon, entry.lat),
            );
            score += 0.05 * (-d / 3000.0).exp() as f32;
        }
        Some(Scored {
            entry: e,
            score,
            house,
        })
    }

    /// The address of `key` on `street`, or the closest thing to it.
    fn find_number(&self, street: u32, key: &str) -> Option<(usize, Found)> {
        let start = self.streets[street as usize].addr_start as usize;
        let addrs = self.street_addresses(street);
        if addrs.is_empty() {
            return None;
        }
        let keys: Vec<String> = addrs
            .iter()
            .map(|a| number_key(self.number_of(a)))
            .collect();
        let find = |k: &str| keys.iter().position(|x| x == k);
        if let Some(i) = find(key) {
            return Some((start + i, Found::Exact));
        }
        let (building, digits) = (building_part(key), digits_part(key));
        let similar = [building, digits]
            .into_iter()
            .filter(|k| !k.is_empty() && *k != key)
            .find_map(find)
            .or_else(|| {
                (digits == key && !key.is_empty())
                    .then(|| keys.iter().position(|x| digits_part(x) == key))
                    .flatten()
            });
        if let Some(i) = similar {
            return Some((start + i, Found::Similar));
        }
        let base = number_base(key) as i64;
        let nearest = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| number_base(k) > 0)
            .min_by_key(|(_, k)| {
                let b = number_base(k) as i64;
                ((b - base).abs(), (b - base).rem_euclid(2), b)
            })
            .map(|(i, _)| i)?;
        Some((start + nearest, Found::Nearest))
    }

    fn entry_hit(&self, e: u32, score: f32, note: Option<super::Note>) -> Hit {
        let entry = &self.entries[e as usize];
        let (street, bbox, category) = match entry.kind {
            Kind::Street => (
                Some(entry.name.to_string()),
                Some(self.streets[entry.target as usize].bbox),
                None,
            ),
            Kind::Poi | Kind::Stop => (
                None,
                None,
                Some(self.categories[entry.target as usize].to_string()),
            ),
            _ => (None, None, None),
        };
        Hit {
            kind: entry.kind,
            label: entry.name.to_string(),
            lon: entry.lon,
            lat: entry.lat,
            score,
            street,
            number: None,
            postcode: None,
            official: false,
            category,
            district: None,
            bbox,
            note,
        }
    }

    pub(super) fn address_hit(&self, a: &Address, score: f32, note: Option<Note>) -> Hit {
        let street = self.street_name(a.street);
        let number = self.number_of(a);
        Hit {
            kind: Kind::Address,
            label: format!("{street} {number}"),
            lon: a.lon,
            lat: a.lat,
            score,
            street: Some(street.to_string()),
            number: Some(number.to_string()),
            postcode: self.postcode_of(a).map(str::to_string),
            official: a.official,
            category: None,
            district: None,
            bbox: None,
            note,
        }
    }

    fn hits(&self, q: &Query, opts: &SearchOptions, mut scored: Vec<Scored>) -> Vec<Hit> {
        let take = (opts.limit * 3).max(20);
        if scored.len() > take {
            scored.select_nth_unstable_by(take - 1, |a, b| {
                b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry))
            });
            scored.truncate(take);
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        let streets_wanted = self.kind_allowed(Kind::Street, opts);
        let addresses_wanted = self.kind_allowed(Kind::Address, opts);
        let mut hits = Vec::new();
        for s in &scored {
            let entry = &self.entries[s.entry as usize];
            let Some(j) = s.house.filter(|_| entry.kind == Kind::Street) else {
                if self.kind_allowed(entry.kind, opts) {
                    hits.push(self.entry_hit(s.entry, s.score, None));
                }
                continue;
            };
            let asked = q.numbers[j].key.clone();
            let found = self.find_number(entry.target, &asked);
            let exact = matches!(found, Some((_, Found::Exact)));
            if let (Some((a, how)), true) = (found, addresses_wanted) {
                let (bonus, note) = match how {
                    Found::Exact => (0.06, None),
                    Found::Similar => (
                        0.04,
                        Some(Note::SimilarNumber {
                            asked: asked.clone(),
                        }),
                    ),
                    Found::Nearest => (
                        -0.005,
                        Some(Note::NearestNumber {
                            asked: asked.clone(),
                        }),
                    ),
                };
                hits.push(self.address_hit(&self.addresses[a], s.score + bonus, note));
            }
            if streets_wanted {
                let (score, note) = if exact {
                    (s.score - 0.02, None)
                } else {
                    (s.score, Some(Note::NumberNotFound { asked }))
                };
                hits.push(self.entry_hit(s.entry, score, note));
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.kind.cmp(&b.kind))
                .then_with(|| a.label.cmp(&b.label))
                .then(a.lon.total_cmp(&b.lon))
        });
        hits.truncate(opts.limit);
        for h in &mut hits {
            if h.kind != Kind::District {
                h.district = self.district_name_at(h.lon, h.lat);
            }
        }
        hits
    }
}
