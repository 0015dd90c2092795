//! `POST /v1/extract`: one document or a batch, through admission control
//! and the deadline, gathered with other requests into the engine's pool.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use edgemine::Extraction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::App;
use super::gather::Job;
use crate::document::{DocumentId, DocumentOptions, ErrorDetail, Extracted, word_count};

/// A request: one document (`text`, optional `id`) or a batch
/// (`documents`), and options for all of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Dr. Anna Keller inspected the Hamburg plant of Siemens.", "options": {"tasks": ["entities"], "offsets": "utf16"}}))]
pub struct ExtractRequest {
    /// One document's text (give `text` or `documents`, not both).
    #[serde(default)]
    pub text: Option<String>,
    /// The document's id, echoed back (with `text`).
    #[serde(default)]
    pub id: Option<DocumentId>,
    /// A batch of documents (give `text` or `documents`, not both).
    #[serde(default)]
    pub documents: Option<Vec<BatchDocument>>,
    /// Options for every document of the request.
    #[serde(default)]
    pub options: DocumentOptions,
}

/// A document of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDocument {
    /// Its id, echoed back with its result.
    #[serde(default)]
    pub id: Option<DocumentId>,
    /// Its text.
    pub text: String,
}

/// The answer to a batch: one result per document, in request order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    /// Each document's extraction, or its error.
    pub results: Vec<BatchResult>,
    /// How many documents failed.
    pub errors: usize,
}

/// One document's result in a batch: its extraction, or why it failed
/// (the others are unaffected).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchResult {
    /// The document failed.
    Failed {
        /// Its id, as sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<DocumentId>,
        /// Why.
        error: ErrorDetail,
    },
    /// The document's extraction.
    Extracted(Extracted),
}

/// The body of every error answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error answer: a status, the JSON body, and a Retry-After when
/// trying again later can help.
struct Refusal {
    status: StatusCode,
    detail: ErrorDetail,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, detail: ErrorDetail::new(code, message), retry_after: None }
    }

    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The status of a core error for a single document.
    fn from_core(error: &edgemine::Error) -> Self {
        use edgemine::Error as E;
        let status = match error {
            E::EmptyDocument | E::InvalidUtf8 { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            E::DocumentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::InvalidOption { .. } | E::TaskUnavailable { .. } => StatusCode::BAD_REQUEST,
            E::ModelNotFound { .. } | E::ModelCorrupt { .. } | E::ModelUnsupported { .. } | E::Inference(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self { status, detail: error.into(), retry_after: None }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ErrorResponse { error: self.detail })).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Extract entities, key phrases, triples and the parse from one document
/// or a batch.
#[utoipa::path(
    post,
    path = "/v1/extract",
    tag = "extract",
    request_body = ExtractRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One document (`text`): its extraction. A batch (`documents`): a result per document; a failed document fails alone", body = Extracted),
        (status = 200, description = "A batch", body = BatchResponse),
        (status = 400, description = "Not a valid request (INVALID_REQUEST), an option out of range (INVALID_OPTION) or a task the model cannot do (TASK_UNAVAILABLE)", body = ErrorResponse),
        (status = 401, description = "Missing or wrong bearer token (UNAUTHORIZED)", body = ErrorResponse),
        (status = 413, description = "Body, batch or document over its limit (PAYLOAD_TOO_LARGE, BATCH_TOO_LARGE, DOCUMENT_TOO_LARGE)", body = ErrorResponse),
        (status = 422, description = "The document has nothing to extract from (EMPTY_DOCUMENT)", body = ErrorResponse),
        (status = 429, description = "Queue full (OVERLOADED): retry after the Retry-After seconds", body = ErrorResponse),
        (status = 503, description = "Models still loading (NOT_READY) or the deadline passed (TIMEOUT)", body = ErrorResponse),
    )
)]
pub async fn extract(State(app): State<Arc<App>>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let arrived = Instant::now();
    let (response, documents) = match answer(&app, &headers, body, arrived).await {
        Ok((response, documents)) => (response, documents),
        Err(refusal) => {
            app.metrics.error(&refusal.detail.code);
            (refusal.into_response(), 0)
        }
    };
    let status = response.status().as_u16();
    let seconds = arrived.elapsed().as_secs_f64();
    app.metrics.requests.get_or_create(&crate::metrics::StatusLabel { status }).inc();
    app.metrics.request_seconds.observe(seconds);
    tracing::info!(target: "edgemine::http", method = "POST", path = "/v1/extract", status, documents, ms = seconds * 1e3, "request");
    response
}

/// The answer to one request, with how many documents it carried; or why
/// it was refused.
async fn answer(
    app: &App,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    arrived: Instant,
) -> Result<(Response, usize), Refusal> {
    let engine = admitted_engine(app, headers)?;
    let Request { documents, single, options } = read_request(app, body)?;
    let words: Vec<usize> = documents.iter().map(|d| word_count(&d.text)).collect();
    let (ids, texts): (Vec<Option<DocumentId>>, Vec<String>) = documents.into_iter().map(|d| (d.id, d.text)).unzip();
    let count = texts.len();
    let results = run(app, engine, texts, options.apply(&app.defaults), arrived).await?;
    for (&words, result) in words.iter().zip(&results) {
        match result {
            Ok(_) => app.metrics.document("ok", words),
            Err(e) => app.metrics.document(e.code(), 0),
        }
    }
    if single {
        let id = ids.into_iter().next();
        let result = results.into_iter().next();
        return match (id, result) {
            (Some(id), Some(Ok(extraction))) => Ok((Json(Extracted { id, extraction }).into_response(), 1)),
            (_, Some(Err(error))) => Err(Refusal::from_core(&error)),
            _ => Err(Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the engine returned no result")),
        };
    }
    let results: Vec<BatchResult> = ids.into_iter().zip(results).map(|(id, result)| batch_result(id, result)).collect();
    for result in &results {
        if let BatchResult::Failed { error, .. } = result {
            app.metrics.error(&error.code);
        }
    }
    let errors = results.iter().filter(|r| matches!(r, BatchResult::Failed { .. })).count();
    Ok((Json(BatchResponse { results, errors }).into_response(), count))
}

/// The engine, for a caller with the right token once the models have loaded.
fn admitted_engine(app: &App, headers: &HeaderMap) -> Result<Arc<edgemine::Engine>, Refusal> {
    if let Some(token) = &app.token
        && !token.allows(headers)
    {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "missing or wrong bearer token: send `Authorization: Bearer <token>` with the token of the server's --token-file",
        ));
    }
    app.engine.get().cloned().ok_or_else(|| {
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "NOT_READY", "the models are still loading; retry shortly")
            .retry_after(1)
    })
}

/// A request read and checked: its documents, whether it was one `text`,
/// and its options.
struct Request {
    documents: Vec<BatchDocument>,
    single: bool,
    options: DocumentOptions,
}

/// The request in `body`, within the server's limits.
fn read_request(app: &App, body: Result<Bytes, BytesRejection>) -> Result<Request, Refusal> {
    let invalid = |message: String| Refusal::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message);
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!(
                "the request body is over {} bytes (--max-body-bytes); send fewer documents a request",
                app.max_body_bytes
            ),
        ),
        _ => invalid(format!("cannot read the request body: {rejection}")),
    })?;
    let request: ExtractRequest = serde_json::from_slice(&body).map_err(|e| {
        invalid(format!("the body is not a valid request: {e}. Send JSON: {{\"text\": \"…\"}} or {{\"documents\": [{{\"id\": …, \"text\": \"…\"}}]}}"))
    })?;
    let (documents, single) = match (request.text, request.documents) {
        (Some(text), None) => (vec![BatchDocument { id: request.id, text }], true),
        (None, Some(documents)) if request.id.is_none() => (documents, false),
        (None, Some(_)) => {
            return Err(invalid("`id` goes with `text`; in a batch, give each document its own `id`".into()));
        }
        _ => {
            return Err(invalid(
                "give either `text` (one document) or `documents` (a batch), not both and not neither".into(),
            ));
        }
    };
    if documents.len() > app.max_batch {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BATCH_TOO_LARGE",
            format!(
                "{} documents in one request, over the limit of {} (--max-batch); split the batch",
                documents.len(),
                app.max_batch
            ),
        ));
    }
    Ok(Request { documents, single, options: request.options })
}

/// The extraction of each of `texts`, through admission control and the
/// gatherer, within the request's deadline.
async fn run(
    app: &App,
    engine: Arc<edgemine::Engine>,
    texts: Vec<String>,
    options: edgemine::Options,
    arrived: Instant,
) -> Result<Vec<edgemine::Result<Extraction>>, Refusal> {
    let Some(ticket) = app.admission.admit() else {
        return Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "OVERLOADED",
            "the server is at its limit of queued requests (--concurrency + --queue); retry after the Retry-After seconds",
        )
        .retry_after(app.admission.retry_after_secs()));
    };
    let deadline = tokio::time::Instant::from_std(arrived + app.timeout);
    let (reply, done) = tokio::sync::oneshot::channel();
    if !app.gatherer.submit(Job { engine, texts, options, ticket, reply }) {
        return Err(Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the engine's queue is gone"));
    }
    match tokio::time::timeout_at(deadline, done).await {
        Err(_) => Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            format!(
                "no answer within {:.1} s (--request-timeout); send smaller batches or retry later",
                app.timeout.as_secs_f64()
            ),
        )
        .retry_after(app.admission.retry_after_secs())),
        Ok(Err(_)) => Err(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the extraction panicked; the server keeps serving, report it with the request",
        )),
        Ok(Ok(results)) => Ok(results),
    }
}

fn batch_result(id: Option<DocumentId>, result: edgemine::Result<Extraction>) -> BatchResult {
    match result {
        Ok(extraction) => BatchResult::Extracted(Extracted { id, extraction }),
        Err(error) => BatchResult::Failed { id, error: (&error).into() },
    }
}
