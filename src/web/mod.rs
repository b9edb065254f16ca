//! The web view (feature `web`): workflows, their graphs and actors in a browser.
//!
//! [`router`] gives an [`axum`] `Router` to mount in a program's own server; [`WebView`]
//! serves it on its own, with a token for addresses beyond this machine. The standalone
//! tool serves it with `workflow serve --store PATH` (features `cli` and `web`).
//!
//! The pages (HTML, CSS and script built into the binary, no network needed):
//!
//! - `/`: the workflows, newest first, with counts by status, a filter by status and a
//!   search by id prefix;
//! - `/workflows/{id}`: a workflow's status, times and metadata, its DAG drawn with each
//!   task coloured by state (continuations drawn nested, large fan-outs folded into one
//!   node with counts), its pending timers and events, and buttons to cancel, delete,
//!   resume and send events. A running workflow's page follows it live.
//! - `/actors` and `/actors/{id}`: the actors by type; one actor's state and recent calls.
//!
//! The pages read the JSON API under `/api/` (see `docs/web.md`). Served by the program
//! that runs the workflows (the *embedded* view), the view also shows outputs, resumes
//! workflows and sends events, since that program links the task types.
//!
//! # Safety
//!
//! - [`WebView::serve`] refuses an address beyond loopback without a token. With a token,
//!   every request must carry it (a link with `?token=...` once, which sets a cookie, or
//!   `Authorization: Bearer ...`).
//! - Requests that change anything are `POST`, and must come from the view's own page (a
//!   header a page of another site cannot send, a same-origin `Origin`) or carry the
//!   bearer token: another site cannot cancel a workflow.
//! - Without a token, the view answers only to the `Host` names `localhost` and IP
//!   addresses (or the names given to [`WebView::allowed_hosts`]): a page of another site
//!   that rebinds its own name to this machine is refused.
//! - Pages, styles and script come from the view itself (`Content-Security-Policy:
//!   default-src 'self'`), and no other site may frame them.
//! - Ids in URLs follow the engine's id rules; an unknown id is a 404.
//!
//! # Examples
//!
//! ```no_run
//! # use workflow::prelude::*;
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::open("orders.db").await?;
//! let app = axum::Router::new().nest("/workflows-ui", workflow::web::router(engine.clone()));
//! # let _ = app;
//! // ... or on its own port:
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! workflow::web::WebView::new(engine).serve(listener).await?;
//! # Ok(())
//! # }
//! ```

mod actions;
mod api;
mod error;
mod graph;
mod guard;
mod ids;
mod json;
mod live;
mod pages;
mod shapes;
mod source;
mod state;
mod view;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    middleware,
    routing::{get, post},
    Router,
};

pub use error::{Result, WebError};
use source::Source;
use view::View;

use crate::{admin::AdminClient, Engine};

/// The web view of `engine`, served by the program that runs its workflows: every route,
/// with resume, send-event and outputs. Changes need the page's own origin; mount it behind
/// your own authentication, or use [`WebView::token`].
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let app: axum::Router = workflow::web::router(engine);
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
pub fn router(engine: Engine) -> Router {
    WebView::new(engine).router()
}

/// A web view to configure, then mount ([`router`](WebView::router)) or serve
/// ([`serve`](WebView::serve)).
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let app = workflow::web::WebView::new(engine)
///     .token("a-long-random-secret")
///     .allowed_hosts(["workflows.internal:8080"])
///     .router();
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct WebView {
    source: Source,
    token: Option<String>,
    hosts: Option<Vec<String>>,
}

impl WebView {
    /// The view of `engine`, served by the program that runs its workflows.
    pub fn new(engine: Engine) -> WebView {
        WebView::of(Source::Engine {
            engine,
            embedded: true,
        })
    }

    /// The view of a store opened by a tool that links none of its tasks.
    #[doc(hidden)]
    pub fn standalone(engine: Engine) -> WebView {
        WebView::of(Source::Engine {
            engine,
            embedded: false,
        })
    }

    /// The view of the store held by a running program, through its admin socket.
    #[doc(hidden)]
    pub fn admin(client: AdminClient) -> WebView {
        WebView::of(Source::Admin(client))
    }

    fn of(source: Source) -> WebView {
        WebView {
            source,
            token: None,
            hosts: None,
        }
    }

    /// Requires `token` on every request.
    pub fn token(mut self, token: impl Into<String>) -> WebView {
        self.token = Some(token.into()).filter(|token: &String| !token.is_empty());
        self
    }

    /// Answers only requests whose `Host` header is one of `hosts` (`name:port`).
    pub fn allowed_hosts<S: Into<String>>(mut self, hosts: impl IntoIterator<Item = S>) -> WebView {
        self.hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// The routes of the view. It may be nested under a path of a program's own router.
    pub fn router(self) -> Router {
        self.parts().0
    }

    /// The routes, and the state they share.
    fn parts(self) -> (Router, Arc<View>) {
        let view = Arc::new(View::new(self.source, self.token, self.hosts));
        let router = Router::new()
            .route("/", get(pages::list))
            .route("/workflows/{id}", get(pages::workflow))
            .route("/actors", get(pages::actors))
            .route("/actors/{id}", get(pages::actor))
            .route("/assets/app.js", get(pages::script))
            .route("/assets/style.css", get(pages::style))
            .route("/api/info", get(api::info))
            .route("/api/stats", get(api::stats))
            .route("/api/workflows", get(api::workflows))
            .route("/api/workflows/{id}", get(api::workflow))
            .route("/api/workflows/{id}/tasks", get(api::tasks))
            .route("/api/workflows/{id}/tasks/{task_id}", get(api::task))
            .route("/api/workflows/{id}/graph", get(api::graph))
            .route("/api/workflows/{id}/waits", get(api::waits))
            .route("/api/workflows/{id}/live", get(live::events))
            .route("/api/workflows/{id}/cancel", post(actions::cancel))
            .route("/api/workflows/{id}/delete", post(actions::delete))
            .route("/api/workflows/{id}/resume", post(actions::resume))
            .route(
                "/api/workflows/{id}/events/{key}",
                post(actions::send_event),
            )
            .route("/api/actors", get(api::actors))
            .route("/api/actors/{id}", get(api::actor))
            .fallback(pages::not_found)
            .layer(middleware::from_fn_with_state(view.clone(), guard::guard))
            .with_state(view.clone());
        (router, view)
    }

    /// Serves the view on `listener` until the process is interrupted (Ctrl-C), which also
    /// ends the pages' live updates.
    ///
    /// On a loopback address no token is needed; on any other it is.
    ///
    /// # Errors
    ///
    /// [`WebError::TokenRequired`] for an address beyond loopback without a token,
    /// [`WebError::InvalidToken`] for a token that cannot go in a link, [`WebError::Io`] if
    /// serving fails.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> Result<()> {
        let addr = listener.local_addr()?;
        let (router, view) = self.for_address(addr)?.parts();
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = tokio::signal::ctrl_c().await;
                view.stop();
            })
            .await?;
        Ok(())
    }

    /// This view, checked for serving on `addr`: an address beyond loopback needs a token.
    #[doc(hidden)]
    pub fn for_address(self, addr: SocketAddr) -> Result<WebView> {
        match &self.token {
            None if !addr.ip().is_loopback() => Err(WebError::TokenRequired { addr }),
            Some(token)
                if token.len() > 256
                    || !token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) =>
            {
                Err(WebError::InvalidToken)
            }
            _ => Ok(self),
        }
    }
}
