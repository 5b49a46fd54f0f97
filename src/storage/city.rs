//! Importing a city pack, and reading the city's configuration back at start-up.
use anyhow::{Context, Result};
use geo::MultiPolygon;
use sqlx::PgPool;

use crate::catalogue::{Catalogue, Category, CityInfo, Status, Unit};
use crate::city::{CityPack, MapSettings};
use crate::domain::workflow::{StatusRoles, Workflow};

fn geojson_text(mp: &MultiPolygon<f64>) -> String {
    geojson::Geometry::from(mp).to_string()
}

/// Writes the pack into the database in one transaction. Running it again updates in place.
pub async fn import(pool: &PgPool, pack: &CityPack) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO city (id, slug, name, boundary, attribution, near_border_m, map)
         VALUES (true, $1, $2, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)), $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name, boundary = EXCLUDED.boundary,
             attribution = EXCLUDED.attribution, near_border_m = EXCLUDED.near_border_m, map = EXCLUDED.map,
             loaded_at = now()",
    )
    .bind(&pack.slug)
    .bind(&pack.name)
    .bind(geojson_text(&pack.boundary))
    .bind(&pack.attribution)
    .bind(pack.near_border_m)
    .bind(serde_json::to_value(&pack.map)?)
    .execute(&mut *tx)
    .await
    .context("writing the city")?;

    for d in &pack.districts {
        sqlx::query(
            "INSERT INTO districts (id, code, name, full_name, geom)
             VALUES ($1, $2, $3, $4, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)))
             ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name,
                 full_name = EXCLUDED.full_name, geom = EXCLUDED.geom",
        )
        .bind(d.id)
        .bind(&d.code)
        .bind(&d.name)
        .bind(&d.full_name)
        .bind(geojson_text(&d.geometry))
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing district {}", d.name))?;
    }
    for u in &pack.units {
        sqlx::query(
            "INSERT INTO units (code, name, handles, contact, sources) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, handles = EXCLUDED.handles,
                 contact = EXCLUDED.contact, sources = EXCLUDED.sources",
        )
        .bind(&u.code)
        .bind(&u.name)
        .bind(&u.handles)
        .bind(&u.contact)
        .bind(&u.sources)
        .execute(&mut *tx)
        .await?;
    }
    for c in &pack.categories {
        let kinds: Vec<String> = c
            .geometry_kinds
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        sqlx::query(
            "INSERT INTO categories (code, name_pl, name_en, group_code, geometry_kinds, dedup_radius_m,
                 dedup_window_days, color, icon, sort_order)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (code) DO UPDATE SET name_pl = EXCLUDED.name_pl, name_en = EXCLUDED.name_en,
                 group_code = EXCLUDED.group_code, geometry_kinds = EXCLUDED.geometry_kinds,
                 dedup_radius_m = EXCLUDED.dedup_radius_m, dedup_window_days = EXCLUDED.dedup_window_days,
                 color = EXCLUDED.color, icon = EXCLUDED.icon, sort_order = EXCLUDED.sort_order",
        )
        .bind(&c.code)
        .bind(&c.name_pl)
        .bind(&c.name_en)
        .bind(&c.group_code)
        .bind(&kinds)
        .bind(c.dedup_radius_m)
        .bind(c.dedup_window_days)
        .bind(&c.color)
        .bind(&c.icon)
        .bind(c.sort_order)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing category {}", c.code))?;
    }
    // Rules are replaced as a whole: a rule removed from the file stops routing.
    sqlx::query("DELETE FROM routing_rules")
        .execute(&mut *tx)
        .await?;
    for r in &pack.rules {
        sqlx::query(
            "INSERT INTO routing_rules (id, category, area_name, area, unit_code, priority, note)
             VALUES ($1, $2, $3, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($4), 4326)), $5, $6, $7)",
        )
        .bind(&r.row.id)
        .bind(&r.row.category)
        .bind(&r.area_name)
        .bind(r.area.as_ref().map(geojson_text))
        .bind(&r.row.unit_code)
        .bind(r.row.priority)
        .bind(r.row.note.clone().unwrap_or_default())
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing routing rule {}", r.row.id))?;
    }
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

/// Reads the city's configuration. Fails with a clear message when no city was imported.
pub async fn load(pool: &PgPool) -> Result<Catalogue> {
    let city: Option<(String, String, String, f64, serde_json::Value, String)> = sqlx::query_as(
        "SELECT slug, name, attribution, near_border_m, map, ST_AsGeoJSON(boundary) FROM city WHERE id",
    )
    .fetch_optional(pool)
    .await?;
    let (slug, name, attribution, near_border_m, map, boundary) = city.context(
        "no city is loaded in this database; run `zglos import-city cities/<city>` first",
    )?;
    let map: MapSettings = serde_json::from_value(map).unwrap_or_default();

    let categories = sqlx::query_as::<_, (String, String, String, String, Vec<String>, f64, i32, String, String)>(
        "SELECT code, name_pl, name_en, group_code, geometry_kinds, dedup_radius_m, dedup_window_days, color, icon
         FROM categories ORDER BY sort_order, code",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(code, name_pl, name_en, group, geometry_kinds, dedup_radius_m, dedup_window_days, color, icon)| Category {
        code,
        name_pl,
        name_en,
        group,
        geometry_kinds,
        dedup_radius_m,
        dedup_window_days,
        color,
        icon,
    })
    .collect();
    let statuses: Vec<Status> = sqlx::query_as::<_, (String, String, String, bool)>(
        "SELECT code, name_pl, name_en, is_open FROM statuses ORDER BY sort_order, code",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(code, name_pl, name_en, is_open)| Status {
        code,
        name_pl,
        name_en,
        is_open,
    })
    .collect();
    let transitions = sqlx::query_as::<_, (String, String)>(
        "SELECT from_status, to_status FROM status_transitions",
    )
    .fetch_all(pool)
    .await?;
    let roles: Vec<(String, String)> =
        sqlx::query_as("SELECT role, code FROM statuses WHERE role IS NOT NULL")
            .fetch_all(pool)
            .await?;
    let mut status_roles = StatusRoles::default();
    for (role, code) in roles {
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
    let units = sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT code, name, handles, contact FROM units ORDER BY code",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(code, name, handles, contact)| Unit {
        code,
        name,
        handles,
        contact,
    })
    .collect();
    let districts = sqlx::query_as::<_, (i32, String, String, String)>(
        "SELECT id, code, name, ST_AsGeoJSON(geom) FROM districts ORDER BY id",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(id, code, name, geom)| {
        Ok(zglos_tiles::districts::District {
            id,
            code,
            name,
            geometry: parse_multipolygon(&geom)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let rules = sqlx::query_as::<_, (String, Option<String>, Option<String>, String, i32)>(
        "SELECT id, category, ST_AsGeoJSON(area), unit_code, priority FROM routing_rules",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(id, category, area, unit, priority)| {
        Ok(zglos_tiles::routing::Rule {
            id,
            category,
            area: area.as_deref().map(parse_multipolygon).transpose()?,
            unit,
            priority,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    Ok(Catalogue::new(
        CityInfo {
            slug,
            name,
            attribution,
            near_border_m,
            map,
        },
        parse_multipolygon(&boundary)?,
        categories,
        statuses,
        units,
        districts,
        rules,
        workflow,
    ))
}
