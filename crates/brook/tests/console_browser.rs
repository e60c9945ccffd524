//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
//! over WebDriver with `fantoccini`), against `brook serve` with its schema registry and
//! metrics, Connect and SQL: the course's walkthrough — `tutorial_topic` created with 2
//! partitions and a day's retention, a message produced from the page and seen in the message
//! browser, Avro rides shown decoded, a consumer group's lag shown and reset to latest
//! (previewed, then applied), a new schema version registered and shown as a diff, the Orders
//! Datagen connector created from its form (orders arrive, the throughput chart moves, then it
//! is paused), a push query streaming into the SQL page — bad form input answered next to its
//! field with nothing changed, and a screenshot of each page. Screenshots go to `target/console-screenshots/`; with `BROOK_UPDATE_SCREENSHOTS=1`
//! they replace the ones in `docs/console/`.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};

/// chromedriver on a free loopback port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .env_remove("LD_LIBRARY_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is not installed: scripts/test installs chromium-driver");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://{addr}"),
    }
}

/// A headless Chromium session; `dark` makes the system's colour scheme dark.
async fn open_browser(driver: &Driver, dark: bool) -> Client {
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1360,900",
        "--force-prefers-reduced-motion",
        "--lang=en-US",
    ];
    if dark {
        args.push("--force-dark-mode");
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": "/usr/bin/chromium", "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("cannot open a Chromium session")
}

fn screenshots_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = if std::env::var_os("BROOK_UPDATE_SCREENSHOTS").is_some() {
        root.join("docs/console")
    } else {
        root.join("target/console-screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Waits until the element at `css` exists and its text contains `want`.
async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    wait_for_text(c, css, want, |text| text.contains(want)).await
}

/// Waits until the element at `css` exists and its text is `want`.
async fn wait_text_is(c: &Client, css: &str, want: &str) -> String {
    wait_for_text(c, css, want, |text| text.trim() == want).await
}

async fn wait_for_text(c: &Client, css: &str, want: &str, good: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
            && good(&text)
        {
            return text;
        }
        if Instant::now() > deadline {
            let page = c.source().await.unwrap_or_default();
            panic!("no '{want}' in {css} within 30 s; the page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Accepts the confirm or alert dialog the page shows (waiting for it to appear).
async fn accept_dialog(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.accept_alert().await.is_err() {
        assert!(Instant::now() < deadline, "no dialog appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn fill(c: &Client, css: &str, text: &str) {
    let e = c.wait().for_element(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

fn api(console: SocketAddr, path: &str) -> Json {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let text = agent
        .get(format!("http://{console}/api{path}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn brook(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "brook {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const RIDE_SCHEMA: &str = r#"{"type": "record", "name": "Ride", "namespace": "com.datatalksclub.taxi",
  "fields": [{"name": "vendor_id", "type": "int"}, {"name": "passenger_count", "type": "int"},
             {"name": "trip_distance", "type": "double"}, {"name": "total_amount", "type": "double"}]}"#;

#[test]
fn the_courses_walkthrough_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let console: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let metrics = format!("127.0.0.1:{}", free_port());
    let connect: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let sql: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start_with_registry_and_args(
        &dir.path().join("data"),
        &[
            "--console-listen",
            &console.to_string(),
            "--metrics-listen",
            &metrics,
            "--connect-listen",
            &connect.to_string(),
            "--sql-listen",
            &sql.to_string(),
            "--set",
            "group.initial.rebalance.delay.ms=0",
        ],
    );
    let bootstrap = server.addr.to_string();
    let registry = format!("http://{}", server.registry.unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    for service in [console, connect, sql] {
        while TcpStream::connect(service).is_err() {
            assert!(Instant::now() < deadline, "{service} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let base = format!("http://{console}");
    let driver = start_driver();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let c = open_browser(&driver, false).await;

        // Bad input: the server's error next to the field, nothing created.
        c.goto(&format!("{base}/topics?create")).await.unwrap();
        fill(&c, "form.create input[name=name]", "bad name!").await;
        click(&c, "form.create button[type=submit]").await;
        let said = wait_text(&c, "[data-error-for=name]", "bad name!").await;
        assert!(said.contains("cannot create topic"), "{said}");
        fill(&c, "form.create input[name=name]", "negative").await;
        fill(&c, "form.create input[name=partitions]", "-3").await;
        click(&c, "form.create button[type=submit]").await;
        wait_text(&c, "[data-error-for=partitions]", "at least 1").await;
        screenshot(&c, "create-topic-error").await;
        let names: Vec<String> = api(console, "/topics")
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !names.iter().any(|n| n == "negative" || n == "bad name!"),
            "{names:?}"
        );

        // The course's first topic: 2 partitions, one day's retention.
        fill(&c, "form.create input[name=name]", "tutorial_topic").await;
        fill(&c, "form.create input[name=partitions]", "2").await;
        click(&c, "form.create select[name=retention] option[value='86400000']").await;
        click(&c, "form.create button[type=submit]").await;
        wait_text(&c, "main h1", "tutorial_topic").await;
        assert!(c.current_url().await.unwrap().path().ends_with("/topics/tutorial_topic"));
        click(&c, "nav.tabs a[href$='/configs']").await;
        let configs = wait_text(&c, "main table", "retention.ms").await;
        let line = configs
            .lines()
            .find(|l| l.starts_with("retention.ms "))
            .unwrap()
            .to_string();
        assert!(
            line.contains("86400000") && line.contains("DYNAMIC_TOPIC_CONFIG"),
            "{line}"
        );
        screenshot(&c, "topic-configs").await;

        // A message produced from the page, then seen in the message browser.
        click(&c, "nav.tabs a[href$='/produce']").await;
        fill(&c, "form.produce input[name=key]", "1").await;
        fill(
            &c,
            "form.produce textarea[name=value]",
            r#"{"hello": "brook", "ride": 1}"#,
        )
        .await;
        fill(&c, "form.produce textarea[name=headers]", "source: console").await;
        click(&c, "form.produce button[type=submit]").await;
        let result = wait_text(&c, "form.produce .result", "Produced to partition").await;
        screenshot(&c, "produce").await;
        click(&c, "form.produce .result a").await;
        wait_text(&c, "table.messages tbody", "hello").await;
        click(&c, "table.messages tr.message").await;
        let detail = wait_text(&c, "table.messages tr.detail", "source").await;
        assert!(detail.contains("\"hello\": \"brook\""), "{detail}");
        assert!(detail.contains("console"), "{detail}");
        let page = api(console, "/topics/tutorial_topic/messages");
        let offset = page["messages"][0]["offset"].as_i64().unwrap();
        assert!(result.contains(&format!("at offset {offset}")), "{result}");
        screenshot(&c, "messages").await;

        // Rides produced as Avro through the registry, shown decoded.
        brook(
            &["-b", &bootstrap, "topic", "create", "rides_avro", "-p", "2"],
            None,
        );
        let schema_file = dir.path().join("ride.avsc");
        std::fs::write(&schema_file, RIDE_SCHEMA).unwrap();
        let rides: String = (0..50)
            .map(|i| {
                format!(
                    "{}\n",
                    json!({"vendor_id": 1 + i % 2, "passenger_count": 1 + i % 4,
                           "trip_distance": 1.5 + f64::from(i), "total_amount": 10.0 + f64::from(i)})
                )
            })
            .collect();
        brook(
            &[
                "-b",
                &bootstrap,
                "produce",
                "rides_avro",
                "--value-format",
                "avro",
                "--schema-file",
                schema_file.to_str().unwrap(),
                "--registry-url",
                &registry,
            ],
            Some(&rides),
        );
        c.goto(&format!("{base}/topics/rides_avro")).await.unwrap();
        let shown = wait_text(&c, "table.messages tbody", "total_amount").await;
        assert!(shown.contains("\"vendor_id\":"), "{shown}");
        click(&c, "table.messages tr.message").await;
        wait_text(&c, "table.messages tr.detail", "avro · schema").await;
        screenshot(&c, "messages-avro").await;

        // A consumer group reads 10 rides: its lag shows, then falls to 0 after a reset.
        brook(
            &[
                "-b",
                &bootstrap,
                "consume",
                "rides_avro",
                "--group",
                "dashboard",
                "--from-beginning",
                "-n",
                "10",
            ],
            None,
        );
        let lag = api(console, "/groups/dashboard")["total_lag"].as_i64().unwrap();
        assert!(lag > 0, "the group has lag: {}", api(console, "/groups/dashboard"));
        c.goto(&format!("{base}/groups")).await.unwrap();
        let groups = wait_text(&c, "main table", "dashboard").await;
        let row = groups.lines().find(|l| l.contains("dashboard")).unwrap();
        assert!(row.ends_with(&lag.to_string()), "{row}");
        screenshot(&c, "groups").await;
        click(&c, "main table a[href='/groups/dashboard']").await;
        wait_text_is(&c, "#total-lag", &lag.to_string()).await;
        click(&c, "form.reset select[name=to] option[value=latest]").await;
        click(&c, "form.reset button[type=submit]").await;
        let plan = wait_text(&c, "#plan", "Dry run").await;
        assert!(plan.contains("rides_avro"), "{plan}");
        assert_eq!(
            api(console, "/groups/dashboard")["total_lag"],
            lag,
            "a preview commits nothing"
        );
        screenshot(&c, "group-reset").await;
        click(&c, "#plan button.danger").await;
        accept_dialog(&c).await;
        wait_text_is(&c, "#total-lag", "0").await;
        assert_eq!(api(console, "/groups/dashboard")["total_lag"], 0);
        screenshot(&c, "group").await;

        // The schema of the rides: a compatible new version registered from the page and
        // shown as a diff; a schema that does not parse, refused next to its field.
        c.goto(&format!("{base}/schemas")).await.unwrap();
        wait_text(&c, "main table", "rides_avro-value").await;
        screenshot(&c, "schemas").await;
        click(&c, "main table a[href='/schemas/rides_avro-value']").await;
        wait_text(&c, "main h1", "rides_avro-value").await;
        let evolved = RIDE_SCHEMA.replace(
            r#"{"name": "total_amount", "type": "double"}"#,
            r#"{"name": "total_amount", "type": "double"}, {"name": "tip_amount", "type": "double", "default": 0.0}"#,
        );
        fill(&c, "form.produce textarea[name=schema]", "{ not a schema").await;
        click(&c, "form.produce button[type=submit]").await;
        wait_for_text(&c, "[data-error-for=schema]", "an error", |t| !t.trim().is_empty()).await;
        fill(&c, "form.produce textarea[name=schema]", &evolved).await;
        click(&c, "form.produce button[type=submit]").await;
        wait_text(&c, "form.produce .result", "Registered with id").await;
        wait_text(&c, "main p.muted", "version 2 of 2").await;
        let diff = wait_text(&c, "table.diff", "tip_amount").await;
        assert!(diff.contains("version 1") && diff.contains("version 2"), "{diff}");
        assert!(c.find(Locator::Css("table.diff tr.added")).await.is_ok());
        screenshot(&c, "schema").await;

        // A new subject registered from the list page, then deleted permanently.
        c.goto(&format!("{base}/schemas")).await.unwrap();
        click(&c, "details.panel summary").await;
        fill(&c, "form.produce input[name=subject]", "scratch-value").await;
        fill(
            &c,
            "form.produce textarea[name=schema]",
            r#"{"type": "string"}"#,
        )
        .await;
        click(&c, "form.produce button[type=submit]").await;
        wait_text(&c, "form.produce .result", "Registered with id").await;
        c.goto(&format!("{base}/schemas/scratch-value")).await.unwrap();
        wait_text(&c, "main h1", "scratch-value").await;
        click(&c, "main .title span button:last-child").await; // Delete permanently
        accept_dialog(&c).await;
        wait_text(&c, "main h1", "Schemas").await;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let left = agent
            .get(format!("{registry}/subjects?deleted=true"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert!(!left.contains("scratch-value"), "hard-deleted: {left}");

        // The course's Datagen connector, created from the form built from its config
        // definition: orders arrive, the throughput chart moves, then it is paused.
        c.goto(&format!(
            "{base}/connectors/new?class=io.confluent.kafka.connect.datagen.DatagenConnector"
        ))
        .await
        .unwrap();
        fill(&c, "form.connector input[name=name]", "OrdersConnector_tutorial").await;
        fill(&c, "form.connector input[name='kafka.topic']", "orders").await;
        fill(&c, "form.connector input[name='max.interval']", "20").await;
        click(&c, "form.connector select[name=quickstart] option[value=orders]").await;
        click(
            &c,
            "form.connector select[name='key.converter'] option[value='org.apache.kafka.connect.storage.StringConverter']",
        )
        .await;
        click(
            &c,
            "form.connector select[name='value.converter'] option[value='org.apache.kafka.connect.json.JsonConverter']",
        )
        .await;
        fill(
            &c,
            "form.connector textarea[name=_more]",
            "value.converter.schemas.enable=false",
        )
        .await;
        screenshot(&c, "connector-new").await;
        click(&c, "form.connector button[type=submit]").await;
        wait_text(&c, "main h1", "OrdersConnector_tutorial").await;
        wait_text_is(&c, "#connector-state", "RUNNING").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let series = api(console, "/metrics/topics/orders");
            let moving = series["samples"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["records_per_sec"].as_f64().unwrap() > 0.0);
            if moving && c.find(Locator::Css("#topic-chart polyline.line")).await.is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "the chart never moved: {series}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        screenshot(&c, "connector").await;
        let orders = api(console, "/topics/orders/messages?limit=1");
        let order = &orders["messages"][0]["value"]["data"];
        assert!(order["orderid"].is_number() && order["itemid"].is_string(), "{orders}");
        click(&c, "main .title button").await; // Pause
        wait_text_is(&c, "#connector-state", "PAUSED").await;
        let end = |api_answer: Json| -> i64 {
            api_answer["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["log_end_offset"].as_i64().unwrap())
                .sum()
        };
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let paused_at = end(api(console, "/topics/orders"));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(end(api(console, "/topics/orders")), paused_at, "no orders while paused");
        c.goto(&format!("{base}/connectors")).await.unwrap();
        wait_text(&c, "main table", "PAUSED").await;
        screenshot(&c, "connectors").await;

        // SQL: a stream over the orders, and a push query streaming into the table.
        c.goto(&format!("{base}/sql")).await.unwrap();
        fill(
            &c,
            "textarea.editor",
            "CREATE STREAM orders_s (orderid INT, itemid VARCHAR, orderunits DOUBLE) \
             WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');",
        )
        .await;
        click(&c, ".sql .toolbar button").await;
        wait_text(&c, ".sql-side", "ORDERS_S").await;
        fill(
            &c,
            "textarea.editor",
            "SELECT orderid, itemid FROM orders_s EMIT CHANGES;",
        )
        .await;
        click(&c, ".sql .toolbar button").await;
        wait_text(&c, "#sql-output thead", "ORDERID").await;
        wait_text(&c, "#sql-output p", "row(s)").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.find(Locator::Css("#sql-output tbody tr")).await.is_err() {
            assert!(Instant::now() < deadline, "no rows streamed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        screenshot(&c, "sql").await;

        // Its partitions, and two more added (confirmed).
        c.goto(&format!("{base}/topics/tutorial_topic/partitions"))
            .await
            .unwrap();
        fill(&c, "form.reset input[name=count]", "4").await;
        click(&c, "form.reset button[type=submit]").await;
        accept_dialog(&c).await;
        wait_text(&c, "main p.muted", "4 partition(s)").await;
        screenshot(&c, "topic-partitions").await;

        // The course's topic: a config changed from its page, then emptied (confirmed).
        c.goto(&format!("{base}/topics/tutorial_topic/configs"))
            .await
            .unwrap();
        fill(&c, "form.reset input[name=name]", "retention.bytes").await;
        fill(&c, "form.reset input[name=value]", "oops").await;
        click(&c, "form.reset button[type=submit]").await;
        wait_for_text(&c, "[data-error-for=configs]", "an error", |t| !t.trim().is_empty()).await;
        fill(&c, "form.reset input[name=value]", "500000000").await;
        click(&c, "form.reset button[type=submit]").await;
        let configs = wait_text(&c, "main table", "500000000").await;
        assert!(
            configs
                .lines()
                .any(|l| l.starts_with("retention.bytes 500000000 DYNAMIC_TOPIC_CONFIG")),
            "{configs}"
        );
        click(&c, "main .title button.danger").await; // Empty topic
        accept_dialog(&c).await; // the confirmation
        accept_dialog(&c).await; // "Deleted 1 messages."
        wait_text(&c, "main p.muted", "· 0 messages").await;
        let (low, high): (Vec<i64>, Vec<i64>) = api(console, "/topics/tutorial_topic")["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["log_start_offset"].as_i64().unwrap(),
                    p["log_end_offset"].as_i64().unwrap(),
                )
            })
            .unzip();
        assert_eq!(low, high, "emptied");

        // Topics and the overview, with live charts.
        c.goto(&format!("{base}/topics")).await.unwrap();
        let list = wait_text(&c, "main table", "tutorial_topic").await;
        assert!(list.contains("rides_avro"), "{list}");
        screenshot(&c, "topics").await;
        c.goto(&format!("{base}/")).await.unwrap();
        wait_text(&c, "#charts", "Bytes in").await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.find(Locator::Css("#charts polyline.line")).await.is_err() {
            assert!(Instant::now() < deadline, "the charts never drew a line");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        screenshot(&c, "overview").await;
        c.close().await.unwrap();
    });
    drop(driver);
    assert!(server.terminate());
}

#[test]
fn an_unreachable_cluster_is_an_error_on_the_page() {
    // Nothing listens on this port: every page must say so instead of staying blank.
    let dead = format!("127.0.0.1:{}", free_port());
    let console: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["-b", &dead, "--timeout", "2s", "console", "--listen"])
        .arg(console.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(console).is_err() {
        assert!(Instant::now() < deadline, "the console did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let driver = start_driver();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // In the dark colour scheme, which the stylesheet follows.
        let c = open_browser(&driver, true).await;
        for page in ["/", "/topics", "/topics/rides", "/groups"] {
            c.goto(&format!("http://{console}{page}")).await.unwrap();
            let said = wait_text(&c, "main", "Could not load this page").await;
            assert!(said.contains("did not answer"), "{page}: {said}");
        }
        screenshot(&c, "unreachable").await;
        c.close().await.unwrap();
    });
    drop(driver);
    let _ = child.kill();
    let _ = child.wait();
}
