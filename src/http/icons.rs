//! `/icons/{code}.svg`: the categories' SVG pictograms, from memory.
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::schema::ErrorBody;
use super::AppState;
use crate::http::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(icon))
}

/// An icon opened on its own runs nothing and loads nothing.
const ICON_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// A category's icon: a 24×24 SVG pictogram drawn in `currentColor`
///
/// The URL is the category's `icon_url` in `/api/v1/categories`. Icons change only with a new
/// import of the city.
#[utoipa::path(get, path = "/icons/{file}", tag = "vocabulary", operation_id = "category_icon",
    params(("file" = String, Path, description = "The category code with `.svg`, e.g. pothole.svg")),
    responses(
        (status = 200, description = "SVG image", body = String, content_type = "image/svg+xml"),
        (status = 404, description = "No icon of that name: the body names the field", body = ErrorBody),
    ))]
async fn icon(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let svg = file
        .strip_suffix(".svg")
        .and_then(|code| state.icons.get(code))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_icon",
                format!(
                    "no category icon {file:?}: the categories' icon_url names those there are"
                ),
            )
            .at("file")
        })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(ICON_CSP),
            ),
        ],
        svg.clone(),
    )
        .into_response())
}
