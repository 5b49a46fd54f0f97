//! Staff accounts and credentials: passwords are argon2id hashes; session tokens and API keys are
//! random and stored only as SHA-256 digests. Who a request comes from ([`Caller`]) and what they
//! may do is decided in `domain::access`.
use sqlx::PgPool;

pub use crate::domain::credentials::{hash_password, random_token, sha256_hex, verify_password};
pub use crate::domain::{Caller, Role, StaffUser};
use crate::storage::users;

pub const SESSION_COOKIE: &str = "zglos_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The user behind a session token (see [`users::session_user`]).
pub async fn session_user(pool: &PgPool, token: &str) -> sqlx::Result<Option<StaffUser>> {
    users::session_user(pool, &sha256_hex(token)).await
}

/// The enabled API key behind `key`, if any.
pub async fn api_key(pool: &PgPool, key: &str) -> sqlx::Result<Option<users::ApiKey>> {
    users::api_key(pool, &sha256_hex(key)).await
}

/// Creates a staff account (CLI: `zglos user add`).
pub async fn add_user(
    pool: &PgPool,
    login: &str,
    name: &str,
    password: &str,
    roles: &[Role],
    units: &[String],
) -> anyhow::Result<i64> {
    if password.chars().count() < 10 {
        anyhow::bail!("the password must have at least 10 characters");
    }
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let owned = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&owned)).await??;
    let id = users::upsert_user(pool, login, name, &hash, roles, units).await?;
    Ok(id)
}

/// Issues an API key (CLI: `zglos apikey add`); the key itself is shown once and never stored.
/// A `unit_system` key is scoped to `unit`, which must exist; the other roles take none.
pub async fn add_api_key(
    pool: &PgPool,
    name: &str,
    role: &str,
    unit: Option<&str>,
) -> anyhow::Result<String> {
    match (role, unit) {
        ("open311" | "analyst", None) => {}
        ("open311" | "analyst", Some(_)) => anyhow::bail!("only a unit_system key has a --unit"),
        ("unit_system", None) => anyhow::bail!("a unit_system key needs --unit CODE"),
        ("unit_system", Some(u)) => {
            if !users::unit_exists(pool, u).await? {
                anyhow::bail!("no unit {u:?}: see units.csv of the city pack");
            }
        }
        _ => anyhow::bail!("role must be open311, analyst or unit_system"),
    }
    let key = random_token();
    users::insert_api_key(pool, name, &sha256_hex(&key), role, unit).await?;
    Ok(key)
}
