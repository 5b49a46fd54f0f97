//! Staff accounts, their sessions and API keys. Session tokens and keys are stored only as
//! SHA-256 digests; callers pass digests in.
use sqlx::PgPool;

use crate::domain::{Lang, Role, StaffUser};

struct UserRow {
    id: i64,
    login: String,
    name: String,
    roles: Vec<String>,
    units: Vec<String>,
    lang: String,
    csrf_token: String,
}

impl From<UserRow> for StaffUser {
    fn from(r: UserRow) -> Self {
        StaffUser {
            id: r.id,
            login: r.login,
            name: r.name,
            // A role the service no longer knows grants nothing.
            roles: r.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            units: r.units,
            lang: Lang::from_code(&r.lang),
            csrf_token: r.csrf_token,
            by_key: false,
        }
    }
}

/// The user behind a session, if the session is live and the account enabled. A disabled
/// account's sessions stop working at once, because this is checked on every request.
pub async fn session_user(pool: &PgPool, token_hash: &str) -> sqlx::Result<Option<StaffUser>> {
    let row = sqlx::query_as!(
        UserRow,
        "SELECT u.id, u.login, u.name, u.roles, u.units, u.lang, s.csrf_token
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled",
        token_hash
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(StaffUser::from))
}

/// An enabled API key: its name, role and (for a unit's system) unit.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub name: String,
    pub role: String,
    pub unit_code: Option<String>,
}

pub async fn api_key(pool: &PgPool, key_hash: &str) -> sqlx::Result<Option<ApiKey>> {
    sqlx::query_as!(
        ApiKey,
        "SELECT name, role, unit_code FROM api_keys WHERE key_hash = $1 AND NOT disabled",
        key_hash
    )
    .fetch_optional(pool)
    .await
}

pub async fn unit_exists(pool: &PgPool, code: &str) -> sqlx::Result<bool> {
    Ok(
        sqlx::query_scalar!("SELECT 1 AS one FROM units WHERE code = $1", code)
            .fetch_optional(pool)
            .await?
            .is_some(),
    )
}

/// Creates or replaces an account (enabled again if it was disabled).
pub async fn upsert_user(
    pool: &PgPool,
    login: &str,
    name: &str,
    password_hash: &str,
    roles: &[Role],
    units: &[String],
) -> sqlx::Result<i64> {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    sqlx::query_scalar!(
        "INSERT INTO users (login, name, password_hash, roles, units) VALUES (lower($1), $2, $3, $4, $5)
         ON CONFLICT (login) DO UPDATE SET name = EXCLUDED.name, password_hash = EXCLUDED.password_hash,
             roles = EXCLUDED.roles, units = EXCLUDED.units, disabled = false
         RETURNING id",
        login.trim(),
        name,
        password_hash,
        &roles as &[&str],
        units
    )
    .fetch_one(pool)
    .await
}

pub async fn insert_api_key(
    pool: &PgPool,
    name: &str,
    key_hash: &str,
    role: &str,
    unit: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO api_keys (name, key_hash, role, unit_code) VALUES ($1, $2, $3, $4)",
        name,
        key_hash,
        role,
        unit
    )
    .execute(pool)
    .await?;
    Ok(())
}
