//! `brook sql`: a shell for Brook SQL (or any ksqlDB server) like ksqlDB's CLI — statements
//! over the REST API, results as tables, push queries streaming until Ctrl-C or their LIMIT,
//! multi-line statements, history, `SET`/`UNSET`/`DEFINE` kept in the session, `RUN SCRIPT`.
//! `-e "…"` and `-f file.sql` run statements and exit; so does a script piped into stdin.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal as _, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::{Value as Json, json};

use super::Fail;

/// `println!` that ignores a closed stdout (`brook sql … | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
use super::output::{self, Format};
use brook_sql::ast::Statement;

/// `brook sql` flags.
#[derive(clap::Args, Debug)]
pub struct SqlArgs {
    /// The server's URL.
    #[arg(default_value = "http://127.0.0.1:8088")]
    pub server: String,
    /// Run these statements and exit.
    #[arg(
        short = 'e',
        long = "execute",
        value_name = "STATEMENTS",
        conflicts_with = "file"
    )]
    pub execute: Option<String>,
    /// Run the statements in this file and exit.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

struct Shell {
    url: String,
    agent: ureq::Agent,
    properties: BTreeMap<String, String>,
    variables: BTreeMap<String, String>,
    format: Format,
    interrupted: Arc<AtomicBool>,
}

/// Runs `brook sql`.
pub fn run(args: &SqlArgs, format: Format) -> Result<()> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let mut shell = Shell {
        url: args.server.trim_end_matches('/').to_string(),
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .build()
            .into(),
        properties: BTreeMap::new(),
        variables: BTreeMap::new(),
        format,
        interrupted: interrupted.clone(),
    };
    let info = shell.info()?;
    if let Some(text) = &args.execute {
        return shell.run_script(text);
    }
    if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Fail::usage(format!("cannot read {}: {e}", path.display())))?;
        return shell.run_script(&text);
    }
    if !std::io::stdin().is_terminal() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return shell.run_script(&text);
    }
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted)?;
    shell.interactive(&info)
}

impl Shell {
    fn info(&self) -> Result<Json> {
        let mut response = self
            .agent
            .get(&format!("{}/info", self.url))
            .call()
            .map_err(|e| {
                Fail::unreachable(format!("cannot reach Brook SQL at {}: {e}", self.url))
            })?;
        let body = response.body_mut().read_to_string()?;
        serde_json::from_str(&body)
            .with_context(|| format!("{} did not answer like ksqlDB: {body}", self.url))
    }

    fn interactive(&mut self, info: &Json) -> Result<()> {
        let version = info["KsqlServerInfo"]["version"].as_str().unwrap_or("?");
        outln!("Brook SQL — ksqlDB {version} API at {}", self.url);
        outln!("Statements end with ';'. HELP; for help, EXIT; or Ctrl-D to leave.\n");
        let mut editor = rustyline::DefaultEditor::new()?;
        let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".brook_sql_history"));
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        let mut buffer = String::new();
        loop {
            let prompt = if buffer.is_empty() { "sql> " } else { "  -> " };
            self.interrupted.store(false, Ordering::Release);
            match editor.readline(prompt) {
                Ok(line) => {
                    buffer.push_str(&line);
                    buffer.push('\n');
                    let trimmed = buffer.trim();
                    let word = trimmed.trim_end_matches(';').to_ascii_uppercase();
                    if matches!(word.as_str(), "EXIT" | "QUIT") {
                        break;
                    }
                    if word == "HELP" {
                        print_help();
                        buffer.clear();
                        continue;
                    }
                    if !complete(trimmed) {
                        continue;
                    }
                    let _ = editor.add_history_entry(trimmed);
                    let script = std::mem::take(&mut buffer);
                    if let Err(e) = self.run_script(&script) {
                        print_error(&format!("{e:#}"));
                    }
                }
                Err(rustyline::error::ReadlineError::Interrupted) => buffer.clear(),
                Err(rustyline::error::ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(h) = &history {
            let _ = editor.save_history(h);
        }
        Ok(())
    }

    /// Runs every statement of `text`; stops at the first failure.
    fn run_script(&mut self, text: &str) -> Result<()> {
        for statement in brook_sql::lexer::split_statements(text) {
            self.run_statement(&statement)?;
        }
        Ok(())
    }

    fn run_statement(&mut self, text: &str) -> Result<()> {
        // Session commands are the shell's; everything else goes to the server, which
        // reports syntax errors in its own words.
        let parsed = brook_sql::parser::parse_statement(text).ok();
        match parsed {
            Some(Statement::Set(name, value)) => {
                outln!("Successfully changed local property '{name}' to '{value}'.");
                self.properties.insert(name, value);
                return Ok(());
            }
            Some(Statement::Unset(name)) => {
                self.properties.remove(&name);
                outln!("Successfully unset local property '{name}'.");
                return Ok(());
            }
            Some(Statement::Define(name, value)) => {
                self.variables.insert(name, value);
                return Ok(());
            }
            Some(Statement::Undefine(name)) => {
                self.variables.remove(&name);
                return Ok(());
            }
            Some(Statement::RunScript(path)) => {
                let script = std::fs::read_to_string(&path)
                    .map_err(|e| Fail::usage(format!("cannot read {path}: {e}")))?;
                return self.run_script(&script);
            }
            Some(Statement::Select(_)) | Some(Statement::Print { .. }) => return self.query(text),
            _ => {}
        }
        let body = json!({
            "ksql": format!("{};", text.trim_end_matches(';')),
            "streamsProperties": self.properties,
            "sessionVariables": self.variables,
        });
        let mut response = self
            .agent
            .post(&format!("{}/ksql", self.url))
            .header("Content-Type", "application/vnd.ksql.v1+json")
            .send(body.to_string())
            .map_err(|e| Fail::unreachable(format!("cannot reach {}: {e}", self.url)))?;
        let status = response.status().as_u16();
        let answer: Json = serde_json::from_str(&response.body_mut().read_to_string()?)?;
        if status != 200 {
            return Err(Fail::failed(
                answer["message"]
                    .as_str()
                    .unwrap_or("the statement failed")
                    .to_string(),
            )
            .into());
        }
        if self.format == Format::Json {
            output::print_json(&answer);
            return Ok(());
        }
        for entity in answer.as_array().into_iter().flatten() {
            print_entity(entity);
        }
        Ok(())
    }

    /// A SELECT or PRINT: rows as they come, until the end, the LIMIT or Ctrl-C (a pull
    /// query's rows are all read first, so that its columns fit them).
    fn query(&mut self, text: &str) -> Result<()> {
        let pull = matches!(
            brook_sql::parser::parse_statement(text),
            Ok(Statement::Select(q)) if q.emit.is_none()
        );
        let statement = format!("{};", text.trim_end_matches(';'));
        let is_print = statement
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("PRINT");
        let (path, body) = if is_print {
            (
                "/query",
                json!({"ksql": statement, "streamsProperties": self.properties}),
            )
        } else {
            (
                "/query-stream",
                json!({"sql": statement, "properties": self.properties, "sessionVariables": self.variables}),
            )
        };
        // The request runs on another thread, which hands over the response's lines as they
        // come, so that Ctrl-C can stop the wait — also before the query has started.
        let (tx, rx) = std::sync::mpsc::channel::<std::result::Result<String, String>>();
        let request = self
            .agent
            .post(&format!("{}{path}", self.url))
            .header("Accept", "application/vnd.ksqlapi.delimited.v1");
        let url = self.url.clone();
        std::thread::spawn(move || {
            let response = match request.send(body.to_string()) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(format!("cannot reach {url}: {e}")));
                    return;
                }
            };
            let status = response.status().as_u16();
            let mut reader = BufReader::new(response.into_body().into_reader());
            if status != 200 {
                let mut text = String::new();
                let _ = reader.read_to_string(&mut text);
                let message = serde_json::from_str::<Json>(&text)
                    .ok()
                    .and_then(|j| j["message"].as_str().map(str::to_string))
                    .unwrap_or(text);
                let _ = tx.send(Err(message));
                return;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if tx.send(Ok(std::mem::take(&mut line))).is_err() {
                    // Dropping the response closes the connection: the server stops the query.
                    return;
                }
            }
        });
        let mut printer: Option<RowPrinter> = None;
        let mut query_id = None;
        let mut rows = 0u64;
        loop {
            if self.interrupted.swap(false, Ordering::AcqRel) {
                if let Some(id) = &query_id {
                    let _ = self
                        .agent
                        .post(&format!("{}/close-query", self.url))
                        .send(json!({"queryId": id}).to_string());
                }
                outln!("Query terminated");
                break;
            }
            let line = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(l)) => l,
                Ok(Err(message)) => return Err(Fail::failed(message).into()),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if is_print {
                outln!("{line}");
                continue;
            }
            let value: Json =
                serde_json::from_str(line).with_context(|| format!("unreadable line: {line}"))?;
            if self.format == Format::Json {
                outln!("{value}");
                continue;
            }
            match (&mut printer, value) {
                (None, header) => {
                    query_id = header["queryId"].as_str().map(str::to_string);
                    let names: Vec<String> = header["columnNames"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect();
                    let p = RowPrinter::new(names);
                    if !pull {
                        p.header();
                    }
                    printer = Some(p);
                }
                (Some(p), Json::Array(values)) => {
                    if pull {
                        p.buffered.push(values);
                    } else {
                        p.row(&values);
                    }
                    rows += 1;
                }
                (Some(_), other) => {
                    if let Some(m) = other["message"].as_str() {
                        print_error(m);
                    }
                }
            }
        }
        if let Some(p) = &mut printer {
            if pull {
                p.fit();
                p.header();
                for values in std::mem::take(&mut p.buffered) {
                    p.row(&values);
                }
            }
            p.footer();
            outln!("{} row{}", rows, if rows == 1 { "" } else { "s" });
        }
        Ok(())
    }
}

/// Whether a buffer holds a whole statement: it ends with `;` outside strings and comments.
fn complete(buffer: &str) -> bool {
    let word = buffer.trim_end_matches(';').trim().to_ascii_uppercase();
    if matches!(word.as_str(), "EXIT" | "QUIT" | "HELP") {
        return true;
    }
    let mut in_string = None;
    let mut last = ' ';
    for c in buffer.chars() {
        match in_string {
            Some(q) if c == q => in_string = None,
            Some(_) => {}
            None if c == '\'' || c == '`' || c == '"' => in_string = Some(c),
            None if !c.is_whitespace() => last = c,
            None => {}
        }
    }
    in_string.is_none() && last == ';'
}

/// Prints rows as a bordered table, one row at a time.
struct RowPrinter {
    names: Vec<String>,
    widths: Vec<usize>,
    /// A pull query's rows, held until all have come.
    buffered: Vec<Vec<Json>>,
}

impl RowPrinter {
    fn new(names: Vec<String>) -> Self {
        let widths = names.iter().map(|n| n.len().clamp(12, 40)).collect();
        RowPrinter {
            names,
            widths,
            buffered: Vec::new(),
        }
    }

    /// Widths that fit the buffered rows (up to 60 characters a column).
    fn fit(&mut self) {
        for (i, w) in self.widths.iter_mut().enumerate() {
            let longest = self
                .buffered
                .iter()
                .map(|r| r.get(i).map_or(0, |v| text_of(v).chars().count()))
                .chain(std::iter::once(self.names[i].len()))
                .max()
                .unwrap_or(0);
            *w = longest.clamp(4, 60);
        }
    }

    fn rule(&self) {
        let parts: Vec<String> = self.widths.iter().map(|w| "-".repeat(w + 2)).collect();
        outln!("+{}+", parts.join("+"));
    }

    fn line(&self, cells: &[String]) {
        let parts: Vec<String> = cells
            .iter()
            .zip(&self.widths)
            .map(|(c, w)| {
                let c: String = if c.chars().count() > *w {
                    c.chars().take(w - 1).chain(std::iter::once('…')).collect()
                } else {
                    c.clone()
                };
                format!(" {c:<w$} ")
            })
            .collect();
        outln!("|{}|", parts.join("|"));
    }

    fn header(&self) {
        self.rule();
        self.line(&self.names);
        self.rule();
    }

    fn row(&self, values: &[Json]) {
        let cells: Vec<String> = values.iter().map(text_of).collect();
        self.line(&cells);
    }

    fn footer(&self) {
        self.rule();
    }
}

fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn print_error(message: &str) {
    if output::styled() {
        eprintln!("\x1b[31m{message}\x1b[0m");
    } else {
        eprintln!("{message}");
    }
}

fn cell(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn print_rows(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut table = output::table(headers);
    for r in rows {
        table.add_row(r);
    }
    output::print_table(&table);
}

/// One `/ksql` entity, as ksqlDB's CLI shows it.
fn print_entity(e: &Json) {
    let list = |field: &str| e[field].as_array().cloned().unwrap_or_default();
    match e["@type"].as_str().unwrap_or_default() {
        "currentStatus" => {
            outln!(
                "\n {}\n",
                e["commandStatus"]["message"].as_str().unwrap_or("Done")
            );
        }
        "streams" | "tables" => {
            let kind = if e["@type"] == "streams" {
                "Stream Name"
            } else {
                "Table Name"
            };
            let rows = list(e["@type"].as_str().unwrap_or_default())
                .iter()
                .map(|s| {
                    vec![
                        cell(&s["name"]),
                        cell(&s["topic"]),
                        cell(&s["keyFormat"]),
                        cell(&s["valueFormat"]),
                        cell(&s["isWindowed"]),
                    ]
                })
                .collect();
            print_rows(
                &[
                    kind,
                    "Kafka Topic",
                    "Key Format",
                    "Value Format",
                    "Windowed",
                ],
                rows,
            );
        }
        "kafka_topics" => {
            let rows = list("topics")
                .iter()
                .map(|t| {
                    vec![
                        cell(&t["name"]),
                        t["replicaInfo"].as_array().map_or(0, Vec::len).to_string(),
                    ]
                })
                .collect();
            print_rows(&["Kafka Topic", "Partitions"], rows);
        }
        "queries" => {
            let rows = list("queries")
                .iter()
                .map(|q| {
                    vec![
                        cell(&q["id"]),
                        cell(&q["queryType"]),
                        cell(&q["state"]),
                        cell(&q["sinks"][0]),
                        cell(&q["sinkKafkaTopics"][0]),
                        cell(&q["queryString"]),
                    ]
                })
                .collect();
            print_rows(
                &[
                    "Query ID",
                    "Query Type",
                    "Status",
                    "Sink Name",
                    "Sink Kafka Topic",
                    "Query String",
                ],
                rows,
            );
        }
        "properties" => {
            let rows = list("properties")
                .iter()
                .map(|p| vec![cell(&p["name"]), cell(&p["scope"]), cell(&p["value"])])
                .collect();
            print_rows(&["Property", "Scope", "Value"], rows);
        }
        "function_names" => {
            let rows = list("functions")
                .iter()
                .map(|f| vec![cell(&f["name"]), cell(&f["category"])])
                .collect();
            print_rows(&["Function Name", "Category"], rows);
        }
        "variables" => {
            let rows = list("variables")
                .iter()
                .map(|v| vec![cell(&v["name"]), cell(&v["value"])])
                .collect();
            print_rows(&["Variable Name", "Value"], rows);
        }
        "sourceDescription" => print_description(&e["sourceDescription"]),
        "source_descriptions" => list("sourceDescriptions")
            .iter()
            .for_each(print_description),
        "describe_function" => {
            output::print_fields(&[
                ("Name", cell(&e["name"])),
                ("Type", cell(&e["type"])),
                ("Overview", cell(&e["description"])),
                ("Usage", cell(&e["functions"][0]["description"])),
            ]);
        }
        "queryDescription" => {
            let q = &e["queryDescription"];
            output::print_fields(&[
                ("ID", cell(&q["id"])),
                ("Query Type", cell(&q["queryType"])),
                ("SQL", cell(&q["statementText"])),
                ("Sources", q["sources"].to_string()),
                ("Sinks", q["sinks"].to_string()),
                ("State", cell(&q["state"])),
            ]);
            outln!("\n{}", cell(&q["topology"]));
        }
        _ => output::print_json(e),
    }
}

fn print_description(d: &Json) {
    output::print_fields(&[
        ("Name", cell(&d["name"])),
        ("Type", cell(&d["type"])),
        ("Kafka topic", cell(&d["topic"])),
        ("Key format", cell(&d["keyFormat"])),
        ("Value format", cell(&d["valueFormat"])),
    ]);
    outln!();
    let rows = d["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let mut ty = cell(&f["schema"]["type"]);
            if let Some(kind) = f["type"].as_str() {
                ty = format!("{ty} ({})", if kind == "KEY" { "key" } else { kind });
            }
            vec![cell(&f["name"]), ty]
        })
        .collect();
    print_rows(&["Field", "Type"], rows);
    for (label, field) in [
        ("Queries that read from this", "readQueries"),
        ("Queries that write from this", "writeQueries"),
    ] {
        let ids: Vec<String> = d[field]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| cell(&q["id"]))
            .collect();
        if !ids.is_empty() {
            outln!("\n{label}: {}", ids.join(", "));
        }
    }
    outln!();
}

fn print_help() {
    outln!(
        "Statements end with ';' and may span lines. Among them:
  CREATE STREAM s (id INT KEY, v STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);
  INSERT INTO s (id, v) VALUES (1, 'a');
  SELECT * FROM s EMIT CHANGES;            (a push query: Ctrl-C stops it)
  CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s GROUP BY id EMIT CHANGES;
  SELECT * FROM t WHERE id = 1;            (a pull query)
  SHOW STREAMS | TABLES | TOPICS | QUERIES | PROPERTIES | FUNCTIONS;
  DESCRIBE [EXTENDED] s;   DESCRIBE FUNCTION name;   EXPLAIN query_id;
  TERMINATE query_id;   DROP STREAM s [DELETE TOPIC];   PRINT 'topic' FROM BEGINNING;
Shell commands:
  SET 'auto.offset.reset'='earliest';   UNSET 'name';   DEFINE v = 'x';  (then ${{v}})
  RUN SCRIPT '/path/file.sql';   HELP;   EXIT;"
    );
}
