//! Importing a city pack, and reading the city's configuration back at start-up.
use anyhow::{Context, Result};
use geo::MultiPolygon;
use sqlx::PgPool;

use crate::catalogue::{Catalogue, CatalogueData, Category, CityInfo, Status, Unit};
use crate::city::{CityPack, MapSettings};
use crate::domain::calendar::{Calendar, CalendarSettings, EscalationSettings, Target};
use crate::domain::workflow::{StatusRoles, Workflow};
use crate::domain::Names;

fn geojson_text(mp: &MultiPolygon<f64>) -> String {
    geojson::Geometry::from(mp).to_string()
}

/// Writes the pack into the database in one transaction. Running it again updates in place.
pub async fn import(pool: &PgPool, pack: &CityPack) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO city (id, slug, name, boundary, attribution, near_border_m, map)
         VALUES (true, $1, $2, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)), $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name, boundary = EXCLUDED.boundary,
             attribution = EXCLUDED.attribution, near_border_m = EXCLUDED.near_border_m, map = EXCLUDED.map,
             loaded_at = now()",
        &pack.slug,
        &pack.name,
        geojson_text(&pack.boundary),
        &pack.attribution,
        pack.near_border_m,
        serde_json::to_value(&pack.map)?
    )
    .execute(&mut *tx)
    .await
    .context("writing the city")?;
    sqlx::query!(
        "UPDATE city SET calendar = $1, escalation = $2 WHERE id",
        serde_json::to_value(&pack.calendar)?,
        serde_json::to_value(&pack.escalation)?
    )
    .execute(&mut *tx)
    .await
    .context("writing the calendar")?;
    super::moderation::set_retention_settings(&mut *tx, &serde_json::to_value(pack.retention)?)
        .await
        .context("writing the retention settings")?;

    for d in &pack.districts {
        sqlx::query!(
            "INSERT INTO districts (id, code, name, full_name, geom)
             VALUES ($1, $2, $3, $4, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)))
             ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name,
                 full_name = EXCLUDED.full_name, geom = EXCLUDED.geom",
            d.id,
            &d.code,
            &d.name,
            &d.full_name,
            geojson_text(&d.geometry)
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing district {}", d.name))?;
    }
    for u in &pack.units {
        sqlx::query!(
            "INSERT INTO units (code, name, handles, contact, sources, delivery) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, handles = EXCLUDED.handles,
                 contact = EXCLUDED.contact, sources = EXCLUDED.sources, delivery = EXCLUDED.delivery",
            &u.code,
            &u.name,
            &u.handles,
            &u.contact,
            &u.sources,
            serde_json::to_value(&u.channel)?
        )
        .execute(&mut *tx)
        .await?;
    }
    for c in &pack.categories {
        let kinds: Vec<String> = c
            .geometry_kinds
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        sqlx::query!(
            "INSERT INTO categories (code, name_pl, name_en, group_code, geometry_kinds, dedup_radius_m,
                 dedup_window_days, color, icon, sort_order, names, has_icon)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (code) DO UPDATE SET name_pl = EXCLUDED.name_pl, name_en = EXCLUDED.name_en,
                 names = EXCLUDED.names, has_icon = EXCLUDED.has_icon,
                 group_code = EXCLUDED.group_code, geometry_kinds = EXCLUDED.geometry_kinds,
                 dedup_radius_m = EXCLUDED.dedup_radius_m, dedup_window_days = EXCLUDED.dedup_window_days,
                 color = EXCLUDED.color, icon = EXCLUDED.icon, sort_order = EXCLUDED.sort_order",
            &c.code,
            &c.name_pl,
            &c.name_en,
            &c.group_code,
            &kinds,
            c.dedup_radius_m,
            c.dedup_window_days,
            &c.color,
            &c.icon,
            c.sort_order,
            serde_json::to_value(&c.names)?,
            c.icon_file.is_some()
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing category {}", c.code))?;
    }
    for s in &pack.statuses {
        let named = sqlx::query!(
            "UPDATE statuses SET name_pl = $2, name_en = $3, names = $4 WHERE code = $1",
            &s.code,
            &s.name_pl,
            &s.name_en,
            serde_json::to_value(&s.names)?
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing the names of status {}", s.code))?;
        if named.rows_affected() == 0 {
            let known: Vec<String> =
                sqlx::query_scalar!("SELECT code FROM statuses ORDER BY sort_order, code")
                    .fetch_all(&mut *tx)
                    .await?;
            anyhow::bail!(
                "statuses.csv: unknown status {:?}; the statuses are: {}",
                s.code,
                known.join(", ")
            );
        }
    }
    // Targets too: a category left out of targets.csv has no deadline.
    sqlx::query!("DELETE FROM deadline_targets")
        .execute(&mut *tx)
        .await?;
    for (category, unit, t) in &pack.targets {
        sqlx::query!(
            "INSERT INTO deadline_targets (category, unit_code, response_days, fix_days) VALUES ($1, $2, $3, $4)",
            category,
            unit.as_deref(),
            t.response_days as i32,
            t.fix_days as i32
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing the target of {category}"))?;
    }
    // Rules are replaced as a whole: a rule removed from the file stops routing.
    sqlx::query!("DELETE FROM routing_rules")
        .execute(&mut *tx)
        .await?;
    for r in &pack.rules {
        sqlx::query!(
            "INSERT INTO routing_rules (id, category, area_name, area, unit_code, priority, note)
             VALUES ($1, $2, $3, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($4), 4326)), $5, $6, $7)",
            &r.row.id,
            r.row.category.as_deref(),
            r.area_name.as_deref(),
            r.area.as_ref().map(geojson_text),
            &r.row.unit_code,
            r.row.priority,
            r.row.note.clone().unwrap_or_default()
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing routing rule {}", r.row.id))?;
    }
    super::gazetteer::replace(&mut tx, &pack.gazetteer)
        .await
        .context("writing the gazetteer")?;
    tx.commit().await?;
    Ok(())
}

fn parse_multipolygon(text: &str) -> Result<MultiPolygon<f64>> {
    let g: geojson::Geometry = text.parse()?;
    let g: geo::Geometry<f64> = g.try_into()?;
    Ok(match g {
        geo::Geometry::MultiPolygon(mp) => mp,
        geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        _ => MultiPolygon(vec![]),
    })
}

/// The stored names, or the two columns when they are not readable as names.
fn names_or(stored: serde_json::Value, pl: &str, en: &str) -> Names {
    serde_json::from_value::<Names>(stored)
        .ok()
        .filter(|n| n.exact(crate::domain::names::FIRST_LANGUAGE).is_some())
        .unwrap_or_else(|| Names::parse([("pl", pl), ("en", en)]).unwrap_or_default())
}

/// Reads the city's configuration. Fails with a clear message when no city was imported.
pub async fn load(pool: &PgPool) -> Result<Catalogue> {
    let city = sqlx::query!(
        r#"SELECT slug, name, attribution, near_border_m, map, calendar, escalation, ST_AsGeoJSON(boundary) AS "boundary!" FROM city WHERE id"#
    )
    .fetch_optional(pool)
    .await?
    .map(|c| (c.slug, c.name, c.attribution, c.near_border_m, c.map, (c.calendar, c.escalation), c.boundary));
    let (slug, name, attribution, near_border_m, map, (calendar, escalation), boundary) = city
        .context(
            "no city is loaded in this database; run `zglos import-city cities/<city>` first",
        )?;
    let map: MapSettings = serde_json::from_value(map).unwrap_or_default();
    let calendar: CalendarSettings =
        serde_json::from_value(calendar).context("the stored calendar is not readable")?;
    let escalation: EscalationSettings = serde_json::from_value(escalation)
        .context("the stored escalation settings are not readable")?;
    let targets =
        sqlx::query!("SELECT category, unit_code, response_days, fix_days FROM deadline_targets")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|t| {
                let target = Target {
                    response_days: t.response_days.max(0) as u32,
                    fix_days: t.fix_days.max(0) as u32,
                };
                (t.category, t.unit_code, target)
            })
            .collect();

    let categories = sqlx::query!(
        "SELECT code, name_pl, name_en, group_code, geometry_kinds, dedup_radius_m, dedup_window_days, color, icon, names, has_icon
         FROM categories ORDER BY sort_order, code"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|c| Category {
        names: names_or(c.names, &c.name_pl, &c.name_en),
        code: c.code,
        name_pl: c.name_pl,
        name_en: c.name_en,
        group: c.group_code,
        geometry_kinds: c.geometry_kinds,
        dedup_radius_m: c.dedup_radius_m,
        dedup_window_days: c.dedup_window_days,
        color: c.color,
        icon: c.icon,
        has_icon: c.has_icon,
    })
    .collect();
    let statuses: Vec<Status> = sqlx::query!(
        "SELECT code, name_pl, name_en, is_open, names FROM statuses ORDER BY sort_order, code"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|s| Status {
        names: names_or(s.names, &s.name_pl, &s.name_en),
        code: s.code,
        name_pl: s.name_pl,
        name_en: s.name_en,
        is_open: s.is_open,
    })
    .collect();
    let transitions: Vec<(String, String)> =
        sqlx::query!("SELECT from_status, to_status FROM status_transitions")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|t| (t.from_status, t.to_status))
            .collect();
    let roles =
        sqlx::query!(r#"SELECT role AS "role!", code FROM statuses WHERE role IS NOT NULL"#)
            .fetch_all(pool)
            .await?;
    let mut status_roles = StatusRoles::default();
    for (role, code) in roles.into_iter().map(|r| (r.role, r.code)) {
        match role.as_str() {
            "initial" => status_roles.initial = code,
            "not_ours" => status_roles.not_ours = code,
            "reopened" => status_roles.reopened = code,
            "duplicate" => status_roles.duplicate = code,
            "resolved" => status_roles.resolved = code,
            _ => {}
        }
    }
    let workflow = Workflow::new(
        statuses
            .iter()
            .map(|s: &Status| (s.code.clone(), s.is_open)),
        transitions,
        status_roles,
    );
    let units =
        sqlx::query!("SELECT code, name, handles, contact, delivery FROM units ORDER BY code")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|u| {
                let delivery = serde_json::from_value(u.delivery).with_context(|| {
                    format!("unit {}: its delivery channel cannot be read", u.code)
                })?;
                Ok(Unit {
                    code: u.code,
                    name: u.name,
                    handles: u.handles,
                    contact: u.contact,
                    delivery,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
    let districts = sqlx::query!(
        r#"SELECT id, code, name, ST_AsGeoJSON(geom) AS "geom!" FROM districts ORDER BY id"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|d| {
        Ok(zglos_tiles::districts::District {
            id: d.id,
            code: d.code,
            name: d.name,
            geometry: parse_multipolygon(&d.geom)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let rules = sqlx::query!(
        r#"SELECT id, category, ST_AsGeoJSON(area) AS "area?", unit_code, priority FROM routing_rules"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(zglos_tiles::routing::Rule {
            id: r.id,
            category: r.category,
            area: r.area.as_deref().map(parse_multipolygon).transpose()?,
            unit: r.unit_code,
            priority: r.priority,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    Ok(Catalogue::new(CatalogueData {
        city: CityInfo {
            slug,
            name,
            attribution,
            near_border_m,
            map,
            calendar: Calendar::new(calendar),
            escalation,
        },
        targets,
        boundary: parse_multipolygon(&boundary)?,
        categories,
        statuses,
        units,
        districts,
        rules,
        workflow,
        gazetteer: super::gazetteer::load(pool)
            .await
            .context("reading the gazetteer")?,
    }))
}
