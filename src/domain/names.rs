//! A thing's name in each language the city pack gives (`name_pl`, `name_en`, `name_uk`, … in
//! its CSV files). The interface asks for one language and gets the city's first language
//! where the pack has no name in it, so a pack may translate as much or as little as it likes.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Invalid;

/// The language every name must have: the one the city writes in.
pub const FIRST_LANGUAGE: &str = "pl";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Names(BTreeMap<String, String>);

impl Names {
    /// Names from `(language, name)` pairs; blank names are left out, the first language
    /// must be there and each language code must look like one (`pl`, `uk`, `szl`).
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, Invalid> {
        let mut names = BTreeMap::new();
        for (lang, name) in pairs {
            let valid =
                (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase());
            if !valid {
                return Err(Invalid::malformed(
                    "invalid_lang",
                    format!("name_{lang}: a language code is two or three lowercase letters"),
                )
                .at(format!("name_{lang}")));
            }
            let name = name.trim();
            if !name.is_empty() {
                names.insert(lang.to_owned(), name.to_owned());
            }
        }
        if !names.contains_key(FIRST_LANGUAGE) {
            return Err(Invalid::malformed(
                "missing_field",
                format!("name_{FIRST_LANGUAGE} is required"),
            )
            .at(format!("name_{FIRST_LANGUAGE}")));
        }
        Ok(Self(names))
    }

    /// The name in `lang`, else in the city's first language.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get(FIRST_LANGUAGE))
            .or_else(|| self.0.values().next())
            .map_or("", String::as_str)
    }

    /// The name in exactly `lang`, if the pack has one.
    pub fn exact(&self, lang: &str) -> Option<&str> {
        self.0.get(lang).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_missing_in_a_language_falls_back_to_the_citys_first() {
        let n = Names::parse([("pl", "Dziura w jezdni"), ("en", "Pothole"), ("uk", " ")]).unwrap();
        assert_eq!(n.get("en"), "Pothole");
        assert_eq!(n.get("uk"), "Dziura w jezdni");
        assert_eq!(n.exact("uk"), None);
        assert_eq!(n.iter().count(), 2);
    }

    #[test]
    fn names_need_the_first_language_and_real_language_codes() {
        let e = Names::parse([("en", "Pothole")]).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("missing_field", Some("name_pl"))
        );
        let e = Names::parse([("pl", "Dziura"), ("EN", "Pothole")]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name_EN"));
        assert!(Names::parse([("pl", "Dziura"), ("szl", "Dziura we drodze")]).is_ok());
    }
}
