//! The console's JSON API and pages over plain HTTP, against a broker in this process: the
//! course's first topic (`tutorial_topic`, 2 partitions, one day's retention) created, listed,
//! described and deleted; bad input answered with the cluster's error and nothing changed.

mod common;

use serde_json::{Value as Json, json};

fn call(url: &str, method: &str, path: &str, body: Option<Json>) -> (u16, String) {
    common::call(url, method, path, body)
}

fn json_call(url: &str, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
    let (status, text) = call(url, method, path, body);
    (status, serde_json::from_str(&text).unwrap_or(Json::Null))
}

#[test]
fn topics_are_created_listed_described_and_deleted() {
    let stack = common::Stack::start();
    let url = stack.url.clone();

    let (status, created) = json_call(
        &url,
        "POST",
        "/api/topics",
        Some(json!({"name": "tutorial_topic", "partitions": 2,
                    "configs": {"retention.ms": "86400000"}})),
    );
    assert_eq!(status, 201, "{created}");
    let (status, list) = json_call(&url, "GET", "/api/topics", None);
    assert_eq!(status, 200);
    let topic = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "tutorial_topic")
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(topic["partitions"], 2);
    assert_eq!(topic["messages"], 0);
    let (status, detail) = json_call(&url, "GET", "/api/topics/tutorial_topic", None);
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["partitions"].as_array().unwrap().len(), 2);
    let retention = detail["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "retention.ms")
        .cloned()
        .unwrap();
    assert_eq!(retention["value"], "86400000");
    assert_eq!(retention["source"], "DYNAMIC_TOPIC_CONFIG");
    let (status, overview) = json_call(&url, "GET", "/api/overview", None);
    assert_eq!(status, 200);
    assert_eq!(overview["brokers"].as_array().unwrap().len(), 1);
    assert!(overview["partitions"].as_u64().unwrap() >= 2, "{overview}");

    // Bad input: the cluster's error, next to nothing changed.
    for (body, want) in [
        (json!({"name": "bad name!"}), 400),
        (json!({"name": "negative", "partitions": -3}), 400),
        (json!({"name": "tutorial_topic"}), 409),
        (json!({"partitions": 1}), 400),
    ] {
        let (status, e) = json_call(&url, "POST", "/api/topics", Some(body.clone()));
        assert_eq!(status, want, "{body} → {e}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    let (_, list) = json_call(&url, "GET", "/api/topics", None);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["internal"] == false)
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["tutorial_topic"], "{list}");

    // The pages: the shell for any page URL, the script and the stylesheet.
    for path in ["/", "/topics", "/topics/tutorial_topic"] {
        let (status, html) = call(&url, "GET", path, None);
        assert_eq!(status, 200);
        assert!(html.contains("<script src=\"/assets/app.js\">"), "{path}");
    }
    let (status, js) = call(&url, "GET", "/assets/app.js", None);
    assert_eq!(status, 200);
    assert!(js.contains("async function topics()"));

    // Configs changed one by one, partitions added, the topic emptied.
    let patch = |body: Json| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent
            .patch(format!("{url}/api/topics/tutorial_topic/configs"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        let text = r.body_mut().read_to_string().unwrap();
        (
            r.status().as_u16(),
            serde_json::from_str::<Json>(&text).unwrap_or(Json::Null),
        )
    };
    let (status, e) = patch(json!({"set": {"cleanup.policy": "compact"}}));
    assert_eq!(status, 200, "{e}");
    let (status, e) = patch(json!({"set": {"cleanup.policy": "sometimes"}}));
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["field"], "configs", "{e}");
    let config = |name: &str| -> Json {
        let (_, detail) = json_call(&url, "GET", "/api/topics/tutorial_topic", None);
        detail["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(config("cleanup.policy")["value"], "compact");
    assert_eq!(
        config("retention.ms")["value"],
        "86400000",
        "the others stay"
    );
    let (status, _) = patch(json!({"delete": ["cleanup.policy"]}));
    assert_eq!(status, 200);
    assert_eq!(config("cleanup.policy")["source"], "DEFAULT_CONFIG");
    let (status, e) = json_call(
        &url,
        "POST",
        "/api/topics/tutorial_topic/partitions",
        Some(json!({"count": 2})),
    );
    assert_eq!((status, e["field"].as_str()), (400, Some("count")), "{e}");
    let (status, e) = json_call(
        &url,
        "POST",
        "/api/topics/tutorial_topic/partitions",
        Some(json!({"count": 3})),
    );
    assert_eq!(status, 200, "{e}");
    for i in 0..30 {
        let (status, e) = json_call(
            &url,
            "POST",
            "/api/topics/tutorial_topic/messages",
            Some(json!({"value": format!("m{i}")})),
        );
        assert_eq!(status, 200, "{e}");
    }
    let (_, detail) = json_call(&url, "GET", "/api/topics/tutorial_topic", None);
    assert_eq!(detail["partitions"].as_array().unwrap().len(), 3);
    let (status, emptied) = json_call(&url, "POST", "/api/topics/tutorial_topic/empty", None);
    assert_eq!(status, 200, "{emptied}");
    assert_eq!(emptied["deleted"], 30);
    let (_, page) = json_call(&url, "GET", "/api/topics/tutorial_topic/messages", None);
    assert_eq!(page["messages"].as_array().unwrap().len(), 0, "{page}");
    let (_, detail) = json_call(&url, "GET", "/api/topics/tutorial_topic", None);
    for p in detail["partitions"].as_array().unwrap() {
        assert_eq!(p["log_start_offset"], p["log_end_offset"], "{detail}");
    }

    let (status, _) = call(&url, "DELETE", "/api/topics/tutorial_topic", None);
    assert_eq!(status, 204);
    let (status, e) = json_call(&url, "GET", "/api/topics/tutorial_topic", None);
    assert_eq!(status, 404, "{e}");
}
