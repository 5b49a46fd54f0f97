//! Keeping the engine in step with PostGIS. Every write to a report takes a new `rev` under its
//! category's lock, so within a category `rev` grows in commit order and the engine catches up
//! with "what changed after the last `rev` I applied" (see `engine`).
use futures::TryStreamExt;
use sqlx::{PgExecutor, PgPool};

use crate::engine::Engine;
use crate::storage::reports as store;

/// Loads every report into the engine (start-up).
pub async fn load(pool: &PgPool, engine: &Engine) -> anyhow::Result<()> {
    let rows: Vec<_> = store::all_index_rows(pool).try_collect().await?;
    engine.load(rows);
    Ok(())
}

/// Applies to the engine what changed in one category (or all) since it last looked; returns
/// how many rows it applied.
pub async fn catch_up(
    executor: impl PgExecutor<'_>,
    engine: &Engine,
    category: Option<&str>,
) -> sqlx::Result<usize> {
    let rows = match category {
        Some(cat) => {
            let seen = engine.last_seen(&[cat.to_owned()])[0];
            store::changes_in(executor, cat, seen).await?
        }
        None => {
            let cats: Vec<String> = engine
                .catalogue()
                .categories
                .iter()
                .map(|c| c.code.clone())
                .collect();
            let seen = engine.last_seen(&cats);
            store::changes_in_all(executor, &cats, &seen).await?
        }
    };
    engine.apply(&rows);
    Ok(rows.len())
}

/// Takes the category's lock and brings the engine up to date with it, in one round trip.
pub async fn lock_and_catch_up(
    tx: &mut sqlx::PgConnection,
    engine: &Engine,
    category: &str,
) -> sqlx::Result<()> {
    let seen = engine.last_seen(&[category.to_owned()])[0];
    let rows = store::lock_category_changes(tx, category, seen).await?;
    engine.apply(&rows);
    Ok(())
}
