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
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use subtle::ConstantTimeEq;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

use crate::engine::Engine;
use crate::service::{IngestService, SearchService};
use crate::watch::WatchStore;

pub use api::ApiError;
pub use feeds::url_encode;

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

/// What every handler shares: the services and the limits.
pub struct AppState {
    pub search: SearchService<Engine>,
    pub ingest: IngestService,
    pub watches: WatchStore,
    pub limits: Limits,
    pub read_only: bool,
}

impl AppState {
    pub fn new(
        search: SearchService<Engine>,
        ingest: IngestService,
        watches: WatchStore,
        limits: Limits,
        read_only: bool,
    ) -> Self {
        AppState {
            search,
            ingest,
            watches,
            limits,
            read_only,
        }
    }
}

/// Who may use the server: the holders of a token, or, without one on loopback, only pages
/// that reached it as a loopback host.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// A bearer token every API route and feed requires.
    pub token: Option<String>,
    /// Requests must name a loopback host: another site's page, resolving its own name to
    /// 127.0.0.1 (DNS rebinding), is turned away.
    pub loopback_hosts_only: bool,
}

/// The API and the web page, with limits, compression, JSON errors, and the access rules.
pub fn router(state: Arc<AppState>, access: Access) -> Router {
    let limits = state.limits;
    let access = Arc::new(access);
    let api = api::routes()
        .merge(feeds::routes())
        .layer(middleware::from_fn_with_state(
            Arc::clone(&access),
            require_token,
        ));
    Router::new()
        .merge(api)
        .merge(assets::routes())
        .route("/healthz", axum::routing::get(api::health))
        .fallback(not_found)
        .with_state(state)
        .layer(middleware::from_fn_with_state(access, check_host))
        // Bodies are read through axum's limit, whose 413 the layer below makes JSON.
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::map_response(json_errors))
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(api::panicked))
                .layer(HandleErrorLayer::new(api::overload))
                .layer(tower::load_shed::LoadShedLayer::new())
                .layer(tower::limit::ConcurrencyLimitLayer::new(
                    limits.max_concurrent,
                ))
                .layer(tower::timeout::TimeoutLayer::new(limits.request_timeout))
                .layer(CompressionLayer::new()),
        )
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "no such page or API route").into_response()
}

/// An error that axum or a layer answered in plain text (413, 405, a bad path) becomes the
/// JSON error every route gives, keeping its other headers (`Allow` on a 405).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    let failed = status.is_client_error() || status.is_server_error();
    if !failed || is_json {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let mut json = ApiError::new(status, reason).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

/// Turns away a request for another host name when only loopback ones are allowed.
async fn check_host(
    State(access): State<Arc<Access>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    if access.loopback_hosts_only {
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if !is_loopback_host(host) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this server answers only requests for a loopback host, not {host:?}: \
                     start it with --token to serve other names"
                ),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Every API route answers 401 without the bearer token, when the server has one; a feed also
/// takes it as `?token=`, since feed readers cannot send headers. The comparison takes the
/// same time however much of the token matches.
async fn require_token(
    State(access): State<Arc<Access>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = access.token.as_deref() else {
        return next.run(request).await;
    };
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let from_query = request
        .uri()
        .path()
        .starts_with("/feeds/")
        .then(|| request.uri().query())
        .flatten()
        .and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "token")
                .map(|(_, token)| token.into_owned())
        });
    let given = from_header
        .map(str::to_owned)
        .or(from_query)
        .unwrap_or_default();
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        next.run(request).await
    } else {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs `Authorization: Bearer TOKEN` (the --token it was started with; \
             feeds also take ?token=TOKEN)",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_told_apart_from_other_names() {
        for host in [
            "localhost",
            "localhost:4747",
            "127.0.0.1:4747",
            "127.1.2.3",
            "[::1]:80",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:4747",
            "10.0.0.1:4747",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
