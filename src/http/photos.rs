//! `/api/v1/photos`: upload (re-encoded, metadata stripped) and download.
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::limits::WriteLimit;
use super::schema::{self, ErrorBody, PhotoForm};
use super::AppState;
use crate::domain::photo::{Photo, MAX_UPLOAD_BYTES};
use crate::http::error::{ApiError, ApiResult};
use crate::storage::photos;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)))
        .routes(routes!(original))
        .routes(routes!(thumbnail))
}

/// How a stored photo is linked.
pub fn photo(id: &str) -> schema::Photo {
    schema::Photo {
        id: id.to_owned(),
        url: format!("/api/v1/photos/{id}"),
        thumbnail_url: format!("/api/v1/photos/{id}/thumbnail"),
        width: None,
        height: None,
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "a photo may be at most 10 MB",
    )
    .at("file")
}

/// Upload a photo (JPEG, PNG or WebP, at most 10 MB)
///
/// The image is decoded, turned upright, scaled to at most 2048 px and re-encoded as JPEG, which
/// drops all metadata (EXIF, GPS). Attach it to a report by listing its id in properties.photos.
/// Takes `multipart/form-data` with a `file` field, or the image itself as the body.
#[utoipa::path(post, path = "/api/v1/photos", tag = "photos",
    request_body(content(
        (PhotoForm = "multipart/form-data"),
        (Vec<u8> = "image/jpeg"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/webp"),
    )),
    responses(
        (status = 201, description = "Stored", body = schema::Photo),
        (status = 400, description = "Malformed form", body = ErrorBody),
        (status = 413, description = "Larger than 10 MB", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 429, description = "Too many anonymous writes from this address; Retry-After says when to retry", body = ErrorBody),
    ))]
async fn upload(
    State(state): State<AppState>,
    _limit: WriteLimit,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = if content_type.starts_with("multipart/form-data") {
        let mut multipart =
            <Multipart as axum::extract::FromRequest<AppState>>::from_request(request, &state)
                .await
                .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
        let mut file = None;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(ApiError::bad_request("invalid_multipart", e.body_text())),
            };
            if field.name() == Some("file") {
                file = Some(field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        ApiError::bad_request("invalid_multipart", e.body_text())
                    }
                })?);
                break;
            }
        }
        file.ok_or_else(|| {
            ApiError::bad_request(
                "missing_field",
                "send the photo in a form field named \"file\"",
            )
            .at("file")
        })?
    } else if content_type.starts_with("image/") {
        axum::body::to_bytes(request.into_body(), MAX_UPLOAD_BYTES + 1)
            .await
            .map_err(|_| too_large())?
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send multipart/form-data with a \"file\" field, or an image/jpeg, image/png or image/webp body",
        )
        .at("Content-Type"));
    };
    if bytes.is_empty() {
        return Err(ApiError::bad_request("empty_body", "the photo is empty").at("file"));
    }
    let (id, photo) = store(&state, bytes).await?;
    let body = schema::Photo {
        width: Some(photo.width),
        height: Some(photo.height),
        ..self::photo(&id)
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Decodes an uploaded photo, re-encodes it without its metadata and stores it, not yet part of
/// a report: its id and the photo.
pub async fn store(state: &AppState, bytes: axum::body::Bytes) -> ApiResult<(String, Photo)> {
    // Decoding and re-encoding is CPU work: keep it off the async workers.
    let photo = tokio::task::spawn_blocking(move || Photo::from_upload(&bytes))
        .await
        .map_err(ApiError::internal)??;
    let id = photos::insert(&state.pool, &photo).await?;
    Ok((id, photo))
}

async fn serve(state: &AppState, id: &str, thumb: bool) -> ApiResult<Response> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found(format!("no photo {id}")));
    }
    let bytes = photos::bytes(&state.pool, id, thumb)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no photo {id}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

/// A photo (JPEG)
#[utoipa::path(get, path = "/api/v1/photos/{id}", tag = "photos",
    params(("id" = String, Path, description = "Photo id (32 hex digits)")),
    responses(
        (status = 200, description = "JPEG", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 404, description = "No such photo", body = ErrorBody),
    ))]
async fn original(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    serve(&state, &id, false).await
}

/// A photo's thumbnail (JPEG, at most 320 px)
#[utoipa::path(get, path = "/api/v1/photos/{id}/thumbnail", tag = "photos",
    params(("id" = String, Path, description = "Photo id (32 hex digits)")),
    responses(
        (status = 200, description = "JPEG", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 404, description = "No such photo", body = ErrorBody),
    ))]
async fn thumbnail(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    serve(&state, &id, true).await
}
