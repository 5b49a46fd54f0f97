//! `/api/v1/push`: Web Push for residents' devices. A device fetches the service's VAPID key,
//! subscribes (the browser's `PushSubscription` and the reports to follow) and hears of every
//! status change of them; it turns pushes off per report or for all. The endpoint, known only to
//! the device and its push service, is what names a subscription.
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{optional_text, typed_body, Member};
use super::limits::WriteLimit;
use super::schema::ErrorBody;
use super::AppState;
use crate::app::push as app;
use crate::domain::webpush::Subscription;
use crate::domain::Lang;
use crate::http::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_key))
        .routes(routes!(push_subscribe, push_followed, push_unsubscribe))
}

/// The service's VAPID public key (`applicationServerKey` for `PushManager.subscribe`)
#[utoipa::path(get, path = "/api/v1/push/key", tag = "reports",
    responses((status = 200, description = "{public_key}: the P-256 key in base64url", body = Object)))]
async fn push_key(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"public_key": app::public_key(&state.pool).await?}),
    ))
}

/// A device's subscription and the reports it follows
#[derive(Debug, Default, Deserialize, ToSchema)]
struct PushBody {
    /// What `PushSubscription.toJSON()` gives: `{endpoint, keys: {p256dh, auth}}`
    #[schema(value_type = Object, required = true)]
    subscription: Option<Value>,
    /// The reports to hear of (filed, supported or followed on this device)
    #[schema(value_type = Vec<i64>)]
    reports: Option<Value>,
    #[schema(value_type = Option<super::schema::Lang>)]
    lang: Option<Member<String>>,
}

fn text<'a>(v: &'a Value, path: &[&str], field: &str) -> ApiResult<&'a str> {
    let mut at = v;
    for p in path {
        at = at.get(p).unwrap_or(&Value::Null);
    }
    at.as_str().ok_or_else(|| {
        ApiError::bad_request("missing_field", format!("{field} is required (a string)")).at(field)
    })
}

/// Subscribe a device for pushes about reports (again: more reports, new keys or language)
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "reports",
    request_body(content = PushBody, content_type = "application/json"),
    responses(
        (status = 201, description = "{subscribed: true, reports: [id]}: every report the device follows", body = Object),
        (status = 400, description = "Malformed body: the error names the member", body = ErrorBody),
        (status = 422, description = "An endpoint or key that is not a push subscription's, or an unknown report", body = ErrorBody),
        (status = 429, description = "Too many anonymous writes from this address; Retry-After says when to retry", body = ErrorBody),
    ))]
async fn push_subscribe(
    State(state): State<AppState>,
    _limit: WriteLimit,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: PushBody = typed_body(&headers, body, true)?;
    let sub = body.subscription.unwrap_or(Value::Null);
    let endpoint = text(&sub, &["endpoint"], "subscription.endpoint")?;
    let p256dh = text(&sub, &["keys", "p256dh"], "subscription.keys.p256dh")?;
    let auth = text(&sub, &["keys", "auth"], "subscription.keys.auth")?;
    let parsed = Subscription::parse(endpoint, p256dh, auth)?;
    let reports: Vec<i64> = match body.reports.unwrap_or(Value::Array(Vec::new())) {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_i64().filter(|n| *n > 0).ok_or_else(|| {
                    ApiError::bad_request("invalid_report", "a report id is a positive integer")
                        .at(format!("reports[{i}]"))
                })
            })
            .collect::<ApiResult<_>>()?,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_reports",
                "reports must be a list of report ids",
            )
            .at("reports"))
        }
    };
    if reports.len() > 500 {
        return Err(ApiError::bad_request("too_many", "at most 500 reports at once").at("reports"));
    }
    let lang: Lang = super::reports::lang(body.lang, &headers)?;
    app::subscribe(&state.pool, &parsed, (p256dh, auth), lang, &reports).await?;
    let followed = app::followed(&state.pool, &parsed.endpoint).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"subscribed": true, "reports": followed})),
    )
        .into_response())
}

/// `endpoint` (required) and `report` (optional) of the query.
fn endpoint_query(raw: Option<&str>) -> ApiResult<(String, Option<i64>)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let endpoint =
        optional_text("endpoint", get("endpoint").map(Member::Typed))?.ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                "endpoint is required: the subscription's",
            )
            .at("endpoint")
        })?;
    let report = match get("report") {
        None => None,
        Some(r) => Some(r.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::bad_request("invalid_report", "report is a report id").at("report")
        })?),
    };
    Ok((endpoint, report))
}

/// The reports a device hears of
#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "reports",
    params(("endpoint" = String, Query, description = "The subscription's endpoint")),
    responses(
        (status = 200, description = "{reports: [id]}", body = Object),
        (status = 400, description = "No endpoint", body = ErrorBody),
    ))]
async fn push_followed(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let (endpoint, _) = endpoint_query(raw.as_deref())?;
    Ok(Json(
        json!({"reports": app::followed(&state.pool, &endpoint).await?}),
    ))
}

/// Turn pushes off: for one report (`report`), or for all (the subscription is forgotten)
#[utoipa::path(delete, path = "/api/v1/push/subscriptions", tag = "reports",
    params(
        ("endpoint" = String, Query, description = "The subscription's endpoint"),
        ("report" = Option<i64>, Query, description = "Only this report"),
    ),
    responses(
        (status = 200, description = "{removed}: how many reports the device no longer follows", body = Object),
        (status = 400, description = "No endpoint, or a bad report id", body = ErrorBody),
    ))]
async fn push_unsubscribe(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let (endpoint, report) = endpoint_query(raw.as_deref())?;
    let removed = app::unsubscribe(&state.pool, &endpoint, report).await?;
    Ok(Json(json!({"removed": removed})))
}
