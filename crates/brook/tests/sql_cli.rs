//! `brook sql` against `brook serve`: statements from -e, from a file (with RUN SCRIPT and
//! SET) and from stdin; results as tables; a push query ending at its LIMIT; errors.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::{Server, free_port};

fn brook_sql(sql: SocketAddr, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("sql")
        .arg(format!("http://{sql}"))
        .args(args)
        .env("NO_COLOR", "1")
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
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn statements_from_flags_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let sql: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _server = Server::start_with_sql(
        &dir.path().join("data"),
        free_port(),
        sql,
        &dir.path().join("log"),
    );

    let (ok, out, err) = brook_sql(
        sql,
        &["-e", "CREATE STREAM pageviews (user STRING KEY, page STRING, ms BIGINT) WITH (KAFKA_TOPIC='pageviews', VALUE_FORMAT='JSON', PARTITIONS=1);
                 INSERT INTO pageviews (user, page, ms) VALUES ('ann', '/home', 10);
                 INSERT INTO pageviews (user, page, ms) VALUES ('bob', '/cart', 20);
                 INSERT INTO pageviews (user, page, ms) VALUES ('ann', '/pay', 30);"],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("Stream created"), "{out}");

    let inner = dir.path().join("inner.sql");
    std::fs::write(&inner, "CREATE TABLE views_per_user AS SELECT user, COUNT(*) AS views FROM pageviews GROUP BY user EMIT CHANGES;\n").unwrap();
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        format!(
            "-- a script\nSET 'auto.offset.reset' = 'earliest';\nRUN SCRIPT '{}';\nSELECT user, page\n  FROM pageviews\n  EMIT CHANGES LIMIT 3;\nSHOW STREAMS;\n",
            inner.display()
        ),
    )
    .unwrap();
    let (ok, out, err) = brook_sql(sql, &["-f", script.to_str().unwrap()], None);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Created query with ID CTAS_VIEWS_PER_USER_"),
        "{out}"
    );
    assert!(out.contains("| USER") && out.contains("| PAGE"), "{out}");
    for row in [
        "| ann          | /home",
        "| bob          | /cart",
        "| ann          | /pay",
    ] {
        assert!(out.contains(row), "{row} in {out}");
    }
    assert!(out.contains("3 rows"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("PAGEVIEWS") && l.contains("pageviews") && l.contains("JSON")),
        "{out}"
    );

    // A pull query from stdin, once the counts are there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (ok, out, err) = brook_sql(
            sql,
            &[],
            Some("SELECT * FROM views_per_user WHERE user = 'ann';\n"),
        );
        assert!(ok, "{out}{err}");
        if out.contains("| ann  | 2     |") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    // JSON output for programs.
    let (ok, out, _) = brook_sql(sql, &["-o", "json", "-e", "SHOW TABLES;"], None);
    assert!(ok);
    let tables: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(tables[0]["tables"][0]["name"], "VIEWS_PER_USER");

    // A syntax error fails with the server's message.
    let (ok, out, err) = brook_sql(sql, &["-e", "SELEC * FROM pageviews;"], None);
    assert!(!ok, "{out}");
    assert!(
        err.contains("line 1:1: syntax error at or near 'SELEC'"),
        "{err}"
    );
}

/// The interactive shell in a terminal (a pseudo-terminal, as a user's): a statement typed over
/// two lines, a push query that streams until Ctrl-C closes it on the server, the prompt back
/// after it, history kept in $HOME, and Ctrl-D to leave.
#[test]
fn interactive_shell_in_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let sql: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _server = Server::start_with_sql(
        &dir.path().join("data"),
        free_port(),
        sql,
        &dir.path().join("log"),
    );
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();

    let mut command = Command::new(env!("CARGO_BIN_EXE_brook"));
    command
        .arg("sql")
        .arg(format!("http://{sql}"))
        .env("NO_COLOR", "1")
        .env("HOME", &home)
        .env("TERM", "dumb");
    let mut shell = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    shell.exp_string("Brook SQL").unwrap();
    shell.exp_string("sql> ").unwrap();

    // One statement over two lines: the continuation prompt, then the result.
    shell
        .send_line("CREATE STREAM clicks (user STRING KEY, page STRING)")
        .unwrap();
    shell.exp_string("-> ").unwrap();
    shell
        .send_line("  WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1);")
        .unwrap();
    shell.exp_string("Stream created").unwrap();
    shell.exp_string("sql> ").unwrap();
    shell
        .send_line("INSERT INTO clicks (user, page) VALUES ('ann', '/home');")
        .unwrap();
    shell.exp_string("sql> ").unwrap();
    shell
        .send_line("SET 'auto.offset.reset' = 'earliest';")
        .unwrap();
    shell.exp_string("sql> ").unwrap();

    // A push query without LIMIT streams the row, then waits for more until Ctrl-C.
    shell
        .send_line("SELECT user, page FROM clicks EMIT CHANGES;")
        .unwrap();
    shell.exp_string("/home").unwrap();
    let query_id = running_push_query(sql);
    assert!(query_id.is_some(), "the push query runs on the server");
    shell.send_control('c').unwrap();
    shell.exp_string("Query terminated").unwrap();
    shell.exp_string("sql> ").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while running_push_query(sql) == query_id {
        assert!(
            std::time::Instant::now() < deadline,
            "Ctrl-C did not close {query_id:?} on the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // Ctrl-C at the prompt drops a half-typed statement; the shell stays.
    shell.send("SELECT nonsense").unwrap();
    shell.send_control('c').unwrap();
    shell.send_line("SHOW STREAMS;").unwrap();
    shell.exp_string("CLICKS").unwrap();
    shell.exp_string("sql> ").unwrap();

    // Ctrl-D leaves, and the statements are in the history file.
    shell.send_control('d').unwrap();
    shell.exp_eof().unwrap();
    let history = std::fs::read_to_string(home.join(".brook_sql_history")).unwrap();
    assert!(
        history.contains("INSERT INTO clicks (user, page) VALUES ('ann', '/home');"),
        "{history}"
    );
}

/// The id of the server's one transient (push) query, if one runs.
fn running_push_query(sql: SocketAddr) -> Option<String> {
    let mut response = ureq::post(&format!("http://{sql}/ksql"))
        .header("Content-Type", "application/json")
        .send(r#"{"ksql": "SHOW QUERIES;"}"#)
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    body[0]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queryType"] == "PUSH")
        .map(|q| q["id"].as_str().unwrap().to_string())
}
