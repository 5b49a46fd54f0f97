//! `GET /api/v1/exports/reports.{geojson,csv,fgb,gpkg}`: every matching report, streamed.
use std::io;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::doc::RoutesExt;
use super::params::Params;
use super::schema::{ErrorBody, ExportFormat, ExportQuery};
use super::AppState;
use crate::auth::Caller;
use crate::cql;
use crate::domain::query::ReportFilters;
use crate::export::{self, ChannelWriter, Format, Meta};
use crate::http::error::{ApiError, ApiResult};
use crate::storage::exports::{self as store, Audience, ReportQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().templated_routes(routes!(export_reports))
}

/// Query parameters of the reports list, exports and the CLI.
pub const LIST_PARAMS: &[&str] = &[
    "bbox",
    "category",
    "status",
    "district",
    "unit",
    "since",
    "until",
    "filter",
    "filter-lang",
];

/// Rejects parameters the endpoint does not know, naming them.
pub fn reject_unknown(p: &Params, known: &[&str]) -> ApiResult<()> {
    if let Some(name) = p.names().find(|n| !known.contains(n)) {
        return Err(ApiError::bad_request(
            "unknown_parameter",
            format!(
                "unknown query parameter {name:?}; this endpoint takes: {}",
                known.join(", ")
            ),
        )
        .at(name.to_owned()));
    }
    Ok(())
}

/// The list filters: bbox, category, status, district, unit, since/until and a CQL2 filter.
pub fn list_query(p: &Params) -> ApiResult<ReportQuery> {
    let filter = p
        .get("filter")
        .map(|f| cql::parse(f, p.get("filter-lang")))
        .transpose()?;
    Ok(ReportQuery::from_filters(ReportFilters {
        bbox: p.bbox("bbox")?,
        categories: p.list("category"),
        statuses: p.list("status"),
        districts: p.i32_list("district")?,
        units: p.list("unit"),
        since: p.datetime("since")?,
        until: p.datetime("until")?,
        filter,
    })?)
}

pub fn audience(caller: &Caller) -> Audience {
    if caller.is_analyst() {
        Audience::Internal
    } else {
        Audience::Public
    }
}

/// Starts an export: rows read on the runtime, written on a blocking thread into the body.
pub fn stream(state: &AppState, query: ReportQuery, format: Format, meta: Meta) -> Body {
    let (row_tx, row_rx) = mpsc::channel(4);
    let (body_tx, mut body_rx) = mpsc::channel::<Result<Bytes, io::Error>>(8);
    let pool = state.pool.clone();
    let audience = meta.audience;
    let err_tx = body_tx.clone();
    tokio::spawn(async move {
        let result = store::produce(pool, query, audience, row_tx.clone()).await;
        if let Err(e) = result {
            tracing::error!(error = %e, "export failed while reading reports");
            // Abort the body before the writer can close it as if complete.
            let _ = err_tx
                .send(Err(io::Error::other(
                    "the export failed; the file is incomplete",
                )))
                .await;
        }
        drop(row_tx);
    });
    tokio::task::spawn_blocking(move || {
        let tx = body_tx.clone();
        let result = export::writer(format, &meta, Box::new(ChannelWriter::new(body_tx)))
            .and_then(|w| export::consume(row_rx, w, &|_| {}));
        match result {
            Ok(n) => {
                metrics::counter!("zglos_export_features_total", "format" => format.extension())
                    .increment(n);
            }
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                tracing::info!("export stopped: the client went away")
            }
            Err(e) => {
                tracing::error!(error = %e, "export failed while writing");
                let _ = tx.blocking_send(Err(e));
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| body_rx.poll_recv(cx));
    Body::from_stream(stream)
}

pub fn meta(state: &AppState, audience: Audience) -> Meta {
    let catalogue = state.engine.catalogue();
    Meta::new(
        &catalogue.city.name,
        &catalogue.city.attribution,
        audience,
        catalogue.bbox(),
    )
}

pub fn export_headers(format: Format, meta: &Meta, name: &str) -> Vec<(HeaderName, HeaderValue)> {
    let mut h = vec![
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        ),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!(
                "attachment; filename=\"{name}.{}\"",
                format.extension()
            ))
            .unwrap_or(HeaderValue::from_static("attachment")),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::LINK,
            HeaderValue::from_static(
                "<https://opendatacommons.org/licenses/odbl/1-0/>; rel=\"license\"",
            ),
        ),
    ];
    if let Ok(v) = HeaderValue::from_bytes(meta.attribution.as_bytes()) {
        h.push((HeaderName::from_static("x-data-attribution"), v));
    }
    h
}

/// Every matching report as a file, streamed: GeoJSON (RFC 7946), CSV (lon, lat, WKT), FlatGeobuf (with its spatial index) or GeoPackage
///
/// The filters of the reports list plus a CQL2 filter. Public fields; an analyst API key
/// (Authorization: Bearer) adds unit, routing rule and timing fields. Never contact data. The
/// data's attribution is in X-Data-Attribution and inside the file.
/// The GeoJSON export: a FeatureCollection of every report the filters keep.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ExportCollection {
    #[schema(example = "FeatureCollection")]
    r#type: String,
    features: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A file in a binary or text format (CSV, FlatGeobuf, GeoPackage).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct ExportFile(Vec<u8>);

#[utoipa::path(get, path = "/api/v1/exports/reports.{format}", tag = "exports",
    params(("format" = ExportFormat, Path, description = "File format"), ExportQuery),
    security((), ("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "The file, streamed", content(
            (ExportCollection = "application/geo+json"), (ExportFile = "text/csv"),
            (ExportFile = "application/flatgeobuf"), (ExportFile = "application/geopackage+sqlite3"))),
        (status = 400, description = "Invalid or unknown parameter", body = ErrorBody),
        (status = 404, description = "Unknown format", body = ErrorBody),
        (status = 422, description = "Unknown category: the body names the field and lists the known codes", body = ErrorBody),
    ))]
async fn export_reports(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let format = file
        .strip_prefix("reports.")
        .and_then(Format::parse)
        .ok_or_else(|| ApiError::not_found(format!("no export {file:?}; there are reports.geojson, reports.csv, reports.fgb and reports.gpkg")))?;
    let p = Params::parse(raw.as_deref())?;
    reject_unknown(&p, LIST_PARAMS)?;
    let query = list_query(&p)?;
    let audience = audience(&caller);
    store::validate(&query, audience)?;
    let meta = meta(&state, audience);
    let headers = export_headers(format, &meta, "reports");
    let body = stream(&state, query, format, meta);
    let mut response = body.into_response();
    for (k, v) in headers {
        response.headers_mut().insert(k, v);
    }
    Ok(response)
}
