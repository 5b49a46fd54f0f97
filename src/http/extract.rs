//! What handlers take from a request, parsed once, with the service's JSON errors: JSON bodies
//! (typed, with the failing field named), report ids and tile coordinates from the path, the
//! client's address and the caller (a staff session or an API key).
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use zglos_tiles::TileId;

use super::AppState;
use crate::auth::{api_key, session_user, Caller, SESSION_COOKIE};
use crate::domain::net::{client_address, Cidr};
use crate::http::error::{ApiError, ApiResult};

/// Checks a JSON body: readable within the size limit, not empty (when `required`), sent as
/// `application/json` or `application/geo+json`. `None` for an empty body that is not required.
pub fn json_bytes(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    required: bool,
) -> ApiResult<Option<Bytes>> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is too large",
            )
        } else {
            ApiError::bad_request("unreadable_body", e.body_text())
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return if required {
            Err(ApiError::bad_request(
                "empty_body",
                "the request body is empty; send a JSON document",
            ))
        } else {
            Ok(None)
        };
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && mime != "application/geo+json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send Content-Type: application/json (got {content_type:?})"),
        )
        .at("Content-Type"));
    }
    Ok(Some(body))
}

fn invalid_json(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
        .with_detail(json!({"line": e.line(), "column": e.column()}))
}

/// Reads a JSON body as an untyped document (a new report: its GeoJSON is parsed by the domain).
pub fn json_value(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    required: bool,
) -> ApiResult<Option<Value>> {
    match json_bytes(headers, body, required)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| invalid_json(&e)),
    }
}

/// Deserializes a body into `T`: JSON syntax errors as `invalid_json` (with line and column),
/// a missing member as `missing_field`, anything else as `invalid_type`, each naming the path of
/// the field (`properties.contact.email`, `photos[2]`).
pub fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut *de);
    let t = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return invalid_json(&inner);
        }
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        let join = |parent: &str, name: &str| {
            if parent == "." || parent.is_empty() {
                name.to_owned()
            } else {
                format!("{parent}.{name}")
            }
        };
        // "missing field `x`": the path points at the object that lacks it.
        if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            let field = join(&path, name);
            return ApiError::bad_request("missing_field", format!("{field} is required"))
                .at(field);
        }
        let field = if path == "." { String::new() } else { path };
        let e = ApiError::bad_request(
            "invalid_type",
            if field.is_empty() {
                message
            } else {
                format!("{field}: {message}")
            },
        );
        if field.is_empty() {
            e
        } else {
            e.at(field)
        }
    })?;
    // Only whitespace may follow the document.
    de.end().map_err(|e| invalid_json(&e))?;
    Ok(t)
}

/// Reads a body member by member into `T` (a struct of [`Member`]s), after the handler has
/// checked the caller: an empty body that is not `required`, and any JSON document that is not
/// an object, read as `T::default()` (no member given), so each member's rule reports what is
/// missing. Syntax errors are `invalid_json`, whatever the document. Of a member given twice, the
/// last one counts.
pub fn typed_body<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    required: bool,
) -> ApiResult<T> {
    let Some(bytes) = json_bytes(headers, body, required)? else {
        return Ok(T::default());
    };
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => deserialize(&bytes).or_else(|e| {
            if !e.message.starts_with("duplicate field `") {
                return Err(e);
            }
            // A struct refuses a repeated member; a JSON object keeps the last one.
            let object: Value = serde_json::from_slice(&bytes).map_err(|e| invalid_json(&e))?;
            T::deserialize(object).map_err(|e| ApiError::bad_request("invalid_type", e.to_string()))
        }),
        _ => deserialize::<IgnoredAny>(&bytes).map(|_| T::default()),
    }
}

/// A member of a request body as the client sent it: `Typed` when it has the JSON type of `T`,
/// `Mistyped` when it has another one (`null` and a missing member are the `None` of an
/// `Option<Member<T>>`). Reading a member never fails: the handler's rule for it says what a
/// wrong type means (an `invalid_type` naming the member, a `missing_field`, a default), and the
/// rules run in the handler's order, not in the order of the body.
#[derive(Clone, Debug, PartialEq)]
pub enum Member<T> {
    Typed(T),
    Mistyped,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(T::deserialize(value).map_or(Member::Mistyped, Member::Typed))
    }
}

fn missing(name: &str) -> ApiError {
    ApiError::unprocessable("missing_field", format!("{name} is required")).at(name)
}

/// A text member: at most 5000 characters, trimmed; blank reads as absent. A member that is not
/// a string is `invalid_type`, naming it.
pub fn optional_text(name: &str, given: Option<Member<String>>) -> ApiResult<Option<String>> {
    match given {
        None => Ok(None),
        Some(Member::Typed(s)) if s.chars().count() > 5000 => {
            Err(ApiError::bad_request("too_long", "at most 5000 characters").at(name))
        }
        // PostgreSQL text cannot hold U+0000.
        Some(Member::Typed(s)) if s.contains('\0') => Err(ApiError::bad_request(
            "invalid_character",
            "text may not contain U+0000 (NUL)",
        )
        .at(name)),
        Some(Member::Typed(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(Member::Mistyped) => {
            Err(ApiError::bad_request("invalid_type", format!("{name} must be a string")).at(name))
        }
    }
}

/// A text member that must be given and not blank (`missing_field`, 422), else as
/// [`optional_text`].
pub fn required_text(name: &str, given: Option<Member<String>>) -> ApiResult<String> {
    match given {
        None => Err(missing(name)),
        Some(Member::Typed(s)) if s.trim().is_empty() => Err(missing(name)),
        given => optional_text(name, given)?.ok_or_else(|| missing(name)),
    }
}

/// A JSON body that must be there, deserialized into `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await;
        let bytes = json_bytes(&headers, body, true)?.unwrap_or_default();
        deserialize(&bytes).map(JsonBody)
    }
}

/// A JSON body that may be left out (an empty body is `None`).
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await;
        match json_bytes(&headers, body, false)? {
            None => Ok(OptionalJsonBody(None)),
            Some(bytes) => deserialize(&bytes).map(|t| OptionalJsonBody(Some(t))),
        }
    }
}

async fn path_param(parts: &mut Parts, name: &str) -> ApiResult<String> {
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|e| ApiError::internal(format!("path parameters: {e}")))?;
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .ok_or_else(|| ApiError::internal(format!("the route has no {{{name}}}")))
}

/// A report id: a positive integer.
pub fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::bad_request("invalid_id", format!("{raw:?} is not a report id")).at("id")
    })
}

/// The report id of a `…/{id}` route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ReportId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_id(&path_param(parts, "id").await?).map(ReportId)
    }
}

/// Parses `{z}/{x}/{y}.mvt` (axum allows one parameter per segment, so the suffix is ours).
pub fn parse_tile(z: &str, x: &str, y: &str) -> ApiResult<TileId> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let bad = || {
        ApiError::bad_request(
            "invalid_tile",
            format!("{z}/{x}/{y} is not a tile: z 0..24, x and y 0..2^z-1"),
        )
        .at("z/x/y")
    };
    let (z, x, y) = (
        z.parse::<u8>().map_err(|_| bad())?,
        x.parse::<u32>().map_err(|_| bad())?,
        y.parse::<u32>().map_err(|_| bad())?,
    );
    TileId::new(z, x, y).ok_or_else(bad)
}

/// The tile of a `…/{z}/{x}/{y}` route (`y` may end in `.mvt` or `.pbf`).
#[derive(Clone, Copy, Debug)]
pub struct TilePath(pub TileId);

impl<S: Send + Sync> FromRequestParts<S> for TilePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let z = path_param(parts, "z").await?;
        let x = path_param(parts, "x").await?;
        let y = path_param(parts, "y").await?;
        parse_tile(&z, &x, &y).map(TilePath)
    }
}

/// The client's address: the peer, unless the peer is one of the `trusted` proxies; then the
/// right-most `X-Forwarded-For` entry that is not (see [`client_address`]). Empty without a peer.
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, trusted: &[Cidr]) -> String {
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    client_address(peer.map(|p| p.ip()), &forwarded, trusted)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// The client's address (see [`client_ip`]), by the service's trusted proxies. Never fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientIp(client_ip(
            &parts.headers,
            peer,
            &state.config.edge.trusted_proxies,
        )))
    }
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Who is calling: the staff member of the session cookie and the role of the
/// `Authorization: Bearer` API key, each if live. Fails only when the database does.
pub async fn caller(headers: &HeaderMap, state: &AppState) -> ApiResult<Caller> {
    let mut caller = Caller::default();
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        caller.user = session_user(&state.pool, &token).await?;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if let Some(key) = bearer {
        if let Some(k) = api_key(&state.pool, key).await? {
            // A unit's system acts as its unit (and nothing more) when no one is logged in.
            if let (Some(unit), None) = (&k.unit_code, &caller.user) {
                caller.user = Some(crate::domain::StaffUser::unit_system(&k.name, unit));
            }
            caller.api_key_role = Some(k.role);
        }
    }
    Ok(caller)
}

/// The caller as an extractor (see [`caller`]). Extracting it never fails but for the
/// database: handlers decide what they need from it.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        caller(&parts.headers, state).await
    }
}

/// The language the request's `Accept-Language` prefers among ours, if it names one.
pub fn accepted_lang(headers: &HeaderMap) -> Option<crate::domain::Lang> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|h| h.to_str().ok())
        .and_then(crate::domain::Lang::negotiate)
}

pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Contact {
        email: String,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Body {
        into: i64,
        contact: Option<Contact>,
        photos: Option<Vec<String>>,
    }

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = deserialize::<Body>(br#"{"contact": {"email": 3}, "into": 1}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_type", Some("contact.email"))
        );
        let e = deserialize::<Body>(br#"{"contact": {}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("missing_field", Some("contact.email"))
        );
        let e = deserialize::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("missing_field", Some("into"))
        );
        let e = deserialize::<Body>(br#"{"into": 1, "photos": ["a", 2]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("photos[1]"));
        let e = deserialize::<Body>(br#"{"into": "#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        assert!(e.detail.is_some());
    }

    #[test]
    fn bodies_keep_the_codes_of_the_service() {
        let ok = |b: &'static str| Ok::<_, BytesRejection>(Bytes::from_static(b.as_bytes()));
        let e = json_bytes(&headers("text/plain"), ok("{}"), true).unwrap_err();
        assert_eq!((e.code, e.status.as_u16()), ("unsupported_media_type", 415));
        let e = json_bytes(&headers("application/json"), ok("  "), true).unwrap_err();
        assert_eq!(e.code, "empty_body");
        assert!(json_bytes(&headers("application/json"), ok(""), false)
            .unwrap()
            .is_none());
        let e =
            json_value(&headers("application/json; charset=utf-8"), ok("{x"), true).unwrap_err();
        assert_eq!(e.code, "invalid_json");
    }

    #[derive(Debug, Default, Deserialize)]
    struct Members {
        note: Option<Member<String>>,
        into: Option<Member<i64>>,
        photos: Option<Member<Vec<Member<String>>>>,
    }

    #[test]
    fn members_are_read_whatever_their_type_and_checked_by_their_rule() {
        let json = headers("application/json");
        let ok = |b: &'static str| Ok::<_, BytesRejection>(Bytes::from_static(b.as_bytes()));
        let m: Members = typed_body(
            &json,
            ok(r#"{"note": 5, "into": 1.5, "photos": ["a", 2]}"#),
            true,
        )
        .unwrap();
        assert_eq!(m.note, Some(Member::Mistyped));
        assert_eq!(m.into, Some(Member::Mistyped));
        assert_eq!(
            m.photos,
            Some(Member::Typed(vec![
                Member::Typed("a".into()),
                Member::Mistyped
            ]))
        );
        let e = optional_text("note", m.note).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str(), e.field.as_deref()),
            ("invalid_type", "note must be a string", Some("note"))
        );
        // null is absent; a document that is not an object gives no member.
        for body in [r#"{"note": null}"#, "[1]", "null", "\"x\""] {
            let m: Members = typed_body(&json, ok(body), true).unwrap();
            assert!(m.note.is_none() && m.into.is_none(), "{body}");
        }
        // Of a member given twice, the last one counts.
        let m: Members =
            typed_body(&json, ok(r#"{"note": "a", "into": 2, "note": 3}"#), true).unwrap();
        assert_eq!(
            (m.note, m.into),
            (Some(Member::Mistyped), Some(Member::Typed(2)))
        );
        let m: Members = typed_body(&json, ok(""), false).unwrap();
        assert!(m.photos.is_none());
        for body in ["{\"note\": ", "[1,", "{} x", ""] {
            let e = typed_body::<Members>(&json, ok(body), true).unwrap_err();
            assert!(["invalid_json", "empty_body"].contains(&e.code), "{body}");
        }
        assert_eq!(
            required_text("note", Some(Member::Typed(" a ".into()))).unwrap(),
            "a"
        );
        let e = required_text("note", Some(Member::Typed("  ".into()))).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.message.as_str()),
            (422, "missing_field", "note is required")
        );
        let e = required_text("note", Some(Member::Typed("x".repeat(5001)))).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "too_long"));
        assert_eq!(
            optional_text("note", Some(Member::Typed(" ".into()))).unwrap(),
            None
        );
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_forwarded_the_request() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "6.6.6.6, 198.51.100.4".parse().unwrap());
        h.append("x-forwarded-for", "10.0.0.9".parse().unwrap());
        let peer: SocketAddr = "10.0.0.2:4000".parse().unwrap();
        assert_eq!(client_ip(&h, Some(peer), &[]), "10.0.0.2");
        let trusted = crate::domain::net::parse_cidrs("10.0.0.0/8").unwrap();
        assert_eq!(client_ip(&h, Some(peer), &trusted), "198.51.100.4");
        let outside: SocketAddr = "203.0.113.1:4000".parse().unwrap();
        assert_eq!(client_ip(&h, Some(outside), &trusted), "203.0.113.1");
        assert_eq!(client_ip(&h, None, &trusted), "");
    }

    #[test]
    fn ids_and_tiles() {
        assert_eq!(parse_id("12").unwrap(), 12);
        assert_eq!(parse_id("0").unwrap_err().code, "invalid_id");
        assert!(parse_tile("3", "1", "2.mvt").is_ok());
        assert!(parse_tile("3", "1", "2.pbf").is_ok());
        assert_eq!(parse_tile("3", "9", "2").unwrap_err().code, "invalid_tile");
    }
}
