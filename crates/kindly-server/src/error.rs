//! API errors: a stable code and a human sentence, as JSON. Error kinds become HTTP statuses in
//! exactly one place ([`status_for`]); a 5xx body never leaks internals.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kindly_core::{ErrorKind, StoreError, ValidationError};
use kindly_pipeline::PipelineError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error answered to an API caller.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// Every error's body.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail<'a> {
    /// Stable, for programs: `invalid_json`, `invalid_query`, `invalid_field`, `not_found`,
    /// `conflict`, `payload_too_large`, `backlog_full`, `overloaded`, `unavailable`, …
    #[schema(example = "invalid_field")]
    code: &'a str,
    /// A sentence for a person.
    #[schema(example = "body: must not be empty or only whitespace")]
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} was not found"))
    }

    pub fn invalid(e: ValidationError) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.to_string())
    }
}

/// The one mapping from error kinds to HTTP statuses and codes.
pub fn status_for(kind: ErrorKind) -> (StatusCode, &'static str) {
    match kind {
        ErrorKind::InvalidInput => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
        ErrorKind::Overloaded => (StatusCode::TOO_MANY_REQUESTS, "overloaded"),
        ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn from_kind(kind: ErrorKind, message: String, error: &dyn std::error::Error) -> ApiError {
    let (status, code) = status_for(kind);
    if status.is_server_error() {
        tracing::error!(error = %error, source = ?error.source(), "request failed");
        let message = match kind {
            ErrorKind::Unavailable => "a dependency of Kindly is unavailable; please retry shortly",
            _ => "Kindly hit an internal error; it has been logged",
        };
        return ApiError::new(status, code, message);
    }
    ApiError::new(status, code, message)
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        from_kind(e.kind(), e.to_string(), &e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        from_kind(e.kind(), e.to_string(), &e)
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::invalid(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: &self.message } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if matches!(self.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// `axum::Json`, with rejections answered in Kindly's error format.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let (code, message) = match &r {
        JsonRejection::JsonDataError(e) => {
            ("invalid_field", format!("the JSON has the wrong shape: {}", innermost(e)))
        }
        JsonRejection::JsonSyntaxError(_) => {
            ("invalid_json", "the body is not valid JSON (or not UTF-8)".to_owned())
        }
        JsonRejection::MissingJsonContentType(_) => (
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`".to_owned(),
        ),
        JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload_too_large", "the body is larger than this server accepts".to_owned())
        }
        _ => ("invalid_body", r.body_text()),
    };
    ApiError::new(r.status(), code, message)
}

/// The deepest cause of an error: for a JSON body of the wrong shape, serde's own sentence with
/// the path to the field at fault (``customer.id: invalid type: integer `7`, expected a string at
/// line 1 column 30``), without axum's "Failed to deserialize the JSON body into the target type"
/// in front of it.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// `axum::Json` responses, re-exported so handlers read `Json(..)` both ways.
impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A path parameter; one that does not parse names something that cannot exist: 404.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::not_found(format!("`{}`", parts.uri.path())))
            }
            Err(e) => Err(ApiError::new(e.status(), "invalid_path", e.body_text())),
        }
    }
}

/// Query parameters, with rejections in Kindly's error format. A parameter given blank
/// (`?status=&q=parcel`, as an HTML form sends an empty field) counts as not given: blank
/// filters are no filters.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let given = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .filter(|(_, value)| !value.trim().is_empty());
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(given).finish();
        // The path names the parameter at fault: "limit: invalid digit found in string".
        let parse = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(parse).map(Self).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", format!("invalid query string: {e}"))
        })
    }
}
