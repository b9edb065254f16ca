//! The web view's changing routes and its guards: token, `Host`, origin.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use support::web::{get, post, send};
use workflow::{admin::AdminClient, prelude::*, web::WebView};

#[task]
fn one() -> i64 {
    1
}

#[task]
async fn slow(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(30)).await;
    x
}

#[task]
fn approve(approved: bool) -> bool {
    approved
}

#[tokio::test]
async fn cancel_needs_the_pages_own_request() {
    let engine = Engine::temporary().await.unwrap();
    engine.spawn("long", slow::bind(1)).await.unwrap();
    let router = workflow::web::router(engine.clone());
    let uri = "/api/workflows/long/cancel";
    // A plain form post, as another site's page can send it.
    let bare = send(&router, Method::POST, uri, &[], None).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    assert_eq!(bare.json()["kind"], "cross_site");
    let foreign = send(
        &router,
        Method::POST,
        uri,
        &[
            ("x-workflow-request", "1"),
            ("origin", "http://evil.example"),
        ],
        None,
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let cross_site = send(
        &router,
        Method::POST,
        uri,
        &[
            ("x-workflow-request", "1"),
            ("sec-fetch-site", "cross-site"),
        ],
        None,
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&router, uri).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        engine.status("long").await.unwrap(),
        WorkflowStatus::Running
    );

    let same_origin = send(
        &router,
        Method::POST,
        uri,
        &[("x-workflow-request", "1"), ("origin", "http://localhost")],
        None,
    )
    .await;
    assert_eq!(same_origin.status, StatusCode::OK, "{}", same_origin.body);
    assert_eq!(same_origin.json()["status"], "canceled");
    assert_eq!(
        engine.status("long").await.unwrap(),
        WorkflowStatus::Canceled
    );
    assert_eq!(
        post(&router, "/api/workflows/nobody/cancel", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn delete_refuses_a_running_workflow() {
    let engine = Engine::temporary().await.unwrap();
    engine.run("done", one::bind()).await.unwrap();
    engine.spawn("long", slow::bind(1)).await.unwrap();
    let router = workflow::web::router(engine.clone());
    let refused = post(&router, "/api/workflows/long/delete", None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let deleted = post(&router, "/api/workflows/done/delete", None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["deleted"], true);
    assert!(matches!(
        engine.status("done").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        post(&router, "/api/workflows/bad%20id/delete", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn events_and_resume_need_the_programs_tasks() {
    let engine = Engine::temporary().await.unwrap();
    engine
        .spawn(
            "gate",
            approve::bind(workflow::wait_for_event(ExternalEvent::<bool>::new("go"))),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tool = WebView::standalone(engine.clone()).router();
    let refused = post(&tool, "/api/workflows/gate/events/go", Some("true")).await;
    assert_eq!(refused.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        post(&tool, "/api/workflows/gate/resume", None).await.status,
        StatusCode::NOT_IMPLEMENTED
    );

    let router = workflow::web::router(engine.clone());
    let not_json = post(&router, "/api/workflows/gate/events/go", Some("yes please")).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let wrong_type = post(&router, "/api/workflows/gate/events/go", Some("\"yes\"")).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    let sent = post(&router, "/api/workflows/gate/events/go", Some("true")).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(engine.output::<bool>("gate").await.unwrap());

    engine.close().await.unwrap();

    // A run left by a closed engine resumes from the page of the next one.
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await.unwrap();
    let gate = workflow::wait_for_event(ExternalEvent::<bool>::new("go"));
    engine.spawn("again", approve::bind(gate)).await.unwrap();
    engine.close().await.unwrap();
    let engine = Engine::open(dir.path()).await.unwrap();
    assert_eq!(
        engine.status("again").await.unwrap(),
        WorkflowStatus::Resumable
    );
    let router = workflow::web::router(engine.clone());
    let resumed = post(&router, "/api/workflows/again/resume", None).await;
    assert_eq!(resumed.status, StatusCode::ACCEPTED, "{}", resumed.body);
    assert_eq!(resumed.json()["status"], "running");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sent = post(&router, "/api/workflows/again/events/go", Some("false")).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(!engine.output::<bool>("again").await.unwrap());
    let twice = post(&router, "/api/workflows/again/resume", None).await;
    assert_eq!(twice.status, StatusCode::OK, "{}", twice.body);
    assert_eq!(twice.json()["output"], false);
    engine.close().await.unwrap();
}

#[tokio::test]
async fn a_token_is_asked_of_every_request() {
    let engine = Engine::temporary().await.unwrap();
    engine.run("w", one::bind()).await.unwrap();
    let router = WebView::new(engine.clone()).token("s3cret-token").router();
    let missing = get(&router, "/api/workflows").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["kind"], "token");
    assert_eq!(get(&router, "/").await.status, StatusCode::UNAUTHORIZED);
    let wrong = send(
        &router,
        Method::GET,
        "/api/workflows",
        &[("authorization", "Bearer nope")],
        None,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let bearer = [("authorization", "Bearer s3cret-token")];
    assert_eq!(
        send(&router, Method::GET, "/api/workflows", &bearer, None)
            .await
            .status,
        StatusCode::OK
    );
    // A bearer may change things without the page's header.
    let deleted = send(
        &router,
        Method::POST,
        "/api/workflows/w/delete",
        &bearer,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK);

    // A link with the token sets a cookie and drops it from the address.
    let link = get(&router, "/?token=s3cret-token").await;
    assert_eq!(link.status, StatusCode::SEE_OTHER);
    assert_eq!(link.headers["location"], "/");
    let cookie = link.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("workflow_token_80=s3cret-token;"),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    // The cookie of a view on another port is not this view's.
    let other_port = [("cookie", "workflow_token_9000=s3cret-token")];
    let refused = send(&router, Method::GET, "/api/stats", &other_port, None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let with_cookie = [("cookie", "workflow_token_80=s3cret-token")];
    assert_eq!(
        send(&router, Method::GET, "/api/stats", &with_cookie, None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get(&router, "/?token=wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn names_other_than_localhost_and_ip_addresses_are_refused_without_a_token() {
    let engine = Engine::temporary().await.unwrap();
    let router = workflow::web::router(engine.clone());
    // A page of another site whose name now points at this machine (DNS rebinding).
    let rebound = send(
        &router,
        Method::GET,
        "/api/stats",
        &[("host", "evil.example:8080")],
        None,
    )
    .await;
    assert_eq!(rebound.status, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(rebound.json()["kind"], "wrong_host");
    let page = send(&router, Method::GET, "/", &[("host", "evil.example")], None).await;
    assert_eq!(page.status, StatusCode::MISDIRECTED_REQUEST);
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "127.0.0.2",
        "[::1]:9000",
        "10.1.2.3:80",
    ] {
        let answer = send(&router, Method::GET, "/api/stats", &[("host", host)], None).await;
        assert_eq!(answer.status, StatusCode::OK, "{host}");
    }
    // Names given to the view are its only ones.
    let named = WebView::new(engine.clone())
        .allowed_hosts(["ops.internal:8080"])
        .router();
    let answer = send(
        &named,
        Method::GET,
        "/api/stats",
        &[("host", "ops.internal:8080")],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(
        &named,
        Method::GET,
        "/api/stats",
        &[("host", "localhost:8080")],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::MISDIRECTED_REQUEST);
    // With a token, any name: the token guards the view.
    let tokened = WebView::new(engine.clone()).token("t0ken").router();
    let headers = [
        ("host", "workflows.example.com"),
        ("authorization", "Bearer t0ken"),
    ];
    let answer = send(&tokened, Method::GET, "/api/stats", &headers, None).await;
    assert_eq!(answer.status, StatusCode::OK);

    let anywhere = "0.0.0.0:8080".parse().unwrap();
    assert!(matches!(
        WebView::new(engine.clone()).for_address(anywhere),
        Err(workflow::web::WebError::TokenRequired { .. })
    ));
    assert!(WebView::new(engine.clone())
        .token("t")
        .for_address(anywhere)
        .is_ok());
    assert!(matches!(
        WebView::new(engine.clone())
            .token("with space")
            .for_address(anywhere),
        Err(workflow::web::WebError::InvalidToken)
    ));
    let loopback = "127.0.0.1:8080".parse().unwrap();
    assert!(WebView::new(engine).for_address(loopback).is_ok());
}

#[tokio::test]
async fn a_cookie_alone_does_not_change_anything() {
    let engine = Engine::temporary().await.unwrap();
    engine.spawn("long", slow::bind(1)).await.unwrap();
    let router = WebView::new(engine.clone()).token("s3cret").router();
    // What a form on another site sends: the cookie, without the page's header.
    let cookie = [("cookie", "workflow_token_80=s3cret")];
    let refused = send(
        &router,
        Method::POST,
        "/api/workflows/long/cancel",
        &cookie,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        engine.status("long").await.unwrap(),
        WorkflowStatus::Running
    );
    let page = [
        ("cookie", "workflow_token_80=s3cret"),
        ("x-workflow-request", "1"),
    ];
    let canceled = send(
        &router,
        Method::POST,
        "/api/workflows/long/cancel",
        &page,
        None,
    )
    .await;
    assert_eq!(canceled.status, StatusCode::OK);
    assert_eq!(
        engine.status("long").await.unwrap(),
        WorkflowStatus::Canceled
    );
}

#[tokio::test]
async fn the_view_nests_under_a_path_of_a_program() {
    let engine = Engine::temporary().await.unwrap();
    engine.run("w", one::bind()).await.unwrap();
    let app = axum::Router::new().nest("/ops", workflow::web::router(engine));
    let root = get(&app, "/ops").await;
    assert!(
        root.body.contains(r#"<base href="/ops/">"#),
        "{}",
        root.body
    );
    let page = get(&app, "/ops/workflows/w").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"<base href="/ops/">"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"src="assets/app.js""#));
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(get(&app, "/ops/api/stats").await.json()["workflows"], 1);
    assert_eq!(get(&app, "/ops/assets/app.js").await.status, StatusCode::OK);
    let missing = get(&app, "/ops/workflows/nobody").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains(r#"<base href="/ops/">"#));
    let no_route = get(&app, "/ops/api/nothing").await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.json()["kind"], "not_found");
    // A link with the token leads back to the page it named, under the prefix.
    let engine = Engine::temporary().await.unwrap();
    let app = axum::Router::new().nest("/ops", WebView::new(engine).token("tk").router());
    let link = get(&app, "/ops/actors?token=tk").await;
    assert_eq!(link.status, StatusCode::SEE_OTHER);
    assert_eq!(link.headers["location"], "/ops/actors");
}

#[tokio::test]
async fn a_held_store_is_served_through_its_admin_socket() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await.unwrap();
    engine.run("done", one::bind()).await.unwrap();
    engine.spawn("long", slow::bind(1)).await.unwrap();
    let router = WebView::admin(AdminClient::new(dir.path())).router();
    let listed = get(&router, "/api/workflows").await.json();
    assert_eq!(listed["workflows"][0]["id"], "long");
    assert_eq!(listed["workflows"][1]["tasks_done"], 1);
    assert_eq!(
        get(&router, "/api/workflows/done/graph").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&router, "/api/workflows/nobody").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, "/workflows/nobody").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&router, "/api/workflows/long/cancel", None)
            .await
            .json()["status"],
        "canceled"
    );
    assert_eq!(
        engine.status("long").await.unwrap(),
        WorkflowStatus::Canceled
    );
    assert_eq!(
        post(&router, "/api/workflows/done/delete", None)
            .await
            .status,
        StatusCode::OK
    );
    assert!(matches!(
        engine.status("done").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        post(&router, "/api/workflows/long/resume", None)
            .await
            .status,
        StatusCode::NOT_IMPLEMENTED
    );
    engine.close().await.unwrap();
    let gone = get(&router, "/api/stats").await;
    assert_eq!(gone.status, StatusCode::SERVICE_UNAVAILABLE);
}
