//! The Datagen source, configured as Confluent's `kafka-connect-datagen`: a `quickstart`
//! (orders, users, pageviews, stock_trades, inventory, product, purchases, transactions,
//! stores, credit_cards — with the quickstarts' field names and value ranges) or an Avro schema of your own (`schema.string` / `schema.filename`) whose
//! fields carry `arg.properties` — `iteration` (`start`, `step`), `range` (`min`, `max`),
//! `regex`, `options`, `length` — as the Avro random generator reads them. Each record's key
//! is its `schema.keyfield` (the quickstart's key field by default).
//!
//! Settings: `kafka.topic`, `max.interval` (ms between records, at random up to it; 500),
//! `iterations` (records per task, below 1 for unlimited), `random.seed`, `tasks.max`. The
//! source offset is the number of records a task has written, so a restarted task continues
//! its iterations.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value as Json, json};

use crate::data::{Config, Field, Schema, Type, Value};
use crate::plugin::{
    ConfigKey, ConnectError, OffsetReader, Plugin, PluginKind, SourceRecord, SourceTask,
};

/// The Datagen connector plugin.
pub struct Datagen;

/// The class name Confluent's connector has.
pub const DATAGEN_CLASS: &str = "io.confluent.kafka.connect.datagen.DatagenConnector";

/// Every quickstart name Confluent's connector accepts.
pub const QUICKSTARTS: &[&str] = &[
    "clickstream_codes",
    "clickstream",
    "clickstream_users",
    "orders",
    "ratings",
    "users",
    "users_",
    "pageviews",
    "stock_trades",
    "inventory",
    "product",
    "purchases",
    "transactions",
    "stores",
    "credit_cards",
];

/// A quickstart's schema (Avro JSON with arg.properties) and key field, when Brook has it.
fn quickstart(name: &str) -> Option<(String, &'static str)> {
    let text = match name.to_ascii_lowercase().as_str() {
        "orders" => return Some((ORDERS.to_string(), "orderid")),
        "users" => (USERS, "userid"),
        "pageviews" => (PAGEVIEWS, "viewtime"),
        "stock_trades" => (STOCK_TRADES, "symbol"),
        "inventory" => (INVENTORY, "id"),
        "product" => (PRODUCT, "id"),
        "purchases" => (PURCHASES, "id"),
        "transactions" => (TRANSACTIONS, "transaction_id"),
        "stores" => return Some((stores(), "store_id")),
        "credit_cards" => return Some((credit_cards(), "card_id")),
        _ => return None,
    };
    Some((text.0.to_string(), text.1))
}

/// The users quickstart.
const USERS: &str = r#"{"type": "record", "name": "users", "namespace": "ksql", "fields": [
  {"name": "registertime", "type": {"type": "long",
    "arg.properties": {"range": {"min": 1487715775521, "max": 1519273364600}}}},
  {"name": "userid", "type": {"type": "string", "arg.properties": {"regex": "User_[1-9]{0,1}"}}},
  {"name": "regionid", "type": {"type": "string", "arg.properties": {"regex": "Region_[1-9]?"}}},
  {"name": "gender", "type": {"type": "string",
    "arg.properties": {"options": ["MALE", "FEMALE", "OTHER"]}}}
]}"#;

/// The pageviews quickstart.
const PAGEVIEWS: &str = r#"{"type": "record", "name": "pageviews", "namespace": "ksql", "fields": [
  {"name": "viewtime", "type": {"type": "long",
    "arg.properties": {"iteration": {"start": 1, "step": 10}}}},
  {"name": "userid", "type": {"type": "string", "arg.properties": {"regex": "User_[1-9]{0,1}"}}},
  {"name": "pageid", "type": {"type": "string", "arg.properties": {"regex": "Page_[1-9][0-9]?"}}}
]}"#;

/// The stock_trades quickstart.
const STOCK_TRADES: &str = r#"{"type": "record", "name": "StockTrade", "namespace": "ksql", "fields": [
  {"name": "side", "type": {"type": "string", "arg.properties": {"options": ["BUY", "SELL", "SHORT"]}}},
  {"name": "quantity", "type": {"type": "int", "arg.properties": {"range": {"min": 1, "max": 5000}}}},
  {"name": "symbol", "type": {"type": "string", "arg.properties":
    {"options": ["ZBZX", "ZJZZT", "ZTEST", "ZVV", "ZVZZT", "ZWZZT", "ZXZZT"]}}},
  {"name": "price", "type": {"type": "int", "arg.properties": {"range": {"min": 5, "max": 1000}}}},
  {"name": "account", "type": {"type": "string",
    "arg.properties": {"options": ["ABC123", "LMN456", "XYZ789"]}}},
  {"name": "userid", "type": {"type": "string", "arg.properties": {"regex": "User_[1-9]{0,1}"}}}
]}"#;

/// The inventory quickstart.
const INVENTORY: &str = r#"{"type": "record", "name": "inventory", "namespace": "ksql", "fields": [
  {"name": "id", "type": {"type": "long", "arg.properties": {"iteration": {"start": 0}}}},
  {"name": "quantity", "type": {"type": "int", "arg.properties": {"range": {"min": -100, "max": 100}}}},
  {"name": "productid", "type": {"type": "long",
    "arg.properties": {"range": {"min": 10000000001, "max": 10000000016}}}}
]}"#;

/// The product quickstart.
const PRODUCT: &str = r#"{"type": "record", "name": "product", "namespace": "ksql", "fields": [
  {"name": "id", "type": {"type": "long", "arg.properties": {"iteration": {"start": 0}}}},
  {"name": "name", "type": {"type": "string", "arg.properties": {"options": ["boots", "shirt",
    "knife", "saucepan", "table", "chair", "clock", "frame", "guitar", "thermometer", "scarf",
    "doormat", "vase", "clippers", "game", "towels"]}}},
  {"name": "description", "type": {"type": "string", "arg.properties": {"iteration": {"start": 0}}}},
  {"name": "price", "type": {"type": "long", "arg.properties": {"range": {"min": 2, "max": 20}}}}
]}"#;

/// The purchases quickstart.
const PURCHASES: &str = r#"{"type": "record", "name": "purchase", "namespace": "ksql", "fields": [
  {"name": "id", "type": {"type": "long", "arg.properties": {"iteration": {"start": 0}}}},
  {"name": "quantity", "type": {"type": "long", "arg.properties": {"range": {"min": 1, "max": 20}}}},
  {"name": "productid", "type": {"type": "long", "arg.properties": {"iteration": {"start": 0}}}},
  {"name": "total", "type": {"type": "long", "arg.properties": {"range": {"min": 5, "max": 500}}}}
]}"#;

/// The transactions quickstart.
const TRANSACTIONS: &str = r#"{"type": "record", "name": "transactions", "namespace": "datagen.example",
 "fields": [
  {"name": "transaction_id", "type": {"type": "long", "arg.properties": {"iteration": {"start": 1}}}},
  {"name": "card_id", "type": {"type": "long", "arg.properties": {"range": {"min": 1, "max": 24}}}},
  {"name": "user_id", "type": {"type": "string", "arg.properties": {"regex": "User_[1-9]{0,1}"}}},
  {"name": "purchase_id", "type": {"type": "long", "arg.properties": {"iteration": {"start": 0}}}},
  {"name": "store_id", "type": {"type": "int", "arg.properties": {"range": {"min": 1, "max": 7}}}}
]}"#;

/// The stores quickstart: one of seven stores at random.
fn stores() -> String {
    let stores = [
        ("Raleigh", "US"),
        ("Chicago", "US"),
        ("Mexico City", "Mexico"),
        ("Toronto", "Canada"),
        ("Paris", "France"),
        ("London", "UK"),
        ("Milan", "Italy"),
    ];
    let options: Vec<Json> = stores
        .iter()
        .enumerate()
        .map(|(i, (city, country))| json!({"store_id": i + 1, "city": city, "country": country}))
        .collect();
    json!({"type": "record", "name": "stores", "namespace": "datagen.example",
        "fields": [{"name": "store_id", "type": "int"}, {"name": "city", "type": "string"},
                   {"name": "country", "type": "string"}],
        "arg.properties": {"options": options}})
    .to_string()
}

/// The credit_cards quickstart: one of 25 cards (card_id 1 to 25) carrying the card networks'
/// public test numbers.
fn credit_cards() -> String {
    let cards: [(u64, u32, &str); 25] = [
        (6011601160116611, 832, "12/27"),
        (6011111111111117, 833, "12/26"),
        (6011000990139424, 348, "12/27"),
        (3530111333300000, 288, "11/27"),
        (3566002020360505, 558, "11/27"),
        (5431111111111111, 383, "11/26"),
        (5555555555554444, 273, "10/27"),
        (5105105105105100, 663, "10/27"),
        (4111111111111111, 822, "10/26"),
        (4242424242424242, 190, "09/27"),
        (4000056655665556, 729, "09/26"),
        (5555555555554444, 723, "08/27"),
        (2223003122003222, 723, "08/26"),
        (5200828282828210, 723, "08/27"),
        (5105105105105100, 723, "07/27"),
        (6200000000000005, 723, "06/27"),
        (3056930009020004, 723, "05/27"),
        (4000000760000002, 723, "04/27"),
        (4000001240000000, 723, "03/27"),
        (4000004840008001, 723, "02/27"),
        (4000002500003155, 723, "02/26"),
        (4000002760003184, 723, "02/27"),
        (4000008260003178, 723, "01/26"),
        (40000038000004468, 723, "01/27"),
        (40000535600000118, 723, "05/27"),
    ];
    let options: Vec<Json> = cards
        .iter()
        .enumerate()
        .map(|(i, (number, cvv, expiry))| {
            json!({"card_id": i + 1, "card_number": number, "cvv": cvv, "expiration_date": expiry})
        })
        .collect();
    json!({"type": "record", "name": "users", "namespace": "datagen.example",
        "fields": [{"name": "card_id", "type": "int"}, {"name": "card_number", "type": "long"},
                   {"name": "cvv", "type": "int"}, {"name": "expiration_date", "type": "string"}],
        "arg.properties": {"options": options}})
    .to_string()
}

/// The orders quickstart: Confluent's field names, types and value ranges.
const ORDERS: &str = r#"{
  "type": "record", "name": "orders", "namespace": "ksql",
  "fields": [
    {"name": "ordertime", "type": {"type": "long",
      "arg.properties": {"range": {"min": 1487715775521, "max": 1519273364600}}}},
    {"name": "orderid", "type": {"type": "int", "arg.properties": {"iteration": {"start": 0}}}},
    {"name": "itemid", "type": {"type": "string",
      "arg.properties": {"regex": "Item_[1-9][0-9]{0,2}"}}},
    {"name": "orderunits", "type": {"type": "double",
      "arg.properties": {"range": {"min": 0.1, "max": 10.0}}}},
    {"name": "address", "type": {"type": "record", "name": "address", "fields": [
      {"name": "city", "type": {"type": "string", "arg.properties": {"regex": "City_[1-9]{0,2}"}}},
      {"name": "state", "type": {"type": "string", "arg.properties": {"regex": "State_[1-9]{0,2}"}}},
      {"name": "zipcode", "type": {"type": "long",
        "arg.properties": {"range": {"min": 10000, "max": 99999}}}}
    ]}}
  ]
}"#;

impl Plugin for Datagen {
    fn class(&self) -> &'static str {
        DATAGEN_CLASS
    }

    fn kind(&self) -> PluginKind {
        PluginKind::Source
    }

    fn version(&self) -> &'static str {
        "0.6.7"
    }

    fn config_def(&self) -> Vec<ConfigKey> {
        vec![
            ConfigKey {
                name: "kafka.topic",
                kind: "STRING",
                default: None,
                importance: "HIGH",
                documentation: "Topic to write to",
                recommended: &[],
            },
            ConfigKey {
                name: "max.interval",
                kind: "LONG",
                default: Some("500"),
                importance: "HIGH",
                documentation: "Max interval between messages (ms)",
                recommended: &[],
            },
            ConfigKey {
                name: "iterations",
                kind: "INT",
                default: Some("-1"),
                importance: "HIGH",
                documentation: "Number of messages to send from each task, or less than 1 for unlimited",
                recommended: &[],
            },
            ConfigKey {
                name: "schema.string",
                kind: "STRING",
                default: Some(""),
                importance: "HIGH",
                documentation: "The literal JSON-encoded Avro schema to use",
                recommended: &[],
            },
            ConfigKey {
                name: "schema.filename",
                kind: "STRING",
                default: Some(""),
                importance: "HIGH",
                documentation: "Filename of schema to use",
                recommended: &[],
            },
            ConfigKey {
                name: "schema.keyfield",
                kind: "STRING",
                default: Some(""),
                importance: "HIGH",
                documentation: "Name of field to use as the message key",
                recommended: &[],
            },
            ConfigKey {
                name: "quickstart",
                kind: "STRING",
                default: Some(""),
                importance: "HIGH",
                documentation: "Name of quickstart to use",
                recommended: QUICKSTARTS,
            },
            ConfigKey {
                name: "random.seed",
                kind: "LONG",
                default: Some(""),
                importance: "LOW",
                documentation: "Numeric seed for generating random data. Two connectors started with the same seed will deterministically produce the same data. Each task will generate different data than the other tasks in the same connector.",
                recommended: &[],
            },
        ]
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        match Generator::from_config(config) {
            Ok(_) => Vec::new(),
            Err(e) => {
                let key = if config.get("quickstart").is_some_and(|q| !q.is_empty()) {
                    "quickstart"
                } else {
                    "schema.string"
                };
                vec![(key.to_string(), e.0)]
            }
        }
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>, ConnectError> {
        Ok((0..max_tasks.max(1))
            .map(|i| {
                let mut c = config.clone();
                c.insert("task.id".to_string(), i.to_string());
                c
            })
            .collect())
    }

    fn source_task(&self, task_config: &Config) -> Result<Box<dyn SourceTask>, ConnectError> {
        let generator = Generator::from_config(task_config)?;
        let setting = |k: &str, d: i64| -> i64 {
            task_config
                .get(k)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(d)
        };
        let task_id = setting("task.id", 0);
        let seed = task_config
            .get("random.seed")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| s.wrapping_add(task_id as u64))
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
                    ^ (task_id as u64).rotate_left(32)
            });
        Ok(Box::new(DatagenTask {
            generator,
            topic: task_config
                .get("kafka.topic")
                .cloned()
                .ok_or_else(|| ConnectError::new("kafka.topic is required"))?,
            max_interval: Duration::from_millis(setting("max.interval", 500).max(0) as u64),
            iterations: setting("iterations", -1),
            task_id,
            rng: StdRng::seed_from_u64(seed),
            count: 0,
            next_at: Instant::now(),
        }))
    }
}

/// A parsed Avro schema with generation rules.
#[derive(Debug, Clone)]
enum Gen {
    Null,
    Boolean,
    Int { rule: NumberRule, long: bool },
    Double { rule: NumberRule, float: bool },
    String(StringRule),
    Bytes,
    Enum(Vec<String>),
    Array(Box<Gen>),
    Map(Box<Gen>),
    Union(Vec<Gen>),
    Record(Vec<(String, Gen)>),
    Options(Vec<Json>, Box<Gen>),
}

#[derive(Debug, Clone)]
enum NumberRule {
    Any,
    Iteration { start: f64, step: f64 },
    Range { min: f64, max: f64 },
}

#[derive(Debug, Clone)]
enum StringRule {
    Any { min: usize, max: usize },
    Regex(Box<rand_regex::Regex>),
    Iteration { start: i64, step: i64 },
}

/// Values from a schema, and their Connect schema.
#[derive(Debug, Clone)]
pub struct Generator {
    tree: Gen,
    schema: Schema,
    key_field: Option<String>,
}

impl Generator {
    /// The generator a Datagen configuration describes.
    pub fn from_config(config: &Config) -> Result<Generator, ConnectError> {
        let get = |k: &str| config.get(k).map(String::as_str).unwrap_or("");
        let (text, default_key) = if !get("quickstart").is_empty() {
            let q = get("quickstart");
            if !QUICKSTARTS.contains(&q.to_ascii_lowercase().as_str()) {
                return Err(ConnectError::new(format!(
                    "quickstart must be one out of {}",
                    QUICKSTARTS.join(",")
                )));
            }
            let (schema, key) = quickstart(q).ok_or_else(|| {
                ConnectError::new(format!(
                    "The {q} quickstart is not built into Brook yet (built: orders, users, pageviews, stock_trades, inventory, product, purchases, transactions, stores, credit_cards); give its Avro schema in schema.string"
                ))
            })?;
            (schema.to_string(), Some(key))
        } else if !get("schema.string").is_empty() {
            (get("schema.string").to_string(), None)
        } else if !get("schema.filename").is_empty() {
            let path = get("schema.filename");
            (
                std::fs::read_to_string(path).map_err(|e| {
                    ConnectError::new(format!("Unable to read the '{path}' schema file: {e}"))
                })?,
                None,
            )
        } else {
            return Err(ConnectError::new(
                "One of quickstart, schema.string or schema.filename must be set",
            ));
        };
        let json: Json = serde_json::from_str(&text)
            .map_err(|e| ConnectError::new(format!("Unable to parse the provided schema: {e}")))?;
        let (tree, schema) = parse(&json, None)?;
        let key_field = match get("schema.keyfield") {
            "" => default_key.map(str::to_string),
            k => Some(k.to_string()),
        };
        if let (Some(k), Type::Struct(fields)) = (&key_field, &schema.kind) {
            if !fields.iter().any(|f| f.name == *k) {
                return Err(ConnectError::new(format!(
                    "schema.keyfield {k} is not a field of the schema"
                )));
            }
        }
        Ok(Generator {
            tree,
            schema,
            key_field,
        })
    }

    /// The value's Connect schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The `n`-th value (n counts iterations).
    pub fn generate(&self, rng: &mut StdRng, n: u64) -> Value {
        generate(&self.tree, rng, n)
    }
}

fn parse(j: &Json, namespace: Option<&str>) -> Result<(Gen, Schema), ConnectError> {
    let bad =
        |what: String| ConnectError::new(format!("Unable to parse the provided schema: {what}"));
    match j {
        Json::String(t) => parse(&json!({ "type": t }), namespace),
        Json::Array(branches) => {
            let parsed: Vec<(Gen, Schema)> = branches
                .iter()
                .map(|b| parse(b, namespace))
                .collect::<Result<_, _>>()?;
            let nullable = parsed.iter().any(|(g, _)| matches!(g, Gen::Null));
            let schema = parsed
                .iter()
                .find(|(g, _)| !matches!(g, Gen::Null))
                .map(|(_, s)| s.clone())
                .ok_or_else(|| bad("a union of null only".into()))?;
            let schema = if nullable { schema.optional() } else { schema };
            Ok((
                Gen::Union(parsed.into_iter().map(|(g, _)| g).collect()),
                schema,
            ))
        }
        Json::Object(o) => {
            let args = o.get("arg.properties").cloned().unwrap_or(Json::Null);
            let t = o
                .get("type")
                .ok_or_else(|| bad("a type without \"type\"".into()))?;
            if let Json::Object(_) | Json::Array(_) = t {
                // {"type": {"type": "long", …}}: the inner type, with these arg.properties.
                let (g, s) = parse(t, namespace)?;
                return Ok((with_options(g, &args), s));
            }
            let t = t.as_str().unwrap_or_default();
            let number = |args: &Json| -> NumberRule {
                if let Some(it) = args.get("iteration") {
                    NumberRule::Iteration {
                        start: it["start"].as_f64().unwrap_or(0.0),
                        step: it["step"].as_f64().unwrap_or(1.0),
                    }
                } else if let Some(r) = args.get("range") {
                    NumberRule::Range {
                        min: r["min"].as_f64().unwrap_or(0.0),
                        max: r["max"].as_f64().unwrap_or(f64::from(i32::MAX)),
                    }
                } else {
                    NumberRule::Any
                }
            };
            let (tree, schema) = match t {
                "null" => (Gen::Null, Schema::of(Type::String).optional()),
                "boolean" => (Gen::Boolean, Schema::of(Type::Boolean)),
                "int" => (
                    Gen::Int {
                        rule: number(&args),
                        long: false,
                    },
                    Schema::of(Type::Int32),
                ),
                "long" => (
                    Gen::Int {
                        rule: number(&args),
                        long: true,
                    },
                    Schema::of(Type::Int64),
                ),
                "float" => (
                    Gen::Double {
                        rule: number(&args),
                        float: true,
                    },
                    Schema::of(Type::Float32),
                ),
                "double" => (
                    Gen::Double {
                        rule: number(&args),
                        float: false,
                    },
                    Schema::of(Type::Float64),
                ),
                "bytes" => (Gen::Bytes, Schema::of(Type::Bytes)),
                "string" => {
                    let rule = if let Some(r) = args.get("regex").and_then(Json::as_str) {
                        let regex = rand_regex::Regex::compile(r, 10)
                            .map_err(|e| bad(format!("regex {r}: {e}")))?;
                        StringRule::Regex(Box::new(regex))
                    } else if let Some(it) = args.get("iteration") {
                        StringRule::Iteration {
                            start: it["start"].as_i64().unwrap_or(0),
                            step: it["step"].as_i64().unwrap_or(1),
                        }
                    } else {
                        let (min, max) = match args.get("length") {
                            Some(Json::Number(n)) => {
                                let n = n.as_u64().unwrap_or(8) as usize;
                                (n, n)
                            }
                            Some(l) => (
                                l["min"].as_u64().unwrap_or(0) as usize,
                                l["max"].as_u64().unwrap_or(16) as usize,
                            ),
                            None => (8, 8),
                        };
                        StringRule::Any {
                            min,
                            max: max.max(min),
                        }
                    };
                    (Gen::String(rule), Schema::of(Type::String))
                }
                "enum" => {
                    let symbols: Vec<String> = o["symbols"]
                        .as_array()
                        .ok_or_else(|| bad("an enum without symbols".into()))?
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect();
                    (Gen::Enum(symbols), Schema::of(Type::String))
                }
                "array" => {
                    let (g, s) = parse(&o["items"], namespace)?;
                    (
                        Gen::Array(Box::new(g)),
                        Schema::of(Type::Array(Box::new(s))),
                    )
                }
                "map" => {
                    let (g, s) = parse(&o["values"], namespace)?;
                    (
                        Gen::Map(Box::new(g)),
                        Schema::of(Type::Map(Box::new(Schema::of(Type::String)), Box::new(s))),
                    )
                }
                "record" => {
                    let name = o["name"].as_str().unwrap_or("record");
                    let ns = o.get("namespace").and_then(Json::as_str).or(namespace);
                    let full = match ns {
                        Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
                        _ => name.to_string(),
                    };
                    let mut gens = Vec::new();
                    let mut fields = Vec::new();
                    for f in o["fields"]
                        .as_array()
                        .ok_or_else(|| bad("a record without fields".into()))?
                    {
                        let fname = f["name"]
                            .as_str()
                            .ok_or_else(|| bad("a field without a name".into()))?;
                        let (g, s) = parse(&f["type"], ns)?;
                        gens.push((fname.to_string(), with_options(g, &f["arg.properties"])));
                        fields.push(Field {
                            name: fname.to_string(),
                            schema: s,
                        });
                    }
                    (
                        Gen::Record(gens),
                        Schema::of(Type::Struct(fields)).named(&full),
                    )
                }
                other => return Err(bad(format!("unknown type '{other}'"))),
            };
            Ok((with_options(tree, &args), schema))
        }
        other => Err(bad(format!("{other} is not a schema"))),
    }
}

fn with_options(tree: Gen, args: &Json) -> Gen {
    match args.get("options").and_then(Json::as_array) {
        Some(options) if !options.is_empty() => Gen::Options(options.clone(), Box::new(tree)),
        _ => tree,
    }
}

fn generate(tree: &Gen, rng: &mut StdRng, n: u64) -> Value {
    match tree {
        Gen::Null => Value::Null,
        Gen::Boolean => Value::Boolean(rng.random_bool(0.5)),
        Gen::Int { rule, long } => Value::Int(match rule {
            NumberRule::Any if *long => rng.random::<i64>(),
            NumberRule::Any => i64::from(rng.random::<i32>()),
            NumberRule::Iteration { start, step } => (*start + *step * n as f64) as i64,
            NumberRule::Range { min, max } => {
                let (lo, hi) = (*min as i64, *max as i64);
                if hi > lo {
                    rng.random_range(lo..hi)
                } else {
                    lo
                }
            }
        }),
        Gen::Double { rule, float } => {
            let x = match rule {
                NumberRule::Any => rng.random::<f64>(),
                NumberRule::Iteration { start, step } => *start + *step * n as f64,
                NumberRule::Range { min, max } => {
                    if max > min {
                        rng.random_range(*min..*max)
                    } else {
                        *min
                    }
                }
            };
            Value::Float(if *float { f64::from(x as f32) } else { x })
        }
        Gen::String(rule) => Value::String(match rule {
            StringRule::Regex(r) => rng.sample::<String, _>(&**r),
            StringRule::Iteration { start, step } => (start + step * n as i64).to_string(),
            StringRule::Any { min, max } => {
                let len = if max > min {
                    rng.random_range(*min..=*max)
                } else {
                    *min
                };
                (0..len)
                    .map(|_| {
                        const ALPHABET: &[u8] =
                            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                        ALPHABET[rng.random_range(0..ALPHABET.len())] as char
                    })
                    .collect()
            }
        }),
        Gen::Bytes => Value::Bytes((0..8).map(|_| rng.random::<u8>()).collect()),
        Gen::Enum(symbols) => Value::String(
            symbols
                .get(rng.random_range(0..symbols.len().max(1)))
                .cloned()
                .unwrap_or_default(),
        ),
        Gen::Array(items) => {
            let len = rng.random_range(0..5);
            Value::Array((0..len).map(|_| generate(items, rng, n)).collect())
        }
        Gen::Map(values) => {
            let len = rng.random_range(0..5);
            Value::Map(
                (0..len)
                    .map(|i| (Value::String(format!("key{i}")), generate(values, rng, n)))
                    .collect(),
            )
        }
        Gen::Union(branches) => {
            let non_null: Vec<&Gen> = branches
                .iter()
                .filter(|g| !matches!(g, Gen::Null))
                .collect();
            match non_null.len() {
                0 => Value::Null,
                1 if branches.len() == 1 => generate(non_null[0], rng, n),
                _ => {
                    let pick = rng.random_range(0..branches.len());
                    generate(&branches[pick], rng, n)
                }
            }
        }
        Gen::Record(fields) => Value::Struct(
            fields
                .iter()
                .map(|(name, g)| (name.clone(), generate(g, rng, n)))
                .collect(),
        ),
        Gen::Options(options, inner) => {
            let pick = &options[rng.random_range(0..options.len())];
            match (pick, &**inner) {
                (Json::Number(x), Gen::Int { .. }) => Value::Int(x.as_i64().unwrap_or(0)),
                (Json::Number(x), Gen::Double { .. }) => Value::Float(x.as_f64().unwrap_or(0.0)),
                (Json::String(s), _) => Value::String(s.clone()),
                (Json::Bool(b), _) => Value::Boolean(*b),
                // A whole record picked from options: its fields in the schema's order.
                (Json::Object(o), Gen::Record(fields)) => Value::Struct(
                    fields
                        .iter()
                        .map(|(name, _)| {
                            (
                                name.clone(),
                                o.get(name).map_or(Value::Null, Value::from_json),
                            )
                        })
                        .collect(),
                ),
                (other, _) => Value::from_json(other),
            }
        }
    }
}

struct DatagenTask {
    generator: Generator,
    topic: String,
    max_interval: Duration,
    iterations: i64,
    task_id: i64,
    rng: StdRng,
    count: u64,
    next_at: Instant,
}

impl DatagenTask {
    fn partition(&self) -> Json {
        json!({ "task.id": self.task_id })
    }
}

impl SourceTask for DatagenTask {
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<(), ConnectError> {
        if let Some(offset) = offsets.offset(&self.partition()) {
            self.count = offset["current.iteration"].as_u64().unwrap_or(0);
        }
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<Vec<SourceRecord>>, ConnectError> {
        if self.iterations > 0 && self.count >= self.iterations as u64 {
            return Ok(None);
        }
        let now = Instant::now();
        if now < self.next_at {
            std::thread::sleep((self.next_at - now).min(Duration::from_millis(100)));
            return Ok(Some(Vec::new()));
        }
        let mut records = Vec::new();
        // With max.interval 0, a batch at a time; otherwise one record per wait.
        let batch = if self.max_interval.is_zero() { 500 } else { 1 };
        for _ in 0..batch {
            if self.iterations > 0 && self.count >= self.iterations as u64 {
                break;
            }
            let value = self.generator.generate(&mut self.rng, self.count);
            let (key_schema, key) = match &self.generator.key_field {
                Some(k) => (
                    match &self.generator.schema.kind {
                        Type::Struct(fields) => fields
                            .iter()
                            .find(|f| f.name == *k)
                            .map(|f| f.schema.clone()),
                        _ => None,
                    },
                    value.field(k).cloned().unwrap_or(Value::Null),
                ),
                None => (None, Value::Null),
            };
            self.count += 1;
            records.push(SourceRecord {
                source_partition: self.partition(),
                source_offset: json!({ "current.iteration": self.count }),
                topic: self.topic.clone(),
                partition: None,
                key_schema,
                key,
                value_schema: Some(self.generator.schema.clone()),
                value,
                timestamp: None,
                headers: Vec::new(),
            });
        }
        if !self.max_interval.is_zero() {
            let wait = self
                .rng
                .random_range(0..=self.max_interval.as_millis() as u64);
            self.next_at = Instant::now() + Duration::from_millis(wait);
        }
        Ok(Some(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_quickstarts_have_their_fields_and_ranges() {
        let mut rng = StdRng::seed_from_u64(3);
        let sample = |q: &str, rng: &mut StdRng| -> (Generator, Vec<serde_json::Value>) {
            let config = Config::from([("quickstart".to_string(), q.to_string())]);
            let g = Generator::from_config(&config).unwrap_or_else(|e| panic!("{q}: {e}"));
            let values = (0..300).map(|n| g.generate(rng, n).to_json()).collect();
            (g, values)
        };
        let fields = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        let (g, users) = sample("users", &mut rng);
        assert_eq!(g.key_field.as_deref(), Some("userid"));
        assert_eq!(
            fields(&users[0]),
            ["gender", "regionid", "registertime", "userid"]
        );
        for u in &users {
            assert!(["MALE", "FEMALE", "OTHER"].contains(&u["gender"].as_str().unwrap()));
            assert!(u["userid"].as_str().unwrap().starts_with("User_"));
            assert!(u["regionid"].as_str().unwrap().starts_with("Region_"));
        }
        let (_, views) = sample("pageviews", &mut rng);
        assert_eq!(views[2]["viewtime"], 21, "iteration from 1 by 10");
        assert!(
            views
                .iter()
                .all(|v| v["pageid"].as_str().unwrap().starts_with("Page_"))
        );
        let (_, trades) = sample("stock_trades", &mut rng);
        for t in &trades {
            let q = t["quantity"].as_i64().unwrap();
            assert!((1..5000).contains(&q));
            assert!((5..1000).contains(&t["price"].as_i64().unwrap()));
            assert!(t["symbol"].as_str().unwrap().starts_with('Z'));
        }
        let (_, inventory) = sample("inventory", &mut rng);
        assert!(
            inventory
                .iter()
                .all(|i| (10_000_000_001..10_000_000_016)
                    .contains(&i["productid"].as_i64().unwrap()))
        );
        let (_, products) = sample("product", &mut rng);
        assert_eq!(products[5]["description"], "5");
        let (_, purchases) = sample("purchases", &mut rng);
        assert!(
            purchases
                .iter()
                .all(|p| (5..500).contains(&p["total"].as_i64().unwrap()))
        );
        let (_, transactions) = sample("transactions", &mut rng);
        assert_eq!(transactions[0]["transaction_id"], 1);
        assert!(
            transactions
                .iter()
                .all(|t| (1..24).contains(&t["card_id"].as_i64().unwrap())
                    && (1..7).contains(&t["store_id"].as_i64().unwrap()))
        );
        let (g, stores) = sample("stores", &mut rng);
        assert!(matches!(g.schema().kind, Type::Struct(_)));
        assert!(stores.iter().any(|s| s
            == &serde_json::json!({"store_id": 3, "city": "Mexico City", "country": "Mexico"})));
        let (_, cards) = sample("credit_cards", &mut rng);
        assert!(
            cards
                .iter()
                .all(|c| (1..=25).contains(&c["card_id"].as_i64().unwrap())
                    && c["card_number"].as_i64().unwrap() > 1_000_000_000_000)
        );
    }

    #[test]
    fn orders_have_the_quickstarts_fields_and_ranges() {
        let config = Config::from([("quickstart".to_string(), "orders".to_string())]);
        let g = Generator::from_config(&config).unwrap();
        assert_eq!(g.schema().name.as_deref(), Some("ksql.orders"));
        let mut rng = StdRng::seed_from_u64(7);
        for n in 0..200 {
            let v = g.generate(&mut rng, n);
            assert_eq!(v.field("orderid"), Some(&Value::Int(n as i64)));
            let Some(Value::Int(t)) = v.field("ordertime") else {
                panic!("{v:?}")
            };
            assert!((1_487_715_775_521..1_519_273_364_600).contains(t));
            let Some(Value::String(item)) = v.field("itemid") else {
                panic!("{v:?}")
            };
            assert!(item.starts_with("Item_") && item.len() <= 8, "{item}");
            let Some(Value::Float(units)) = v.field("orderunits") else {
                panic!("{v:?}")
            };
            assert!((0.1..10.0).contains(units));
            let address = v.field("address").unwrap();
            let Some(Value::Int(zip)) = address.field("zipcode") else {
                panic!("{v:?}")
            };
            assert!((10_000..99_999).contains(zip));
            let Some(Value::String(city)) = address.field("city") else {
                panic!("{v:?}")
            };
            assert!(city.starts_with("City_"));
        }
        // The same seed, the same data.
        let (mut a, mut b) = (StdRng::seed_from_u64(1), StdRng::seed_from_u64(1));
        assert_eq!(g.generate(&mut a, 0), g.generate(&mut b, 0));
    }

    #[test]
    fn custom_schemas_and_bad_configs() {
        let schema = r#"{"type": "record", "name": "ride", "fields": [
            {"name": "vendor", "type": {"type": "int", "arg.properties": {"options": [1, 2]}}},
            {"name": "note", "type": ["null", "string"]}]}"#;
        let config = Config::from([
            ("schema.string".to_string(), schema.to_string()),
            ("schema.keyfield".to_string(), "vendor".to_string()),
        ]);
        let g = Generator::from_config(&config).unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        for n in 0..50 {
            let v = g.generate(&mut rng, n);
            assert!(
                matches!(v.field("vendor"), Some(Value::Int(1 | 2))),
                "{v:?}"
            );
        }
        let bad = |k: &str, v: &str| {
            Generator::from_config(&Config::from([(k.to_string(), v.to_string())]))
                .unwrap_err()
                .0
        };
        assert!(bad("quickstart", "nope").contains("must be one out of"));
        assert!(bad("schema.string", "{not json").contains("Unable to parse"));
        assert!(bad("quickstart", "ratings").contains("not built into Brook yet"));
        assert!(bad("quickstart", "clickstream").contains("not built into Brook yet"));
    }
}
