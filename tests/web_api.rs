//! The web view's reading routes: status codes and JSON shapes, as the page reads them.

mod support;

use std::time::Duration;

use axum::{body::Body, http::Request, http::StatusCode};
use serde::{Deserialize, Serialize};
use support::web::{get, Answer};
use tokio_stream::StreamExt;
use tower::ServiceExt;
use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[error("the disk is full")]
struct DiskFull;

#[task]
fn fails(_x: i64) -> Result<i64, DiskFull> {
    Err(DiskFull)
}

#[task]
async fn slow(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_millis(300)).await;
    x
}

#[task]
fn sum(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[task]
fn woke(_slept: ()) -> i64 {
    1
}

#[task]
fn approve(approved: bool) -> bool {
    approved
}

#[derive(Serialize, Deserialize)]
struct Tally {
    count: i64,
}

#[virtual_actor]
impl Tally {
    fn new() -> Self {
        Tally { count: 0 }
    }

    fn bump(&mut self, by: i64) -> i64 {
        self.count += by;
        self.count
    }
}

async fn engine_with_workflows() -> Engine {
    let engine = Engine::temporary().await.expect("an engine");
    engine
        .run("job-a", add::bind(one::bind(), 2))
        .await
        .expect("job-a");
    engine.run("job-b", one::bind()).await.expect("job-b");
    let _ = engine.run("broken", fails::bind(one::bind())).await;
    engine
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.json()["workflows"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| row["id"].as_str().expect("an id").to_string())
        .collect()
}

#[tokio::test]
async fn the_list_is_newest_first_with_filters_and_pages() {
    let router = workflow::web::router(engine_with_workflows().await);
    let all = get(&router, "/api/workflows").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(ids(&all), ["broken", "job-b", "job-a"]);
    let row = &all.json()["workflows"][2];
    assert_eq!(row["status"], "successful");
    assert_eq!(
        (row["tasks_done"].as_u64(), row["tasks_total"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(row["created_time"].as_u64().is_some());
    assert!(row["duration_ms"].as_u64().is_some());

    assert_eq!(
        ids(&get(&router, "/api/workflows?status=failed").await),
        ["broken"]
    );
    assert_eq!(
        ids(&get(&router, "/api/workflows?prefix=job-").await),
        ["job-b", "job-a"]
    );
    let first = get(&router, "/api/workflows?limit=2").await.json();
    assert_eq!(first["workflows"].as_array().map(Vec::len), Some(2));
    let next = first["next"].as_str().expect("a cursor");
    let rest = get(&router, &format!("/api/workflows?limit=2&after={next}")).await;
    assert_eq!(ids(&rest), ["job-a"]);

    let bad_status = get(&router, "/api/workflows?status=done").await;
    assert_eq!(bad_status.status, StatusCode::BAD_REQUEST);
    assert!(bad_status.json()["error"]
        .as_str()
        .unwrap()
        .contains("not a status"));
    assert_eq!(
        get(&router, "/api/workflows?prefix=a%2Fb").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&router, "/api/workflows?after=zz").await.status,
        StatusCode::BAD_REQUEST
    );
    let bad_limit = get(&router, "/api/workflows?limit=many").await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    assert!(bad_limit.json()["error"]
        .as_str()
        .unwrap()
        .contains("limit"));
    let actors = get(&router, "/api/actors?limit=-1").await;
    assert_eq!(actors.status, StatusCode::BAD_REQUEST);
    assert_eq!(actors.json()["kind"], "invalid");
}

#[tokio::test]
async fn stats_count_by_status() {
    let router = workflow::web::router(engine_with_workflows().await);
    let stats = get(&router, "/api/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    let stats = stats.json();
    assert_eq!(stats["workflows"], 3);
    assert_eq!(stats["by_status"]["successful"], 2);
    assert_eq!(stats["by_status"]["failed"], 1);
    assert_eq!(stats["actors"], 0);
}

#[tokio::test]
async fn a_workflow_its_tasks_and_a_failed_tasks_error() {
    let router = workflow::web::router(engine_with_workflows().await);
    let summary = get(&router, "/api/workflows/broken").await;
    assert_eq!(summary.status, StatusCode::OK);
    let summary = summary.json();
    assert_eq!(summary["status"], "failed");
    assert_eq!(summary["task_states"]["failed"], 1);
    assert_eq!(summary["task_states"]["done"], 1);

    let tasks = get(&router, "/api/workflows/job-a/tasks").await.json();
    let add = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|task| task["task_id"] == "add")
        .expect("the add task");
    assert_eq!(add["inputs"], serde_json::json!(["one"]));
    assert_eq!(add["state"], "done");

    let failed = get(&router, "/api/workflows/broken/tasks/fails")
        .await
        .json();
    assert_eq!(failed["state"], "failed");
    assert!(failed["error"]
        .as_str()
        .unwrap()
        .contains("the disk is full"));
    let output = get(&router, "/api/workflows/job-a/tasks/add").await.json();
    assert_eq!(output["output"], 3);

    for (uri, status) in [
        ("/api/workflows/nobody", StatusCode::NOT_FOUND),
        ("/api/workflows/no%20body", StatusCode::BAD_REQUEST),
        ("/api/workflows/job-a/tasks/nothing", StatusCode::NOT_FOUND),
        (
            "/api/workflows/job-a/tasks/%3Cb%3E",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/workflows/nobody/graph", StatusCode::NOT_FOUND),
        ("/api/workflows/nobody/waits", StatusCode::NOT_FOUND),
        ("/api/workflows/nobody/live", StatusCode::NOT_FOUND),
    ] {
        let answer = get(&router, uri).await;
        assert_eq!(answer.status, status, "{uri}: {}", answer.body);
        assert!(answer.json()["error"].is_string(), "{uri}");
    }
}

#[tokio::test]
async fn a_store_opened_by_the_tool_shows_no_outputs() {
    let engine = engine_with_workflows().await;
    let router = workflow::web::WebView::standalone(engine).router();
    let task = get(&router, "/api/workflows/job-a/tasks/add").await.json();
    assert!(task.get("output").is_none());
    assert!(task["output_error"].as_str().unwrap().contains("program"));
    assert_eq!(get(&router, "/api/info").await.json()["mode"], "standalone");
}

#[tokio::test]
async fn the_graph_has_a_node_per_task_in_its_state() {
    let router = workflow::web::router(engine_with_workflows().await);
    let graph = get(&router, "/api/workflows/broken/graph").await;
    assert_eq!(graph.status, StatusCode::OK);
    let graph = graph.json();
    let svg = graph["svg"].as_str().unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains(r#"data-node="one""#) && svg.contains(r#"data-node="fails""#));
    let states: Vec<(String, String)> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            (
                node["id"].as_str().unwrap().into(),
                node["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(states.len(), 2);
    assert!(states.contains(&("fails".into(), "failed".into())));
    assert!(states.contains(&("one".into(), "done".into())));
}

#[tokio::test]
async fn a_wide_fan_out_is_one_group_node() {
    let engine = Engine::temporary().await.unwrap();
    let parts: Vec<Dag<i64>> = (0..300).map(|_| one::bind()).collect();
    engine.run("wide", sum::bind(parts)).await.unwrap();
    let graph = get(&workflow::web::router(engine), "/api/workflows/wide/graph")
        .await
        .json();
    let nodes = graph["nodes"].as_array().unwrap();
    assert!(nodes.len() < 10, "{} nodes", nodes.len());
    let group = nodes
        .iter()
        .find(|node| node["tasks"] == 300)
        .expect("a group of 300");
    assert_eq!(group["counts"]["done"], 300);
}

#[tokio::test]
async fn waits_list_timers_and_events() {
    let engine = Engine::temporary().await.unwrap();
    engine
        .spawn("nap", woke::bind(workflow::sleep(Duration::from_secs(60))))
        .await
        .unwrap();
    engine
        .spawn(
            "gate",
            approve::bind(workflow::wait_for_event(ExternalEvent::<bool>::new("go"))),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let router = workflow::web::router(engine);
    let waits = get(&router, "/api/workflows/gate/waits").await.json();
    assert_eq!(waits["events"][0]["key"], "go");
    assert_eq!(waits["events"][0]["external"], true);
    assert!(waits["timers"].as_array().unwrap().is_empty());
    let nap = get(&router, "/api/workflows/nap/waits").await.json();
    assert_eq!(nap["timers"][0]["task_id"], "sleep");
    assert_eq!(nap["timers"][0]["duration_ms"], 60_000);
    assert!(nap["timers"][0]["deadline"].as_u64().is_some());
}

#[tokio::test]
async fn actors_by_type_and_one_actors_state() {
    let engine = Engine::temporary().await.unwrap();
    for id in ["tally-1", "tally-2"] {
        let tally = Tally::get_or_create(&engine, id).await.unwrap();
        tally.bump(5).run().await.unwrap();
        tally.bump(2).run().await.unwrap();
    }
    let router = workflow::web::router(engine);
    let page = get(&router, "/api/actors").await.json();
    let listed: Vec<&str> = page["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["tally-1", "tally-2"]);
    let type_name = page["actors"][0]["type_name"].as_str().unwrap().to_string();
    assert!(type_name.ends_with("Tally"));
    let by_type = get(&router, &format!("/api/actors?type={type_name}"))
        .await
        .json();
    assert_eq!(by_type["actors"].as_array().map(Vec::len), Some(2));
    let none = get(&router, "/api/actors?type=Other").await.json();
    assert!(none["actors"].as_array().unwrap().is_empty());

    let detail = get(&router, "/api/actors/tally-2").await.json();
    assert_eq!(detail["state"], serde_json::json!({ "count": 7 }));
    assert_eq!(detail["actor"]["calls"], 2);
    let calls: Vec<&str> = detail["recent_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["tally-2@1", "tally-2@0"]);
    assert_eq!(
        get(&router, "/api/actors/nobody").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, "/api/actors/no%2Fbody").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn live_updates_follow_a_run_to_its_end() {
    let engine = Engine::temporary().await.unwrap();
    let parts: Vec<Dag<i64>> = (0..6).map(slow::bind).collect();
    engine.spawn("live", sum::bind(parts)).await.unwrap();
    let router = workflow::web::router(engine.clone());
    let request = Request::get("/api/workflows/live/live")
        .header("host", "localhost")
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.into_body().into_data_stream();
    let mut updates = Vec::new();
    let read = async {
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    updates.push(serde_json::from_str::<serde_json::Value>(data).unwrap());
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the stream ends with the run");
    assert!(updates.len() >= 2, "{updates:?}");
    assert_eq!(updates[0]["running"], true);
    assert_eq!(updates[0]["nodes"].as_array().map(Vec::len), Some(7));
    let last = updates.last().unwrap();
    assert_eq!(last["running"], false);
    assert_eq!(last["status"], "successful");
    assert_eq!(last["tasks_done"], 7);
    assert!(updates
        .iter()
        .skip(1)
        .any(|u| u["nodes"].as_array().is_some_and(|n| !n.is_empty())));

    // A finished workflow's stream is one update.
    let request = Request::get("/api/workflows/live/live")
        .header("host", "localhost")
        .body(Body::empty())
        .unwrap();
    let router = workflow::web::router(engine);
    let body = router.oneshot(request).await.unwrap().into_body();
    let text = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&text)
            .matches("event: update")
            .count(),
        1
    );
}

#[tokio::test]
async fn pages_are_html_and_unknown_ids_are_404_pages() {
    let router = workflow::web::router(engine_with_workflows().await);
    for (uri, status, page) in [
        ("/", StatusCode::OK, "list"),
        ("/workflows/job-a", StatusCode::OK, "workflow"),
        ("/actors", StatusCode::OK, "actors"),
        ("/workflows/nobody", StatusCode::NOT_FOUND, "error"),
        ("/workflows/%3Cscript%3E", StatusCode::BAD_REQUEST, "error"),
        ("/actors/nobody", StatusCode::NOT_FOUND, "error"),
        ("/nowhere", StatusCode::NOT_FOUND, "error"),
    ] {
        let answer = get(&router, uri).await;
        assert_eq!(answer.status, status, "{uri}");
        assert!(answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(
            answer.body.contains(&format!(r#"data-page="{page}""#)),
            "{uri}"
        );
        assert!(!answer.body.contains("<script>"), "{uri} echoes markup");
    }
    let script = get(&router, "/assets/app.js").await;
    assert!(script.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.body.contains("EventSource"));
    let style = get(&router, "/assets/style.css").await;
    assert!(style.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

/// A workflow run by another worker of a PostgreSQL fleet changes no progress in the
/// view's engine: its page still follows it to its end.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_follow_a_run_in_another_worker() {
    let schema = support::postgres::Schema::new("web_live");
    let runner = schema.builder().build().await.unwrap();
    let viewer = schema
        .builder()
        .takes_fleet_work(false)
        .build()
        .await
        .unwrap();
    let parts: Vec<Dag<i64>> = (0..4).map(slow::bind).collect();
    runner.spawn("elsewhere", sum::bind(parts)).await.unwrap();
    let router = workflow::web::WebView::standalone(viewer.clone()).router();
    let request = Request::get("/api/workflows/elsewhere/live")
        .header("host", "localhost")
        .body(Body::empty())
        .unwrap();
    let body = router.oneshot(request).await.unwrap().into_body();
    let text = tokio::time::timeout(Duration::from_secs(30), axum::body::to_bytes(body, 1 << 20))
        .await
        .expect("the stream ends with the run")
        .unwrap();
    let updates: Vec<serde_json::Value> = String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    assert_eq!(updates[0]["running"], true, "{updates:?}");
    let last = updates.last().unwrap();
    assert_eq!(
        (last["status"].as_str(), last["running"].as_bool()),
        (Some("successful"), Some(false))
    );
    viewer.close().await.unwrap();
    runner.close().await.unwrap();
}
