//! Who is calling: a staff member with a session cookie, an app or tool with an API key, or a
//! resident (nobody). Passwords are argon2id hashes; session tokens and API keys are stored only
//! as SHA-256 digests.
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::ApiError;
use crate::http::AppState;

pub const SESSION_COOKIE: &str = "zglos_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    UnitStaff,
    Consultant,
    Analyst,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::UnitStaff,
        Role::Consultant,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::UnitStaff => "unit_staff",
            Role::Consultant => "consultant",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffUser {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub roles: Vec<String>,
    pub units: Vec<String>,
    pub lang: String,
    /// The CSRF token of the session this request came with.
    pub csrf_token: String,
}

impl StaffUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }
}

/// The caller of a request. Extracting it never fails: handlers decide what they need.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub user: Option<StaffUser>,
    /// Role of the API key in `Authorization: Bearer …`, if any.
    pub api_key_role: Option<String>,
}

impl Caller {
    /// A staff session with the analyst or admin role, or an analyst API key.
    pub fn is_analyst(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.has(Role::Analyst) || u.has(Role::Admin))
            || self.api_key_role.as_deref() == Some("analyst")
    }

    /// The staff member, if they hold one of `roles`: 401 for nobody, 403 for the wrong role.
    pub fn require(&self, roles: &[Role]) -> Result<&StaffUser, ApiError> {
        let user = self.user.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "log in as city staff first",
            )
        })?;
        if roles.iter().any(|r| user.has(*r)) {
            Ok(user)
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs one of the roles: {}", names.join(", ")),
            ))
        }
    }
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The user behind a session token, if the session is live and the account enabled. A disabled
/// account's sessions stop working at once, because this is checked on every request.
pub async fn session_user(pool: &PgPool, token: &str) -> sqlx::Result<Option<StaffUser>> {
    sqlx::query_as(
        "SELECT u.id, u.login, u.name, u.roles, u.units, u.lang, s.csrf_token
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled",
    )
    .bind(sha256_hex(token))
    .fetch_optional(pool)
    .await
}

/// The role of an enabled API key.
pub async fn api_key_role(pool: &PgPool, key: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT role FROM api_keys WHERE key_hash = $1 AND NOT disabled")
        .bind(sha256_hex(key))
        .fetch_optional(pool)
        .await
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut caller = Caller::default();
        if let Some(token) = cookie(parts, SESSION_COOKIE) {
            caller.user = session_user(&state.pool, &token).await?;
        }
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(key) = bearer {
            caller.api_key_role = api_key_role(&state.pool, key).await?;
        }
        Ok(caller)
    }
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
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let id = sqlx::query_scalar(
        "INSERT INTO users (login, name, password_hash, roles, units) VALUES (lower($1), $2, $3, $4, $5)
         ON CONFLICT (login) DO UPDATE SET name = EXCLUDED.name, password_hash = EXCLUDED.password_hash,
             roles = EXCLUDED.roles, units = EXCLUDED.units, disabled = false
         RETURNING id",
    )
    .bind(login.trim())
    .bind(name)
    .bind(hash_password(password)?)
    .bind(&roles)
    .bind(units)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Issues an API key (CLI: `zglos apikey add`); the key itself is shown once and never stored.
pub async fn add_api_key(pool: &PgPool, name: &str, role: &str) -> anyhow::Result<String> {
    if role != "open311" && role != "analyst" {
        anyhow::bail!("role must be open311 or analyst");
    }
    let key = random_token();
    sqlx::query("INSERT INTO api_keys (name, key_hash, role) VALUES ($1, $2, $3)")
        .bind(name)
        .bind(sha256_hex(&key))
        .bind(role)
        .execute(pool)
        .await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
