//! OGC API – Features under `/ogc`: Part 1 Core (landing page, conformance, collections, items,
//! one feature; GeoJSON and HTML; OpenAPI 3.0) and Part 3 Filtering (CQL2 text and JSON,
//! queryables). Collections: `reports` (public fields), `districts` and, for analysts,
//! `reports-internal` (unit, routing rule, timing; never contact data).
pub(super) mod html;
mod openapi;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::exports::reject_unknown;
use super::extract::base_url;
use super::params::{parse_datetime, Params};
use super::schema::{
    CollectionId, CollectionInfo, Collections, Conformance, DistrictFeature, DistrictProperties,
    ErrorBody, Extent, FeatureCollectionType, FeaturePage, FeatureType, FormatQuery, ItemsQuery,
    LandingPage, OgcLink, SpatialExtent, TemporalExtent,
};
use super::AppState;
use crate::auth::Caller;
use crate::cql;
use crate::export::{self, wkb::Geom};
use crate::http::error::{ApiError, ApiResult};
use crate::storage::exports::{self as store_exports, queryables, Audience, ReportQuery, BY_ID};
use crate::storage::ogc::{self as store, DistrictQuery, DISTRICT_QUERYABLES};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 10_000;

/// The OGC API classes; the CQL2 ones are what `cql` implements.
const FEATURES_CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
];

fn conformance_classes() -> Vec<&'static str> {
    FEATURES_CONFORMANCE
        .iter()
        .chain(crate::cql::CONFORMANCE)
        .copied()
        .collect()
}

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const QUERYABLES_REL: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// The documented OGC routes; `/ogc/` and the JSON 404 of `/ogc/{*rest}` are routed with the
/// undocumented ones (see `doc::UNDOCUMENTED`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(landing))
        .routes(routes!(api))
        .routes(routes!(conformance))
        .routes(routes!(collections))
        .routes(routes!(collection))
        .routes(routes!(items))
        .routes(routes!(item))
        .routes(routes!(queryables_handler))
}

pub async fn not_found(Path(rest): Path<String>) -> ApiError {
    ApiError::not_found(format!("no such resource: /ogc/{rest}; start at /ogc"))
}

/// JSON unless the client asks for HTML (`f=html`, or a browser's Accept header).
#[derive(Clone, Copy, PartialEq, Eq)]
enum F {
    Json,
    Html,
}

fn negotiate(p: &Params, headers: &HeaderMap) -> ApiResult<F> {
    match p.get("f") {
        Some("json")
        | Some("geojson")
        | Some("application/json")
        | Some("application/geo+json") => Ok(F::Json),
        Some("html") | Some("text/html") => Ok(F::Html),
        Some(other) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("f={other:?} is not offered; use f=json or f=html"),
        )
        .at("f")),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Ok(
                if accept.contains("text/html") && !accept.contains("json") {
                    F::Html
                } else {
                    F::Json
                },
            )
        }
    }
}

fn params(raw: &Option<String>, known: &[&str]) -> ApiResult<Params> {
    let p = Params::parse(raw.as_deref())?;
    reject_unknown(&p, known)?;
    Ok(p)
}

fn json_response<T: Serialize>(content_type: &'static str, body: &T) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => ([(header::CONTENT_TYPE, content_type)], text).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A typed body as the untyped document the HTML views read.
fn as_value<T: Serialize>(body: &T) -> ApiResult<Value> {
    serde_json::to_value(body).map_err(ApiError::internal)
}

fn link(href: String, rel: &str, ty: &str, title: &str) -> OgcLink {
    OgcLink {
        href,
        rel: rel.into(),
        media_type: ty.into(),
        title: title.into(),
    }
}

/// Landing page
#[utoipa::path(get, path = "/ogc", tag = "ogc", params(FormatQuery),
    responses(
        (status = 200, description = "Landing page", content((LandingPage = "application/json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
    ))]
pub async fn landing(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let base = format!("{}/ogc", base_url(&state, &headers));
    let city = &state.engine.catalogue().city;
    let body = LandingPage {
        title: format!("Zgłoś – {} reports", city.name),
        description: format!("Residents' reports of problems in public space in {}, and the city's districts, as OGC API – Features. {}", city.name, city.attribution),
        attribution: city.attribution.clone(),
        links: vec![
            link(format!("{base}?f=json"), "self", "application/json", "This document"),
            link(format!("{base}?f=html"), "alternate", "text/html", "This document as HTML"),
            link(format!("{base}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition (OpenAPI 3.0)"),
            link(format!("{base}/api?f=html"), "service-doc", "text/html", "The API documentation"),
            link(format!("{base}/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{base}/conformance"), "http://www.opengis.net/def/rel/ogc/1.0/conformance", "application/json", "Conformance classes"),
            link(format!("{base}/collections"), "data", "application/json", "Collections"),
            link(format!("{base}/collections"), "http://www.opengis.net/def/rel/ogc/1.0/data", "application/json", "Collections"),
        ],
    };
    Ok(match negotiate(&p, &headers)? {
        F::Json => json_response("application/json", &body),
        F::Html => Html(html::landing(&as_value(&body)?)).into_response(),
    })
}

/// The OGC API's own OpenAPI 3.0 definition
#[utoipa::path(get, path = "/ogc/api", tag = "ogc", params(FormatQuery),
    responses(
        (status = 200, description = "OpenAPI 3.0", content((Object = "application/vnd.oai.openapi+json;version=3.0"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
    ))]
async fn api(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let base = format!("{}/ogc", base_url(&state, &headers));
    let doc = openapi::document(&base, &state.engine.catalogue().city.name);
    Ok(match p.get("f") {
        Some("html") => Html(html::api(&doc)).into_response(),
        _ => json_response("application/vnd.oai.openapi+json;version=3.0", &doc),
    })
}

/// Conformance classes
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", params(FormatQuery),
    responses(
        (status = 200, description = "Conformance", content((Conformance = "application/json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
    ))]
async fn conformance(headers: HeaderMap, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let body = Conformance {
        conforms_to: conformance_classes()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    Ok(match negotiate(&p, &headers)? {
        F::Json => json_response("application/json", &body),
        F::Html => Html(html::conformance(&conformance_classes())).into_response(),
    })
}

/// The collections the caller may see.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Coll {
    Reports(Audience),
    Districts,
}

impl Coll {
    fn id(self) -> &'static str {
        match self {
            Coll::Reports(Audience::Public) => "reports",
            Coll::Reports(Audience::Internal) => "reports-internal",
            Coll::Districts => "districts",
        }
    }
}

fn resolve(id: &str, caller: &Caller) -> ApiResult<Coll> {
    match id {
        "reports" => Ok(Coll::Reports(Audience::Public)),
        "districts" => Ok(Coll::Districts),
        "reports-internal" if caller.is_analyst() => Ok(Coll::Reports(Audience::Internal)),
        "reports-internal" if caller.user.is_none() && caller.api_key_role.is_none() => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "reports-internal is for analysts: send Authorization: Bearer <analyst API key>, or sign in as staff with the analyst role",
        )),
        "reports-internal" => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "reports-internal needs the analyst role")),
        _ => Err(ApiError::not_found(format!("no collection {id:?}; see /ogc/collections"))),
    }
}

fn visible(caller: &Caller) -> Vec<Coll> {
    let mut v = vec![Coll::Reports(Audience::Public), Coll::Districts];
    if caller.is_analyst() {
        v.insert(1, Coll::Reports(Audience::Internal));
    }
    v
}

async fn collection_json(state: &AppState, base: &str, c: Coll) -> ApiResult<CollectionInfo> {
    let catalogue = state.engine.catalogue();
    let [w, s, e, n] = catalogue.bbox();
    let id = c.id();
    let url = format!("{base}/collections/{id}");
    let (title, description, temporal) = match c {
        Coll::Reports(a) => {
            let first = store::first_report_at(&state.pool).await?;
            let internal = if a == Audience::Internal {
                " With the unit, the routing rule and response times (no contact data)."
            } else {
                ""
            };
            (
                if a == Audience::Internal { "Reports (internal)" } else { "Reports" },
                format!("Problems reported by residents of {}: category, status, district, unit, supporters.{internal}", catalogue.city.name),
                Some(TemporalExtent {
                    interval: vec![[first, None]],
                    trs: "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian".into(),
                }),
            )
        }
        Coll::Districts => (
            "Districts",
            format!(
                "The districts of {}. {}",
                catalogue.city.name, catalogue.city.attribution
            ),
            None,
        ),
    };
    let extent = Extent {
        spatial: SpatialExtent {
            bbox: vec![[w, s, e, n]],
            crs: CRS84.into(),
        },
        temporal,
    };
    Ok(CollectionInfo {
        id: id.into(),
        title: title.into(),
        description,
        attribution: catalogue.city.attribution.clone(),
        item_type: "feature".into(),
        crs: vec![CRS84.into()],
        storage_crs: CRS84.into(),
        extent,
        links: vec![
            link(url.clone(), "self", "application/json", "This collection"),
            link(
                format!("{url}?f=html"),
                "alternate",
                "text/html",
                "This collection as HTML",
            ),
            link(
                format!("{url}/items"),
                "items",
                "application/geo+json",
                "Items",
            ),
            link(
                format!("{url}/items?f=html"),
                "items",
                "text/html",
                "Items as HTML",
            ),
            link(
                format!("{url}/queryables"),
                QUERYABLES_REL,
                "application/schema+json",
                "Queryables",
            ),
            // The plain relation name, as earlier drafts of Part 3 (and GDAL up to 3.6) look for it.
            link(
                format!("{url}/queryables"),
                "queryables",
                "application/json",
                "Queryables",
            ),
            link(
                "https://opendatacommons.org/licenses/odbl/1-0/".into(),
                "license",
                "text/html",
                "ODbL 1.0 (district boundaries)",
            ),
        ],
    })
}

/// Collections (reports-internal only for analysts)
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", params(FormatQuery),
    security((), ("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "Collections", content((Collections = "application/json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
    ))]
async fn collections(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let base = format!("{}/ogc", base_url(&state, &headers));
    let mut list = Vec::new();
    for c in visible(&caller) {
        list.push(collection_json(&state, &base, c).await?);
    }
    let body = Collections {
        links: vec![
            link(
                format!("{base}/collections"),
                "self",
                "application/json",
                "Collections",
            ),
            link(
                format!("{base}/collections?f=html"),
                "alternate",
                "text/html",
                "Collections as HTML",
            ),
        ],
        collections: list,
    };
    Ok(match negotiate(&p, &headers)? {
        F::Json => json_response("application/json", &body),
        F::Html => Html(html::collections(&as_value(&body)?)).into_response(),
    })
}

/// One collection
#[utoipa::path(get, path = "/ogc/collections/{id}", tag = "ogc",
    params(("id" = CollectionId, Path, description = "Collection id"), FormatQuery),
    security((), ("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "Collection", content((CollectionInfo = "application/json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "reports-internal without credentials", body = ErrorBody),
        (status = 403, description = "reports-internal without the analyst role", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
    ))]
async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let c = resolve(&id, &caller)?;
    let base = format!("{}/ogc", base_url(&state, &headers));
    let body = collection_json(&state, &base, c).await?;
    Ok(match negotiate(&p, &headers)? {
        F::Json => json_response("application/json", &body),
        F::Html => Html(html::collection(&as_value(&body)?)).into_response(),
    })
}

/// Properties a filter may use (JSON Schema)
#[utoipa::path(get, path = "/ogc/collections/{id}/queryables", tag = "ogc",
    params(("id" = CollectionId, Path, description = "Collection id"), FormatQuery),
    security((), ("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "Queryables", content((Object = "application/schema+json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "reports-internal without credentials", body = ErrorBody),
        (status = 403, description = "reports-internal without the analyst role", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
    ))]
async fn queryables_handler(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let c = resolve(&id, &caller)?;
    let url = format!(
        "{}/ogc/collections/{id}/queryables",
        base_url(&state, &headers)
    );
    let qs = match c {
        Coll::Reports(a) => queryables(a),
        Coll::Districts => DISTRICT_QUERYABLES.to_vec(),
    };
    let body = cql::queryables_schema(c.id(), &url, &qs);
    Ok(match negotiate(&p, &headers)? {
        F::Json => json_response("application/schema+json", &body),
        F::Html => Html(html::queryables(c.id(), &body)).into_response(),
    })
}

/// A time interval; `None` is an open end.
pub type Interval = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// OGC `datetime`: an instant, a date (that whole day) or an interval `start/end` with `..` open ends.
pub fn parse_datetime_param(v: &str) -> ApiResult<Interval> {
    let bad = || {
        ApiError::bad_request("invalid_parameter", format!("datetime {v:?} must be an RFC 3339 instant, a date, or an interval start/end where either end may be '..'"))
            .at("datetime")
    };
    let end = |s: &str| -> ApiResult<Option<DateTime<Utc>>> {
        if s.is_empty() || s == ".." {
            Ok(None)
        } else {
            parse_datetime(s).map(Some).ok_or_else(bad)
        }
    };
    if let Some((a, b)) = v.split_once('/') {
        let (a, b) = (end(a)?, end(b)?);
        if a.is_none() && b.is_none() && !(v == "../.." || v == "/" || v == "../" || v == "/..") {
            return Err(bad());
        }
        if let (Some(a), Some(b)) = (a, b) {
            if a > b {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    "datetime: the interval ends before it starts",
                )
                .at("datetime"));
            }
        }
        return Ok((a, b));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0).unwrap().and_utc();
        return Ok((
            Some(start),
            Some(start + Duration::days(1) - Duration::microseconds(1)),
        ));
    }
    let t = DateTime::parse_from_rfc3339(v)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    Ok((Some(t), Some(t)))
}

const ITEM_PARAMS: &[&str] = &[
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
];

fn check_crs(p: &Params, name: &str) -> ApiResult<()> {
    match p.get(name) {
        None => Ok(()),
        Some(c)
            if c == CRS84
                || c == "http://www.opengis.net/def/crs/EPSG/0/4326" && name == "filter-crs" =>
        {
            Ok(())
        }
        Some(c) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("{name} {c:?} is not supported; coordinates are {CRS84}"),
        )
        .at(name)),
    }
}

struct Paging {
    limit: i64,
    offset: i64,
}

fn paging(p: &Params) -> ApiResult<Paging> {
    let limit = match p.i64("limit")? {
        None => DEFAULT_LIMIT,
        Some(l) if l < 1 => {
            return Err(
                ApiError::bad_request("invalid_parameter", "limit must be at least 1").at("limit"),
            )
        }
        // As the standard says: a limit above the maximum is not an error, the maximum applies.
        Some(l) => l.min(MAX_LIMIT),
    };
    let offset = match p.i64("offset")? {
        None => 0,
        Some(o) if o < 0 => {
            return Err(
                ApiError::bad_request("invalid_parameter", "offset must be 0 or more").at("offset"),
            )
        }
        Some(o) => o,
    };
    Ok(Paging { limit, offset })
}

/// The URL of this items request with another offset.
fn page_url(base: &str, raw: &Option<String>, offset: i64, limit: i64, f: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or(""))
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "offset" && k != "limit" && k != "f")
            .collect();
    pairs.push(("limit".into(), limit.to_string()));
    if offset > 0 {
        pairs.push(("offset".into(), offset.to_string()));
    }
    if let Some(f) = f {
        pairs.push(("f".into(), f.into()));
    }
    format!(
        "{base}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// Features, filtered and paged
#[utoipa::path(get, path = "/ogc/collections/{id}/items", tag = "ogc",
    params(("id" = CollectionId, Path, description = "Collection id"), ItemsQuery),
    security((), ("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "A GeoJSON FeatureCollection: these members and features", content((FeaturePage = "application/geo+json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter or filter", body = ErrorBody),
        (status = 401, description = "reports-internal without credentials", body = ErrorBody),
        (status = 403, description = "reports-internal without the analyst role", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
    ))]
async fn items(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, ITEM_PARAMS)?;
    let c = resolve(&id, &caller)?;
    let f = negotiate(&p, &headers)?;
    check_crs(&p, "bbox-crs")?;
    check_crs(&p, "filter-crs")?;
    let Paging { limit, offset } = paging(&p)?;
    let bbox = p.bbox("bbox")?;
    let datetime = p.get("datetime").map(parse_datetime_param).transpose()?;
    let filter = p
        .get("filter")
        .map(|x| cql::parse(x, p.get("filter-lang")))
        .transpose()?;
    if p.get("filter").is_none() && p.get("filter-lang").is_some() {
        cql::parse("true", p.get("filter-lang"))?;
    }
    let base = format!("{}/ogc/collections/{id}/items", base_url(&state, &headers));

    let mut features = Vec::with_capacity(64 * 1024);
    let (returned, matched, titles) = match c {
        Coll::Reports(audience) => {
            let query = ReportQuery {
                bbox,
                datetime,
                filter,
                ..Default::default()
            };
            let rows =
                store_exports::fetch_page(&state.pool, &query, audience, BY_ID, limit, offset)
                    .await?;
            let matched = store_exports::count(&state.pool, &query, audience).await?;
            let mut geom = Geom::default();
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    features.push(b',');
                }
                export::write_feature(&mut features, row, audience, &mut geom);
            }
            let titles: Vec<(String, String)> = rows
                .iter()
                .map(|r| (r.id.to_string(), format!("{} – {}", r.category, r.status)))
                .collect();
            (rows.len() as i64, matched, titles)
        }
        Coll::Districts => {
            let query = DistrictQuery {
                bbox,
                id: None,
                filter,
            };
            let (rows, matched) = store::districts(&state.pool, &query, limit, offset).await?;
            for (i, d) in rows.iter().enumerate() {
                if i > 0 {
                    features.push(b',');
                }
                serde_json::to_writer(&mut features, &district_feature(d))
                    .map_err(ApiError::internal)?;
            }
            let titles = rows
                .iter()
                .map(|d| (d.id.to_string(), format!("{} {}", d.code, d.name)))
                .collect();
            (rows.len() as i64, matched, titles)
        }
    };

    let fq = if f == F::Html { Some("html") } else { None };
    let mut links = vec![
        link(
            page_url(&base, &raw, offset, limit, fq),
            "self",
            if f == F::Html {
                "text/html"
            } else {
                "application/geo+json"
            },
            "This page",
        ),
        link(
            page_url(
                &base,
                &raw,
                offset,
                limit,
                Some(if f == F::Html { "json" } else { "html" }),
            ),
            "alternate",
            if f == F::Html {
                "application/geo+json"
            } else {
                "text/html"
            },
            "This page in another format",
        ),
    ];
    let next_exists = offset + returned < matched;
    if next_exists {
        links.push(link(
            page_url(&base, &raw, offset + limit, limit, fq),
            "next",
            "application/geo+json",
            "Next page",
        ));
    }
    if offset > 0 {
        links.push(link(
            page_url(&base, &raw, (offset - limit).max(0), limit, fq),
            "prev",
            "application/geo+json",
            "Previous page",
        ));
    }
    let head = FeaturePage {
        kind: FeatureCollectionType::FeatureCollection,
        time_stamp: Utc::now(),
        number_matched: matched,
        number_returned: returned,
        links,
    };
    if f == F::Html {
        return Ok(Html(html::items(c.id(), &as_value(&head)?, &titles, offset)).into_response());
    }
    let mut body = serde_json::to_vec(&head).map_err(ApiError::internal)?;
    body.pop(); // the closing brace
    body.extend_from_slice(b",\"features\":[");
    body.extend_from_slice(&features);
    body.extend_from_slice(b"]}");
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

fn district_feature(d: &store::DistrictRow) -> DistrictFeature {
    DistrictFeature {
        kind: FeatureType::Feature,
        id: d.id,
        geometry: serde_json::from_str(&d.geometry).unwrap_or(Value::Null),
        properties: DistrictProperties {
            id: d.id,
            code: d.code.clone(),
            name: d.name.clone(),
            full_name: d.full_name.clone(),
            area_km2: d.area_km2,
        },
    }
}

/// One feature
#[utoipa::path(get, path = "/ogc/collections/{id}/items/{fid}", tag = "ogc",
    params(
        ("id" = CollectionId, Path, description = "Collection id"),
        ("fid" = String, Path, description = "Feature id"),
        FormatQuery,
    ),
    security((), ("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "Feature", content((Object = "application/geo+json"), (String = "text/html"))),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "reports-internal without credentials", body = ErrorBody),
        (status = 403, description = "reports-internal without the analyst role", body = ErrorBody),
        (status = 404, description = "No such collection or feature", body = ErrorBody),
    ))]
async fn item(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, fid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = params(&raw, &["f"])?;
    let c = resolve(&id, &caller)?;
    let f = negotiate(&p, &headers)?;
    let not_found = || ApiError::not_found(format!("no feature {fid:?} in {id}"));
    let num: i64 = fid.parse().ok().filter(|n| *n > 0).ok_or_else(not_found)?;
    let base = base_url(&state, &headers);
    let self_url = format!("{base}/ogc/collections/{id}/items/{fid}");
    let mut feature: Value = match c {
        Coll::Reports(audience) => {
            let query = ReportQuery {
                ids: vec![num],
                ..Default::default()
            };
            let rows =
                store_exports::fetch_page(&state.pool, &query, audience, BY_ID, 1, 0).await?;
            let row = rows.first().ok_or_else(not_found)?;
            let mut buf = Vec::new();
            export::write_feature(&mut buf, row, audience, &mut Geom::default());
            serde_json::from_slice(&buf).map_err(ApiError::internal)?
        }
        Coll::Districts => {
            let id32 = i32::try_from(num).map_err(|_| not_found())?;
            let (rows, _) = store::districts(
                &state.pool,
                &DistrictQuery {
                    id: Some(id32),
                    ..Default::default()
                },
                1,
                0,
            )
            .await?;
            as_value(&district_feature(rows.first().ok_or_else(not_found)?))?
        }
    };
    feature["links"] = as_value(&[
        link(
            self_url.clone(),
            "self",
            "application/geo+json",
            "This feature",
        ),
        link(
            format!("{self_url}?f=html"),
            "alternate",
            "text/html",
            "This feature as HTML",
        ),
        link(
            format!("{base}/ogc/collections/{id}"),
            "collection",
            "application/json",
            "The collection",
        ),
    ])?;
    Ok(match f {
        F::Json => json_response("application/geo+json", &feature),
        F::Html => Html(html::feature(&id, &feature)).into_response(),
    })
}
