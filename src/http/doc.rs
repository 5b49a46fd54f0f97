//! The OpenAPI document of the service, generated from the handlers' `#[utoipa::path]`
//! annotations: every API route is registered through `OpenApiRouter` with its documentation, so
//! a route cannot exist without it. The few routes that are not API are plain axum routes, listed
//! in [`UNDOCUMENTED`].
use std::sync::OnceLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use super::schema;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Zgłoś API",
        description = "Residents report problems on a map; the city routes each report to the responsible unit and answers. All geometry is WGS84 (EPSG:4326) GeoJSON. Errors are JSON: {\"error\": {\"code\", \"message\", \"field\"}}. Public outputs never contain the reporter's contact data.",
        license(name = "AGPL-3.0-or-later"),
    ),
    servers((url = "/")),
    components(schemas(
        schema::ErrorBody,
        schema::Geometry,
        schema::NewReport,
        schema::ReportProperties,
        schema::ReportFeature,
        schema::ReportCollection,
        schema::Category,
        schema::Photo,
        // Path parameters' types (bodies bring their own schemas).
        schema::ExportFormat,
        schema::CollectionId,
        schema::Open311Format,
        schema::Open311Resource,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "reports", description = "Submit, list and follow reports"),
        (name = "vocabulary", description = "The city's categories, statuses, units, districts and client configuration"),
        (name = "addresses", description = "Address search and reverse lookup over the city's own gazetteer"),
        (name = "tiles", description = "Vector tiles (MVT) and their TileJSON"),
        (name = "photos", description = "Photo upload and download"),
        (name = "exports", description = "Every matching report as a file"),
        (name = "staff", description = "City staff: login, inbox, workflow, heatmap, hotspots"),
        (name = "service", description = "Health, readiness, metrics and this document"),
        (name = "open311", description = "Open311 GeoReport v2 (JSON and XML)"),
        (name = "ogc", description = "OGC API – Features (its own OpenAPI document is /ogc/api)"),
    ),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key issued by the city (`zglos apikey add`): analysts' keys open \
                         internal fields",
                    ))
                    .build(),
            ),
        );
    }
}

/// Routes that are not API and so are plain axum routes, not in the document, by design:
/// (method, path as routed). `*` is any method.
pub const UNDOCUMENTED: &[(&str, &str)] = &[
    // The residents' and staff's web pages (a report's tracking page is `/r/{id}`).
    ("GET", "/r/{id}"),
    ("GET", "/staff"),
    ("GET", "/stats"),
    // MapLibre GL JS, served from web/node_modules.
    ("*", "/vendor/maplibre-gl"),
    ("*", "/vendor/maplibre-gl/"),
    ("*", "/vendor/maplibre-gl/{*path}"),
    // JSON 404s for unknown API and OGC paths, and the trailing-slash alias of the OGC landing page.
    ("*", "/api/{*rest}"),
    ("GET", "/ogc/"),
    ("GET", "/ogc/{*rest}"),
    // Everything else: the static files of web/public.
    ("*", "fallback"),
];

/// The axum route of a documented path. axum takes one whole segment per parameter, so a segment
/// that mixes text and parameters is routed as one parameter and its handler reads the rest: a
/// parameter followed by a suffix keeps its name (`{y}.mvt` → `{y}`), any other mix is `{file}`
/// (`reports.{format}`, `{resource}.{format}`).
pub fn axum_path(documented: &str) -> String {
    documented
        .split('/')
        .map(|segment| {
            let params = segment.matches('{').count();
            let plain = segment.starts_with('{') && segment.ends_with('}') && params == 1;
            if params == 0 || plain {
                segment.to_owned()
            } else if params == 1 && segment.starts_with('{') {
                let end = segment.find('}').unwrap_or(segment.len() - 1);
                segment[..=end].to_owned()
            } else {
                "{file}".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Registers documented handlers whose paths axum cannot route as written (see [`axum_path`]):
/// like `OpenApiRouter::routes`, with the route derived from the documented path.
pub trait RoutesExt<S> {
    fn templated_routes(self, routes: UtoipaMethodRouter<S>) -> Self;
}

impl<S: Send + Sync + Clone + 'static> RoutesExt<S> for OpenApiRouter<S> {
    fn templated_routes(mut self, (schemas, paths, method_router): UtoipaMethodRouter<S>) -> Self {
        for path in paths.paths.keys() {
            self = self.route(&axum_path(path), method_router.clone());
        }
        let api = self.get_openapi_mut();
        for (path, item) in paths.paths {
            if let Some(it) = api.paths.paths.get_mut(&path) {
                it.merge_operations(item);
            } else {
                api.paths.paths.insert(path, item);
            }
        }
        api.components
            .get_or_insert_with(Default::default)
            .schemas
            .extend(schemas);
        self
    }
}

/// The document, generated once from the routers.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| super::documented().into_openapi())
}

/// The document as served at `/openapi.json`.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serializes")
    })
}

#[cfg(test)]
mod tests {
    use super::axum_path;

    #[test]
    fn documented_paths_map_to_routes() {
        assert_eq!(axum_path("/api/v1/reports/{id}"), "/api/v1/reports/{id}");
        assert_eq!(
            axum_path("/tiles/reports/{z}/{x}/{y}.mvt"),
            "/tiles/reports/{z}/{x}/{y}"
        );
        assert_eq!(
            axum_path("/api/v1/exports/reports.{format}"),
            "/api/v1/exports/{file}"
        );
        assert_eq!(
            axum_path("/open311/v2/services/{service_code}.{format}"),
            "/open311/v2/services/{file}"
        );
        assert_eq!(axum_path("/tiles/reports.json"), "/tiles/reports.json");
    }
}
