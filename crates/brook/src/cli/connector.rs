//! `brook connector`: Kafka Connect's REST API from the command line, against Brook Connect
//! or any Kafka Connect cluster (`--url`, default http://127.0.0.1:8083) — list with states,
//! create from a JSON or `.properties` file or a Datagen quickstart, describe, pause, resume,
//! restart, delete, and the plugins.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value as Json, json};

use super::Fail;
use super::output::{self, Format};

/// `brook connector …`.
#[derive(clap::Args, Debug)]
pub struct ConnectorArgs {
    /// The Connect REST API.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8083")]
    pub url: String,
    #[command(subcommand)]
    pub command: ConnectorCommand,
}

/// What to do.
#[derive(clap::Subcommand, Debug)]
pub enum ConnectorCommand {
    /// List connectors with their state, type and tasks.
    ///
    /// Example: brook connector list
    List,
    /// Create (or reconfigure) a connector from a JSON file (`{"name", "config"}` or the bare
    /// config), a `.properties` file, a Datagen quickstart, or a name and --set settings.
    ///
    /// Examples: brook connector create orders.json;
    /// brook connector create OrdersConnector_tutorial --quickstart orders --topic tutorial_topic;
    /// brook connector create lines --set connector.class=FileStreamSource --set file=a.txt --set topic=lines
    Create {
        /// A JSON or .properties file, or the new connector's name (with --quickstart or --set).
        source: String,
        /// A Datagen quickstart (orders, users, pageviews, …).
        #[arg(long, requires = "topic")]
        quickstart: Option<String>,
        /// The topic Datagen writes to.
        #[arg(long)]
        topic: Option<String>,
        /// More settings (name=value, repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        settings: Vec<String>,
    },
    /// Show a connector's config, state, tasks (with failure traces) and topics.
    ///
    /// Example: brook connector describe OrdersConnector_tutorial
    Describe {
        /// Connector name.
        name: String,
    },
    /// Pause a connector's tasks.
    Pause {
        /// Connector name.
        name: String,
    },
    /// Resume a paused or stopped connector.
    Resume {
        /// Connector name.
        name: String,
    },
    /// Stop a connector's tasks and release their resources (KIP-875).
    Stop {
        /// Connector name.
        name: String,
    },
    /// Restart a connector, with its tasks (only the failed ones with --only-failed), or one
    /// task (--task).
    Restart {
        /// Connector name.
        name: String,
        /// Only this task.
        #[arg(long, conflicts_with = "only_failed")]
        task: Option<usize>,
        /// Only the failed connector and tasks.
        #[arg(long)]
        only_failed: bool,
    },
    /// Delete a connector.
    Delete {
        /// Connector name.
        name: String,
    },
    /// List the connector plugins.
    Plugins,
}

struct Client {
    url: String,
    agent: ureq::Agent,
}

impl Client {
    fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Result<(u16, Json)> {
        let url = format!("{}{path}", self.url);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("POST", Some(b)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            ("POST", None) => self.agent.post(&url).send_empty(),
            ("PUT", Some(b)) => self
                .agent
                .put(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            _ => self.agent.put(&url).send_empty(),
        };
        let mut response = response.map_err(|e| {
            Fail::unreachable(format!("cannot reach Kafka Connect at {}: {e}", self.url))
        })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Json::String(text));
        Ok((status, body))
    }

    /// The answer of a call that must succeed; Kafka Connect's error message otherwise.
    fn ok(&self, method: &str, path: &str, body: Option<&Json>) -> Result<Json> {
        let (status, answer) = self.call(method, path, body)?;
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let message = answer["message"]
            .as_str()
            .map_or_else(|| answer.to_string(), str::to_string);
        Err(match status {
            404 => Fail::not_found(message),
            400 | 409 => Fail::usage(message),
            _ => Fail::failed(format!("{status}: {message}")),
        }
        .into())
    }
}

/// Runs `brook connector`.
pub fn run(args: &ConnectorArgs, format: Format) -> Result<()> {
    let client = Client {
        url: args.url.trim_end_matches('/').to_string(),
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(70)))
            .build()
            .into(),
    };
    let segment = |name: &str| name.replace('/', "%2F");
    match &args.command {
        ConnectorCommand::List => list(&client, format),
        ConnectorCommand::Create {
            source,
            quickstart,
            topic,
            settings,
        } => create(
            &client,
            format,
            source,
            quickstart.as_deref(),
            topic.as_deref(),
            settings,
        ),
        ConnectorCommand::Describe { name } => describe(&client, format, name),
        ConnectorCommand::Pause { name } => act(
            &client,
            "PUT",
            &format!("/connectors/{}/pause", segment(name)),
            &format!("{name} paused"),
        ),
        ConnectorCommand::Resume { name } => act(
            &client,
            "PUT",
            &format!("/connectors/{}/resume", segment(name)),
            &format!("{name} resumed"),
        ),
        ConnectorCommand::Stop { name } => act(
            &client,
            "PUT",
            &format!("/connectors/{}/stop", segment(name)),
            &format!("{name} stopped"),
        ),
        ConnectorCommand::Restart {
            name,
            task,
            only_failed,
        } => match task {
            Some(t) => act(
                &client,
                "POST",
                &format!("/connectors/{}/tasks/{t}/restart", segment(name)),
                &format!("{name} task {t} restarted"),
            ),
            None => act(
                &client,
                "POST",
                &format!(
                    "/connectors/{}/restart?includeTasks=true&onlyFailed={only_failed}",
                    segment(name)
                ),
                &format!("{name} restarted"),
            ),
        },
        ConnectorCommand::Delete { name } => act(
            &client,
            "DELETE",
            &format!("/connectors/{}", segment(name)),
            &format!("{name} deleted"),
        ),
        ConnectorCommand::Plugins => plugins(&client, format),
    }
}

fn act(client: &Client, method: &str, path: &str, done: &str) -> Result<()> {
    client.ok(method, path, None)?;
    println!("{done}");
    Ok(())
}

fn list(client: &Client, format: Format) -> Result<()> {
    let all = client.ok("GET", "/connectors?expand=status&expand=info", None)?;
    let mut names: Vec<&String> = all
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    names.sort();
    if format == Format::Json {
        output::print_json(&all);
        return Ok(());
    }
    let mut table = output::table(&["CONNECTOR", "TYPE", "CLASS", "STATE", "TASKS", "WORKER"]);
    for name in names {
        let c = &all[name.as_str()];
        let tasks = c["status"]["tasks"].as_array().cloned().unwrap_or_default();
        let running = tasks.iter().filter(|t| t["state"] == "RUNNING").count();
        let class = c["info"]["config"]["connector.class"]
            .as_str()
            .unwrap_or_default();
        table.add_row(vec![
            comfy_table::Cell::new(name),
            comfy_table::Cell::new(c["status"]["type"].as_str().unwrap_or_default()),
            comfy_table::Cell::new(class.rsplit('.').next().unwrap_or(class)),
            state_cell(
                c["status"]["connector"]["state"]
                    .as_str()
                    .unwrap_or_default(),
            ),
            comfy_table::Cell::new(format!("{running}/{} running", tasks.len())),
            comfy_table::Cell::new(
                c["status"]["connector"]["worker_id"]
                    .as_str()
                    .unwrap_or_default(),
            ),
        ]);
    }
    output::print_table(&table);
    Ok(())
}

fn state_cell(state: &str) -> comfy_table::Cell {
    match state {
        "RUNNING" => output::colored(state, comfy_table::Color::Green),
        "PAUSED" | "STOPPED" | "RESTARTING" | "UNASSIGNED" => {
            output::colored(state, comfy_table::Color::Yellow)
        }
        "FAILED" => output::colored(state, comfy_table::Color::Red),
        other => comfy_table::Cell::new(other),
    }
}

/// Settings from a `.properties` file: `name=value` or `name: value` lines, `#` and `!`
/// comments, trailing `\` continuing a line.
fn properties(text: &str) -> serde_json::Map<String, Json> {
    let mut out = serde_json::Map::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let split = entry.find(['=', ':']).unwrap_or(entry.len());
        let (k, v) = entry.split_at(split);
        let v = v.get(1..).unwrap_or_default();
        out.insert(k.trim().to_string(), json!(v.trim()));
    }
    out
}

fn create(
    client: &Client,
    format: Format,
    source: &str,
    quickstart: Option<&str>,
    topic: Option<&str>,
    settings: &[String],
) -> Result<()> {
    let (name, mut config) = match quickstart {
        Some(q) => (
            source.to_string(),
            json!({
                "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
                "quickstart": q,
                "kafka.topic": topic.unwrap_or_default(),
                "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
                "max.interval": "1000",
                "tasks.max": "1"
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ),
        // A name and --set settings.
        None if !std::path::Path::new(source).exists() && !settings.is_empty() => {
            (source.to_string(), serde_json::Map::new())
        }
        None => {
            let path = PathBuf::from(source);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Fail::usage(format!("cannot read {source}: {e}")))?;
            let is_json = text.trim_start().starts_with('{');
            let mut config = if is_json {
                let j: Json = serde_json::from_str(&text)
                    .map_err(|e| Fail::usage(format!("{source} is not valid JSON: {e}")))?;
                let config = j.get("config").cloned().unwrap_or_else(|| j.clone());
                let mut config = config.as_object().cloned().ok_or_else(|| {
                    Fail::usage(format!("{source}: the configuration must be a JSON object"))
                })?;
                if let Some(n) = j.get("name").and_then(Json::as_str) {
                    config.entry("name").or_insert(json!(n));
                }
                config
            } else {
                properties(&text)
            };
            let name = config
                .get("name")
                .and_then(Json::as_str)
                .map(str::to_string)
                .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default();
            config.remove("name");
            (name, config)
        }
    };
    for s in settings {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| Fail::usage(format!("--set wants NAME=VALUE, not {s}")))?;
        config.insert(k.trim().to_string(), json!(v.trim()));
    }
    // Strings, as Kafka Connect's configs are.
    let config: serde_json::Map<String, Json> = config
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Json::String(s) => Json::String(s),
                other => Json::String(other.to_string()),
            };
            (k, v)
        })
        .collect();
    let answer = client.ok(
        "PUT",
        &format!("/connectors/{}/config", name.replace('/', "%2F")),
        Some(&Json::Object(config)),
    )?;
    match format {
        Format::Json => output::print_json(&answer),
        Format::Table => println!(
            "{name} created ({} tasks)",
            answer["tasks"].as_array().map_or(0, Vec::len)
        ),
    }
    Ok(())
}

fn describe(client: &Client, format: Format, name: &str) -> Result<()> {
    let n = name.replace('/', "%2F");
    let info = client.ok("GET", &format!("/connectors/{n}"), None)?;
    let status = client.ok("GET", &format!("/connectors/{n}/status"), None)?;
    let topics = client
        .ok("GET", &format!("/connectors/{n}/topics"), None)
        .map(|t| t[name]["topics"].clone())
        .unwrap_or(Json::Null);
    if format == Format::Json {
        output::print_json(&json!({"info": info, "status": status, "topics": topics}));
        return Ok(());
    }
    let topic_list: Vec<String> = topics
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    output::print_fields(&[
        ("Name", name.to_string()),
        (
            "Type",
            status["type"].as_str().unwrap_or_default().to_string(),
        ),
        (
            "State",
            status["connector"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        (
            "Worker",
            status["connector"]["worker_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        ("Topics", topic_list.join(", ")),
    ]);
    println!();
    let mut config = output::table(&["SETTING", "VALUE"]);
    if let Some(c) = info["config"].as_object() {
        for (k, v) in c {
            let shown = if k.contains("password") {
                "[hidden]".to_string()
            } else {
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            };
            config.add_row(vec![k.clone(), shown]);
        }
    }
    output::print_table(&config);
    println!();
    let mut tasks = output::table(&["TASK", "STATE", "WORKER"]);
    let mut traces = Vec::new();
    for t in status["tasks"].as_array().cloned().unwrap_or_default() {
        let id = t["id"].as_i64().unwrap_or_default();
        tasks.add_row(vec![
            comfy_table::Cell::new(id),
            state_cell(t["state"].as_str().unwrap_or_default()),
            comfy_table::Cell::new(t["worker_id"].as_str().unwrap_or_default()),
        ]);
        if let Some(trace) = t["trace"].as_str() {
            traces.push(format!("Task {id} failed:\n{trace}"));
        }
    }
    output::print_table(&tasks);
    for trace in traces {
        println!("\n{trace}");
    }
    Ok(())
}

fn plugins(client: &Client, format: Format) -> Result<()> {
    let plugins = client.ok("GET", "/connector-plugins", None)?;
    if format == Format::Json {
        output::print_json(&plugins);
        return Ok(());
    }
    let mut table = output::table(&["CLASS", "TYPE", "VERSION"]);
    for p in plugins.as_array().cloned().unwrap_or_default() {
        table.add_row(vec![
            p["class"].as_str().unwrap_or_default().to_string(),
            p["type"].as_str().unwrap_or_default().to_string(),
            p["version"].as_str().unwrap_or_default().to_string(),
        ]);
    }
    output::print_table(&table);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_files_are_read_as_java_does() {
        let p = super::properties(
            "# a comment\nname=local-file-source\nconnector.class : FileStreamSource\n\
             ! another\nfile=/tmp/a\\\n  b.txt\ntopic=lines\n",
        );
        assert_eq!(p["name"], "local-file-source");
        assert_eq!(p["connector.class"], "FileStreamSource");
        assert_eq!(p["file"], "/tmp/ab.txt");
        assert_eq!(p["topic"], "lines");
    }
}
