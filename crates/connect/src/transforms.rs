//! Single message transforms and their predicates, with Kafka's class names and settings
//! (`transforms=a,b`, `transforms.a.type=org.apache.kafka.connect.transforms.InsertField$Value`,
//! `transforms.a.predicate=p`, `transforms.a.negate=true`, `predicates=p`,
//! `predicates.p.type=…TopicNameMatches`, `predicates.p.pattern=…`).
//!
//! A source's records go through the chain after the task made them and before the
//! converters; a sink's, after the converters and before the task. Each transform works on a
//! struct with its schema or on a schemaless map, as Kafka's do; a tombstone passes unchanged.

use std::collections::BTreeMap;

use crate::data::{Config, Field, Schema, Type, Value};

/// A record as the transforms see it (Kafka Connect's `ConnectRecord`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRecord {
    /// The topic.
    pub topic: String,
    /// The partition, when known or chosen.
    pub partition: Option<i32>,
    /// The Kafka offset (sink records only).
    pub offset: Option<i64>,
    /// The key's schema.
    pub key_schema: Option<Schema>,
    /// The key.
    pub key: Value,
    /// The value's schema.
    pub value_schema: Option<Schema>,
    /// The value.
    pub value: Value,
    /// The timestamp.
    pub timestamp: Option<i64>,
    /// Headers, in order: name and raw value.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// One transform.
pub trait Transform: Send + Sync {
    /// The record transformed, or None when it is dropped.
    fn apply(&self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String>;
}

/// One predicate.
pub trait Predicate: Send + Sync {
    /// Whether the record matches.
    fn test(&self, record: &ConnectRecord) -> bool;
}

struct Step {
    alias: String,
    class: String,
    transform: Box<dyn Transform>,
    /// The predicate and whether it is negated.
    predicate: Option<(Box<dyn Predicate>, bool)>,
}

/// A connector's chain of transforms.
#[derive(Default)]
pub struct Transforms {
    steps: Vec<Step>,
}

/// Why a transform failed: its alias and class, and the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformError {
    /// The transform's class.
    pub class: String,
    /// What went wrong.
    pub message: String,
}

fn list(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The settings under `prefix`, without it.
fn settings(config: &Config, prefix: &str) -> Config {
    config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
        .collect()
}

/// A class name without Kafka's package (`InsertField$Value`).
fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

impl Transforms {
    /// The chain a connector's configuration describes; errors are (setting, message).
    pub fn from_config(config: &Config) -> Result<Transforms, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut predicates: BTreeMap<String, Box<dyn Predicate>> = BTreeMap::new();
        for alias in list(config.get("predicates")) {
            let key = format!("predicates.{alias}.type");
            let Some(class) = config.get(&key) else {
                errors.push((key, "Missing required configuration".to_string()));
                continue;
            };
            let s = settings(config, &format!("predicates.{alias}."));
            match predicate(class, &s) {
                Ok(p) => {
                    predicates.insert(alias, p);
                }
                Err(e) => errors.push((key, e)),
            }
        }
        let mut steps = Vec::new();
        for alias in list(config.get("transforms")) {
            let key = format!("transforms.{alias}.type");
            let Some(class) = config.get(&key) else {
                errors.push((key, "Missing required configuration".to_string()));
                continue;
            };
            let s = settings(config, &format!("transforms.{alias}."));
            let predicate = match s.get("predicate").filter(|p| !p.trim().is_empty()) {
                Some(p) => match predicates.remove(p.trim()) {
                    Some(found) => {
                        Some((found, s.get("negate").is_some_and(|n| n.trim() == "true")))
                    }
                    None => {
                        errors.push((
                            format!("transforms.{alias}.predicate"),
                            format!("Unknown predicate '{p}': it is not listed in predicates"),
                        ));
                        None
                    }
                },
                None => None,
            };
            match transform(class, &s) {
                Ok(transform) => steps.push(Step {
                    alias,
                    class: class.clone(),
                    transform,
                    predicate,
                }),
                Err(e) => errors.push((key, e)),
            }
        }
        if errors.is_empty() {
            Ok(Transforms { steps })
        } else {
            Err(errors)
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the chain: the record, None when a transform dropped it, or the failure.
    pub fn apply(
        &self,
        mut record: ConnectRecord,
    ) -> Result<Option<ConnectRecord>, TransformError> {
        for step in &self.steps {
            if let Some((p, negate)) = &step.predicate {
                if p.test(&record) == *negate {
                    continue;
                }
            }
            match step.transform.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(message) => {
                    return Err(TransformError {
                        class: step.class.clone(),
                        message: format!("transform {}: {message}", step.alias),
                    });
                }
            }
        }
        Ok(Some(record))
    }
}

/// The built-in transforms' class names (without `$Key` / `$Value`).
pub const TRANSFORMS: [&str; 14] = [
    "InsertField",
    "ReplaceField",
    "MaskField",
    "ValueToKey",
    "ExtractField",
    "HoistField",
    "Cast",
    "TimestampConverter",
    "RegexRouter",
    "TimestampRouter",
    "Filter",
    "Flatten",
    "InsertHeader",
    "DropHeaders",
];

fn transform(class: &str, s: &Config) -> Result<Box<dyn Transform>, String> {
    let short = short_class(class.trim());
    let (name, side) = match short.split_once('$') {
        Some((n, "Key")) => (n, Some(Side::Key)),
        Some((n, "Value")) => (n, Some(Side::Value)),
        Some(_) => return Err(format!("Class {class} could not be found.")),
        None => (short, None),
    };
    let needs_side = |side: Option<Side>| {
        side.ok_or_else(|| format!("{name} needs $Key or $Value: {name}$Key or {name}$Value"))
    };
    let required = |k: &str| {
        s.get(k)
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .ok_or_else(|| format!("Missing required configuration \"{k}\" for {name}"))
    };
    Ok(match name {
        "InsertField" => Box::new(InsertField::new(needs_side(side)?, s)?),
        "ReplaceField" => Box::new(ReplaceField::new(needs_side(side)?, s)?),
        "MaskField" => Box::new(MaskField {
            side: needs_side(side)?,
            fields: list(Some(&required("fields")?)),
            replacement: s.get("replacement").cloned(),
        }),
        "ValueToKey" => Box::new(ValueToKey {
            fields: list(Some(&required("fields")?)),
        }),
        "ExtractField" => Box::new(ExtractField {
            side: needs_side(side)?,
            field: required("field")?,
        }),
        "HoistField" => Box::new(HoistField {
            side: needs_side(side)?,
            field: required("field")?,
        }),
        "Cast" => Box::new(Cast::new(needs_side(side)?, &required("spec")?)?),
        "TimestampConverter" => Box::new(TimestampConverter::new(needs_side(side)?, s)?),
        "RegexRouter" => Box::new(RegexRouter::new(
            &required("regex")?,
            &required("replacement")?,
        )?),
        "TimestampRouter" => Box::new(TimestampRouter {
            topic_format: s
                .get("topic.format")
                .cloned()
                .unwrap_or_else(|| "${topic}-${timestamp}".to_string()),
            timestamp_format: s
                .get("timestamp.format")
                .cloned()
                .unwrap_or_else(|| "yyyyMMdd".to_string()),
        }),
        "Filter" => Box::new(Filter),
        "Flatten" => Box::new(Flatten {
            side: needs_side(side)?,
            delimiter: s
                .get("delimiter")
                .cloned()
                .unwrap_or_else(|| ".".to_string()),
        }),
        "InsertHeader" => Box::new(InsertHeader {
            header: required("header")?,
            literal: required("value.literal")?,
        }),
        "DropHeaders" => Box::new(DropHeaders {
            headers: list(Some(&required("headers")?)),
        }),
        _ => {
            return Err(format!(
                "Class {class} could not be found. Brook Connect's transforms: {}",
                TRANSFORMS.join(", ")
            ));
        }
    })
}

fn predicate(class: &str, s: &Config) -> Result<Box<dyn Predicate>, String> {
    match short_class(class.trim()) {
        "TopicNameMatches" => {
            let pattern = s
                .get("pattern")
                .filter(|p| !p.is_empty())
                .ok_or("Missing required configuration \"pattern\" for TopicNameMatches")?;
            let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| format!("Invalid regex '{pattern}': {e}"))?;
            Ok(Box::new(TopicNameMatches(regex)))
        }
        "HasHeaderKey" => Ok(Box::new(HasHeaderKey(
            s.get("name")
                .filter(|n| !n.is_empty())
                .ok_or("Missing required configuration \"name\" for HasHeaderKey")?
                .clone(),
        ))),
        "RecordIsTombstone" => Ok(Box::new(RecordIsTombstone)),
        _ => Err(format!(
            "Class {class} could not be found. Brook Connect's predicates: TopicNameMatches, HasHeaderKey, RecordIsTombstone"
        )),
    }
}

// ----- predicates -----

struct TopicNameMatches(regex::Regex);

impl Predicate for TopicNameMatches {
    fn test(&self, record: &ConnectRecord) -> bool {
        self.0.is_match(&record.topic)
    }
}

struct HasHeaderKey(String);

impl Predicate for HasHeaderKey {
    fn test(&self, record: &ConnectRecord) -> bool {
        record.headers.iter().any(|(k, _)| *k == self.0)
    }
}

struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn test(&self, record: &ConnectRecord) -> bool {
        record.value == Value::Null
    }
}

// ----- the side a transform works on -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Key,
    Value,
}

impl ConnectRecord {
    fn side(&self, side: Side) -> (&Option<Schema>, &Value) {
        match side {
            Side::Key => (&self.key_schema, &self.key),
            Side::Value => (&self.value_schema, &self.value),
        }
    }

    fn set_side(&mut self, side: Side, schema: Option<Schema>, value: Value) {
        match side {
            Side::Key => {
                self.key_schema = schema;
                self.key = value;
            }
            Side::Value => {
                self.value_schema = schema;
                self.value = value;
            }
        }
    }
}

/// A struct's or a schemaless map's fields, as (name, schema, value).
struct Fields {
    /// Whether it had a schema (a struct) or not (a map).
    schema: Option<Schema>,
    fields: Vec<(String, Option<Schema>, Value)>,
}

impl Fields {
    /// The fields of a side; None for a tombstone; an error for what has no fields.
    fn of(schema: &Option<Schema>, value: &Value, what: &str) -> Result<Option<Fields>, String> {
        match (schema, value) {
            (_, Value::Null) => Ok(None),
            (Some(s), Value::Struct(values)) => {
                let Type::Struct(defs) = &s.kind else {
                    return Err(format!("{what} requires a struct schema"));
                };
                let fields = values
                    .iter()
                    .map(|(n, v)| {
                        let fs = defs.iter().find(|f| f.name == *n).map(|f| f.schema.clone());
                        (n.clone(), fs, v.clone())
                    })
                    .collect();
                Ok(Some(Fields {
                    schema: Some(s.clone()),
                    fields,
                }))
            }
            (_, Value::Struct(values)) => Ok(Some(Fields {
                schema: None,
                fields: values
                    .iter()
                    .map(|(n, v)| (n.clone(), None, v.clone()))
                    .collect(),
            })),
            (None, Value::Map(entries)) => Ok(Some(Fields {
                schema: None,
                fields: entries
                    .iter()
                    .map(|(k, v)| (map_key(k), None, v.clone()))
                    .collect(),
            })),
            (Some(_), _) => Err(format!(
                "{what} requires a struct; the record has {}",
                kind_of(value)
            )),
            (None, _) => Err(format!(
                "{what} requires a map without a schema or a struct; the record has {}",
                kind_of(value)
            )),
        }
    }

    /// Back to a schema and value: a struct (its schema rebuilt from the fields' schemas,
    /// keeping the old one's name and optionality) or a map.
    fn build(self) -> (Option<Schema>, Value) {
        match self.schema {
            Some(old) => {
                let schema = Schema {
                    kind: Type::Struct(
                        self.fields
                            .iter()
                            .map(|(n, s, v)| Field {
                                name: n.clone(),
                                schema: s.clone().unwrap_or_else(|| schema_of(v)),
                            })
                            .collect(),
                    ),
                    optional: old.optional,
                    name: old.name,
                    doc: old.doc,
                };
                let value =
                    Value::Struct(self.fields.into_iter().map(|(n, _, v)| (n, v)).collect());
                (Some(schema), value)
            }
            None => (
                None,
                Value::Map(
                    self.fields
                        .into_iter()
                        .map(|(n, _, v)| (Value::String(n), v))
                        .collect(),
                ),
            ),
        }
    }

    fn get(&self, name: &str) -> Option<&(String, Option<Schema>, Value)> {
        self.fields.iter().find(|(n, _, _)| n == name)
    }
}

fn map_key(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => other.to_json().to_string(),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Struct(_) => "a struct",
    }
}

/// An optional schema that fits a value (for fields added to a struct).
fn schema_of(v: &Value) -> Schema {
    match v {
        Value::Boolean(_) => Schema::of(Type::Boolean),
        Value::Int(_) => Schema::of(Type::Int64),
        Value::Float(_) => Schema::of(Type::Float64),
        Value::Bytes(_) => Schema::of(Type::Bytes),
        _ => Schema::of(Type::String),
    }
    .optional()
}

// ----- InsertField -----

/// `name`, `name!` (required) or `name?` (optional, the default).
fn field_spec(s: &Config, key: &str) -> Option<(String, bool)> {
    let v = s.get(key)?.trim();
    if v.is_empty() {
        return None;
    }
    Some(match v.strip_suffix('!') {
        Some(n) => (n.to_string(), false),
        None => (v.trim_end_matches('?').to_string(), true),
    })
}

struct InsertField {
    side: Side,
    topic: Option<(String, bool)>,
    partition: Option<(String, bool)>,
    offset: Option<(String, bool)>,
    timestamp: Option<(String, bool)>,
    fixed: Option<((String, bool), String)>,
}

impl InsertField {
    fn new(side: Side, s: &Config) -> Result<Self, String> {
        let fixed = match (field_spec(s, "static.field"), s.get("static.value")) {
            (Some(f), Some(v)) => Some((f, v.clone())),
            (Some(_), None) => {
                return Err("static.value is required with static.field".to_string());
            }
            _ => None,
        };
        Ok(InsertField {
            side,
            topic: field_spec(s, "topic.field"),
            partition: field_spec(s, "partition.field"),
            offset: field_spec(s, "offset.field"),
            timestamp: field_spec(s, "timestamp.field"),
            fixed,
        })
    }
}

impl Transform for InsertField {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let Some(mut fields) = Fields::of(schema, value, "InsertField")? else {
            return Ok(Some(r));
        };
        let mut add = |spec: &Option<(String, bool)>, schema: Schema, v: Value| {
            if let Some((name, optional)) = spec {
                let schema = if *optional { schema.optional() } else { schema };
                fields.fields.retain(|(n, _, _)| n != name);
                fields.fields.push((name.clone(), Some(schema), v));
            }
        };
        add(
            &self.topic,
            Schema::of(Type::String),
            Value::String(r.topic.clone()),
        );
        add(
            &self.partition,
            Schema::of(Type::Int32),
            r.partition
                .map_or(Value::Null, |p| Value::Int(i64::from(p))),
        );
        if self.offset.is_some() && r.offset.is_none() {
            return Err("offset.field is only for sink connectors' records".to_string());
        }
        add(
            &self.offset,
            Schema::of(Type::Int64),
            r.offset.map_or(Value::Null, Value::Int),
        );
        add(
            &self.timestamp,
            Schema::of(Type::Int64).named(TIMESTAMP),
            r.timestamp.map_or(Value::Null, Value::Int),
        );
        if let Some((spec, v)) = &self.fixed {
            add(
                &Some(spec.clone()),
                Schema::of(Type::String),
                Value::String(v.clone()),
            );
        }
        let (schema, value) = fields.build();
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- ReplaceField -----

struct ReplaceField {
    side: Side,
    include: Vec<String>,
    exclude: Vec<String>,
    renames: Vec<(String, String)>,
}

impl ReplaceField {
    fn new(side: Side, s: &Config) -> Result<Self, String> {
        let include = list(s.get("include").or(s.get("whitelist")));
        let exclude = list(s.get("exclude").or(s.get("blacklist")));
        let renames = list(s.get("renames"))
            .iter()
            .map(|r| {
                r.split_once(':')
                    .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                    .ok_or_else(|| format!("Invalid rename mapping: {r} (expected old:new)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(ReplaceField {
            side,
            include,
            exclude,
            renames,
        })
    }
}

impl Transform for ReplaceField {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let Some(mut fields) = Fields::of(schema, value, "ReplaceField")? else {
            return Ok(Some(r));
        };
        fields.fields.retain(|(n, _, _)| {
            (self.include.is_empty() || self.include.contains(n)) && !self.exclude.contains(n)
        });
        for (n, _, _) in &mut fields.fields {
            if let Some((_, to)) = self.renames.iter().find(|(from, _)| from == n) {
                *n = to.clone();
            }
        }
        let (schema, value) = fields.build();
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- MaskField -----

struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
}

/// The masked form of a value: its type's empty value, or the replacement in its type.
fn masked(schema: Option<&Schema>, v: &Value, replacement: Option<&str>) -> Result<Value, String> {
    let kind = schema.map(|s| &s.kind);
    if let Some(text) = replacement {
        return cast_text(text, kind, v)
            .ok_or_else(|| format!("cannot use the replacement '{text}' for {}", kind_of(v)));
    }
    Ok(match (kind, v) {
        (Some(Type::Boolean), _) | (None, Value::Boolean(_)) => Value::Boolean(false),
        (Some(Type::Float32 | Type::Float64), _) | (None, Value::Float(_)) => Value::Float(0.0),
        (Some(Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64), _) | (None, Value::Int(_)) => {
            Value::Int(0)
        }
        (Some(Type::String), _) | (None, Value::String(_)) => Value::String(String::new()),
        (Some(Type::Bytes), _) | (None, Value::Bytes(_)) => Value::Bytes(Vec::new()),
        (Some(Type::Array(_)), _) | (None, Value::Array(_)) => Value::Array(Vec::new()),
        (Some(Type::Map(..)), _) | (None, Value::Map(_)) => Value::Map(Vec::new()),
        (_, Value::Null) => Value::Null,
        _ => return Err(format!("cannot mask {}", kind_of(v))),
    })
}

/// A replacement text in the type of the value it replaces.
fn cast_text(text: &str, kind: Option<&Type>, v: &Value) -> Option<Value> {
    match (kind, v) {
        (Some(Type::String), _) | (None, Value::String(_)) => Some(Value::String(text.to_string())),
        (Some(Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64), _) | (None, Value::Int(_)) => {
            text.trim().parse().ok().map(Value::Int)
        }
        (Some(Type::Float32 | Type::Float64), _) | (None, Value::Float(_)) => {
            text.trim().parse().ok().map(Value::Float)
        }
        (Some(Type::Boolean), _) | (None, Value::Boolean(_)) => {
            text.trim().parse().ok().map(Value::Boolean)
        }
        _ => None,
    }
}

impl Transform for MaskField {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let Some(mut fields) = Fields::of(schema, value, "MaskField")? else {
            return Ok(Some(r));
        };
        for (n, s, v) in &mut fields.fields {
            if self.fields.contains(n) {
                *v = masked(s.as_ref(), v, self.replacement.as_deref())
                    .map_err(|e| format!("field {n}: {e}"))?;
            }
        }
        let (schema, value) = fields.build();
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- ValueToKey, ExtractField, HoistField -----

struct ValueToKey {
    fields: Vec<String>,
}

impl Transform for ValueToKey {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let Some(fields) = Fields::of(&r.value_schema, &r.value, "ValueToKey")? else {
            return Err("ValueToKey needs a value; the record is a tombstone".to_string());
        };
        let mut key = Fields {
            schema: fields
                .schema
                .as_ref()
                .map(|_| Schema::of(Type::Struct(Vec::new()))),
            fields: Vec::new(),
        };
        for name in &self.fields {
            let found = fields
                .get(name)
                .ok_or_else(|| format!("the value has no field {name}"))?;
            key.fields.push(found.clone());
        }
        let (schema, value) = key.build();
        r.key_schema = schema;
        r.key = value;
        Ok(Some(r))
    }
}

struct ExtractField {
    side: Side,
    field: String,
}

impl Transform for ExtractField {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let Some(fields) = Fields::of(schema, value, "ExtractField")? else {
            return Ok(Some(r));
        };
        let (schema, value) = match fields.get(&self.field) {
            Some((_, s, v)) => (s.clone(), v.clone()),
            None if fields.schema.is_some() => {
                return Err(format!("the struct has no field {}", self.field));
            }
            None => (None, Value::Null),
        };
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

struct HoistField {
    side: Side,
    field: String,
}

impl Transform for HoistField {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let (schema, value) = match schema {
            Some(s) => (
                Some(Schema::of(Type::Struct(vec![Field {
                    name: self.field.clone(),
                    schema: s.clone(),
                }]))),
                Value::Struct(vec![(self.field.clone(), value.clone())]),
            ),
            None => (
                None,
                Value::Map(vec![(Value::String(self.field.clone()), value.clone())]),
            ),
        };
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- Cast -----

struct Cast {
    side: Side,
    /// A whole-side cast, or casts per field.
    whole: Option<Type>,
    fields: Vec<(String, Type)>,
}

fn cast_type(name: &str) -> Result<Type, String> {
    Ok(match name.trim() {
        "int8" => Type::Int8,
        "int16" => Type::Int16,
        "int32" => Type::Int32,
        "int64" => Type::Int64,
        "float32" => Type::Float32,
        "float64" => Type::Float64,
        "boolean" => Type::Boolean,
        "string" => Type::String,
        other => {
            return Err(format!(
                "Invalid type found in casting spec: {other} (int8, int16, int32, int64, float32, float64, boolean, string)"
            ));
        }
    })
}

impl Cast {
    fn new(side: Side, spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        if parts.len() == 1 && !parts[0].contains(':') {
            return Ok(Cast {
                side,
                whole: Some(cast_type(parts[0])?),
                fields: Vec::new(),
            });
        }
        let fields = parts
            .iter()
            .map(|p| {
                let (f, t) = p
                    .split_once(':')
                    .ok_or_else(|| format!("Invalid cast spec '{p}': expected field:type"))?;
                Ok((f.trim().to_string(), cast_type(t)?))
            })
            .collect::<Result<_, String>>()?;
        Ok(Cast {
            side,
            whole: None,
            fields,
        })
    }
}

/// A value cast to a primitive type.
fn cast_value(v: &Value, to: &Type) -> Result<Value, String> {
    let fail = || {
        format!(
            "cannot cast {} to {}",
            kind_of(v),
            Schema::of(to.clone()).type_name()
        )
    };
    let as_int = |v: &Value| -> Result<i64, String> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Float(f) => Ok(*f as i64),
            Value::Boolean(b) => Ok(i64::from(*b)),
            Value::String(s) => s.trim().parse().map_err(|_| fail()),
            _ => Err(fail()),
        }
    };
    Ok(match (v, to) {
        (Value::Null, _) => Value::Null,
        (_, Type::Int8) => Value::Int(i64::from(as_int(v)? as i8)),
        (_, Type::Int16) => Value::Int(i64::from(as_int(v)? as i16)),
        (_, Type::Int32) => Value::Int(i64::from(as_int(v)? as i32)),
        (_, Type::Int64) => Value::Int(as_int(v)?),
        (Value::Float(f), Type::Float32 | Type::Float64) => Value::Float(*f),
        (Value::Int(i), Type::Float32 | Type::Float64) => Value::Float(*i as f64),
        (Value::Boolean(b), Type::Float32 | Type::Float64) => Value::Float(f64::from(u8::from(*b))),
        (Value::String(s), Type::Float32 | Type::Float64) => {
            Value::Float(s.trim().parse().map_err(|_| fail())?)
        }
        (Value::Boolean(b), Type::Boolean) => Value::Boolean(*b),
        (Value::Int(i), Type::Boolean) => Value::Boolean(*i != 0),
        (Value::Float(f), Type::Boolean) => Value::Boolean(*f != 0.0),
        (Value::String(s), Type::Boolean) => Value::Boolean(s.trim().eq_ignore_ascii_case("true")),
        (Value::String(s), Type::String) => Value::String(s.clone()),
        (Value::Int(i), Type::String) => Value::String(i.to_string()),
        (Value::Float(f), Type::String) => Value::String(f.to_string()),
        (Value::Boolean(b), Type::String) => Value::String(b.to_string()),
        _ => return Err(fail()),
    })
}

impl Transform for Cast {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        if let Some(to) = &self.whole {
            let optional = schema.as_ref().is_some_and(|s| s.optional);
            let new_schema = schema.as_ref().map(|_| Schema {
                optional,
                ..Schema::of(to.clone())
            });
            let v = cast_value(value, to)?;
            r.set_side(self.side, new_schema, v);
            return Ok(Some(r));
        }
        let Some(mut fields) = Fields::of(schema, value, "Cast")? else {
            return Ok(Some(r));
        };
        for (n, s, v) in &mut fields.fields {
            if let Some((_, to)) = self.fields.iter().find(|(f, _)| f == n) {
                *v = cast_value(v, to).map_err(|e| format!("field {n}: {e}"))?;
                if let Some(old) = s {
                    *s = Some(Schema {
                        optional: old.optional,
                        ..Schema::of(to.clone())
                    });
                }
            }
        }
        let (schema, value) = fields.build();
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- TimestampConverter -----

/// Kafka Connect's logical type names.
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
/// Days since the epoch, as int32.
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
/// Milliseconds of the day, as int32.
pub const TIME: &str = "org.apache.kafka.connect.data.Time";

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeType {
    Text,
    Unix,
    Date,
    Time,
    Timestamp,
}

struct TimestampConverter {
    side: Side,
    field: Option<String>,
    target: TimeType,
    format: Option<String>,
    /// Units per millisecond of a unix value (`unix.precision`): (multiply, divide).
    precision: (i64, i64),
}

impl TimestampConverter {
    fn new(side: Side, s: &Config) -> Result<Self, String> {
        let target = match s.get("target.type").map(|t| t.trim()) {
            Some("string") => TimeType::Text,
            Some("unix") => TimeType::Unix,
            Some("Date") => TimeType::Date,
            Some("Time") => TimeType::Time,
            Some("Timestamp") => TimeType::Timestamp,
            Some(other) => {
                return Err(format!(
                    "Unknown timestamp type in TimestampConverter: {other} (string, unix, Date, Time, Timestamp)"
                ));
            }
            None => return Err("Missing required configuration \"target.type\"".to_string()),
        };
        let format = s.get("format").filter(|f| !f.is_empty()).cloned();
        if target == TimeType::Text && format.is_none() {
            return Err("TimestampConverter requires format option to be specified when using string timestamps".to_string());
        }
        if let Some(f) = &format {
            brook_time::DatePattern::new(f, Some("UTC"))?;
        }
        let precision = match s.get("unix.precision").map_or("milliseconds", |p| p.trim()) {
            "seconds" => (1, 1000),
            "milliseconds" => (1, 1),
            "microseconds" => (1000, 1),
            "nanoseconds" => (1_000_000, 1),
            other => return Err(format!("Unknown unix.precision: {other}")),
        };
        Ok(TimestampConverter {
            side,
            field: s.get("field").filter(|f| !f.trim().is_empty()).cloned(),
            target,
            format,
            precision,
        })
    }

    /// Milliseconds since the epoch of a value, read by its schema or its kind.
    fn millis(&self, schema: Option<&Schema>, v: &Value) -> Result<i64, String> {
        let name = schema.and_then(|s| s.name.as_deref());
        match (name, v) {
            (Some(DATE), Value::Int(days)) => Ok(days * DAY_MS),
            (Some(TIME) | Some(TIMESTAMP), Value::Int(ms)) => Ok(*ms),
            (_, Value::Int(n)) => Ok(n * self.precision.1 / self.precision.0),
            (_, Value::String(text)) => {
                let format = self
                    .format
                    .as_deref()
                    .ok_or("a string timestamp needs the format setting to be read".to_string())?;
                brook_time::parse_millis(text, format, Some("UTC"))
            }
            _ => Err(format!("cannot read a timestamp from {}", kind_of(v))),
        }
    }

    fn convert(&self, ms: i64, optional: bool) -> Result<(Schema, Value), String> {
        let (schema, value) = match self.target {
            TimeType::Text => (
                Schema::of(Type::String),
                Value::String(brook_time::format_millis(
                    ms,
                    self.format.as_deref().unwrap_or_default(),
                    Some("UTC"),
                )?),
            ),
            TimeType::Unix => (
                Schema::of(Type::Int64),
                Value::Int(ms * self.precision.0 / self.precision.1),
            ),
            TimeType::Timestamp => (Schema::of(Type::Int64).named(TIMESTAMP), Value::Int(ms)),
            TimeType::Date => (
                Schema::of(Type::Int32).named(DATE),
                Value::Int(ms.div_euclid(DAY_MS)),
            ),
            TimeType::Time => (
                Schema::of(Type::Int32).named(TIME),
                Value::Int(ms.rem_euclid(DAY_MS)),
            ),
        };
        Ok((if optional { schema.optional() } else { schema }, value))
    }
}

impl Transform for TimestampConverter {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let Some(field) = &self.field else {
            if *value == Value::Null {
                return Ok(Some(r));
            }
            let ms = self.millis(schema.as_ref(), value)?;
            let optional = schema.as_ref().is_some_and(|s| s.optional);
            let (new_schema, v) = self.convert(ms, optional)?;
            let keep_schema = schema.is_some();
            r.set_side(self.side, keep_schema.then_some(new_schema), v);
            return Ok(Some(r));
        };
        let Some(mut fields) = Fields::of(schema, value, "TimestampConverter")? else {
            return Ok(Some(r));
        };
        let with_schema = fields.schema.is_some();
        for (n, s, v) in &mut fields.fields {
            if n == field && *v != Value::Null {
                let ms = self.millis(s.as_ref(), v)?;
                let optional = s.as_ref().is_none_or(|s| s.optional);
                let (new_schema, new_value) = self.convert(ms, optional)?;
                *v = new_value;
                if with_schema {
                    *s = Some(new_schema);
                }
            }
        }
        let (schema, value) = fields.build();
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- routers and filters -----

struct RegexRouter {
    regex: regex::Regex,
    replacement: String,
}

impl RegexRouter {
    fn new(regex: &str, replacement: &str) -> Result<Self, String> {
        let regex = regex::Regex::new(&format!("^(?:{regex})$"))
            .map_err(|e| format!("Invalid regex '{regex}': {e}"))?;
        // Java's `$1` is Rust's `${1}` (Rust would read `$1abc` as a group named `1abc`).
        let group = regex::Regex::new(r"\$(\d+)").expect("a valid pattern");
        Ok(RegexRouter {
            regex,
            replacement: group.replace_all(replacement, "$${$1}").into_owned(),
        })
    }
}

impl Transform for RegexRouter {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        if let Some(caps) = self.regex.captures(&r.topic) {
            let mut topic = String::new();
            caps.expand(&self.replacement, &mut topic);
            r.topic = topic;
        }
        Ok(Some(r))
    }
}

struct TimestampRouter {
    topic_format: String,
    timestamp_format: String,
}

impl Transform for TimestampRouter {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let ts = r
            .timestamp
            .ok_or("Timestamp missing on record: TimestampRouter needs each record's timestamp")?;
        let formatted = brook_time::format_millis(ts, &self.timestamp_format, Some("UTC"))?;
        r.topic = self
            .topic_format
            .replace("${topic}", &r.topic)
            .replace("${timestamp}", &formatted);
        Ok(Some(r))
    }
}

struct Filter;

impl Transform for Filter {
    fn apply(&self, _: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        Ok(None)
    }
}

// ----- Flatten -----

struct Flatten {
    side: Side,
    delimiter: String,
}

impl Flatten {
    fn flatten_into(
        &self,
        prefix: &str,
        fields: Vec<(String, Option<Schema>, Value)>,
        out: &mut Vec<(String, Option<Schema>, Value)>,
    ) {
        for (n, s, v) in fields {
            let name = if prefix.is_empty() {
                n
            } else {
                format!("{prefix}{}{n}", self.delimiter)
            };
            let nested = match (&s, &v) {
                (Some(schema), Value::Struct(_) | Value::Null)
                    if matches!(schema.kind, Type::Struct(_)) =>
                {
                    Fields::of(&s, &v, "Flatten").ok()
                }
                (None, Value::Map(_) | Value::Struct(_)) => Fields::of(&None, &v, "Flatten").ok(),
                _ => None,
            };
            match nested {
                Some(Some(inner)) => self.flatten_into(&name, inner.fields, out),
                Some(None) => {
                    // A null struct: its fields, each null and optional.
                    if let Some(Type::Struct(defs)) = s.as_ref().map(|s| &s.kind) {
                        let nulls = defs
                            .iter()
                            .map(|f| {
                                (
                                    f.name.clone(),
                                    Some(f.schema.clone().optional()),
                                    Value::Null,
                                )
                            })
                            .collect();
                        self.flatten_into(&name, nulls, out);
                    }
                }
                None => out.push((name, s, v)),
            }
        }
    }
}

impl Transform for Flatten {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let (schema, value) = r.side(self.side);
        let Some(fields) = Fields::of(schema, value, "Flatten")? else {
            return Ok(Some(r));
        };
        let mut flat = Vec::new();
        self.flatten_into("", fields.fields, &mut flat);
        let (schema, value) = Fields {
            schema: fields.schema,
            fields: flat,
        }
        .build();
        r.set_side(self.side, schema, value);
        Ok(Some(r))
    }
}

// ----- headers -----

struct InsertHeader {
    header: String,
    literal: String,
}

impl Transform for InsertHeader {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        r.headers
            .push((self.header.clone(), Some(self.literal.as_bytes().to_vec())));
        Ok(Some(r))
    }
}

struct DropHeaders {
    headers: Vec<String>,
}

impl Transform for DropHeaders {
    fn apply(&self, mut r: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        r.headers.retain(|(k, _)| !self.headers.contains(k));
        Ok(Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(settings: &[(&str, &str)]) -> Transforms {
        let config: Config = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Transforms::from_config(&config).unwrap()
    }

    fn ride_schema() -> Schema {
        Schema::of(Type::Struct(vec![
            Field {
                name: "vendor_id".into(),
                schema: Schema::of(Type::Int32),
            },
            Field {
                name: "fare".into(),
                schema: Schema::of(Type::Float64),
            },
            Field {
                name: "pickup".into(),
                schema: Schema::of(Type::String).optional(),
            },
        ]))
        .named("ride")
    }

    fn ride() -> ConnectRecord {
        ConnectRecord {
            topic: "rides".into(),
            partition: Some(1),
            offset: Some(42),
            key_schema: Some(Schema::of(Type::String)),
            key: Value::String("1".into()),
            value_schema: Some(ride_schema()),
            value: Value::Struct(vec![
                ("vendor_id".into(), Value::Int(2)),
                ("fare".into(), Value::Float(12.5)),
                ("pickup".into(), Value::String("2020-07-01 00:25:32".into())),
            ]),
            timestamp: Some(1_593_563_132_000),
            headers: vec![("trace".into(), Some(b"abc".to_vec()))],
        }
    }

    fn schemaless(j: serde_json::Value) -> ConnectRecord {
        ConnectRecord {
            value_schema: None,
            value: Value::from_json(&j),
            key_schema: None,
            ..ride()
        }
    }

    fn out(t: &Transforms, r: ConnectRecord) -> ConnectRecord {
        t.apply(r).unwrap().unwrap()
    }

    #[test]
    fn insert_replace_mask_and_cast_fields_with_and_without_schemas() {
        let t = chain(&[
            ("transforms", "insert,replace,mask,cast"),
            (
                "transforms.insert.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.insert.topic.field", "source_topic!"),
            ("transforms.insert.offset.field", "kafka_offset"),
            ("transforms.insert.static.field", "origin"),
            ("transforms.insert.static.value", "nyc"),
            ("transforms.replace.type", "ReplaceField$Value"),
            ("transforms.replace.exclude", "pickup"),
            ("transforms.replace.renames", "vendor_id:vendor"),
            ("transforms.mask.type", "MaskField$Value"),
            ("transforms.mask.fields", "origin"),
            ("transforms.mask.replacement", "hidden"),
            ("transforms.cast.type", "Cast$Value"),
            ("transforms.cast.spec", "fare:int32,vendor:string"),
        ]);
        let r = out(&t, ride());
        assert_eq!(
            r.value.to_json(),
            json!({"vendor": "2", "fare": 12, "source_topic": "rides",
                   "kafka_offset": 42, "origin": "hidden"})
        );
        let Type::Struct(fields) = &r.value_schema.as_ref().unwrap().kind else {
            panic!()
        };
        let described: Vec<(String, &str, bool)> = fields
            .iter()
            .map(|f| (f.name.clone(), f.schema.type_name(), f.schema.optional))
            .collect();
        assert_eq!(
            described,
            vec![
                ("vendor".to_string(), "string", false),
                ("fare".to_string(), "int32", false),
                ("source_topic".to_string(), "string", false),
                ("kafka_offset".to_string(), "int64", true),
                ("origin".to_string(), "string", true),
            ]
        );
        assert_eq!(r.value_schema.unwrap().name.as_deref(), Some("ride"));
        // The same chain on a schemaless map.
        let r = out(
            &t,
            schemaless(json!({"vendor_id": 1, "fare": 7.9, "pickup": "x"})),
        );
        assert_eq!(
            r.value.to_json(),
            json!({"vendor": "1", "fare": 7, "source_topic": "rides",
                   "kafka_offset": 42, "origin": "hidden"})
        );
        // A tombstone passes.
        let tomb = ConnectRecord {
            value: Value::Null,
            ..ride()
        };
        assert_eq!(out(&t, tomb.clone()).value, Value::Null);
    }

    #[test]
    fn keys_extract_hoist_and_flatten() {
        let t = chain(&[
            ("transforms", "key,extract"),
            (
                "transforms.key.type",
                "org.apache.kafka.connect.transforms.ValueToKey",
            ),
            ("transforms.key.fields", "vendor_id"),
            ("transforms.extract.type", "ExtractField$Key"),
            ("transforms.extract.field", "vendor_id"),
        ]);
        let r = out(&t, ride());
        assert_eq!(r.key, Value::Int(2));
        assert_eq!(r.key_schema.unwrap().type_name(), "int32");

        let t = chain(&[
            ("transforms", "hoist,flat"),
            ("transforms.hoist.type", "HoistField$Value"),
            ("transforms.hoist.field", "ride"),
            ("transforms.flat.type", "Flatten$Value"),
            ("transforms.flat.delimiter", "_"),
        ]);
        let r = out(&t, ride());
        assert_eq!(
            r.value.to_json(),
            json!({"ride_vendor_id": 2, "ride_fare": 12.5, "ride_pickup": "2020-07-01 00:25:32"})
        );
        let r = out(
            &t,
            schemaless(json!({"a": {"b": 1, "c": {"d": true}}, "e": [1]})),
        );
        assert_eq!(
            r.value.to_json(),
            json!({"ride_a_b": 1, "ride_a_c_d": true, "ride_e": [1]})
        );
        let bad = ExtractField {
            side: Side::Value,
            field: "nope".into(),
        };
        assert!(bad.apply(ride()).unwrap_err().contains("no field nope"));
    }

    #[test]
    fn timestamps_convert_both_ways() {
        let t = chain(&[
            ("transforms", "ts"),
            ("transforms.ts.type", "TimestampConverter$Value"),
            ("transforms.ts.field", "pickup"),
            ("transforms.ts.target.type", "unix"),
            ("transforms.ts.format", "yyyy-MM-dd HH:mm:ss"),
        ]);
        let r = out(&t, ride());
        assert_eq!(
            r.value.field("pickup"),
            Some(&Value::Int(1_593_563_132_000))
        );
        let back = chain(&[
            ("transforms", "ts"),
            ("transforms.ts.type", "TimestampConverter$Value"),
            ("transforms.ts.field", "pickup"),
            ("transforms.ts.target.type", "string"),
            ("transforms.ts.format", "dd/MM/yyyy HH:mm"),
        ]);
        let r = out(&back, r);
        assert_eq!(
            r.value.field("pickup"),
            Some(&Value::String("01/07/2020 00:25".into()))
        );
        let date = chain(&[
            ("transforms", "d"),
            ("transforms.d.type", "TimestampConverter$Value"),
            ("transforms.d.field", "pickup"),
            ("transforms.d.target.type", "Date"),
            ("transforms.d.format", "yyyy-MM-dd HH:mm:ss"),
        ]);
        let r = out(&date, ride());
        assert_eq!(r.value.field("pickup"), Some(&Value::Int(18444)));
        let config: Config = [
            ("transforms", "ts"),
            ("transforms.ts.type", "TimestampConverter$Value"),
            ("transforms.ts.target.type", "string"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let errors = Transforms::from_config(&config).err().unwrap();
        assert!(errors[0].1.contains("requires format"), "{errors:?}");
    }

    #[test]
    fn routers_filters_predicates_and_headers() {
        let t = chain(&[
            ("transforms", "route,stamp,hdr,drop"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", "(.*)ides"),
            ("transforms.route.replacement", "$1ides_copy"),
            ("transforms.stamp.type", "TimestampRouter"),
            ("transforms.stamp.topic.format", "${topic}-${timestamp}"),
            ("transforms.stamp.timestamp.format", "yyyy-MM"),
            ("transforms.hdr.type", "InsertHeader"),
            ("transforms.hdr.header", "source"),
            ("transforms.hdr.value.literal", "brook"),
            ("transforms.drop.type", "DropHeaders"),
            ("transforms.drop.headers", "trace"),
        ]);
        let r = out(&t, ride());
        assert_eq!(r.topic, "rides_copy-2020-07");
        assert_eq!(
            r.headers,
            vec![("source".to_string(), Some(b"brook".to_vec()))]
        );

        // Filter with predicates: tombstones dropped; records of other topics kept.
        let t = chain(&[
            ("transforms", "dropTombstones,onlyRides"),
            ("transforms.dropTombstones.type", "Filter"),
            ("transforms.dropTombstones.predicate", "isTombstone"),
            (
                "transforms.onlyRides.type",
                "org.apache.kafka.connect.transforms.Filter",
            ),
            ("transforms.onlyRides.predicate", "isRides"),
            ("transforms.onlyRides.negate", "true"),
            ("predicates", "isTombstone,isRides"),
            (
                "predicates.isTombstone.type",
                "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            ),
            ("predicates.isRides.type", "TopicNameMatches"),
            ("predicates.isRides.pattern", "ride.*"),
        ]);
        assert!(t.apply(ride()).unwrap().is_some());
        let tomb = ConnectRecord {
            value: Value::Null,
            ..ride()
        };
        assert!(t.apply(tomb).unwrap().is_none());
        let other = ConnectRecord {
            topic: "orders".into(),
            ..ride()
        };
        assert!(t.apply(other).unwrap().is_none());
        let has = chain(&[
            ("transforms", "f"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "p"),
            ("predicates", "p"),
            ("predicates.p.type", "HasHeaderKey"),
            ("predicates.p.name", "trace"),
        ]);
        assert!(has.apply(ride()).unwrap().is_none());
    }

    #[test]
    fn bad_configurations_name_their_setting() {
        let config: Config = [
            ("transforms", "a,b,c,d"),
            ("transforms.a.type", "com.example.Nope"),
            ("transforms.b.type", "InsertField"),
            ("transforms.c.type", "Cast$Value"),
            ("transforms.c.spec", "x:decimal"),
            ("transforms.d.type", "Filter"),
            ("transforms.d.predicate", "missing"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let errors = Transforms::from_config(&config).err().unwrap();
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "transforms.a.type",
                "transforms.b.type",
                "transforms.c.type",
                "transforms.d.predicate"
            ]
        );
        assert!(errors[0].1.contains("could not be found"), "{errors:?}");
        assert!(errors[1].1.contains("$Key or $Value"), "{errors:?}");
        assert!(errors[2].1.contains("decimal"), "{errors:?}");
        // A failing transform names itself.
        let t = chain(&[
            ("transforms", "cast"),
            ("transforms.cast.type", "Cast$Value"),
            ("transforms.cast.spec", "pickup:int64"),
        ]);
        let e = t.apply(ride()).unwrap_err();
        assert_eq!(e.class, "Cast$Value");
        assert!(
            e.message.starts_with("transform cast: field pickup"),
            "{e:?}"
        );
    }
}
