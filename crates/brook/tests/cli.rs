//! The `brook` client subcommands against `brook serve`, with golden files for their table and
//! JSON outputs (tests/golden; `BROOK_UPDATE_GOLDEN=1` rewrites them), exit codes, and bad
//! input: one clear error line, never a panic.

mod common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::Server;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn brook(server: &Server, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["--bootstrap-servers", &server.addr.to_string()])
        .args(args)
        .env_remove("BROOK_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // A command that fails before reading its input closes the pipe: that is fine.
        let _ = input.write_all(bytes);
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "brook {args:?} panicked:\n{}",
        run.stderr
    );
    run
}

/// Runs a command that must succeed and returns its stdout.
fn ok(server: &Server, args: &[&str], stdin: Option<&[u8]>) -> String {
    let run = brook(server, args, stdin);
    assert_eq!(
        run.code, 0,
        "brook {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run.stdout
}

/// Replaces what changes from run to run: record timestamps.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\"timestamp\":") {
        let (head, tail) = rest.split_at(at + "\"timestamp\":".len());
        out.push_str(head);
        let tail = tail.trim_start_matches(' ');
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        out.push_str(if digits > 0 { " <TS>" } else { " " });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let actual = normalize(actual);
    if std::env::var_os("BROOK_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with BROOK_UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "output differs from {} (BROOK_UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

#[test]
fn topic_produce_consume_and_group_commands_match_their_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());

    golden(
        "topic-create.txt",
        &ok(
            &server,
            &[
                "topic",
                "create",
                "rides",
                "--partitions",
                "3",
                "-c",
                "retention.ms=86400000",
            ],
            None,
        ),
    );
    ok(&server, &["topic", "create", "payments"], None);
    golden("topic-list.txt", &ok(&server, &["topic", "list"], None));
    golden(
        "topic-list.json",
        &ok(&server, &["topic", "list", "--output", "json"], None),
    );
    golden(
        "topic-describe.txt",
        &ok(&server, &["topic", "describe", "rides"], None),
    );
    golden(
        "topic-describe.json",
        &ok(&server, &["-o", "json", "topic", "describe", "rides"], None),
    );
    golden(
        "topic-alter.txt",
        &ok(
            &server,
            &[
                "topic",
                "alter",
                "rides",
                "--set",
                "cleanup.policy=compact",
                "--delete",
                "retention.ms",
                "--partitions",
                "4",
            ],
            None,
        ),
    );
    let described = ok(&server, &["-o", "json", "topic", "describe", "rides"], None);
    let described: serde_json::Value = serde_json::from_str(&described).unwrap();
    assert_eq!(described["partitions"].as_array().unwrap().len(), 4);
    let config = |name: &str| {
        described["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(config("cleanup.policy")["value"], "compact");
    assert_eq!(config("cleanup.policy")["source"], "DYNAMIC_TOPIC_CONFIG");
    assert_eq!(config("retention.ms")["source"], "DEFAULT_CONFIG");

    // Produce: key separator, header, fixed partition; then read back in every format.
    let lines = b"vendor-1:first ride\nvendor-2:second ride\nvendor-1:third ride\n";
    let produced = ok(
        &server,
        &[
            "-o",
            "json",
            "produce",
            "rides",
            "--key-separator",
            ":",
            "--header",
            "source=golden",
            "--partition",
            "1",
        ],
        Some(lines),
    );
    let produced: serde_json::Value = serde_json::from_str(&produced).unwrap();
    assert_eq!(produced["records"], 3);
    let read = |format: &str| {
        ok(
            &server,
            &["consume", "rides", "--from-beginning", "--format", format],
            None,
        )
    };
    golden("consume-value.txt", &read("value"));
    golden("consume-key-value.txt", &read("key-value"));
    golden("consume.jsonl", &read("json"));
    let limited = ok(
        &server,
        &[
            "consume",
            "rides",
            "--partition",
            "1",
            "--offset",
            "1",
            "-n",
            "1",
        ],
        None,
    );
    assert_eq!(limited, "second ride\n");

    // The size on disk shows up once there is data.
    let described = ok(&server, &["-o", "json", "topic", "describe", "rides"], None);
    let described: serde_json::Value = serde_json::from_str(&described).unwrap();
    assert!(described["partitions"][1]["size_bytes"].as_i64().unwrap() > 0);
    assert_eq!(described["partitions"][1]["log_end_offset"], 3);

    // A group consumes everything and commits; then lag, list and resets.
    ok(
        &server,
        &[
            "consume",
            "rides",
            "--group",
            "dashboards",
            "--from-beginning",
        ],
        None,
    );
    // rides is compacted now: records need keys, as Kafka requires.
    ok(
        &server,
        &[
            "produce",
            "rides",
            "--partition",
            "1",
            "--key-separator",
            ":",
        ],
        Some(b"vendor-3:fourth ride\n"),
    );
    golden(
        "group-describe.txt",
        &ok(&server, &["group", "describe", "dashboards"], None),
    );
    golden(
        "group-describe.json",
        &ok(
            &server,
            &["-o", "json", "group", "describe", "dashboards"],
            None,
        ),
    );
    golden("group-list.txt", &ok(&server, &["group", "list"], None));
    golden(
        "group-reset-dry-run.txt",
        &ok(
            &server,
            &["group", "reset-offsets", "dashboards", "--to-earliest"],
            None,
        ),
    );
    golden(
        "group-reset-execute.json",
        &ok(
            &server,
            &[
                "-o",
                "json",
                "group",
                "reset-offsets",
                "dashboards",
                "--shift-by",
                "-2",
                "--execute",
            ],
            None,
        ),
    );
    let lag = ok(
        &server,
        &["-o", "json", "group", "describe", "dashboards"],
        None,
    );
    let lag: serde_json::Value = serde_json::from_str(&lag).unwrap();
    assert_eq!(lag["partitions"][0]["committed_offset"], 1);
    assert_eq!(lag["partitions"][0]["lag"], 3);
    let resumed = ok(
        &server,
        &["consume", "rides", "--group", "dashboards"],
        None,
    );
    assert_eq!(resumed, "second ride\nthird ride\nfourth ride\n");

    // A live member shows up with its partitions.
    {
        use rdkafka::consumer::{BaseConsumer, Consumer as _};
        let member: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", server.addr.to_string())
            .set("group.id", "live")
            .set("client.id", "live-client")
            .create()
            .unwrap();
        member.subscribe(&["rides"]).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let view = loop {
            let _ = member.poll(std::time::Duration::from_millis(100));
            let run = brook(&server, &["-o", "json", "group", "describe", "live"], None);
            if run.code == 0 {
                let view: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                if view["state"] == "Stable" {
                    break view;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the group never settled"
            );
        };
        assert_eq!(view["members"][0]["client_id"], "live-client");
        assert_eq!(
            view["members"][0]["partitions"].as_array().unwrap().len(),
            4
        );
        let table = ok(&server, &["group", "describe", "live"], None);
        assert!(
            table.contains("MEMBER-ID") && table.contains("live-client"),
            "{table}"
        );
    }

    golden(
        "topic-delete.txt",
        &ok(&server, &["topic", "delete", "payments"], None),
    );
    golden(
        "group-delete.txt",
        &ok(&server, &["group", "delete", "dashboards"], None),
    );
}

#[test]
fn bad_input_gets_one_clear_error_line_and_a_meaningful_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    ok(&server, &["topic", "create", "rides"], None);

    let check = |run: Run, code: i32, says: &str| {
        assert_eq!(run.code, code, "stderr: {}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line expected, got:\n{}", run.stderr);
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(says),
            "{:?} does not say {says:?}",
            lines[0]
        );
    };

    // An unreachable bootstrap server: exit 3.
    let unreachable = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["-b", "127.0.0.1:1", "--timeout", "1s", "topic", "list"])
        .env_remove("BROOK_LOG")
        .output()
        .unwrap();
    check(
        Run {
            code: unreachable.status.code().unwrap(),
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&unreachable.stderr).into_owned(),
        },
        3,
        "cannot reach the cluster at 127.0.0.1:1",
    );
    // A missing topic: exit 4, for every command that names one.
    check(
        brook(&server, &["topic", "describe", "nope"], None),
        4,
        "topic 'nope' does not exist",
    );
    check(
        brook(&server, &["consume", "nope"], None),
        4,
        "topic 'nope' does not exist",
    );
    check(
        brook(&server, &["produce", "nope"], Some(b"x\n")),
        4,
        "topic 'nope' does not exist",
    );
    check(
        brook(&server, &["topic", "delete", "nope"], None),
        4,
        "topic 'nope' does not exist",
    );
    check(
        brook(&server, &["group", "describe", "nobody"], None),
        4,
        "group 'nobody' does not exist",
    );
    // Malformed flags and input: exit 2.
    check(
        brook(
            &server,
            &["produce", "rides", "--header", "oops"],
            Some(b"x\n"),
        ),
        2,
        "invalid --header 'oops': expected KEY=VALUE",
    );
    check(
        brook(
            &server,
            &["produce", "rides"],
            Some(b"fine\n\xff\xfe broken\n"),
        ),
        2,
        "line 2 of stdin is not valid UTF-8",
    );
    check(
        brook(
            &server,
            &["topic", "create", "x", "-c", "retention.ms"],
            None,
        ),
        2,
        "invalid --config 'retention.ms'",
    );
    check(
        brook(
            &server,
            &["consume", "rides", "--timestamp", "yesterday"],
            None,
        ),
        2,
        "invalid time 'yesterday'",
    );
    // The valid line before the bad one was written.
    let read = ok(&server, &["consume", "rides", "--from-beginning"], None);
    assert_eq!(read, "fine\n");
    // A refused operation: exit 1.
    check(
        brook(&server, &["topic", "create", "rides"], None),
        1,
        "topic 'rides' already exists",
    );
}

#[test]
fn completions_are_generated_for_common_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("reset-offsets"), "{shell}");
    }
}

#[test]
fn avro_values_go_through_the_schema_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with_registry(tmp.path());
    let registry = format!("http://{}", server.registry.unwrap());
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/rides/ride.avsc");
    ok(&server, &["topic", "create", "rides-avro"], None);
    let ride = |n: i64| {
        serde_json::json!({
            "vendor_id": n, "tpep_pickup_datetime": "2020-07-01 00:00:00",
            "tpep_dropoff_datetime": "2020-07-01 00:15:43", "passenger_count": 1,
            "trip_distance": 3.11, "rate_code_id": 1, "store_and_fwd_flag": "N",
            "pu_location_id": 142, "do_location_id": 210, "payment_type": "2",
            "fare_amount": 14.2, "extra": 1.0, "mta_tax": 0.5, "tip_amount": 0.0,
            "tolls_amount": 0.0, "improvement_surcharge": 0.3, "total_amount": 18.5,
            "congestion_surcharge": 2.5
        })
    };
    let input = format!("{}\n{}\n", ride(1), ride(2));
    let avro = [
        "--value-format",
        "avro",
        "--registry-url",
        registry.as_str(),
    ];
    let mut produce = vec![
        "produce",
        "rides-avro",
        "--schema-file",
        schema.to_str().unwrap(),
    ];
    produce.extend(avro);
    ok(&server, &produce, Some(input.as_bytes()));

    // Raw bytes: Confluent's framing with the registered id.
    let raw = ok(
        &server,
        &["consume", "rides-avro", "--from-beginning", "-o", "json"],
        None,
    );
    let first: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    assert!(
        first["value"].as_str().unwrap().starts_with('\0'),
        "{first}"
    );
    // Decoded through the registry: the same JSON back.
    let mut consume = vec!["consume", "rides-avro", "--from-beginning"];
    consume.extend(avro);
    let decoded = ok(&server, &consume, None);
    let values: Vec<serde_json::Value> = decoded
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(values, vec![ride(1), ride(2)]);

    // Bad input: a line that does not fit the schema, a missing schema file.
    let mut bad = produce.clone();
    bad[1] = "rides-avro";
    let run = brook(&server, &bad, Some(b"{\"vendor_id\": \"one\"}\n"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("line 1 of stdin"), "{}", run.stderr);
    // Without --schema-file the subject's latest schema is used; a subject without one is an
    // error that says what to give.
    let mut latest = vec!["produce", "rides-avro"];
    latest.extend(avro);
    let run = brook(
        &server,
        &latest,
        Some(format!("{}\n{{}}\n", ride(3)).as_bytes()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("line 2 of stdin"), "{}", run.stderr);
    let mut missing = vec!["produce", "nothing-registered"];
    missing.extend(avro);
    let run = brook(&server, &missing, Some(b"{}\n"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--schema-file"), "{}", run.stderr);
    let decoded = ok(&server, &consume, None);
    assert_eq!(decoded.lines().count(), 3, "{decoded}");
}

#[test]
fn json_schema_and_protobuf_values_go_through_the_schema_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with_registry(tmp.path());
    let registry = format!("http://{}", server.registry.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let json_schema = dir.path().join("ride.schema.json");
    std::fs::write(
        &json_schema,
        r#"{"type":"object","properties":{"vendor_id":{"type":"integer"},"fare":{"type":"number"}},"required":["vendor_id"]}"#,
    )
    .unwrap();
    let proto = dir.path().join("ride.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\npackage taxi;\nmessage Ride { int32 vendor_id = 1; double fare = 2; }\nmessage Zone { string name = 1; }\n",
    )
    .unwrap();
    let records = "{\"vendor_id\": 1, \"fare\": 12.5}\n{\"vendor_id\": 2, \"fare\": 7.25}\n";
    for (topic, format, file, message) in [
        ("rides-json", "json-schema", &json_schema, None),
        ("rides-proto", "protobuf", &proto, None),
        ("zones-proto", "protobuf", &proto, Some("taxi.Zone")),
    ] {
        ok(&server, &["topic", "create", topic], None);
        let file = file.to_str().unwrap();
        let mut args = vec![
            "produce",
            topic,
            "--schema-file",
            file,
            "--value-format",
            format,
        ];
        args.extend(["--registry-url", registry.as_str()]);
        if let Some(m) = message {
            args.extend(["--message", m]);
        }
        let input = if message.is_some() {
            "{\"name\": \"JFK\"}\n"
        } else {
            records
        };
        ok(&server, &args, Some(input.as_bytes()));
        let decoded = ok(
            &server,
            &[
                "consume",
                topic,
                "--from-beginning",
                "--value-format",
                format,
                "--registry-url",
                registry.as_str(),
            ],
            None,
        );
        let values: Vec<serde_json::Value> = decoded
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expected: Vec<serde_json::Value> = if message.is_some() {
            vec![serde_json::json!({"name": "JFK"})]
        } else if format == "protobuf" {
            // Protobuf's JSON mapping: lowerCamelCase names.
            vec![
                serde_json::json!({"vendorId": 1, "fare": 12.5}),
                serde_json::json!({"vendorId": 2, "fare": 7.25}),
            ]
        } else {
            records
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        assert_eq!(values, expected, "{topic}");
    }
    // The second Protobuf message travels with message index [1]: after the magic byte and the
    // id, the zig-zag varints 2 (one index) and 2 (index 1).
    let raw = ok(
        &server,
        &["consume", "zones-proto", "--from-beginning", "-o", "json"],
        None,
    );
    let value: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    let bytes = value["value"].as_str().unwrap().as_bytes();
    assert_eq!((bytes[0], bytes[5], bytes[6]), (0, 2, 2), "{value}");

    // A value the JSON Schema refuses names the problem; nothing after it is sent.
    let run = brook(
        &server,
        &[
            "produce",
            "rides-json",
            "--value-format",
            "json-schema",
            "--registry-url",
            registry.as_str(),
        ],
        Some(b"{\"fare\": 1}\n"),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("vendor_id"), "{}", run.stderr);
    // A subject holding another format is refused before anything is sent.
    let run = brook(
        &server,
        &[
            "produce",
            "rides-json",
            "--value-format",
            "protobuf",
            "--subject",
            "rides-json-value",
            "--registry-url",
            registry.as_str(),
        ],
        Some(records.as_bytes()),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("JSON schema, not PROTOBUF"),
        "{}",
        run.stderr
    );
}

#[test]
fn ctrl_c_ends_a_following_group_consumer_with_a_commit() {
    use std::io::BufRead as _;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    ok(&server, &["topic", "create", "events"], None);
    ok(&server, &["produce", "events"], Some(b"one\ntwo\nthree\n"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["-b", &server.addr.to_string()])
        .args([
            "consume",
            "events",
            "--group",
            "watchers",
            "--from-beginning",
            "--follow",
        ])
        .env_remove("BROOK_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.push(
            received
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("the consumer printed the records"),
        );
    }
    assert_eq!(seen, ["one", "two", "three"]);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view = ok(
        &server,
        &["-o", "json", "group", "describe", "watchers"],
        None,
    );
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    assert_eq!(view["partitions"][0]["committed_offset"], 3, "{view}");
    assert_eq!(
        view["members"].as_array().unwrap().len(),
        0,
        "it left the group"
    );
}

#[test]
fn a_group_consumer_commits_only_what_it_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    ok(&server, &["topic", "create", "events"], None);
    let lines: String = (1..=50).map(|i| format!("event {i}\n")).collect();
    ok(&server, &["produce", "events"], Some(lines.as_bytes()));
    let printed = ok(
        &server,
        &[
            "consume",
            "events",
            "-g",
            "readers",
            "--from-beginning",
            "-n",
            "10",
        ],
        None,
    );
    assert_eq!(printed.lines().count(), 10, "{printed}");
    // The next member of the group starts right after what was printed, not at the end of
    // what the first one had fetched.
    let next = ok(
        &server,
        &["consume", "events", "-g", "readers", "-n", "3"],
        None,
    );
    assert_eq!(next, "event 11\nevent 12\nevent 13\n");
    let described = ok(
        &server,
        &["--output", "json", "group", "describe", "readers"],
        None,
    );
    let view: serde_json::Value = serde_json::from_str(&described).unwrap();
    assert_eq!(view["partitions"][0]["committed_offset"], 13, "{view}");
    assert_eq!(view["partitions"][0]["lag"], 37, "{view}");
}
