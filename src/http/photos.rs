//! `/api/v1/photos`: upload (re-encoded, metadata stripped) and download.
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use crate::domain::photo::{photo_json, Photo, MAX_UPLOAD_BYTES};
use crate::error::{ApiError, ApiResult};
use crate::storage::photos;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/photos",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/api/v1/photos/{id}", get(original))
        .route("/api/v1/photos/{id}/thumbnail", get(thumbnail))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "a photo may be at most 10 MB",
    )
    .at("file")
}

/// Takes `multipart/form-data` with a `file` field, or the image itself as the body.
async fn upload(
    State(state): State<AppState>,
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
    // Decoding and re-encoding is CPU work: keep it off the async workers.
    let photo = tokio::task::spawn_blocking(move || Photo::from_upload(&bytes))
        .await
        .map_err(ApiError::internal)??;
    let id = photos::insert(&state.pool, &photo).await?;
    let mut body = photo_json(&id);
    body["width"] = json!(photo.width);
    body["height"] = json!(photo.height);
    Ok((StatusCode::CREATED, Json(body)).into_response())
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

async fn original(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    serve(&state, &id, false).await
}

async fn thumbnail(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    serve(&state, &id, true).await
}
