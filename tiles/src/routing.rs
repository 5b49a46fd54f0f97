//! Which unit is responsible for a report: rules over category × area × priority, loaded as data.
use geo::{BoundingRect, Contains, MultiPolygon, Point, Rect};

/// One routing rule. A rule without a category matches every category; a rule without an area
/// matches the whole city.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub category: Option<String>,
    pub area: Option<MultiPolygon<f64>>,
    pub unit: String,
    pub priority: i32,
}

struct Compiled {
    rule: Rule,
    bbox: Option<Rect<f64>>,
}

pub struct Router {
    /// Highest priority first; among equal priorities the more specific rule (category and area)
    /// first, then by id, so that routing never depends on load order.
    rules: Vec<Compiled>,
}

impl Router {
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut rules: Vec<Compiled> = rules
            .into_iter()
            .map(|rule| Compiled {
                bbox: rule.area.as_ref().and_then(|a| a.bounding_rect()),
                rule,
            })
            .collect();
        let specificity = |r: &Rule| r.category.is_some() as u8 * 2 + r.area.is_some() as u8;
        rules.sort_by(|a, b| {
            b.rule
                .priority
                .cmp(&a.rule.priority)
                .then(specificity(&b.rule).cmp(&specificity(&a.rule)))
                .then(a.rule.id.cmp(&b.rule.id))
        });
        Self { rules }
    }

    /// The rule that decides where a report of `category` anchored at `anchor` goes.
    pub fn route(&self, category: &str, anchor: Point<f64>) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|c| {
                c.rule.category.as_deref().is_none_or(|cat| cat == category)
                    && match (&c.rule.area, &c.bbox) {
                        (None, _) => true,
                        (Some(area), Some(bbox)) => {
                            bbox.contains(&anchor) && area.contains(&anchor)
                        }
                        (Some(_), None) => false,
                    }
            })
            .map(|c| &c.rule)
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|c| &c.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn rule(
        id: &str,
        category: Option<&str>,
        area: Option<MultiPolygon<f64>>,
        unit: &str,
        priority: i32,
    ) -> Rule {
        Rule {
            id: id.into(),
            category: category.map(Into::into),
            area,
            unit: unit.into(),
            priority,
        }
    }

    #[test]
    fn most_specific_highest_priority_rule_wins() {
        let old_town = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)],
        ]);
        let router = Router::new(vec![
            rule("fallback", None, None, "DESK", 0),
            rule("litter", Some("litter"), None, "CLEAN", 100),
            rule(
                "litter-old-town",
                Some("litter"),
                Some(old_town),
                "GUARD",
                100,
            ),
        ]);
        assert_eq!(
            router.route("litter", Point::new(0.5, 0.5)).unwrap().id,
            "litter-old-town"
        );
        assert_eq!(
            router.route("litter", Point::new(2.0, 0.5)).unwrap().id,
            "litter"
        );
        assert_eq!(
            router.route("pothole", Point::new(0.5, 0.5)).unwrap().unit,
            "DESK"
        );
        assert!(Router::new(vec![])
            .route("litter", Point::new(0.0, 0.0))
            .is_none());
    }
}
