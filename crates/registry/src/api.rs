//! Confluent's Schema Registry REST API over [`Registry`], with axum.
//!
//! Request bodies are read as bytes and parsed here, so that any of the content types
//! clients send (`application/vnd.schemaregistry.v1+json`, `application/vnd.schemaregistry+json`,
//! `application/json`, or none) is accepted, unknown fields are ignored, and a malformed body
//! gets Confluent's JSON error instead of a framework one. Responses use
//! `application/vnd.schemaregistry.v1+json`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::compat::Level;
use crate::error::RegistryError;
use crate::format::SchemaType;
use crate::registry::{Registry, SchemaInput, VersionView, parse_version};
use crate::state::{Mode, Reference, context_of};

type Shared = Arc<Registry>;
type Params = Query<HashMap<String, String>>;
type Reply = Result<Response, RegistryError>;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

fn reply(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

fn ok(body: Value) -> Reply {
    Ok(reply(StatusCode::OK, &body))
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (status, code) = self.codes();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        reply(
            status,
            &json!({"error_code": code, "message": self.to_string()}),
        )
    }
}

/// `?format=` (`serialized` for Protobuf descriptors).
fn format(params: &HashMap<String, String>) -> Option<&str> {
    params
        .get("format")
        .map(String::as_str)
        .filter(|f| !f.is_empty())
}

fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("true"))
}

/// The body of register, lookup and compatibility requests.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaBody {
    schema: Option<String>,
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<Reference>,
    id: Option<i32>,
    version: Option<i32>,
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, RegistryError> {
    serde_json::from_slice(body).map_err(|e| {
        let status = if e.is_syntax() || e.is_eof() {
            400
        } else {
            422
        };
        RegistryError::BadRequest(status, format!("Invalid request body: {e}"))
    })
}

fn schema_input(body: &Bytes) -> Result<SchemaInput, RegistryError> {
    let body: SchemaBody = parse_body(body)?;
    let schema_type = match body.schema_type.as_deref() {
        None => SchemaType::Avro,
        Some(t) => match t.to_ascii_uppercase().as_str() {
            "AVRO" => SchemaType::Avro,
            "JSON" => SchemaType::Json,
            "PROTOBUF" => SchemaType::Protobuf,
            other => {
                return Err(RegistryError::InvalidSchema(format!(
                    "unknown schema type {other}"
                )));
            }
        },
    };
    Ok(SchemaInput {
        schema: body
            .schema
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| RegistryError::InvalidSchema("Empty schema".into()))?,
        schema_type,
        references: body.references,
        id: body.id,
        version: body.version,
    })
}

fn schema_fields(r: &Registry, view: &VersionView, q: &HashMap<String, String>) -> Value {
    let mut body = json!({
        "subject": view.subject,
        "version": view.version,
        "id": view.id,
        "schema": r.schema_text(&view.schema, format(q)),
    });
    if !view.schema.schema_type.is_avro() {
        body["schemaType"] = json!(view.schema.schema_type.name());
    }
    if !view.schema.references.is_empty() {
        body["references"] = json!(view.schema.references);
    }
    body
}

async fn root() -> Reply {
    ok(json!({}))
}

/// `?offset=` and `?limit=` (-1 or absent: everything) applied to a listing.
fn page<T: serde::Serialize>(items: Vec<T>, params: &HashMap<String, String>) -> Value {
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let offset = usize::try_from(number("offset").unwrap_or(0).max(0)).unwrap_or(usize::MAX);
    let limit = match number("limit") {
        Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => usize::MAX,
    };
    json!(
        items
            .into_iter()
            .skip(offset)
            .take(limit)
            .collect::<Vec<T>>()
    )
}

/// `GET /subjects`. `deletedOnly` is also taken as `deleted_only`, which confluent-kafka's
/// Python client sends.
async fn list_subjects(State(r): State<Shared>, Query(q): Params) -> Reply {
    let deleted_only = flag(&q, "deletedOnly") || flag(&q, "deleted_only");
    let deleted = flag(&q, "deleted");
    let prefix = q.get("subjectPrefix").map_or("", String::as_str);
    let state = r.state();
    let names: Vec<&String> = state
        .subjects
        .iter()
        .filter(|(name, s)| {
            let live = s.live().next().is_some();
            let soft_deleted = s.versions.values().any(|v| v.deleted);
            name.starts_with(prefix)
                && if deleted_only {
                    soft_deleted && !live
                } else if deleted {
                    !s.versions.is_empty()
                } else {
                    live
                }
        })
        .map(|(name, _)| name)
        .collect();
    ok(page(names, &q))
}

async fn list_versions(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> Reply {
    let deleted_only = flag(&q, "deletedOnly") || flag(&q, "deleted_only");
    let deleted = flag(&q, "deleted");
    let state = r.state();
    let versions: Vec<i32> = state
        .subjects
        .get(&subject)
        .map(|s| {
            s.versions
                .iter()
                .filter(|(_, v)| {
                    if deleted_only {
                        v.deleted
                    } else {
                        deleted || !v.deleted
                    }
                })
                .map(|(n, _)| *n)
                .collect()
        })
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject));
    }
    ok(page(versions, &q))
}

async fn register(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Reply {
    let input = schema_input(&body)?;
    let id = r.register(&subject, input, flag(&q, "normalize")).await?;
    ok(json!({ "id": id }))
}

async fn lookup(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Reply {
    let input = schema_input(&body)?;
    let view = r.lookup(&subject, &input, flag(&q, "deleted"))?;
    ok(schema_fields(&r, &view, &q))
}

async fn delete_subject(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> Reply {
    let versions = r.delete_subject(&subject, flag(&q, "permanent")).await?;
    ok(json!(versions))
}

async fn get_version(
    State(r): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Reply {
    let view = r.version(&subject, parse_version(&version)?, flag(&q, "deleted"))?;
    ok(schema_fields(&r, &view, &q))
}

async fn get_version_schema(
    State(r): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Reply {
    let view = r.version(&subject, parse_version(&version)?, flag(&q, "deleted"))?;
    Ok(raw_schema(&r.schema_text(&view.schema, format(&q))))
}

/// The schema text as the body (JSON for Avro and JSON Schema, as Confluent sends it).
fn raw_schema(text: &str) -> Response {
    let mut response = (StatusCode::OK, text.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

async fn referenced_by(
    State(r): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Reply {
    let view = r.version(&subject, parse_version(&version)?, false)?;
    let ids = r.state().referenced_by(&subject, view.version);
    ok(page(ids, &q))
}

async fn delete_version(
    State(r): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> Reply {
    let number = r
        .delete_version(&subject, parse_version(&version)?, flag(&q, "permanent"))
        .await?;
    ok(json!(number))
}

fn schema_id(text: &str) -> Result<i32, RegistryError> {
    text.parse()
        .map_err(|_| RegistryError::SchemaNotFound(Some(text.to_string())))
}

/// The context an id is looked up in: that of `?subject=` (`:.ctx:` or a qualified subject),
/// else the default one.
fn id_context(params: &HashMap<String, String>) -> String {
    context_of(params.get("subject").map_or("", String::as_str)).to_string()
}

/// The schema with `id` in the context chosen by `?subject=`, if a version holds it.
fn stored_by_id(
    state: &crate::state::State,
    id: i32,
    params: &HashMap<String, String>,
) -> Result<crate::state::StoredSchema, RegistryError> {
    let context = id_context(params);
    state
        .schema(&context, id)
        .filter(|_| state.in_use(&context, id))
        .cloned()
        .ok_or_else(|| RegistryError::SchemaNotFound(Some(id.to_string())))
}

async fn schema_by_id(State(r): State<Shared>, Path(id): Path<String>, Query(q): Params) -> Reply {
    let stored = stored_by_id(&r.state(), schema_id(&id)?, &q)?;
    let mut body = json!({ "schema": r.schema_text(&stored, format(&q)) });
    if !stored.schema_type.is_avro() {
        body["schemaType"] = json!(stored.schema_type.name());
    }
    if !stored.references.is_empty() {
        body["references"] = json!(stored.references);
    }
    ok(body)
}

async fn schema_text_by_id(
    State(r): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Reply {
    let stored = stored_by_id(&r.state(), schema_id(&id)?, &q)?;
    Ok(raw_schema(&r.schema_text(&stored, format(&q))))
}

/// (subject, version) pairs holding `id` in the context chosen by `?subject=`; 40403 if none.
fn holders_of(
    r: &Registry,
    id: &str,
    params: &HashMap<String, String>,
) -> Result<Vec<(String, i32)>, RegistryError> {
    let id = schema_id(id)?;
    let uses = r
        .state()
        .uses_of(&id_context(params), id, flag(params, "deleted"));
    if uses.is_empty() {
        return Err(RegistryError::SchemaNotFound(Some(id.to_string())));
    }
    Ok(uses)
}

async fn subjects_by_id(
    State(r): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Reply {
    let mut subjects: Vec<String> = holders_of(&r, &id, &q)?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    subjects.dedup();
    ok(json!(subjects))
}

async fn versions_by_id(
    State(r): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Reply {
    ok(json!(
        holders_of(&r, &id, &q)?
            .into_iter()
            .map(|(subject, version)| json!({"subject": subject, "version": version}))
            .collect::<Vec<_>>()
    ))
}

async fn contexts(State(r): State<Shared>, Query(q): Params) -> Reply {
    let contexts = r.state().contexts();
    ok(page(contexts, &q))
}

/// `GET /schemas`: the versions of every subject (`subjectPrefix`, `deleted`, `latestOnly`,
/// `offset`, `limit`), each with its subject, version, id and schema.
async fn list_schemas(State(r): State<Shared>, Query(q): Params) -> Reply {
    let prefix = q.get("subjectPrefix").map_or("", String::as_str);
    let (deleted, latest_only) = (flag(&q, "deleted"), flag(&q, "latestOnly"));
    let mut views = Vec::new();
    {
        let state = r.state();
        for (name, subject) in state.subjects.range(prefix.to_string()..) {
            if !name.starts_with(prefix) {
                break;
            }
            let versions: Vec<(i32, crate::state::Version)> = subject
                .versions
                .iter()
                .filter(|(_, v)| deleted || !v.deleted)
                .map(|(n, v)| (*n, *v))
                .collect();
            let chosen = if latest_only {
                &versions[versions.len().saturating_sub(1)..]
            } else {
                &versions[..]
            };
            for (version, v) in chosen {
                if let Some(stored) = state.schema_for(name, v.id) {
                    views.push(VersionView {
                        subject: name.clone(),
                        version: *version,
                        id: v.id,
                        schema: stored.clone(),
                    });
                }
            }
        }
    }
    // Rendered after the state lock is released (`format=` may read the state again).
    let listed: Vec<Value> = views.iter().map(|v| schema_fields(&r, v, &q)).collect();
    ok(page(listed, &q))
}

async fn schema_types() -> Reply {
    ok(json!(["JSON", "PROTOBUF", "AVRO"]))
}

#[derive(Deserialize)]
struct CompatibilityBody {
    compatibility: Option<String>,
    #[serde(rename = "compatibilityLevel")]
    compatibility_level: Option<String>,
}

async fn get_global_config(State(r): State<Shared>) -> Reply {
    ok(json!({"compatibilityLevel": r.state().compatibility.name()}))
}

async fn put_config(r: &Registry, subject: Option<&str>, body: &Bytes) -> Reply {
    let body: CompatibilityBody = parse_body(body)?;
    let text = body
        .compatibility
        .or(body.compatibility_level)
        .ok_or(RegistryError::InvalidCompatibilityLevel)?;
    let level = Level::parse(&text)?;
    r.set_compatibility(subject, Some(level)).await?;
    ok(json!({"compatibility": level.name()}))
}

async fn put_global_config(State(r): State<Shared>, body: Bytes) -> Reply {
    put_config(&r, None, &body).await
}

async fn get_subject_config(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> Reply {
    // defaultToGlobal: the level that applies (the subject's, its context's or the global).
    let state = r.state();
    let level = if flag(&q, "defaultToGlobal") {
        Some(state.level_for(&subject))
    } else {
        state.subjects.get(&subject).and_then(|s| s.compatibility)
    };
    match level {
        Some(level) => ok(json!({"compatibilityLevel": level.name()})),
        None => Err(RegistryError::SubjectCompatibilityNotConfigured(subject)),
    }
}

async fn put_subject_config(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    body: Bytes,
) -> Reply {
    put_config(&r, Some(&subject), &body).await
}

/// `DELETE /config`: the global level goes back to the default (BACKWARD); answers the one
/// it had.
async fn delete_global_config(State(r): State<Shared>) -> Reply {
    let previous = r.state().compatibility;
    r.set_compatibility(None, None).await?;
    ok(json!({"compatibilityLevel": previous.name()}))
}

async fn delete_subject_config(State(r): State<Shared>, Path(subject): Path<String>) -> Reply {
    let previous = r
        .state()
        .subjects
        .get(&subject)
        .and_then(|s| s.compatibility)
        .ok_or_else(|| RegistryError::SubjectNotFound(subject.clone()))?;
    r.set_compatibility(Some(&subject), None).await?;
    ok(json!({"compatibilityLevel": previous.name()}))
}

#[derive(Deserialize)]
struct ModeBody {
    mode: String,
}

async fn put_mode(r: &Registry, subject: Option<&str>, body: &Bytes) -> Reply {
    let body: ModeBody = parse_body(body)?;
    let mode = Mode::parse(&body.mode).ok_or(RegistryError::InvalidMode)?;
    r.set_mode(subject, Some(mode)).await?;
    ok(json!({"mode": mode.name()}))
}

async fn get_global_mode(State(r): State<Shared>) -> Reply {
    ok(json!({"mode": r.state().mode.name()}))
}

async fn put_global_mode(State(r): State<Shared>, body: Bytes) -> Reply {
    put_mode(&r, None, &body).await
}

async fn get_subject_mode(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
) -> Reply {
    // defaultToGlobal: the mode that applies (the subject's, its context's or the global).
    let state = r.state();
    let mode = if flag(&q, "defaultToGlobal") {
        Some(state.mode_for(&subject))
    } else {
        state.subjects.get(&subject).and_then(|s| s.mode)
    };
    match mode {
        Some(mode) => ok(json!({"mode": mode.name()})),
        None => Err(RegistryError::SubjectModeNotConfigured(subject)),
    }
}

async fn put_subject_mode(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    body: Bytes,
) -> Reply {
    put_mode(&r, Some(&subject), &body).await
}

async fn delete_subject_mode(State(r): State<Shared>, Path(subject): Path<String>) -> Reply {
    let previous = r
        .state()
        .subjects
        .get(&subject)
        .and_then(|s| s.mode)
        .ok_or_else(|| RegistryError::SubjectNotFound(subject.clone()))?;
    r.set_mode(Some(&subject), None).await?;
    ok(json!({"mode": previous.name()}))
}

fn compatibility_reply(problems: Vec<String>, verbose: bool) -> Reply {
    let mut body = json!({"is_compatible": problems.is_empty()});
    if verbose {
        body["messages"] = json!(problems);
    }
    ok(body)
}

async fn compatibility_with_version(
    State(r): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
    body: Bytes,
) -> Reply {
    let input = schema_input(&body)?;
    let problems = r.check_compatibility(&subject, Some(parse_version(&version)?), &input)?;
    compatibility_reply(problems, flag(&q, "verbose"))
}

async fn compatibility_with_all(
    State(r): State<Shared>,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Reply {
    let input = schema_input(&body)?;
    let problems = r.check_compatibility(&subject, None, &input)?;
    compatibility_reply(problems, flag(&q, "verbose"))
}

async fn not_found() -> Response {
    reply(
        StatusCode::NOT_FOUND,
        &json!({"error_code": 404, "message": "HTTP 404 Not Found"}),
    )
}

/// The API's routes.
pub fn router(registry: Shared) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(schema_text_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_by_id))
        .route("/schemas/ids/{id}/versions", get(versions_by_id))
        .route("/schemas", get(list_schemas))
        .route("/schemas/types", get(schema_types))
        .route("/contexts", get(contexts))
        .route(
            "/config",
            get(get_global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(get_subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route("/mode", get(get_global_mode).put(put_global_mode))
        .route(
            "/mode/{subject}",
            get(get_subject_mode)
                .put(put_subject_mode)
                .delete(delete_subject_mode),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility_with_version),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility_with_all),
        )
        .fallback(not_found)
        .with_state(registry)
}
