//! The OpenAPI 3.0 description of `/ogc` (its `service-desc`).
use serde_json::{json, Value};

use super::{DEFAULT_LIMIT, MAX_LIMIT};

pub fn document(base: &str, city: &str) -> Value {
    let collection_id = json!({"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": ["reports", "districts", "reports-internal"]}});
    let f = json!({"name": "f", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "html"]}, "style": "form", "explode": false});
    let items_params = json!([
        collection_id,
        {"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
         "description": format!("Items per page; above {MAX_LIMIT} the maximum applies."),
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
        {"name": "offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
         "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}},
        {"name": "bbox-crs", "in": "query", "required": false, "schema": {"type": "string", "format": "uri", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}},
        {"name": "datetime", "in": "query", "required": false, "description": "Reported at: an instant, a date, or start/end with '..' for an open end.", "schema": {"type": "string"}},
        {"name": "filter", "in": "query", "required": false, "description": "CQL2 expression over the collection's queryables.", "schema": {"type": "string"}},
        {"name": "filter-lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"}},
        {"name": "filter-crs", "in": "query", "required": false, "schema": {"type": "string", "format": "uri", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}},
        f,
    ]);
    let ok = |desc: &str, ty: &str| json!({"200": {"description": desc, "content": {ty: {}}}, "400": {"description": "Invalid parameter: {\"error\": {code, message, field}}"}, "404": {"description": "Not found"}});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": format!("Zgłoś – {city} reports (OGC API – Features)"),
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Residents' reports and the city's districts. Reports carry public fields; reports-internal (analysts, Authorization: Bearer <key>) adds unit, routing rule and timing, never contact data.",
            "license": {"name": "Districts: ODbL 1.0", "url": "https://opendatacommons.org/licenses/odbl/1-0/"}
        },
        "servers": [{"url": base}],
        "paths": {
            "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "parameters": [f], "responses": ok("Landing page", "application/json")}},
            "/api": {"get": {"summary": "This API definition", "operationId": "getApi", "parameters": [f], "responses": ok("OpenAPI 3.0", "application/vnd.oai.openapi+json;version=3.0")}},
            "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance", "parameters": [f], "responses": ok("Conformance", "application/json")}},
            "/collections": {"get": {"summary": "Collections", "operationId": "getCollections", "parameters": [f], "responses": ok("Collections", "application/json")}},
            "/collections/{collectionId}": {"get": {"summary": "One collection", "operationId": "describeCollection", "parameters": [collection_id, f], "responses": ok("Collection", "application/json")}},
            "/collections/{collectionId}/queryables": {"get": {"summary": "Properties a filter may use (JSON Schema)", "operationId": "getQueryables", "parameters": [collection_id, f], "responses": ok("Queryables", "application/schema+json")}},
            "/collections/{collectionId}/items": {"get": {"summary": "Features, filtered and paged", "operationId": "getFeatures", "parameters": items_params, "responses": ok("Features", "application/geo+json")}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"summary": "One feature", "operationId": "getFeature",
                "parameters": [collection_id, {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}}, f],
                "responses": ok("Feature", "application/geo+json")}},
        }
    })
}
