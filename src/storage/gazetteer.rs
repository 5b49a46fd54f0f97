//! The city's gazetteer as imported (`gazetteer` table, migration 0011): written in one
//! statement at import, read whole at start-up into the in-memory index of the spatial core.
use sqlx::{PgConnection, PgPool};

use crate::addresses::GazetteerRow;

/// Replaces every entry (an import is the whole gazetteer, not an update).
pub async fn replace(conn: &mut PgConnection, rows: &[GazetteerRow]) -> sqlx::Result<u64> {
    sqlx::query!("DELETE FROM gazetteer")
        .execute(&mut *conn)
        .await?;
    let col = |f: fn(&GazetteerRow) -> Option<&str>| -> Vec<Option<String>> {
        rows.iter().map(|r| f(r).map(str::to_owned)).collect()
    };
    let kinds: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let sources: Vec<String> = rows.iter().map(|r| r.source.clone()).collect();
    let geoms: Vec<String> = rows.iter().map(|r| r.geometry.clone()).collect();
    let numbers = col(|r| r.number.as_deref());
    let postcodes = col(|r| r.postcode.as_deref());
    let categories = col(|r| r.category.as_deref());
    let done = sqlx::query!(
        "INSERT INTO gazetteer (kind, name, number, postcode, category, source, geom)
         SELECT k, n, num, pc, c, s, ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS t(k, n, num, pc, c, s, g)",
        &kinds,
        &names,
        &numbers as &[Option<String>],
        &postcodes as &[Option<String>],
        &categories as &[Option<String>],
        &sources,
        &geoms
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Every entry, in import order.
pub async fn load(pool: &PgPool) -> sqlx::Result<Vec<GazetteerRow>> {
    sqlx::query_as!(
        GazetteerRow,
        r#"SELECT kind, name, number, postcode, category, source, ST_AsGeoJSON(geom, 7) AS "geometry!"
           FROM gazetteer ORDER BY id"#
    )
    .fetch_all(pool)
    .await
}
