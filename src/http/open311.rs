//! Open311 GeoReport v2 under `/open311/v2`: discovery, services (one per category, with its
//! group), service definitions, requests (create with an app's API key; search; one), tokens.
//! Every resource in `.json` and `.xml`; errors as the spec's `[{code, description}]`.
//! Extensions: `bbox` and paging (`page`, `page_size`) on the requests search.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::doc::RoutesExt;
use super::extract::base_url;
use super::limits::WriteLimit;
use super::params::{parse_datetime, Params};
use super::schema::{
    AttributeValue, Discovery, JurisdictionQuery, NewServiceRequest, Open311Endpoint, Open311Error,
    Open311Format, Open311Resource, Open311SearchQuery, RequestCreated, RequestToken, Service,
    ServiceAttribute, ServiceDefinition, ServiceRequest, StatusUpdateForm,
};
use super::{AppState, MAX_FORM_BODY};
use crate::app::reports::{self as reports, Idempotency, Submission};
use crate::domain::open311_form::{
    FormError, FormReport, Open311Form, KNOWN_FIELDS, STATUS_FIELDS,
};
use crate::domain::{Email, Lang};
use crate::http::error::ApiError;
use crate::storage::exports::{Audience, ExportRow, ReportQuery, NEWEST_FIRST};
use crate::storage::open311 as store;

/// What `GET /open311/v2/{resource}.json` answers: discovery, the services or the requests
/// (`anyOf`: an empty list is both a list of services and a list of requests).
struct Open311Listing;

impl utoipa::PartialSchema for Open311Listing {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("Discovery"))
            .item(ArrayBuilder::new().items(Ref::from_schema_name("Service")))
            .item(ArrayBuilder::new().items(Ref::from_schema_name("ServiceRequest")))
            .into()
    }
}

impl utoipa::ToSchema for Open311Listing {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("Discovery".into(), Discovery::schema()));
        schemas.push(("Service".into(), Service::schema()));
        schemas.push(("ServiceRequest".into(), ServiceRequest::schema()));
        <Discovery as utoipa::ToSchema>::schemas(schemas);
        <Service as utoipa::ToSchema>::schemas(schemas);
        <ServiceRequest as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Every resource is `name.json` or `name.xml`: routed as one segment, split by the handlers.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .templated_routes(routes!(top))
        .templated_routes(routes!(create))
        .templated_routes(routes!(service_definition))
        .templated_routes(routes!(one_request))
        .templated_routes(routes!(update_status))
        .templated_routes(routes!(token))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Json,
    Xml,
}

/// An Open311 error: the status and the spec's `[{code, description}]` body, in the asked format;
/// a 429 or 503 also says in `Retry-After` when to come back.
struct O311Error {
    status: StatusCode,
    description: String,
    fmt: Fmt,
    retry_after: Option<u64>,
}

#[allow(non_snake_case)]
fn O311Error(status: StatusCode, description: String, fmt: Fmt) -> O311Error {
    O311Error {
        status,
        description,
        fmt,
        retry_after: None,
    }
}

impl O311Error {
    /// The same error in another format.
    fn in_format(self, fmt: Fmt) -> O311Error {
        O311Error { fmt, ..self }
    }
}

type O311<T> = Result<T, O311Error>;

impl IntoResponse for O311Error {
    fn into_response(self) -> Response {
        let O311Error {
            status,
            description,
            fmt,
            retry_after,
        } = self;
        let code = status.as_u16();
        let mut response = match fmt {
            Fmt::Json => {
                let body = [Open311Error { code, description }];
                (
                    status,
                    [(header::CONTENT_TYPE, "application/json")],
                    serde_json::to_string(&body).unwrap_or_default(),
                )
                    .into_response()
            }
            Fmt::Xml => (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>{code}</code><description>{}</description></error></errors>", esc(&description)),
            )
                .into_response(),
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

fn from_api(e: ApiError, fmt: Fmt) -> O311Error {
    let status = match e.status.as_u16() {
        403 | 404 | 413 | 429 => e.status,
        500..=599 => e.status,
        _ => StatusCode::BAD_REQUEST,
    };
    let what = e.field.map(|f| format!("{f}: ")).unwrap_or_default();
    O311Error {
        retry_after: e.retry_after,
        ..O311Error(status, format!("{what}{}", e.message), fmt)
    }
}

fn bad(fmt: Fmt, msg: impl Into<String>) -> O311Error {
    O311Error(StatusCode::BAD_REQUEST, msg.into(), fmt)
}

/// Splits `name.json` / `name.xml`.
fn split(file: &str) -> Result<(&str, Fmt), O311Error> {
    if let Some(n) = file.strip_suffix(".json") {
        Ok((n, Fmt::Json))
    } else if let Some(n) = file.strip_suffix(".xml") {
        Ok((n, Fmt::Xml))
    } else {
        Err(O311Error(
            StatusCode::NOT_FOUND,
            format!("{file}: add .json or .xml"),
            Fmt::Json,
        ))
    }
}

/// Text for XML: the markup characters escaped, and the characters XML 1.0 does not allow
/// (control characters but tab, line feed and carriage return; U+FFFE, U+FFFF) replaced by
/// U+FFFD, so the document always parses.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn xml_value(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            let child = match name {
                "keywords" => "keyword",
                "values" => "value",
                "attributes" => "attribute",
                "endpoints" => "endpoint",
                "formats" => "format",
                _ => "item",
            };
            for i in items {
                xml_value(out, child, i);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                xml_value(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", esc(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// JSON as is; XML with `root` around a list of `item` elements (or one object).
fn respond<T: Serialize>(fmt: Fmt, status: StatusCode, root: &str, item: &str, v: &T) -> Response {
    // Through a document: members in the same (sorted) order in JSON and XML.
    let v = &match serde_json::to_value(v) {
        Ok(v) => v,
        Err(e) => return from_api(ApiError::internal(e), fmt).into_response(),
    };
    match fmt {
        Fmt::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            v.to_string(),
        )
            .into_response(),
        Fmt::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            match v {
                Value::Array(items) => {
                    out.push_str(&format!("<{root}>"));
                    for i in items {
                        xml_value(&mut out, item, i);
                    }
                    out.push_str(&format!("</{root}>"));
                }
                other => xml_value(&mut out, root, other),
            }
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

fn params(raw: &Option<String>, fmt: Fmt, known: &[&str]) -> O311<Params> {
    let p = Params::parse(raw.as_deref()).map_err(|e| from_api(e, fmt))?;
    if let Some(n) = p
        .names()
        .find(|n| !known.contains(n) && !n.starts_with("attribute["))
    {
        return Err(bad(
            fmt,
            format!(
                "unknown parameter {n:?}; this resource takes: {}",
                known.join(", ")
            ),
        ));
    }
    Ok(p)
}

/// Discovery, the services, or a search of requests
///
/// `discovery` takes `jurisdiction_id`; `services` also `lang`; `requests` the search parameters
/// (with the extensions `bbox`, `page` and `page_size`), newest first.
#[utoipa::path(get, path = "/open311/v2/{resource}.{format}", tag = "open311", operation_id = "open311_resource",
    params(
        ("resource" = Open311Resource, Path, description = "discovery, services or requests"),
        ("format" = Open311Format, Path, description = "json or xml"),
        Open311SearchQuery,
    ),
    responses(
        (status = 200, description = "Discovery, a list of services or a list of requests", content(
            (Open311Listing = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Invalid parameter", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such resource", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
    ))]
async fn top(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> O311<Response> {
    let (name, fmt) = split(&file)?;
    match name {
        "discovery" => {
            params(&raw, fmt, &["jurisdiction_id"])?;
            let base = base_url(&state, &headers);
            let body = Discovery {
                changeset: "2026-11-24T00:00:00Z".into(),
                contact: format!("{} – Zgłoś", state.engine.catalogue().city.name),
                key_service: "API keys are issued per app by the city's administrators.".into(),
                endpoints: vec![Open311Endpoint {
                    specification: "http://wiki.open311.org/GeoReport_v2".into(),
                    url: format!("{base}/open311/v2"),
                    changeset: "2026-11-24T00:00:00Z".into(),
                    kind: "production".into(),
                    formats: vec!["application/json".into(), "text/xml".into()],
                }],
            };
            Ok(respond(fmt, StatusCode::OK, "discovery", "", &body))
        }
        "services" => {
            let p = params(&raw, fmt, &["jurisdiction_id", "lang"])?;
            // Names in English unless `lang` asks for another of the pack's languages.
            let lang = match p.get("lang").map(str::trim) {
                None | Some("") => "en".to_owned(),
                Some(l) => Lang::from_given(l)
                    .map(|l| l.as_str().to_owned())
                    .ok_or_else(|| bad(fmt, format!("lang {l:?}: {}", Lang::choices())))?,
            };
            let list: Vec<Service> = state
                .engine
                .catalogue()
                .categories
                .iter()
                .map(|c| Service {
                    service_code: c.code.clone(),
                    service_name: c.names.get(&lang).to_owned(),
                    description: if lang == "pl" {
                        c.name_pl.clone()
                    } else {
                        format!("{} ({})", c.names.get(&lang), c.name_pl)
                    },
                    metadata: true,
                    kind: "realtime".into(),
                    keywords: c.name_pl.clone(),
                    group: c.group.clone(),
                })
                .collect();
            Ok(respond(fmt, StatusCode::OK, "services", "service", &list))
        }
        "requests" => search(state, raw, fmt).await,
        _ => Err(O311Error(
            StatusCode::NOT_FOUND,
            format!(
                "no resource {name}; see discovery.{}",
                if fmt == Fmt::Xml { "xml" } else { "json" }
            ),
            fmt,
        )),
    }
}

/// A service's definition: the attributes a request may carry
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.{format}", tag = "open311",
    params(
        ("service_code" = String, Path, description = "A category code", example = "pothole"),
        ("format" = Open311Format, Path, description = "json or xml"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "The definition", content((ServiceDefinition = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Invalid parameter", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such service", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
    ))]
async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> O311<Response> {
    let (code, fmt) = split(&file)?;
    params(&raw, fmt, &["jurisdiction_id"])?;
    let catalogue = state.engine.catalogue();
    let c = catalogue
        .category(code)
        .map(|(_, c)| c)
        .ok_or_else(|| O311Error(StatusCode::NOT_FOUND, format!("no service {code:?}"), fmt))?;
    let body = ServiceDefinition {
        service_code: c.code.clone(),
        attributes: vec![
            ServiceAttribute {
                variable: true,
                code: "landmark".into(),
                datatype: "string".into(),
                required: false,
                datatype_description: "Free text".into(),
                order: 1,
                description: "A landmark or detail that helps find the place".into(),
                values: None,
            },
            ServiceAttribute {
                variable: true,
                code: "lang".into(),
                datatype: "singlevaluelist".into(),
                required: false,
                datatype_description: "Language of updates".into(),
                order: 2,
                description: "Language for updates to the reporter".into(),
                values: Some(vec![
                    AttributeValue {
                        key: "pl".into(),
                        name: "Polski".into(),
                    },
                    AttributeValue {
                        key: "en".into(),
                        name: "English".into(),
                    },
                    AttributeValue {
                        key: "uk".into(),
                        name: "Українська".into(),
                    },
                ]),
            },
        ],
    };
    Ok(respond(
        fmt,
        StatusCode::OK,
        "service_definition",
        "",
        &body,
    ))
}

/// Open311 status and notes from the richer workflow.
fn status_of(state: &AppState, row: &ExportRow, note: Option<&String>) -> (&'static str, String) {
    let catalogue = state.engine.catalogue();
    let (open, name) = catalogue
        .status(&row.status)
        .map(|(_, s)| (s.is_open, s.name_en.clone()))
        .unwrap_or((true, row.status.clone()));
    let mut notes = name;
    if let Some(orig) = row.duplicate_of {
        notes = format!("{notes}: already reported as request {orig}");
    }
    if let Some(n) = note {
        notes = format!("{notes}. {n}");
    }
    (if open { "open" } else { "closed" }, notes)
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn requests_json(state: &AppState, rows: &[ExportRow]) -> O311<Vec<ServiceRequest>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let media: HashMap<i64, String> = store::media(&state.pool, &ids)
        .await
        .map_err(|e| from_api(e.into(), Fmt::Json))?
        .into_iter()
        .collect();
    let notes: HashMap<i64, String> = store::notes(&state.pool, &ids)
        .await
        .map_err(|e| from_api(e.into(), Fmt::Json))?
        .into_iter()
        .collect();
    let catalogue = state.engine.catalogue();
    Ok(rows
        .iter()
        .map(|r| {
            let (status, status_notes) = status_of(state, r, notes.get(&r.id));
            let service_name = catalogue
                .category(&r.category)
                .map(|(_, c)| c.name_en.clone())
                .unwrap_or_else(|| r.category.clone());
            ServiceRequest {
                service_request_id: r.id.to_string(),
                status: status.into(),
                status_notes,
                service_name,
                service_code: r.category.clone(),
                description: r.description.clone(),
                agency_responsible: r.unit.clone().unwrap_or_default(),
                service_notice: String::new(),
                requested_datetime: time(r.created_at),
                updated_datetime: time(r.updated_at),
                expected_datetime: None,
                address: r
                    .address
                    .as_ref()
                    .or(r.district.as_ref())
                    .map(|a| format!("{a}, {}", catalogue.city.name))
                    .unwrap_or_default(),
                address_id: None,
                zipcode: None,
                lat: r.lat,
                long: r.lon,
                media_url: media.get(&r.id).cloned().unwrap_or_default(),
            }
        })
        .collect())
}

pub const MAX_REQUESTS: i64 = 1000;

async fn search(state: AppState, raw: Option<String>, fmt: Fmt) -> O311<Response> {
    let p = params(
        &raw,
        fmt,
        &[
            "service_request_id",
            "service_code",
            "start_date",
            "end_date",
            "status",
            "jurisdiction_id",
            "bbox",
            "page",
            "page_size",
        ],
    )?;
    let api = |e| from_api(e, fmt);
    let mut q = ReportQuery::default();
    let ids = p.list("service_request_id");
    if !ids.is_empty() {
        // The spec: service_request_id overrides every other filter.
        q.ids = ids
            .iter()
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| bad(fmt, format!("service_request_id {s:?} is not a request id")))
            })
            .collect::<Result<_, _>>()?;
    } else {
        q.categories = p.list("service_code");
        let start = p
            .get("start_date")
            .map(|v| {
                parse_datetime(v)
                    .ok_or_else(|| bad(fmt, format!("start_date {v:?} is not a w3 date-time")))
            })
            .transpose()?;
        let end = p
            .get("end_date")
            .map(|v| {
                parse_datetime(v)
                    .ok_or_else(|| bad(fmt, format!("end_date {v:?} is not a w3 date-time")))
            })
            .transpose()?;
        let (start, end) = match (start, end) {
            (None, None) => (Some(Utc::now() - Duration::days(90)), None),
            (Some(s), None) => (Some(s), None),
            (None, Some(e)) => (Some(e - Duration::days(90)), Some(e)),
            (Some(s), Some(e)) if s > e => return Err(bad(fmt, "start_date is after end_date")),
            (s, e) => (s, e),
        };
        q.datetime = Some((start, end));
        let statuses = p.list("status");
        let open = statuses.iter().any(|s| s == "open");
        let closed = statuses.iter().any(|s| s == "closed");
        if let Some(s) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
            return Err(bad(fmt, format!("status {s:?}: use open or closed")));
        }
        if open != closed {
            q.open = Some(open);
        }
        q.bbox = p.bbox("bbox").map_err(api)?;
    }
    let page_size = p.i64("page_size").map_err(api)?.unwrap_or(MAX_REQUESTS);
    if !(1..=MAX_REQUESTS).contains(&page_size) {
        return Err(bad(fmt, format!("page_size must be 1 to {MAX_REQUESTS}")));
    }
    let page = p.i64("page").map_err(api)?.unwrap_or(1);
    if page < 1 {
        return Err(bad(fmt, "page starts at 1"));
    }
    let rows = crate::storage::exports::fetch_page(
        &state.pool,
        &q,
        Audience::Public,
        NEWEST_FIRST,
        page_size,
        (page - 1) * page_size,
    )
    .await
    .map_err(|e| api(e.into()))?;
    let list = requests_json(&state, &rows)
        .await
        .map_err(|e| e.in_format(fmt))?;
    Ok(respond(
        fmt,
        StatusCode::OK,
        "service_requests",
        "request",
        &list,
    ))
}

/// One service request
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.{format}", tag = "open311",
    params(
        ("service_request_id" = String, Path, description = "The request id"),
        ("format" = Open311Format, Path, description = "json or xml"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "A list of one request", content((Vec<ServiceRequest> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Invalid parameter", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such request", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
    ))]
async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> O311<Response> {
    let (id, fmt) = split(&file)?;
    params(&raw, fmt, &["jurisdiction_id"])?;
    let not_found = || {
        O311Error(
            StatusCode::NOT_FOUND,
            format!("no service request {id:?}"),
            fmt,
        )
    };
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let q = ReportQuery {
        ids: vec![id],
        ..Default::default()
    };
    let rows =
        crate::storage::exports::fetch_page(&state.pool, &q, Audience::Public, NEWEST_FIRST, 1, 0)
            .await
            .map_err(|e| from_api(e.into(), fmt))?;
    if rows.is_empty() {
        return Err(not_found());
    }
    let list = requests_json(&state, &rows)
        .await
        .map_err(|e| e.in_format(fmt))?;
    Ok(respond(
        fmt,
        StatusCode::OK,
        "service_requests",
        "request",
        &list,
    ))
}

/// The request id behind a token from the POST
#[utoipa::path(get, path = "/open311/v2/tokens/{token}.{format}", tag = "open311",
    params(
        ("token" = String, Path, description = "The token the POST returned"),
        ("format" = Open311Format, Path, description = "json or xml"),
        JurisdictionQuery,
    ),
    responses(
        (status = 200, description = "A list of one id and token", content((Vec<RequestToken> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Invalid parameter", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such token", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
    ))]
async fn token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> O311<Response> {
    let (tok, fmt) = split(&file)?;
    params(&raw, fmt, &["jurisdiction_id"])?;
    let id = store::by_token(&state.pool, tok)
        .await
        .map_err(|e| from_api(e.into(), fmt))?
        .ok_or_else(|| {
            O311Error(
                StatusCode::NOT_FOUND,
                format!("no request with token {tok:?}"),
                fmt,
            )
        })?;
    let body = [RequestToken {
        service_request_id: id.to_string(),
        token: tok.to_owned(),
    }];
    Ok(respond(
        fmt,
        StatusCode::OK,
        "service_requests",
        "request",
        &body,
    ))
}

/// A form-encoded body within the size limit, of the `known` fields.
fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    fmt: Fmt,
    known: &[&str],
) -> O311<Open311Form> {
    let too_large = || {
        O311Error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the form is too large (at most {} KB)",
                MAX_FORM_BODY / 1024
            ),
            fmt,
        )
    };
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            bad(fmt, format!("the body cannot be read: {}", e.body_text()))
        }
    })?;
    if body.len() > MAX_FORM_BODY {
        return Err(too_large());
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(bad(
            fmt,
            "send the request form-encoded (Content-Type: application/x-www-form-urlencoded)",
        ));
    }
    Open311Form::decode_knowing(&body, known).map_err(|m| bad(fmt, m))
}

/// Change a request's status from a unit's own system (an extension of GeoReport v2)
///
/// Form fields: `api_key` (a key of the role `unit_system`, issued for one unit), `status` (one
/// of the city's status codes, see /api/v1/statuses), `status_notes` (the public note, mailed to
/// the reporter and subscribers), optional `expected_datetime` (YYYY-MM-DD or RFC 3339: when the
/// fix is expected). Only requests routed to the key's unit; the workflow's rules apply.
#[utoipa::path(post, path = "/open311/v2/requests/{service_request_id}/status.{format}", tag = "open311", operation_id = "open311_update_status",
    params(
        ("service_request_id" = String, Path, description = "The request id"),
        ("format" = Open311Format, Path, description = "json or xml"),
    ),
    request_body(content = StatusUpdateForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The request as it is now (a list of one)", content((Vec<ServiceRequest> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A missing or invalid field, or a move the workflow does not allow", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 403, description = "Missing or invalid api_key, or another unit's request", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such request", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
    ))]
async fn update_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> O311<Response> {
    let (name, fmt) = split(&file)?;
    let not_found = || {
        O311Error(
            StatusCode::NOT_FOUND,
            format!("no service request {id:?}"),
            fmt,
        )
    };
    if name != "status" {
        return Err(not_found());
    }
    let report: i64 = id.parse().map_err(|_| not_found())?;
    let form = read_form(&headers, body, fmt, STATUS_FIELDS)?;
    let forbidden = |m: &str| O311Error(StatusCode::FORBIDDEN, m.into(), fmt);
    let key = form
        .field("api_key")
        .ok_or_else(|| forbidden("api_key is required: a unit_system key of the unit"))?;
    let key = crate::auth::api_key(&state.pool, key)
        .await
        .map_err(|e| from_api(e.into(), fmt))?
        .ok_or_else(|| forbidden("api_key is not valid"))?;
    let Some(unit) = key
        .unit_code
        .as_deref()
        .filter(|_| key.role == "unit_system")
    else {
        return Err(forbidden("only a unit_system key may change a status"));
    };
    let user = crate::domain::StaffUser::unit_system(&key.name, unit);
    let status = form
        .field("status")
        .ok_or_else(|| bad(fmt, "status is required (see /api/v1/statuses)"))?;
    let note = form
        .field("status_notes")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            bad(
                fmt,
                "status_notes is required: the public note the reporter is sent",
            )
        })?;
    let expected_at = match form.field("expected_datetime") {
        None | Some("") => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
                .map_err(|_| bad(fmt, "expected_datetime must be YYYY-MM-DD or RFC 3339"))?,
        ),
    };
    crate::app::staff::check_may_work_on(&state.pool, &user, report)
        .await
        .map_err(|e| from_api(e.into(), fmt))?;
    let change = crate::app::staff::StatusChange {
        status: status.to_owned(),
        public_note: note.trim().to_owned(),
        internal_note: None,
        expected_at,
        unit: None,
        photos: vec![],
    };
    crate::app::staff::change_status(
        &state.pool,
        &state.engine,
        &user,
        report,
        &change,
        &super::extract::base_url(&state, &headers),
    )
    .await
    .map_err(|e| from_api(e.into(), fmt))?;
    metrics::counter!("zglos_status_changes_total", "status" => change.status.clone()).increment(1);
    one_request(
        State(state),
        Path(format!(
            "{report}.{}",
            if fmt == Fmt::Xml { "xml" } else { "json" }
        )),
        RawQuery(None),
    )
    .await
}

/// Create a service request (with an app's API key)
#[utoipa::path(post, path = "/open311/v2/requests.{format}", tag = "open311", operation_id = "open311_create_request",
    params(("format" = Open311Format, Path, description = "json or xml")),
    request_body(content = NewServiceRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Stored: the id, a token and where it was sent", content((Vec<RequestCreated> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "Invalid request", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 403, description = "Missing or invalid api_key", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such service", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 413, description = "The form is too large", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 429, description = "Too many requests from this address or for this contact; Retry-After says when to retry", content((Vec<Open311Error> = "application/json"), (String = "text/xml"))),
    ))]
async fn create(
    State(state): State<AppState>,
    limit: Result<WriteLimit, ApiError>,
    headers: HeaderMap,
    Path(file): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> O311<Response> {
    let (name, fmt) = split(&file)?;
    if name != "requests" {
        return Err(O311Error(
            StatusCode::NOT_FOUND,
            format!("POST {name}: only requests can be created"),
            fmt,
        ));
    }
    let limit = limit.map_err(|e| from_api(e, fmt))?;
    let form = read_form(&headers, body, fmt, KNOWN_FIELDS)?;
    let key = form.field("api_key").ok_or_else(|| {
        O311Error(
            StatusCode::FORBIDDEN,
            "api_key is required; apps get one from the city".into(),
            fmt,
        )
    })?;
    let app = store::app_for_key(&state.pool, key)
        .await
        .map_err(|e| from_api(e.into(), fmt))?
        .ok_or_else(|| O311Error(StatusCode::FORBIDDEN, "api_key is not valid".into(), fmt))?;
    let code = form
        .field("service_code")
        .ok_or_else(|| bad(fmt, "service_code is required"))?;
    let catalogue = state.engine.catalogue();
    let (_, category) = catalogue.category(code).ok_or_else(|| {
        O311Error(
            StatusCode::NOT_FOUND,
            format!("no service {code:?}; see services.json"),
            fmt,
        )
    })?;
    // A request with only `address_string` is placed at the address the gazetteer finds (a
    // house number, a place or a stop: a point precise enough to send a crew to).
    let locate = |text: &str| {
        let g = catalogue.gazetteer.as_ref()?;
        let opts = zglos_tiles::gazetteer::SearchOptions {
            limit: 1,
            near: None,
            kinds: vec![
                zglos_tiles::gazetteer::Kind::Address,
                zglos_tiles::gazetteer::Kind::Poi,
                zglos_tiles::gazetteer::Kind::Stop,
            ],
        };
        g.search_with(text, &opts).first().map(|h| (h.lon, h.lat))
    };
    let FormReport { report, media_url } = form
        .report_locating(&category.code, &category.name_en, locate)
        .map_err(|e| match e {
            FormError::Bad(m) => bad(fmt, m),
            FormError::Invalid(e) => from_api(e.into(), fmt),
        })?;
    let media_url = media_url.as_deref();
    limit
        .contact(
            report.contact.email.as_ref().map(Email::as_str),
            report.contact.phone.as_deref(),
        )
        .map_err(|e| from_api(e, fmt))?;
    let placement = catalogue
        .place(category, &report.geometry)
        .map_err(|e| from_api(e.into(), fmt))?;
    // A retried POST from the same device with the same content is the same request.
    let idem = form.field("device_id").map(|d| {
        let mut canon: Vec<&(String, String)> =
            form.pairs.iter().filter(|(k, _)| k != "api_key").collect();
        canon.sort();
        let hash = crate::auth::sha256_hex(&format!("{canon:?}"));
        Idempotency {
            key: format!("open311:{app}:{d}:{hash}"),
            request_hash: hash,
        }
    });
    let id = match reports::submit_from(
        &state.pool,
        &state.engine,
        &report,
        &placement,
        idem.as_ref(),
        None,
        Some(&super::extract::base_url(&state, &headers)),
    )
    .await
    .map_err(|e| from_api(e.into(), fmt))?
    {
        Submission::Created(stored) => stored.report.id,
        Submission::Replayed(id) => id,
    };
    let token = crate::auth::sha256_hex(&format!("{app}:{id}:{}", crate::auth::random_token()))
        [..24]
        .to_owned();
    store::record(&state.pool, id, &token, &app, media_url)
        .await
        .map_err(|e| from_api(e.into(), fmt))?;
    metrics::counter!("zglos_reports_submitted_total", "channel" => "open311").increment(1);
    let notice = match placement.unit_code.as_ref().and_then(|u| catalogue.unit(u)) {
        Some(u) => format!("Sent to {}", u.name),
        None => String::new(),
    };
    let body = [RequestCreated {
        service_request_id: id.to_string(),
        token,
        service_notice: notice,
        account_id: None,
    }];
    Ok(respond(
        fmt,
        StatusCode::CREATED,
        "service_requests",
        "request",
        &body,
    ))
}
