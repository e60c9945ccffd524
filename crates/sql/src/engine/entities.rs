//! ksqlDB's response entities for `/ksql` (the `@type`d JSON objects of its REST API).

use serde_json::{Value as Json, json};

use crate::ast::SourceKind;
use crate::catalog::{Source, WindowType};
use crate::types::SqlType;

/// `currentStatus`: a command's outcome.
pub fn current_status(
    statement: &str,
    command_id: &str,
    message: &str,
    query_id: Option<&str>,
    seq: i64,
) -> Json {
    json!({
        "@type": "currentStatus",
        "statementText": statement,
        "commandId": command_id,
        "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
        "commandSequenceNumber": seq,
        "warnings": []
    })
}

/// A type as ksqlDB's REST API describes it (`{"type": …, "fields": …, "memberSchema": …}`).
pub fn schema_json(ty: &SqlType) -> Json {
    match ty {
        SqlType::Array(e) => {
            json!({"type": "ARRAY", "fields": null, "memberSchema": schema_json(e)})
        }
        SqlType::Map(_, v) => {
            json!({"type": "MAP", "fields": null, "memberSchema": schema_json(v)})
        }
        SqlType::Struct(fields) => json!({
            "type": "STRUCT",
            "fields": fields.iter().map(|(n, t)| json!({"name": n, "schema": schema_json(t)})).collect::<Vec<_>>(),
            "memberSchema": null
        }),
        SqlType::Decimal(p, s) => {
            json!({"type": "DECIMAL", "fields": null, "memberSchema": null, "parameters": {"precision": p, "scale": s}})
        }
        other => json!({"type": other.kind_name(), "fields": null, "memberSchema": null}),
    }
}

/// The window type's name (`TUMBLING`/`HOPPING` are both `Time` windows here).
pub fn window_name(w: Option<WindowType>) -> Json {
    match w {
        None => Json::Null,
        Some(WindowType::Time(_)) => json!("TUMBLING"),
        Some(WindowType::Session) => json!("SESSION"),
    }
}

/// A source in `SHOW STREAMS` / `SHOW TABLES`.
pub fn source_summary(s: &Source) -> Json {
    json!({
        "type": s.kind.name(),
        "name": s.name,
        "topic": s.topic,
        "keyFormat": s.key_format.name(),
        "valueFormat": s.value_format.name(),
        "isWindowed": s.window.is_some()
    })
}

/// A query in `SHOW QUERIES` / `DESCRIBE` (a "RunningQuery").
pub fn running_query(id: &str, statement: &str, sink: Option<&Source>, state: &str) -> Json {
    json!({
        "queryString": statement,
        "sinks": sink.map(|s| vec![s.name.clone()]).unwrap_or_default(),
        "sinkKafkaTopics": sink.map(|s| vec![s.topic.clone()]).unwrap_or_default(),
        "id": id,
        "statusCount": {state: 1},
        "queryType": "PERSISTENT",
        "state": state
    })
}

/// `sourceDescription`.
#[allow(clippy::too_many_arguments)]
pub fn source_description(
    s: &Source,
    extended: bool,
    read_queries: Vec<Json>,
    write_queries: Vec<Json>,
    partitions: usize,
    replication: usize,
    statistics: &str,
) -> Json {
    let fields: Vec<Json> = s
        .described_columns()
        .into_iter()
        .map(|(name, ty, kind)| {
            let mut f = json!({"name": name, "schema": schema_json(&ty)});
            if let Some(k) = kind {
                f["type"] = json!(match k {
                    "PRIMARY KEY" | "KEY" => "KEY",
                    other => other,
                });
            }
            f
        })
        .collect();
    json!({
        "name": s.name,
        "windowType": window_name(s.window),
        "readQueries": read_queries,
        "writeQueries": write_queries,
        "fields": fields,
        "type": s.kind.name(),
        "timestamp": s.timestamp_column.clone().unwrap_or_default(),
        "statistics": statistics,
        "errorStats": "",
        "extended": extended,
        "keyFormat": s.key_format.name(),
        "valueFormat": s.value_format.name(),
        "topic": s.topic,
        "partitions": partitions,
        "replication": replication,
        "statement": s.statement,
        "queryOffsetSummaries": [],
        "sourceConstraints": []
    })
}

/// The kind's name in commandIds (`stream/`X`/create`).
pub fn command_kind(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Stream => "stream",
        SourceKind::Table => "table",
    }
}

/// `schema` text of `/query`'s header: `` `A` STRING, `B` INTEGER ``.
pub fn schema_text(columns: &[(String, SqlType)]) -> String {
    columns
        .iter()
        .map(|(n, t)| format!("`{n}` {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}
