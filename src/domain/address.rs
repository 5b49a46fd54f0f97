//! A report's address: what the gazetteer found at its anchor when it was filed. Street and
//! number when an address point is within 50 m; the street alone (shown as "near Floriańska")
//! when only a street is near; or only a label (the district's name) where no street is.
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub street: Option<String>,
    pub number: Option<String>,
    /// What people read: "Floriańska 12"; the street's name ("Floriańska") when the report is
    /// only near it; the district's name ("Stare Miasto") when no street is near.
    pub label: String,
}

impl Address {
    /// From the stored columns: an address needs at least its label.
    pub fn from_columns(
        street: Option<String>,
        number: Option<String>,
        label: Option<String>,
    ) -> Option<Self> {
        label.map(|label| Address {
            street,
            number,
            label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn a_stored_address_needs_its_label() {
        assert_eq!(
            Address::from_columns(Some("Floriańska".into()), None, None),
            None
        );
        let a = Address::from_columns(
            Some("Floriańska".into()),
            Some("12".into()),
            Some("Floriańska 12".into()),
        )
        .unwrap();
        assert_eq!(a.number.as_deref(), Some("12"));
    }
}
