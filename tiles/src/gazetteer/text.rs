//! The text forms both sides of a match are reduced to.
//!
//! Residents type "florianska", "ul. Floriańskiej 12", "al mickiewicza": case, Polish
//! diacritics, street-type prefixes and the grammatical case of the name must not matter. Names
//! and queries go through the same folding and tokenising, so the index never needs to store
//! more than one form of a word. Declension is handled on the query side only, as extra forms
//! of a word ([`base_forms`]): the names in the basemap are in the nominative ("Floriańska") or
//! already in the genitive that Polish street names use for people ("Mickiewicza").

/// Appends `c` lowercased and without diacritics: Polish letters (ą ć ę ł ń ó ś ź ż) and the
/// common Latin ones of other languages (ä é š ...). Other characters are lowercased as they are.
pub(super) fn fold_into(c: char, out: &mut String) {
    let folded = match c {
        'ą' | 'Ą' | 'á' | 'Á' | 'à' | 'À' | 'â' | 'Â' | 'ä' | 'Ä' | 'ã' | 'Ã' | 'å' | 'Å' => {
            'a'
        }
        'ć' | 'Ć' | 'č' | 'Č' | 'ç' | 'Ç' => 'c',
        'ę' | 'Ę' | 'é' | 'É' | 'è' | 'È' | 'ê' | 'Ê' | 'ë' | 'Ë' | 'ě' | 'Ě' => 'e',
        'ł' | 'Ł' => 'l',
        'ń' | 'Ń' | 'ň' | 'Ň' | 'ñ' | 'Ñ' => 'n',
        'ó' | 'Ó' | 'ò' | 'Ò' | 'ô' | 'Ô' | 'ö' | 'Ö' | 'õ' | 'Õ' | 'ő' | 'Ő' => 'o',
        'ś' | 'Ś' | 'š' | 'Š' => 's',
        'ź' | 'Ź' | 'ż' | 'Ż' | 'ž' | 'Ž' => 'z',
        'í' | 'Í' | 'ì' | 'Ì' | 'î' | 'Î' | 'ï' | 'Ï' => 'i',
        'ú' | 'Ú' | 'ù' | 'Ù' | 'û' | 'Û' | 'ü' | 'Ü' | 'ů' | 'Ů' | 'ű' | 'Ű' => 'u',
        'ý' | 'Ý' | 'ÿ' => 'y',
        'ř' | 'Ř' => 'r',
        'ď' | 'Ď' => 'd',
        'ť' | 'Ť' => 't',
        'ß' => {
            out.push_str("ss");
            return;
        }
        c if c.is_ascii() => c.to_ascii_lowercase(),
        c => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push(folded);
}

/// `s` lowercased and without diacritics (see [`fold_into`]).
pub(super) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// One word of a name or a query, folded.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub text: String,
    /// Written with a trailing dot ("św.", "gen."): an abbreviation, matched as a prefix.
    pub abbrev: bool,
}

impl Token {
    pub fn is_number(&self) -> bool {
        self.text.starts_with(|c: char| c.is_ascii_digit())
    }
}

/// The folded words of `s`. Words are split at spaces and punctuation, hyphens included
/// ("Grota-Roweckiego" is two words on both sides); apostrophes join ("Charles'a"). Inside a
/// house number a slash and a hyphen between digits stay ("12/3", "12-14", "31-019").
pub(super) fn tokens(s: &str) -> Vec<Token> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, abbrev: bool, out: &mut Vec<Token>| {
        if !cur.is_empty() {
            out.push(Token {
                text: std::mem::take(cur),
                abbrev,
            });
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            fold_into(c, &mut cur);
            continue;
        }
        let next = chars.get(i + 1).copied();
        let in_number = cur.starts_with(|c: char| c.is_ascii_digit());
        match c {
            '\'' | '’' | '`' => continue,
            '/' if in_number && next.is_some_and(char::is_alphanumeric) => cur.push('/'),
            '-' if in_number
                && cur.ends_with(|c: char| c.is_ascii_digit())
                && next.is_some_and(|n| n.is_ascii_digit()) =>
            {
                cur.push('-')
            }
            _ => flush(&mut cur, c == '.', &mut out),
        }
    }
    flush(&mut cur, false, &mut out);
    out
}

/// A Polish postcode ("31-019"): it says nothing a street name does not, so queries skip it.
pub(super) fn is_postcode(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 6
        && b[2] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
}

/// Words that say what kind of place a name is rather than which one. In a query they are
/// optional; in a name they do not count toward how much of the name a query covers, so that
/// "Mickiewicza" covers "Aleja Adama Mickiewicza" as well as "al. Mickiewicza" does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TypeWord {
    Street,
    Avenue,
    Estate,
    Square,
    Roundabout,
    District,
    Stop,
}

/// The type word a folded token is a form of, if any ("ul", "ulica", "ulicy" → street).
pub(super) fn type_word(t: &str) -> Option<TypeWord> {
    Some(match t {
        "ul" | "ulica" | "ulicy" | "ulice" | "ulic" => TypeWord::Street,
        "al" | "aleja" | "alei" | "aleje" | "alej" | "alejach" => TypeWord::Avenue,
        "os" | "osiedle" | "osiedla" | "osiedlu" | "osiedlem" => TypeWord::Estate,
        "pl" | "plac" | "placu" | "placem" => TypeWord::Square,
        "rondo" | "ronda" | "rondzie" | "rondem" => TypeWord::Roundabout,
        "dzielnica" | "dzielnicy" | "dz" => TypeWord::District,
        "przystanek" | "przystanku" | "przyst" => TypeWord::Stop,
        _ => return None,
    })
}

/// Ending rewrites from common declined forms of street names back to the nominative, longest
/// ending first: feminine adjectives in the genitive/locative ("Floriańskiej" → "floriańska",
/// "Karmelickiej" → "karmelicka", "Długiej" → "długa", "Nowej" → "nowa"), neuter estate names
/// in the locative ("Podwawelskim" → "podwawelskie"), and nouns in the genitive/locative
/// ("Rynku" → "rynek", "Placu" → "plac"). The instrumental "Floriańską" needs no rule: folding
/// makes it "florianska".
const ENDINGS: &[(&str, &str)] = &[
    ("kiej", "ka"),
    ("giej", "ga"),
    ("ckim", "ckie"),
    ("skim", "skie"),
    ("owej", "owa"),
    ("iej", "ia"),
    ("ej", "a"),
    ("ku", "ek"),
    ("cu", "c"),
];

/// Other forms a folded query word may stand for, by [`ENDINGS`] (at most one rule applies; the
/// stem must keep three letters). "mickiewicza" has none: names in the genitive stay as typed.
pub(super) fn base_forms(t: &str) -> Option<String> {
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    ENDINGS.iter().find_map(|(end, base)| {
        let stem = t.strip_suffix(end)?;
        (stem.chars().count() >= 3).then(|| format!("{stem}{base}"))
    })
}

/// A house number as shown: trimmed, without spaces inside, letters in capitals ("12 a" →
/// "12A", "18/2a" → "18/2A").
pub fn display_number(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A house number as compared: folded, without spaces, capitals ("38Ł" → "38L").
pub(super) fn number_key(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        fold_into(c, &mut folded);
    }
    folded.to_ascii_uppercase()
}

/// The leading digits of a number key as a number ("12A/3" → 12), 0 when there are none.
pub(super) fn number_base(key: &str) -> u32 {
    key.bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u32, |v, d| {
            v.saturating_mul(10).saturating_add((d - b'0') as u32)
        })
}

/// The building part of a number key: without the flat after a slash ("12A/3" → "12A").
pub(super) fn building_part(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// Just the leading digits of a number key ("12A/3" → "12").
pub(super) fn digits_part(key: &str) -> &str {
    let n = key.bytes().take_while(u8::is_ascii_digit).count();
    &key[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folding_drops_case_and_polish_diacritics() {
        assert_eq!(fold("Żółć GĘŚLĄ Jaźń Łódź"), "zolc gesla jazn lodz");
        assert_eq!(fold("Straße"), "strasse");
    }

    #[test]
    fn tokens_split_at_hyphens_and_keep_house_numbers_whole() {
        assert_eq!(
            words("Generała Stefana Grota-Roweckiego 12/3"),
            ["generala", "stefana", "grota", "roweckiego", "12/3"]
        );
        assert_eq!(
            words("Skwer Charles'a de Gaulle'a"),
            ["skwer", "charlesa", "de", "gaullea"]
        );
        assert_eq!(
            words("ul. Długa 12a, 31-147 Kraków"),
            ["ul", "dluga", "12a", "31-147", "krakow"]
        );
        let t = tokens("św. Tomasza");
        assert!(t[0].abbrev && !t[1].abbrev);
        assert!(is_postcode("31-147") && !is_postcode("12-14"));
    }

    #[test]
    fn declined_feminine_names_have_their_nominative_as_another_form() {
        assert_eq!(base_forms("florianskiej").as_deref(), Some("florianska"));
        assert_eq!(base_forms("karmelickiej").as_deref(), Some("karmelicka"));
        assert_eq!(base_forms("dlugiej").as_deref(), Some("dluga"));
        assert_eq!(base_forms("nowej").as_deref(), Some("nowa"));
        assert_eq!(base_forms("podwawelskim").as_deref(), Some("podwawelskie"));
        assert_eq!(base_forms("rynku").as_deref(), Some("rynek"));
        assert_eq!(base_forms("mickiewicza"), None);
        assert_eq!(base_forms("12"), None);
    }

    #[test]
    fn house_numbers_compare_without_case_spaces_or_diacritics() {
        assert_eq!(display_number(" 12 a "), "12A");
        assert_eq!(number_key("38Ł"), "38L");
        assert_eq!(number_base("12A/3"), 12);
        assert_eq!(building_part("12A/3"), "12A");
        assert_eq!(digits_part("12A/3"), "12");
    }
}
