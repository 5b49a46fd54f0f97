//! Deliveries to units' own systems over HTTP: the dead-letter list and its retry (admins), and
//! the signed link in a unit's mail (`/api/v1/unit-links/{id}`): a GET shows the report and the
//! statuses the unit may set and changes nothing (mail scanners prefetch links); a POST sets the
//! status with the public reply, as the unit's system would with its API key.
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{base_url, optional_text, parse_id, required_text, typed_body, Member};
use super::moderation::{page, wants_html};
use super::ogc::html::esc;
use super::schema::ErrorBody;
use super::AppState;
use crate::app::delivery as app;
use crate::app::staff::StatusChange;
use crate::auth::CSRF_HEADER;
use crate::domain::{Caller, Lang, Role};
use crate::http::error::{ApiError, ApiResult};

const ADMINS: &[Role] = &[Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dead_letters))
        .routes(routes!(retry))
        .routes(routes!(unit_link_show, unit_link_act))
}

/// Mail and deliveries to units' systems that gave up after their attempts (admins)
#[utoipa::path(get, path = "/api/v1/staff/dead-letters", tag = "staff",
    security(("session" = [])),
    responses(
        (status = 200, description = "{dead_letters: [{kind (mail, webhook, open311, push), id, report_id, target (unit, address or device), what (event type or subject), attempts, last_error, created_at, dead_at}], pending, dead}", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn dead_letters(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(ADMINS)?;
    let letters = app::dead_letters(&state.pool).await?;
    let (pending, dead) = app::counts(&state.pool).await?;
    Ok(Json(
        json!({"dead_letters": letters, "pending": pending, "dead": dead}),
    ))
}

/// Give a dead mail or delivery a new round of attempts (admins)
#[utoipa::path(post, path = "/api/v1/staff/dead-letters/{kind}/{id}/retry", tag = "staff",
    params(
        ("kind" = String, Path, description = "mail, webhook, open311 or push"),
        ("id" = i64, Path, description = "The dead letter's id"),
        ("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me"),
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "{retried: true}: due at once", body = Object),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody),
    ))]
async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let user = caller.acting(ADMINS, csrf)?;
    let id = parse_id(&id)?;
    app::retry(&state.pool, user, &kind, id).await?;
    tracing::info!(kind, id, by = %user.login, "dead letter retried");
    Ok(Json(json!({"retried": true, "kind": kind, "id": id})))
}

/// The query of a unit's link.
struct UnitLink {
    unit: String,
    signature: String,
}

fn unit_link(raw: Option<&str>) -> ApiResult<UnitLink> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
            ApiError::bad_request(
                "invalid_query",
                format!("the link's query cannot be read: {e}"),
            )
        })?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "incomplete_link",
                    format!("the link has no {k:?}: copy the whole link from the message"),
                )
                .at(k)
            })
    };
    Ok(UnitLink {
        unit: get("unit")?,
        signature: get("s")?,
    })
}

/// A unit's link from its mail: the report and the statuses the unit may set (changes nothing)
#[utoipa::path(get, path = "/api/v1/unit-links/{id}", tag = "staff",
    params(
        ("id" = i64, Path, description = "Report id"),
        ("unit" = String, Query, description = "The unit the mail went to"),
        ("s" = String, Query, description = "HMAC-SHA256 signature of the link"),
    ),
    responses(
        (status = 200, description = "{report_id, unit, status, description, address, allowed: [status], confirm: {method: POST, url}} (an HTML form when the client accepts text/html)", body = Object),
        (status = 400, description = "The link is incomplete", body = ErrorBody),
        (status = 403, description = "The signature does not match, or the report moved to another unit", body = ErrorBody),
        (status = 404, description = "No such report or unit", body = ErrorBody),
    ))]
async fn unit_link_show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let link = unit_link(raw.as_deref())?;
    let (_, report) =
        app::check_unit_link(&state.pool, &state.engine, id, &link.unit, &link.signature)
            .await
            .map_err(ApiError::link_refused)?;
    let catalogue = state.engine.catalogue();
    let workflow = &catalogue.workflow;
    let p = &report.public;
    // "Not ours" needs the unit to pass it to: staff do that in the inbox.
    let allowed: Vec<String> = workflow
        .allowed(&p.status)
        .into_iter()
        .filter(|s| *s != workflow.roles.not_ours)
        .collect();
    let url = format!("/api/v1/unit-links/{id}?{}", raw.as_deref().unwrap_or(""));
    if wants_html(&headers) {
        let name = |code: &str| {
            catalogue
                .status(code)
                .map_or_else(|| code.to_owned(), |(_, s)| s.name_pl.clone())
        };
        let options: String = allowed
            .iter()
            .map(|s| format!("<option value=\"{}\">{}</option>", esc(s), esc(&name(s))))
            .collect();
        let body = format!(
            "<p>{}: <strong>{}</strong></p><p>{}</p><p>{}</p>\
             <form method=\"post\" action=\"{}\">\
             <p><label for=\"status\">Nowy status</label><br><select id=\"status\" name=\"status\" required>{options}</select></p>\
             <p><label for=\"note\">Odpowiedź dla zgłaszającego (publiczna)</label><br><textarea id=\"note\" name=\"public_note\" rows=\"4\" cols=\"50\" maxlength=\"2000\" required></textarea></p>\
             <p><button type=\"submit\">Zapisz</button></p></form>",
            "Status",
            esc(&name(&p.status)),
            esc(p.address_label.as_deref().unwrap_or("")),
            esc(&p.description),
            esc(&url),
        );
        return Ok(page(Lang::default(), &format!("Zgłoszenie #{id}"), &body));
    }
    Ok(Json(json!({
        "report_id": id,
        "unit": link.unit,
        "status": p.status,
        "description": p.description,
        "address": p.address_label,
        "allowed": allowed,
        "confirm": {"method": "POST", "url": url},
    }))
    .into_response())
}

/// What a unit's link sets.
#[derive(Debug, Default, Deserialize, ToSchema)]
struct UnitLinkBody {
    /// The new status (one of the link's `allowed`)
    #[schema(value_type = String, required = true)]
    status: Option<Member<String>>,
    /// The public reply, mailed to the reporter and subscribers
    #[schema(value_type = String, required = true, max_length = 2000)]
    public_note: Option<Member<String>>,
}

/// Set the status of the unit's report through the link in its mail, with the public reply
#[utoipa::path(post, path = "/api/v1/unit-links/{id}", tag = "staff",
    request_body(content = UnitLinkBody, description = "{status, public_note} as JSON or the page's form"),
    params(
        ("id" = i64, Path, description = "Report id"),
        ("unit" = String, Query, description = "The unit the mail went to"),
        ("s" = String, Query, description = "HMAC-SHA256 signature of the link"),
    ),
    responses(
        (status = 200, description = "{report_id, status}", body = Object),
        (status = 400, description = "The link or the body is incomplete", body = ErrorBody),
        (status = 403, description = "The signature does not match, or the report moved to another unit", body = ErrorBody),
        (status = 404, description = "No such report or unit", body = ErrorBody),
        (status = 409, description = "The workflow does not allow that status now", body = ErrorBody),
        (status = 422, description = "A missing status or reply", body = ErrorBody),
    ))]
async fn unit_link_act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let link = unit_link(raw.as_deref())?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let (status, note) = if form {
        let bytes = body.map_err(|e| ApiError::bad_request("unreadable_body", e.body_text()))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            ApiError::bad_request("invalid_form", format!("the form cannot be read: {e}"))
        })?;
        let get = |k: &str| {
            let given = pairs
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| Member::Typed(v.clone()));
            optional_text(k, given)?.ok_or_else(|| {
                ApiError::unprocessable("missing_field", format!("{k} is required")).at(k)
            })
        };
        (get("status")?, get("public_note")?)
    } else {
        let body: UnitLinkBody = typed_body(&headers, body, false)?;
        let status = required_text("status", body.status)?;
        let note = optional_text("public_note", body.public_note)?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "missing_field",
                    "public_note is required: the reporter is sent it",
                )
                .at("public_note")
            })?;
        (status, note)
    };
    let change = StatusChange {
        status: status.clone(),
        public_note: note,
        internal_note: Some("set through the link in the unit's mail".into()),
        expected_at: None,
        unit: None,
        photos: Vec::new(),
    };
    app::act_by_link(
        &state.pool,
        &state.engine,
        id,
        &link.unit,
        &link.signature,
        &change,
        &base_url(&state, &headers),
    )
    .await
    .map_err(ApiError::link_refused)?;
    tracing::info!(report = id, unit = %link.unit, status, "status set through a unit's link");
    if wants_html(&headers) {
        return Ok(page(
            Lang::default(),
            &format!("Zgłoszenie #{id}"),
            "<p>Zapisano. Zgłaszający dostanie odpowiedź.</p>",
        ));
    }
    Ok(Json(json!({"report_id": id, "status": status})).into_response())
}
