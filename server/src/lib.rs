//! zportal's server: reads the configuration, opens the store, and wires the axum router
//! (Leptos pages and server functions, the sign-in routes, sessions, the CSRF guard, tracing).
// Rendering the app's typed views server-side nests deeper than rustc's default limit.
#![recursion_limit = "256"]

mod assets;
pub mod auth;
pub mod body_deadline;
pub mod cli;
pub mod client;
pub mod config;
mod csrf;
pub mod files;
mod fn_errors;
pub mod headers;
pub mod keys;
pub mod limits;
pub mod listen;
pub mod live;
pub mod ops;
mod sessions;
pub mod store;
pub mod streams;
pub mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use app::context::ServerContext;
use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use keeper::Zoho;
use keeper::refresh::Settings;
use keeper::vault::{Vault, VaultError};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use zoho::budget::BudgetSettings;
use zoho::oauth::{ClientConfig, OAuthClient};
use zoho::{ClientId, DcTable, Secret};

use crate::config::{Config, ZohoTarget};

/// Everything a request handler may need. Cloned per request (and per layer that extracts it),
/// so a clone is one reference count: the parts live once, in [`Shared`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every [`AppState`] handle refers to.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    /// What server functions get too: Zoho (the DC table, the vault, the CRM client).
    pub ctx: ServerContext,
    pub sessions: store::Sessions,
    /// The ops listener's last look at Zoho.
    pub probe: ops::Probe,
    /// Per-client-address allowances of sign-in starts and server-function calls.
    pub limits: Arc<limits::RateLimits>,
    /// The attachment uploads this process holds at once.
    pub uploads: files::Uploads,
    /// What Zoho's notifications may cost, per channel and per client refused.
    pub notify_limits: Arc<live::NotifyLimits>,
    /// The live streams open, by session and by client.
    pub streams: Arc<streams::Streams>,
    /// The tasks that keep this process's caches true to other processes' changes.
    _followers: Followers,
}

/// Background tasks that live as long as the state: aborted when its last clone goes (a test's
/// server, say), so no listener outlives the store it listens to.
struct Followers(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Followers {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// How often a server reads the SQLite change log (the CLI's changes reach it within this).
const BUS_POLL: Duration = Duration::from_secs(1);
/// How often the API credits a process counted are added to the store.
const CREDIT_FLUSH: Duration = Duration::from_secs(5);
/// How often a process reads the live log unwoken (the bus wakes it at once).
const LIVE_POLL: Duration = Duration::from_secs(5);
/// How often a process tends its orgs' watch channels.
const WATCH_TEND: Duration = Duration::from_secs(30);

impl FromRef<AppState> for Arc<Zoho> {
    fn from_ref(state: &AppState) -> Self {
        state.ctx.zoho.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session store: {0}")]
    SessionStore(#[source] sqlx::Error),
    #[error("Leptos configuration: {0}")]
    Leptos(#[from] leptos::config::errors::LeptosConfigError),
    #[error("data centers: {0}")]
    DataCenters(#[from] zoho::DcError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Bus(#[from] keeper::bus::BusError),
    #[error("token key: {0}")]
    TokenKey(#[from] keys::KeyError),
    #[error("the HTTP client for Zoho: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("ZOHO_CLIENT_SECRET is required")]
    NoClientSecret,
}

impl AppState {
    /// Opens the store and builds the state for `config`.
    pub async fn new(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartError> {
        let (zoho, sessions) = open_zoho(&config).await?;
        let save_hold = zoho.crm.budget().longest_call() + Duration::from_secs(1);
        let limits = Arc::new(limits::RateLimits::new(
            config.http.rate_limit,
            client::Clients::new(config.http.trusted_proxies.clone()),
        ));
        let notify_limits = Arc::new(live::NotifyLimits::default());
        let streams = Arc::new(streams::Streams::new(
            config.http.max_streams_per_session,
            config.http.max_streams_per_client,
        ));
        // Subscribed before the bus listens, so the first resync reaches both.
        let pruning = {
            let (limits, notify_limits) = (limits.clone(), notify_limits.clone());
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limits.prune();
                    notify_limits.prune();
                }
            })
        };
        let followers = vec![
            zoho.follow(),
            zoho.keep_credits(CREDIT_FLUSH),
            zoho.live.run(LIVE_POLL).await,
            zoho.watches.run(WATCH_TEND),
            sessions.follow(),
            streams.follow(sessions.changes()),
            pruning,
        ]
        .into_iter()
        .chain(zoho.vault.bus().listen(BUS_POLL))
        .collect();
        Ok(AppState(Arc::new(Shared {
            _followers: Followers(followers),
            leptos_options,
            ctx: ServerContext {
                zoho: Arc::new(zoho),
                save_hold,
            },
            config: Arc::new(config),
            sessions,
            probe: ops::Probe::default(),
            limits,
            uploads: files::Uploads::default(),
            notify_limits,
            streams,
        })))
    }

    pub fn zoho(&self) -> &Zoho {
        &self.ctx.zoho
    }
}

/// Opens the store and wires Zoho for `config`: what the CLI needs, and the web state's core.
pub async fn open_zoho(config: &Config) -> Result<(Zoho, store::Sessions), StartError> {
    create_data_dir(config)?;
    let store = store::open(config.store.database_url.as_str()).await?;
    let dcs = Arc::new(match &config.zoho.target {
        ZohoTarget::Zoho { .. } => DcTable::zoho(&config.zoho.dcs)?,
        ZohoTarget::Emulator { url, .. } => DcTable::emulator(url.as_str(), &config.zoho.dcs)?,
        ZohoTarget::Embedded { addr } => {
            DcTable::emulator(&format!("http://{addr}"), &config.zoho.dcs)?
        }
    });
    let cipher = keys::load_cipher(config)?;
    let vault = Vault::on_bus(store.connections, Arc::new(cipher), store.bus);
    let http = zoho::http::client(config.zoho.timeout).map_err(StartError::HttpClient)?;
    let oauth = OAuthClient::new(client_config(config)?, dcs, http.clone());
    let settings = Settings {
        lease_ttl: config.store.lease_ttl,
        ..Settings::default()
    };
    let budget = BudgetSettings {
        concurrency: config.zoho.concurrency,
        queue_wait: config.zoho.timeout,
        backoff_first: config.zoho.backoff,
        backoff_max: config.zoho.backoff * 30,
        keep_answers: config.zoho.cache,
        ..BudgetSettings::default()
    };
    let zoho = Zoho::new(oauth, vault, http, settings)
        .with_budget(budget)
        .notified_at(config.notify_url());
    Ok((zoho, store.sessions))
}

fn create_data_dir(config: &Config) -> Result<(), StartError> {
    let err = |source| StartError::DataDir {
        path: config.store.data_dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&config.store.data_dir).map_err(err)?;
    // The database, the key and the emulator's state are the owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            &config.store.data_dir,
            std::fs::Permissions::from_mode(0o700),
        )
        .map_err(err)?;
    }
    Ok(())
}

/// The OAuth client this server signs people in with.
fn client_config(config: &Config) -> Result<ClientConfig, StartError> {
    let (client_id, secret) = match (&config.zoho.target, &config.zoho.client_secret) {
        (ZohoTarget::Zoho { client_id }, Some(secret)) => (client_id.clone(), secret.clone()),
        (ZohoTarget::Emulator { client_id, .. }, Some(secret)) => {
            (client_id.clone(), secret.clone())
        }
        // The emulator's seeded development client: its secret is public seed data.
        (ZohoTarget::Emulator { .. }, None) | (ZohoTarget::Embedded { .. }, _) => (
            config::DEV_CLIENT_ID.to_owned(),
            Secret::new(config::DEV_CLIENT_SECRET),
        ),
        (ZohoTarget::Zoho { .. }, None) => {
            return Err(StartError::NoClientSecret);
        }
    };
    Ok(ClientConfig {
        client_id: ClientId::new(client_id),
        client_secret: secret,
        redirect_uri: config.redirect_uri(),
        scopes: config.zoho.scopes.clone(),
    })
}

/// The whole HTTP surface of zportal, ready for `axum::serve` or `oneshot` in tests.
pub fn build_router(state: AppState) -> Router {
    ops::install();
    let routes = route_list();
    let ctx = state.ctx.clone();
    let fallback_ctx = state.ctx.clone();
    let leptos_options = state.leptos_options.clone();
    let origin = csrf::PublicOrigin(state.config.public_origin().into());
    let timing = state.config.http.server_timing;
    let pkg = format!("/{}", state.leptos_options.site_pkg_dir);
    let pkg_files = assets::pkg(
        &state.leptos_options.site_root,
        &state.leptos_options.site_pkg_dir,
        state.leptos_options.hash_files,
    );

    let router = Router::new()
        .merge(ops::router())
        .merge(auth::router())
        .merge(live::router())
        .nest_service(&pkg, pkg_files)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(ctx.clone()),
            move || app::shell(leptos_options.clone()),
        )
        // Unknown paths render the app's 404 page, which needs the same context as any page.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_ctx.clone()), app::shell
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        // Uploads have their own, larger limit, read as the file arrives.
        .merge(files::router())
        .layer(axum::middleware::from_fn(fn_errors::status))
        .layer(axum::middleware::from_fn_with_state(origin, csrf::guard))
        .layer(axum::middleware::from_fn(csrf::api_guard))
        .layer(axum::middleware::from_fn_with_state(
            sessions::Timeouts {
                max: state.config.store.session_max,
                idle: state.config.store.session_idle,
            },
            sessions::timeouts,
        ))
        .layer(sessions::layer(state.sessions.clone(), &state.config))
        // Before the session layer: a refused flood creates no sessions.
        .layer(axum::middleware::from_fn_with_state(
            state.limits.clone(),
            limits::limit,
        ))
        .layer(assets::compression())
        .layer(axum::middleware::from_fn_with_state(
            csp_policy(&state),
            headers::set,
        ))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state);
    if timing {
        router.layer(axum::middleware::from_fn(sessions::server_timing))
    } else {
        router
    }
}

/// The ops listener's surface (`ZPORTAL_OPS_ADDR`): `/metrics` and the detailed `/readyz`.
/// Operators and scrapers only: it carries no session, page or server function.
pub fn build_ops_router(state: AppState) -> Router {
    ops::install();
    ops::ops_router()
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The largest request body zportal reads (a record form is a few KB); larger gets 413.
pub const MAX_BODY: usize = 256 * 1024;

/// The Content-Security-Policy's inputs: the enabled data centers' accounts servers (sign-in
/// forms redirect there) and, under `cargo leptos watch`, the live-reload socket.
fn csp_policy(state: &AppState) -> headers::Policy {
    let dcs = state.zoho().dcs();
    let accounts: Vec<&str> = dcs
        .enabled()
        .filter_map(|dc| dcs.endpoints(dc).ok())
        .map(|e| e.accounts_server.as_str())
        .collect();
    let live_reload = std::env::var_os("LEPTOS_WATCH").map(|_| {
        let opts = &state.leptos_options;
        format!("ws://{}:{}", opts.site_addr.ip(), opts.reload_port)
    });
    headers::Policy::new(
        accounts,
        live_reload,
        state.config.is_https(),
        state.config.session_cookie_name(),
        &format!("/{}", state.leptos_options.site_pkg_dir),
    )
}

/// The app's routes, computed once per process (generating them renders the whole app).
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// A request's span records the matched route, never the URI: queries carry codes and state.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    // zportal's own request ids are UUIDs; one a client sent is kept only if it looks like one.
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("-");
    tracing::info_span!("request", id, method = %req.method(), route)
}

/// Runs a `connections` subcommand against the configured store and Zoho.
pub async fn connections(config: Config, command: cli::ConnectionsCommand) -> anyhow::Result<()> {
    let (zoho, _sessions) = open_zoho(&config).await?;
    cli::run(&zoho, command).await
}

/// Runs the server until Ctrl-C or SIGTERM, letting in-flight requests finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let mut leptos_options = get_configuration(None)
        .map_err(StartError::from)?
        .leptos_options;
    assets::detect_hashed_names(&mut leptos_options);
    let addr = config.http.site_addr;
    let mut config = config;
    create_data_dir(&config)?;
    // With no Zoho configured, zportal brings its own: the emulator, in-process, on loopback.
    let embedded = match config.zoho.target {
        ZohoTarget::Embedded { addr } => {
            let running = emulator::start(emulator::Options {
                addr,
                state_file: Some(config.store.data_dir.join("emulator.json")),
            })
            .await?;
            tracing::info!(
                "no Zoho client configured: Zoho emulator embedded at {} (sign in as ada@us.zportal.test)",
                running.base_url
            );
            config.zoho.target = ZohoTarget::Emulator {
                url: running.base_url.parse()?,
                client_id: config::DEV_CLIENT_ID.to_owned(),
            };
            Some(running)
        }
        _ => None,
    };
    let state = AppState::new(config, leptos_options).await?;
    let deletion = state
        .sessions
        .clone()
        .spawn_cleanup(state.zoho().vault.clone(), Duration::from_secs(300));
    let ops = match state.config.http.ops_addr {
        Some(ops_addr) => {
            let listener = listen::bind(ops_addr)?;
            tracing::info!(
                "ops (metrics, readiness) on http://{}",
                listener.local_addr()?
            );
            let router = build_ops_router(state.clone());
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the ops listener stopped");
                }
            }))
        }
        None => None,
    };
    let limits = state.config.connection_limits();
    let live = state.zoho().live.clone();
    let router = build_router(state);
    let listener = listen::bind(addr)?;
    tracing::info!("zportal listening on http://{}", listener.local_addr()?);
    // Open event streams never finish by themselves: at shutdown they end, so the drain can.
    let shutdown = async move {
        telemetry::shutdown_signal().await;
        live.close();
    };
    listen::serve(listener, router, limits, shutdown).await;
    deletion.abort();
    if let Some(ops) = ops {
        ops.abort();
    }
    if let Some(running) = embedded {
        running.stop().await;
    }
    Ok(())
}
