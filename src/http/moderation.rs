//! Moderation and privacy over HTTP: the abuse list (admins), the moderation queue with release
//! and reject (admins, and unit staff for their units' reports), redaction, staff access to
//! hidden photos, and the signed links in mail to residents (`/api/v1/links/...`: a GET shows
//! what the link does and changes nothing, since mail scanners prefetch links; a POST does it).
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::extract::{accepted_lang, optional_text, parse_id, required_text, typed_body, Member};
use super::params::Params;
use super::schema::ErrorBody;
use super::AppState;
use crate::app::moderation::{self as app, Actor};
use crate::auth::CSRF_HEADER;
use crate::domain::access::{READERS, WORKERS};
use crate::domain::moderation::{LinkPurpose, Redaction};
use crate::domain::{messages, Caller, Lang, Role, StaffUser};
use crate::http::error::{ApiError, ApiResult};

const ADMINS: &[Role] = &[Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(abuse_list, abuse_add))
        .routes(routes!(abuse_remove))
        .routes(routes!(queue))
        .routes(routes!(release))
        .routes(routes!(reject))
        .routes(routes!(audit))
        .routes(routes!(redact))
        .routes(routes!(redactions))
        .routes(routes!(staff_photo))
        // "Not fixed" may carry a photo in the page's form.
        .routes(
            routes!(link_show, link_follow).layer(axum::extract::DefaultBodyLimit::max(
                crate::domain::photo::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        )
}

fn acting<'a>(caller: &'a Caller, roles: &[Role], headers: &HeaderMap) -> ApiResult<&'a StaffUser> {
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    Ok(caller.acting(roles, csrf)?)
}

/// A new abuse-list entry
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AbuseBody {
    /// email, phone or cidr
    #[schema(value_type = String, required = true, example = "email")]
    pub kind: Option<Member<String>>,
    /// The address, number or range (203.0.113.0/24)
    #[schema(value_type = String, required = true, example = "spam@example.org")]
    pub value: Option<Member<String>>,
    #[schema(value_type = Option<String>)]
    pub note: Option<Member<String>>,
}

/// A moderation decision; `reason` is required to reject
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DecisionBody {
    #[schema(value_type = Option<String>)]
    pub reason: Option<Member<String>>,
}

/// What to hide from the public, and why
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RedactBody {
    /// description or photo
    #[schema(value_type = String, required = true, example = "description")]
    pub field: Option<Member<String>>,
    /// With field = photo: the photo's id
    #[schema(value_type = Option<String>)]
    pub photo_id: Option<Member<String>>,
    #[schema(value_type = String, required = true)]
    pub reason: Option<Member<String>>,
}

/// The abuse list (admins)
#[utoipa::path(get, path = "/api/v1/staff/abuse", tag = "staff",
    security(("session" = [])),
    responses(
        (status = 200, description = "{entries: [{id, kind, value, note, added_by, added_at}]}", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn abuse_list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(ADMINS)?;
    let entries = app::abuse_list(&state.pool).await?;
    Ok(Json(json!({"entries": entries})))
}

/// Add an email, phone or address range to the abuse list (admins): reports matching it are held
#[utoipa::path(post, path = "/api/v1/staff/abuse", tag = "staff",
    params(("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me")),
    request_body(content = AbuseBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 201, description = "The entry", body = Object),
        (status = 400, description = "Malformed body or value: the body names the field", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin, or a missing CSRF token", body = ErrorBody),
        (status = 409, description = "Already listed", body = ErrorBody),
        (status = 422, description = "Missing field", body = ErrorBody),
    ))]
async fn abuse_add(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let user = acting(&caller, ADMINS, &headers)?;
    let body: AbuseBody = typed_body(&headers, body, true)?;
    let kind = required_text("kind", body.kind)?;
    let value = required_text("value", body.value)?;
    let note = optional_text("note", body.note)?;
    let row = app::abuse_add(
        &state.pool,
        &Actor::staff(user),
        &kind,
        &value,
        note.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

/// Remove an abuse-list entry (admins); reports it held stay in the queue
#[utoipa::path(delete, path = "/api/v1/staff/abuse/{id}", tag = "staff",
    params(("id" = i64, Path, description = "Entry id"), ("X-CSRF-Token" = String, Header, description = "The session's token")),
    security(("session" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
    ))]
async fn abuse_remove(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let user = acting(&caller, ADMINS, &headers)?;
    let id = parse_id(&id)?;
    app::abuse_remove(&state.pool, &Actor::staff(user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn held_feature(h: &crate::storage::moderation::HeldReport) -> Value {
    let mut f = h.report.to_feature();
    f["properties"]["moderation"] = json!({
        "state": h.moderation,
        "hold_reason": h.hold_reason,
        "withdrawal_requested": h.hold_reason.as_deref() == Some("withdrawal_requested"),
        "moderated_at": h.moderated_at,
        "note": h.moderation_note,
    });
    f
}

/// The moderation queue: held reports (admins see all, unit staff their units'), oldest first
#[utoipa::path(get, path = "/api/v1/staff/moderation", tag = "staff",
    params(("state" = Option<String>, Query, description = "held (default) or rejected")),
    security(("session" = [])),
    responses(
        (status = 200, description = "FeatureCollection of staff report features with properties.moderation {state, hold_reason, withdrawal_requested, moderated_at, note}", body = Object),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role", body = ErrorBody),
    ))]
async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let user = caller.require(WORKERS)?;
    let params = Params::parse(raw.as_deref())?;
    let wanted = params.list("state");
    let which = wanted.first().map(String::as_str).unwrap_or("held");
    let rows = app::queue(&state.pool, user, which).await?;
    let features: Vec<Value> = rows.iter().map(held_feature).collect();
    Ok(Json(
        json!({"type": "FeatureCollection", "features": features}),
    ))
}

/// Release a held report: it becomes public and is routed and deduplicated as a fresh report
#[utoipa::path(post, path = "/api/v1/staff/moderation/{id}/release", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token")),
    request_body(content = DecisionBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "{id, status, duplicate_of}", body = Object),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "The report is not held", body = ErrorBody),
    ))]
async fn release(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let user = acting(&caller, WORKERS, &headers)?;
    let id = parse_id(&id)?;
    let body: DecisionBody = typed_body(&headers, body, false)?;
    let reason = optional_text("reason", body.reason)?;
    let base = super::extract::base_url(&state, &headers);
    let released = app::release(
        &state.pool,
        &state.engine,
        user,
        id,
        reason.as_deref(),
        &base,
    )
    .await?;
    Ok(Json(json!(released)))
}

/// Reject a held report, with a reason: it stays stored and is never public
#[utoipa::path(post, path = "/api/v1/staff/moderation/{id}/reject", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token")),
    request_body(content = DecisionBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "{id, moderation: rejected}", body = Object),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "The report is not held", body = ErrorBody),
        (status = 422, description = "Missing reason", body = ErrorBody),
    ))]
async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let user = acting(&caller, WORKERS, &headers)?;
    let id = parse_id(&id)?;
    let body: DecisionBody = typed_body(&headers, body, false)?;
    let reason = required_text("reason", body.reason)?;
    app::reject(&state.pool, &state.engine, user, id, &reason).await?;
    Ok(Json(json!({"id": id, "moderation": "rejected"})))
}

/// The moderation audit log: abuse list, holds, releases, rejections, redactions, withdrawals (admins)
#[utoipa::path(get, path = "/api/v1/staff/moderation/audit", tag = "staff",
    security(("session" = [])),
    responses(
        (status = 200, description = "{entries: [{id, at, actor, action, report_id, reason, before, after}]}, newest first", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn audit(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(ADMINS)?;
    let entries = app::audit_entries(&state.pool).await?;
    Ok(Json(json!({"entries": entries})))
}

/// Hide a report's description or one of its photos from the public, with a reason
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/redact", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token")),
    request_body(content = RedactBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "What staff see: {description, description_hidden, photos: [{id, hidden}]}", body = Object),
        (status = 400, description = "Malformed body: the body names the field", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 422, description = "Missing field, or the report has no such photo", body = ErrorBody),
    ))]
async fn redact(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let user = acting(&caller, WORKERS, &headers)?;
    let id = parse_id(&id)?;
    let body: RedactBody = typed_body(&headers, body, true)?;
    let field = required_text("field", body.field)?;
    let photo_id = optional_text("photo_id", body.photo_id)?;
    let what = Redaction::parse(Some(&field), photo_id.as_deref())?;
    let reason = required_text("reason", body.reason)?;
    app::redact(&state.pool, &state.engine, user, id, &what, &reason).await?;
    Ok(Json(json!(app::redactions(&state.pool, id).await?)))
}

/// What is hidden of a report, with the originals and the reasons (staff)
#[utoipa::path(get, path = "/api/v1/staff/reports/{id}/redactions", tag = "staff",
    params(("id" = i64, Path, description = "Report id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "{description, description_hidden, photos: [{id, hidden, original_dropped_at}]}", body = Object),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    ))]
async fn redactions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(READERS)?;
    let id = parse_id(&id)?;
    Ok(Json(json!(app::redactions(&state.pool, id).await?)))
}

/// A photo as staff see it, hidden from the public or not (`?thumb` for the thumbnail)
#[utoipa::path(get, path = "/api/v1/staff/photos/{id}", tag = "staff",
    params(("id" = String, Path, description = "Photo id"), ("thumb" = Option<bool>, Query, description = "The thumbnail")),
    security(("session" = [])),
    responses(
        (status = 200, description = "JPEG", content_type = "image/jpeg"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role", body = ErrorBody),
        (status = 404, description = "No such photo", body = ErrorBody),
    ))]
async fn staff_photo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    let thumb = raw.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv == "thumb" || kv.starts_with("thumb="))
    });
    let bytes = app::staff_photo(&state.pool, &id, thumb).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// The `e` (email hash) and `s` (signature) of a link.
fn link_params(raw: Option<&str>) -> ApiResult<(String, String)> {
    let params = Params::parse(raw)?;
    let get = |name: &'static str| -> ApiResult<String> {
        params
            .list(name)
            .into_iter()
            .next()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "missing_parameter",
                    format!("the link is incomplete: {name} is missing (copy the whole link from the message)"),
                )
                .at(name)
            })
    };
    Ok((get("e")?, get("s")?))
}

async fn checked_link(
    state: &AppState,
    purpose: &str,
    id: &str,
    raw: Option<&str>,
) -> ApiResult<app::Link> {
    let id = parse_id(id)?;
    let (e, s) = link_params(raw)?;
    app::check_link(&state.pool, purpose, id, &e, &s)
        .await
        .map_err(ApiError::link_refused)
}

/// The `note` and `photo` of a link's POST: from the page's form (form-encoded, or multipart with
/// the photo as a file, stored like an upload), or JSON `{"note": …, "photo": id}` with a photo
/// uploaded beforehand; None for what is not sent.
async fn link_input(
    state: &AppState,
    headers: &HeaderMap,
    request: axum::extract::Request,
) -> ApiResult<(Option<String>, Option<String>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart =
            <axum::extract::Multipart as axum::extract::FromRequest<AppState>>::from_request(
                request, state,
            )
            .await
            .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
        let (mut note, mut photo) = (None, None);
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(ApiError::bad_request("invalid_multipart", e.body_text())),
            };
            match field.name() {
                Some("note") => {
                    let text = field.text().await.map_err(|e| {
                        ApiError::bad_request("invalid_multipart", e.body_text()).at("note")
                    })?;
                    note = optional_text("note", Some(Member::Typed(text)))?;
                }
                Some("photo") => {
                    let bytes = field.bytes().await.map_err(|e| {
                        ApiError::bad_request("invalid_multipart", e.body_text()).at("photo")
                    })?;
                    // The form's file field, left empty, sends an empty part.
                    if !bytes.is_empty() {
                        photo = Some(super::photos::store(state, bytes).await?.0);
                    }
                }
                _ => {}
            }
        }
        return Ok((note, photo));
    }
    let body = <Bytes as axum::extract::FromRequest<AppState>>::from_request(request, state).await;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let bytes = body.map_err(|e| ApiError::bad_request("unreadable_body", e.body_text()))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            ApiError::bad_request("invalid_form", format!("the form cannot be read: {e}"))
        })?;
        let last = |key: &str| {
            let given = pairs
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| Member::Typed(v.clone()));
            optional_text(key, given)
        };
        return Ok((last("note")?, last("photo")?));
    }
    let body: LinkBody = typed_body(headers, body, false)?;
    Ok((
        optional_text("note", body.note)?,
        optional_text("photo", body.photo)?,
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
struct LinkBody {
    /// For not_fixed: what is still wrong (the public note of the reopened report)
    #[schema(value_type = Option<String>, max_length = 2000)]
    note: Option<Member<String>>,
    /// For not_fixed, optional: the id of a photo of what is still wrong, uploaded beforehand
    /// (`POST /api/v1/photos`)
    #[schema(value_type = Option<String>)]
    photo: Option<Member<String>>,
}

/// Whether the client (a browser opening a link from a mail) wants a page rather than JSON.
pub(super) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// A minimal page for the signed links (no script: it works in any mail client's browser).
pub(super) fn page(lang: Lang, title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    ))
    .into_response()
}

/// What a signed link from a message does (changes nothing: mail scanners prefetch links)
#[utoipa::path(get, path = "/api/v1/links/{purpose}/{id}", tag = "reports",
    params(
        ("purpose" = String, Path, description = "manage (the page of everything below that applies: {report_id, reporter, subscriber, updates, actions: {stop|follow, forget, withdraw}, tracking_url}), stop or follow (stop or resume updates, keeping the contact data), forget (stop updates and forget my email), withdraw (withdraw my report), fixed or not_fixed (the answer to \"Is it fixed?\")"),
        ("id" = i64, Path, description = "Report id"),
        ("e" = String, Query, description = "SHA-256 of the email the message went to"),
        ("s" = String, Query, description = "HMAC-SHA256 signature of the link"),
    ),
    responses(
        (status = 200, description = "{purpose, report_id, action, confirm: {method: POST, url}} (an HTML page with a confirmation button when the client accepts text/html)", body = Object),
        (status = 400, description = "The link is incomplete", body = ErrorBody),
        (status = 403, description = "The signature does not match", body = ErrorBody),
        (status = 404, description = "No such link or report", body = ErrorBody),
    ))]
async fn link_show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((purpose, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let link = checked_link(&state, &purpose, &id, raw.as_deref()).await?;
    // The page speaks the language of the browser that opened the link.
    let lang = accepted_lang(&headers).unwrap_or_default();
    let (title, text) = messages::link_page(link.purpose, lang);
    if link.purpose == LinkPurpose::Manage {
        let base = super::extract::base_url(&state, &headers);
        let manage = app::manage_page(&state.pool, &link, &base).await?;
        if !wants_html(&headers) {
            return Ok(Json(json!(manage)).into_response());
        }
        // One form per action: each POSTs its own signed link.
        let mut body = format!("<p>{text}</p>");
        for (name, path) in &manage.actions {
            let purpose = LinkPurpose::parse(name).unwrap_or(LinkPurpose::Manage);
            let (label, explain) = messages::link_page(purpose, lang);
            let action = path.replace('&', "&amp;").replace('"', "&quot;");
            body.push_str(&format!(
                "<form method=\"post\" action=\"{action}\" class=\"manage-{name}\"><p>{explain}</p><button type=\"submit\">{label}</button></form>"
            ));
        }
        body.push_str(&format!(
            "<p><a href=\"{}\">#{}</a></p>",
            manage.tracking_url.replace('"', "&quot;"),
            manage.report_id
        ));
        return Ok(page(lang, title, &body));
    }
    let url = format!(
        "/api/v1/links/{}/{}?{}",
        link.purpose.as_str(),
        link.report_id,
        raw.as_deref().unwrap_or("")
    );
    if wants_html(&headers) {
        let url = url.replace('&', "&amp;").replace('"', "&quot;");
        // "Not fixed" asks what is still wrong.
        let note = if link.purpose == LinkPurpose::NotFixed {
            let label = match lang {
                Lang::Pl => "Co jest nie tak?",
                Lang::En => "What is still wrong?",
                Lang::Uk => "Що не так?",
            };
            let photo = match lang {
                Lang::Pl => "Zdjęcie (nieobowiązkowe)",
                Lang::En => "A photo (optional)",
                Lang::Uk => "Фото (необов’язково)",
            };
            format!("<p><label for=\"note\">{label}</label><br><textarea id=\"note\" name=\"note\" rows=\"4\" cols=\"40\" maxlength=\"2000\" required></textarea></p>\
                     <p><label for=\"photo\">{photo}</label><br><input id=\"photo\" name=\"photo\" type=\"file\" accept=\"image/jpeg,image/png,image/webp\" capture=\"environment\"></p>")
        } else {
            String::new()
        };
        return Ok(page(
            lang,
            title,
            &format!("<p>{text}</p><form method=\"post\" action=\"{url}\" enctype=\"multipart/form-data\">{note}<button type=\"submit\">OK</button></form>"),
        ));
    }
    Ok(Json(json!({
        "purpose": link.purpose.as_str(),
        "report_id": link.report_id,
        "action": text,
        "confirm": {"method": "POST", "url": url},
    }))
    .into_response())
}

/// Do what a signed link from a message asks: forget the email (erase the contact, stop mail), withdraw the report, or answer "Is it fixed?"
#[utoipa::path(post, path = "/api/v1/links/{purpose}/{id}", tag = "reports",
    request_body(content = LinkBody, description = "Only for not_fixed: {note} (JSON or the page's form)"),
    params(
        ("purpose" = String, Path, description = "stop, follow, forget, withdraw, fixed (closes the resolved report) or not_fixed (reopens it with `note` and an optional `photo`); manage changes nothing"),
        ("id" = i64, Path, description = "Report id"),
        ("e" = String, Query, description = "SHA-256 of the email the message went to"),
        ("s" = String, Query, description = "HMAC-SHA256 signature of the link"),
    ),
    responses(
        (status = 200, description = "{report_id, purpose, done, changed}", body = Object),
        (status = 400, description = "The link is incomplete", body = ErrorBody),
        (status = 403, description = "The signature does not match", body = ErrorBody),
        (status = 404, description = "No such link or report", body = ErrorBody),
        (status = 409, description = "not_fixed: the report cannot be reopened (not closed, or too long ago)", body = ErrorBody),
        (status = 422, description = "not_fixed without a note", body = ErrorBody),
    ))]
async fn link_follow(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((purpose, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    let link = checked_link(&state, &purpose, &id, raw.as_deref()).await?;
    let (note, photo) = link_input(&state, &headers, request).await?;
    let base = super::extract::base_url(&state, &headers);
    let outcome = app::follow_link(
        &state.pool,
        &state.engine,
        &link,
        note.as_deref(),
        photo.as_deref(),
        &base,
    )
    .await?;
    tracing::info!(
        report = link.report_id,
        purpose = link.purpose.as_str(),
        "signed link followed"
    );
    if wants_html(&headers) {
        let lang = accepted_lang(&headers).unwrap_or_default();
        let (title, text) = messages::link_done(lang);
        return Ok(page(lang, title, &format!("<p>{text}</p>")));
    }
    Ok(Json(outcome).into_response())
}
