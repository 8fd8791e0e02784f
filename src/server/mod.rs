//! `geonews serve`: the HTTP front end. The API answers with the JSON the CLI prints for the
//! same request (the same services, the same serializer), and the web page is served from
//! the binary itself.

mod api;
mod assets;
mod feeds;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::index::LocalIndex;
use crate::service::{IngestService, SearchService};
use crate::watch::WatchStore;

pub use api::ApiError;

/// The port `geonews serve` listens on unless told otherwise (no well-known search engine
/// uses it).
pub const DEFAULT_PORT: u16 = 4747;

/// How the server listens and what it accepts.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// A bearer token every API route requires.
    pub token: Option<String>,
    /// Serving beyond loopback without a token was asked for.
    pub public: bool,
    /// Saved searches can be read, not added or removed.
    pub read_only: bool,
    pub limits: Limits,
}

/// What one request may ask for and take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request that takes longer is answered 408.
    pub request_timeout: Duration,
    /// A client that has not sent its request's headers by then is disconnected.
    pub header_timeout: Duration,
    /// Characters of a query.
    pub max_query_chars: usize,
    /// Hits (or values) one request may ask for.
    pub max_limit: usize,
    /// Requests answered at once; more are turned away with 503 rather than queued.
    pub max_concurrent: usize,
    /// Bytes of a request body.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            max_query_chars: 4096,
            max_limit: 1000,
            max_concurrent: 64,
            max_body_bytes: 1 << 20,
        }
    }
}

/// What every handler shares: the services, the limits, and the right to run a search.
pub struct AppState {
    pub search: SearchService<LocalIndex>,
    pub ingest: IngestService,
    pub watches: WatchStore,
    pub limits: Limits,
    pub read_only: bool,
    /// Searches run this many at once.
    workers: Semaphore,
}

impl AppState {
    pub fn new(
        search: SearchService<LocalIndex>,
        ingest: IngestService,
        watches: WatchStore,
        limits: Limits,
        read_only: bool,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            search,
            ingest,
            watches,
            limits,
            read_only,
            workers: Semaphore::new(cores),
        }
    }
}

/// The API and the web page, with limits, compression and, when a token is set, bearer
/// authentication on the API.
pub fn router(state: Arc<AppState>, token: Option<String>) -> Router {
    let limits = state.limits;
    let api = api::routes()
        .merge(feeds::routes())
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_token,
        ));
    Router::new()
        .merge(api)
        .merge(assets::routes())
        .fallback(not_found)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(api::panicked))
                .layer(HandleErrorLayer::new(api::overload))
                .layer(tower::load_shed::LoadShedLayer::new())
                .layer(tower::limit::ConcurrencyLimitLayer::new(
                    limits.max_concurrent,
                ))
                .layer(tower::timeout::TimeoutLayer::new(limits.request_timeout))
                .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
                .layer(CompressionLayer::new()),
        )
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "no such page or API route").into_response()
}

/// Every API route answers 401 without the bearer token, when the server has one. The
/// comparison takes the same time however much of the token matches.
async fn require_token(
    State(token): State<Arc<Option<String>>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = token.as_deref() else {
        return next.run(request).await;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        next.run(request).await
    } else {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs `Authorization: Bearer TOKEN` (the --token it was started with)",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("a header"),
        );
        response
    }
}

/// Serves `router` on `listener` until Ctrl-C: one task per connection, each closed when its
/// client does not send a request's headers within `header_timeout`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    header_timeout: Duration,
) -> std::io::Result<()> {
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                // Out of file descriptors, or a connection reset before it was accepted: the
                // next one may do.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away mid-request is no error of ours.
            let _ = connection.await;
        });
    }
}
