//! The API routes: each takes the CLI's parameters by the same names and answers with the JSON
//! `geonews <command> --format json` prints.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::analytics::{CoocOptions, CoocOrder, Interval};
use crate::backend::SearchBackend;
use crate::output;
use crate::results::Sort;
use crate::service::{
    CoocRequest, FacetsRequest, SearchOptions, SearchRequest, ServiceError, TimelineRequest,
};
use crate::watch::WatchError;

type Shared = State<Arc<AppState>>;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/search", get(search))
        .route("/api/facets", get(facets))
        .route("/api/timeline", get(timeline))
        .route("/api/cooc", get(cooc))
        .route("/api/related/{id}", get(related))
        .route("/api/articles/{id}", get(article))
        .route("/api/articles/{id}/explain", get(explain))
        .route("/api/stats", get(stats))
        .route("/api/fields", get(fields))
        .route("/api/extract", post(extract))
}

/// An error as every route reports it: `{"error": {"message", "column", "suggestions"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Where in the query the problem starts (1-based, in characters).
    pub column: Option<usize>,
    pub suggestions: Vec<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    column: Option<usize>,
    suggestions: &'a [String],
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            column: None,
            suggestions: Vec::new(),
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                message: &self.message,
                column: self.column,
                suggestions: &self.suggestions,
            },
        };
        (self.status, json_body(&body)).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        match error {
            ServiceError::Query(error) => ApiError {
                status: StatusCode::BAD_REQUEST,
                message: error.message,
                column: Some(error.column),
                suggestions: error.suggestions,
            },
            ServiceError::NotFound { .. } | ServiceError::Watch(WatchError::Unknown(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, error.to_string())
            }
            ServiceError::Watch(WatchError::Exists(_)) => {
                ApiError::new(StatusCode::CONFLICT, error.to_string())
            }
            usage if usage.is_usage() => ApiError::bad_request(usage.to_string()),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

/// Pretty JSON, as `--format json` prints it.
fn json_body<T: Serialize + ?Sized>(value: &T) -> Response {
    let mut body = Vec::new();
    output::write_json(&mut body, value).expect("writing to memory cannot fail");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Runs a service call on the process's compute threads (rayon's, one per core: searches take
/// CPU, not I/O, and a thread that stays keeps its caches warm), and stops waiting for it after
/// the request timeout (408); a panic in it becomes a 500. A call given up on still runs to its
/// end, holding its core until then.
pub(super) async fn run_service<T, F>(state: Arc<AppState>, call: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> Result<T, ServiceError> + Send + 'static,
{
    let timeout = state.limits.request_timeout;
    let (answer, answered) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        // A request that timed out while this waited for a thread is gone: skip its work.
        if answer.is_closed() {
            return;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&state)));
        // The request may have timed out meanwhile: then nobody needs the answer.
        let _ = answer.send(outcome);
    });
    match tokio::time::timeout(timeout, answered).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request took longer than this server allows (--request-timeout)",
        )),
        Ok(Err(_)) | Ok(Ok(Err(_))) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request failed inside geonews",
        )),
        Ok(Ok(Ok(outcome))) => outcome.map_err(ApiError::from),
    }
}

/// A service call's answer as the JSON the CLI prints.
pub(super) async fn answer<T, F>(state: Arc<AppState>, call: F) -> Result<Response, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&AppState) -> Result<T, ServiceError> + Send + 'static,
{
    Ok(json_body(&run_service(state, call).await?))
}

/// Query-string parameters, with a JSON error (not axum's plain text) when they do not parse.
struct Params<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(at) = parts.uri.query().and_then(first_invalid_utf8) {
            return Err(ApiError::bad_request(format!(
                "the query string is not UTF-8 once decoded (byte {at} of the query string)"
            )));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| Params(params))
            .map_err(|rejection: QueryRejection| {
                ApiError::bad_request(format!("bad parameters: {}", rejection.body_text()))
            })
    }
}

/// Where (1-based, in bytes of the raw query string) percent-decoding stops giving UTF-8, if
/// it does: form decoding would replace such bytes silently.
fn first_invalid_utf8(raw: &str) -> Option<usize> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut starts = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = |i: usize| (bytes.get(i).copied()).and_then(|b| (b as char).to_digit(16));
        starts.push(at);
        match (bytes[at], hex(at + 1), hex(at + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                at += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    let error = std::str::from_utf8(&decoded).err()?;
    Some(starts[error.valid_up_to()] + 1)
}

impl AppState {
    /// A query as the API accepts it: bounded in length, without control characters.
    pub(super) fn checked_query(&self, query: Option<String>) -> Result<String, ApiError> {
        let query = query.unwrap_or_default();
        let chars = query.chars().count();
        if chars > self.limits.max_query_chars {
            return Err(ApiError::bad_request(format!(
                "the query has {chars} characters; this server takes at most {}",
                self.limits.max_query_chars
            )));
        }
        if let Some((column, _)) = query.chars().enumerate().find(|(_, c)| c.is_control()) {
            return Err(ApiError {
                column: Some(column + 1),
                ..ApiError::bad_request("the query holds a control character")
            });
        }
        Ok(query)
    }

    fn checked_limit(
        &self,
        name: &str,
        value: Option<usize>,
        default: usize,
    ) -> Result<usize, ApiError> {
        let value = value.unwrap_or(default);
        if value > self.limits.max_limit {
            return Err(ApiError::bad_request(format!(
                "{name}={value} is more than this server gives at once ({})",
                self.limits.max_limit
            )));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_found_after_percent_decoding() {
        assert_eq!(first_invalid_utf8("q=sanctions%20country%3ARussia"), None);
        assert_eq!(first_invalid_utf8("q=%C3%A9t%C3%A9"), None);
        assert_eq!(first_invalid_utf8("q=ab%FF%FE"), Some(5));
        assert_eq!(first_invalid_utf8("q=%E2%82"), Some(3));
    }
}

#[derive(serde::Deserialize)]
struct SearchParams {
    q: Option<String>,
    facets: Option<String>,
    facet_limit: Option<usize>,
    sort: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
    collapse: Option<bool>,
}

/// Fields one search may count: each is a pass over the matches.
const MAX_FACETS: usize = 16;

/// The `facets` list: comma-separated, empty items and repeats dropped, at most
/// [`MAX_FACETS`] (checked as it is read: a long list costs nothing).
fn facet_list(text: &str) -> Result<Vec<String>, ApiError> {
    let mut items: Vec<String> = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        if items.iter().any(|seen| seen == item) {
            continue;
        }
        if items.len() == MAX_FACETS {
            return Err(ApiError::bad_request(format!(
                "more than {MAX_FACETS} facets asked for: a search counts at most {MAX_FACETS}"
            )));
        }
        items.push(item.to_owned());
    }
    Ok(items)
}

fn sort(name: Option<&str>) -> Result<Sort, ApiError> {
    Ok(match name.unwrap_or("relevance") {
        "relevance" => Sort::Relevance,
        "date" => Sort::OldestFirst,
        "-date" => Sort::NewestFirst,
        other => {
            return Err(ApiError::bad_request(format!(
                "sort={other}: choose relevance, date or -date"
            )));
        }
    })
}

async fn search(state: Shared, Params(params): Params<SearchParams>) -> Result<Response, ApiError> {
    let State(state) = state;
    let facets = facet_list(params.facets.as_deref().unwrap_or("country,topic"))?;
    let request = SearchRequest {
        query: state.checked_query(params.q)?,
        options: SearchOptions {
            sort: sort(params.sort.as_deref())?,
            limit: state.checked_limit("limit", params.limit, 10)?,
            offset: params.offset.unwrap_or(0),
            facets,
            facet_limit: state.checked_limit("facet_limit", params.facet_limit, 10)?,
            collapse: params.collapse.unwrap_or(false),
        },
    };
    answer(state, move |state| state.search.search(&request)).await
}

#[derive(serde::Deserialize)]
struct FacetsParams {
    field: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    count_clusters: Option<bool>,
}

async fn facets(state: Shared, Params(params): Params<FacetsParams>) -> Result<Response, ApiError> {
    let State(state) = state;
    let request = FacetsRequest {
        field: params
            .field
            .ok_or_else(|| ApiError::bad_request("field= is required: country, topic, ..."))?,
        query: state.checked_query(params.q)?,
        limit: state.checked_limit("limit", params.limit, 20)?,
        count_clusters: params.count_clusters.unwrap_or(false),
    };
    answer(state, move |state| state.search.facets(&request)).await
}

#[derive(serde::Deserialize)]
struct TimelineParams {
    q: Option<String>,
    by: Option<String>,
    split: Option<String>,
    top: Option<usize>,
}

async fn timeline(
    state: Shared,
    Params(params): Params<TimelineParams>,
) -> Result<Response, ApiError> {
    let State(state) = state;
    let by = match params.by.as_deref().unwrap_or("month") {
        "day" => Interval::Day,
        "week" => Interval::Week,
        "month" => Interval::Month,
        "year" => Interval::Year,
        other => {
            return Err(ApiError::bad_request(format!(
                "by={other}: choose day, week, month or year"
            )));
        }
    };
    let request = TimelineRequest {
        query: state.checked_query(params.q)?,
        by,
        split: params.split.filter(|field| !field.is_empty()),
        top: state.checked_limit("top", params.top, 5)?,
    };
    answer(state, move |state| state.search.timeline(&request)).await
}

#[derive(serde::Deserialize)]
struct CoocParams {
    field: Option<String>,
    field2: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    min_count: Option<u64>,
    limit: Option<usize>,
    size: Option<usize>,
}

async fn cooc(state: Shared, Params(params): Params<CoocParams>) -> Result<Response, ApiError> {
    let State(state) = state;
    let order = match params.sort.as_deref().unwrap_or("lift") {
        "lift" => CoocOrder::Lift,
        "count" => CoocOrder::Count,
        other => {
            return Err(ApiError::bad_request(format!(
                "sort={other}: choose lift or count"
            )));
        }
    };
    let request = CoocRequest {
        field: params
            .field
            .ok_or_else(|| ApiError::bad_request("field= is required: country, topic, ..."))?,
        second: params.field2.filter(|field| !field.is_empty()),
        query: state.checked_query(params.q)?,
        options: CoocOptions {
            min_count: params.min_count.unwrap_or(3),
            order,
            limit: state.checked_limit("limit", params.limit, 20)?,
        },
        size: state.checked_limit("size", params.size, 8)?,
    };
    answer(state, move |state| state.search.cooc(&request)).await
}

#[derive(serde::Deserialize)]
struct LimitParams {
    limit: Option<usize>,
}

async fn related(
    state: Shared,
    Path(id): Path<String>,
    Params(params): Params<LimitParams>,
) -> Result<Response, ApiError> {
    let State(state) = state;
    let limit = state.checked_limit("limit", params.limit, 10)?;
    answer(state, move |state| state.search.related(&id, limit)).await
}

async fn article(state: Shared, Path(id): Path<String>) -> Result<Response, ApiError> {
    let State(state) = state;
    answer(state, move |state| state.search.article(&id)).await
}

/// The stored article's entities as extraction finds them now, with the rule behind each
/// surface form (`extract --explain`), for the article view.
async fn explain(state: Shared, Path(id): Path<String>) -> Result<Response, ApiError> {
    let State(state) = state;
    answer(state, move |state| {
        let stored = state.search.article(&id)?;
        Ok(state.ingest.explain_stored(&stored))
    })
    .await
}

#[derive(serde::Deserialize)]
struct StatsParams {
    facet_limit: Option<usize>,
}

async fn stats(state: Shared, Params(params): Params<StatsParams>) -> Result<Response, ApiError> {
    let State(state) = state;
    let facet_limit = state.checked_limit("facet_limit", params.facet_limit, 5)?;
    answer(state, move |state| state.search.stats(facet_limit)).await
}

/// A facet field as the web page needs it to build its sidebar.
#[derive(Serialize)]
struct FieldInfo {
    name: String,
    /// The name a query uses (`org` for organizations).
    query_name: String,
    dictionary: Option<String>,
}

async fn fields(State(state): Shared) -> Response {
    let fields: Vec<FieldInfo> = state
        .search
        .schema()
        .fields
        .countable_names()
        .filter_map(|name| state.search.schema().fields.get(name))
        .map(|spec| FieldInfo {
            name: spec.name.clone(),
            query_name: spec.query_names.first().unwrap_or(&spec.name).clone(),
            dictionary: spec.dictionary.as_ref().map(ToString::to_string),
        })
        .collect();
    json_body(&fields)
}

#[derive(serde::Deserialize)]
struct ExtractParams {
    explain: Option<bool>,
}

/// Entities with their evidence for an article in the body: JSON (`Content-Type:
/// application/json`) or text with optional front matter.
async fn extract(
    state: Shared,
    headers: HeaderMap,
    Params(params): Params<ExtractParams>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let State(state) = state;
    let text = String::from_utf8(body.to_vec())
        .map_err(|error| ApiError::bad_request(format!("the body is not UTF-8: {error}")))?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let record = crate::ingest::record_from_body(&text, is_json).map_err(ApiError::bad_request)?;
    let explain = params.explain.unwrap_or(false);
    answer(state, move |state| {
        state.ingest.extract_one(record, explain)
    })
    .await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    articles: u64,
}

pub(super) async fn health(State(state): Shared) -> Result<Response, ApiError> {
    answer(state, |state| {
        let (articles, _) = state
            .search
            .backend()
            .count(&crate::query::ast::Query::All, &[])
            .map_err(ServiceError::backend)?;
        Ok(Health {
            status: "ok",
            articles,
        })
    })
    .await
}

/// A panic while answering is a 500 with a JSON error, never a dropped connection.
pub fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the request failed inside geonews",
    )
    .into_response()
}

/// Requests the server turns away: too slow (408), or too many at once (503).
pub async fn overload(error: tower::BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request took longer than this server allows (--request-timeout)",
        )
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is answering as many requests as it takes (--max-concurrent); try again",
        )
    } else {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}
