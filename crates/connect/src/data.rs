//! Kafka Connect's data model: a [`Schema`] (types, optional, name) and a [`Value`] shaped
//! by it, as connectors produce and converters write them.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

/// A schema's type (Kafka Connect's `Schema.Type`).
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `int8`.
    Int8,
    /// `int16`.
    Int16,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `float32`.
    Float32,
    /// `float64`.
    Float64,
    /// `boolean`.
    Boolean,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// `array` of one item schema.
    Array(Box<Schema>),
    /// `map` of key and value schemas.
    Map(Box<Schema>, Box<Schema>),
    /// `struct` of named fields, in order.
    Struct(Vec<Field>),
}

/// A struct's field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its schema.
    pub schema: Schema,
}

/// A Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The type.
    pub kind: Type,
    /// Whether null is allowed.
    pub optional: bool,
    /// The name (`ksql.orders`), for structs and logical types.
    pub name: Option<String>,
    /// The documentation.
    pub doc: Option<String>,
}

impl Schema {
    /// A required schema of `kind`.
    pub fn of(kind: Type) -> Schema {
        Schema {
            kind,
            optional: false,
            name: None,
            doc: None,
        }
    }

    /// The same, optional.
    pub fn optional(mut self) -> Schema {
        self.optional = true;
        self
    }

    /// The same, named.
    pub fn named(mut self, name: &str) -> Schema {
        self.name = Some(name.to_string());
        self
    }

    /// The type's name in Kafka Connect's JSON (`int32`, `struct`, …).
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array(_) => "array",
            Type::Map(..) => "map",
            Type::Struct(_) => "struct",
        }
    }

    /// The schema as `JsonConverter` writes it with `schemas.enable=true`.
    pub fn to_json(&self) -> Json {
        let mut out = json!({"type": self.type_name(), "optional": self.optional});
        match &self.kind {
            Type::Array(items) => out["items"] = items.to_json(),
            Type::Map(k, v) => {
                out["keys"] = k.to_json();
                out["values"] = v.to_json();
            }
            Type::Struct(fields) => {
                out["fields"] = Json::Array(
                    fields
                        .iter()
                        .map(|f| {
                            let mut j = f.schema.to_json();
                            j["field"] = json!(f.name);
                            j
                        })
                        .collect(),
                );
            }
            _ => {}
        }
        if let Some(n) = &self.name {
            out["name"] = json!(n);
        }
        if let Some(d) = &self.doc {
            out["doc"] = json!(d);
        }
        out
    }

    /// A schema from `JsonConverter`'s JSON form.
    pub fn from_json(j: &Json) -> Result<Schema, String> {
        let kind = match j["type"].as_str().unwrap_or_default() {
            "int8" => Type::Int8,
            "int16" => Type::Int16,
            "int32" => Type::Int32,
            "int64" => Type::Int64,
            "float" => Type::Float32,
            "double" => Type::Float64,
            "boolean" => Type::Boolean,
            "string" => Type::String,
            "bytes" => Type::Bytes,
            "array" => Type::Array(Box::new(Schema::from_json(&j["items"])?)),
            "map" => Type::Map(
                Box::new(Schema::from_json(&j["keys"])?),
                Box::new(Schema::from_json(&j["values"])?),
            ),
            "struct" => Type::Struct(
                j["fields"]
                    .as_array()
                    .ok_or("a struct schema needs \"fields\"")?
                    .iter()
                    .map(|f| {
                        Ok(Field {
                            name: f["field"]
                                .as_str()
                                .ok_or("a struct field needs \"field\"")?
                                .to_string(),
                            schema: Schema::from_json(f)?,
                        })
                    })
                    .collect::<Result<_, String>>()?,
            ),
            other => return Err(format!("unknown schema type '{other}'")),
        };
        Ok(Schema {
            kind,
            optional: j["optional"].as_bool().unwrap_or(false),
            name: j["name"].as_str().map(str::to_string),
            doc: j["doc"].as_str().map(str::to_string),
        })
    }
}

/// A value (Kafka Connect's Java objects, as data).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// null.
    Null,
    /// A boolean.
    Boolean(bool),
    /// Any integer type.
    Int(i64),
    /// float or double.
    Float(f64),
    /// A string.
    String(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
    /// A map, in order.
    Map(Vec<(Value, Value)>),
    /// A struct's field values, in its schema's field order.
    Struct(Vec<(String, Value)>),
}

impl Value {
    /// The value as plain JSON (`JsonConverter`'s payload; bytes as base64).
    pub fn to_json(&self) -> Json {
        use base64::Engine as _;
        match self {
            Value::Null => Json::Null,
            Value::Boolean(b) => json!(b),
            Value::Int(i) => json!(i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::String(s) => json!(s),
            Value::Bytes(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) => {
                if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) {
                    let mut m = serde_json::Map::new();
                    for (k, v) in entries {
                        if let Value::String(k) = k {
                            m.insert(k.clone(), v.to_json());
                        }
                    }
                    Json::Object(m)
                } else {
                    Json::Array(
                        entries
                            .iter()
                            .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                            .collect(),
                    )
                }
            }
            Value::Struct(fields) => {
                let mut m = serde_json::Map::new();
                for (k, v) in fields {
                    m.insert(k.clone(), v.to_json());
                }
                Json::Object(m)
            }
        }
    }

    /// Plain JSON as a schemaless value.
    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Boolean(*b),
            Json::Number(n) => n
                .as_i64()
                .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            Json::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (Value::String(k.clone()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// JSON read as a value of `schema`; an error names what does not fit.
    pub fn from_json_with(j: &Json, schema: &Schema) -> Result<Value, String> {
        use base64::Engine as _;
        if j.is_null() {
            return if schema.optional {
                Ok(Value::Null)
            } else {
                Err("null for a required value".to_string())
            };
        }
        let wrong = || format!("{j} is not a {}", schema.type_name());
        Ok(match &schema.kind {
            Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64 => {
                Value::Int(j.as_i64().ok_or_else(wrong)?)
            }
            Type::Float32 | Type::Float64 => Value::Float(j.as_f64().ok_or_else(wrong)?),
            Type::Boolean => Value::Boolean(j.as_bool().ok_or_else(wrong)?),
            Type::String => Value::String(j.as_str().ok_or_else(wrong)?.to_string()),
            Type::Bytes => Value::Bytes(
                base64::engine::general_purpose::STANDARD
                    .decode(j.as_str().ok_or_else(wrong)?)
                    .map_err(|e| format!("bytes are not base64: {e}"))?,
            ),
            Type::Array(items) => Value::Array(
                j.as_array()
                    .ok_or_else(wrong)?
                    .iter()
                    .map(|x| Value::from_json_with(x, items))
                    .collect::<Result<_, _>>()?,
            ),
            Type::Map(k, v) => match j {
                Json::Object(m) => Value::Map(
                    m.iter()
                        .map(|(key, x)| {
                            Ok((Value::String(key.clone()), Value::from_json_with(x, v)?))
                        })
                        .collect::<Result<_, String>>()?,
                ),
                Json::Array(pairs) => Value::Map(
                    pairs
                        .iter()
                        .map(|p| {
                            Ok((
                                Value::from_json_with(&p[0], k)?,
                                Value::from_json_with(&p[1], v)?,
                            ))
                        })
                        .collect::<Result<_, String>>()?,
                ),
                _ => return Err(wrong()),
            },
            Type::Struct(fields) => {
                let m = j.as_object().ok_or_else(wrong)?;
                Value::Struct(
                    fields
                        .iter()
                        .map(|f| {
                            let x = m.get(&f.name).unwrap_or(&Json::Null);
                            Value::from_json_with(x, &f.schema)
                                .map(|v| (f.name.clone(), v))
                                .map_err(|e| format!("field {}: {e}", f.name))
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
        })
    }

    /// A struct's field by name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A connector's or task's configuration: Kafka Connect's string map.
pub type Config = BTreeMap<String, String>;

/// A JSON object as a configuration (values that are not strings as their JSON text); None
/// when it is not an object.
pub fn config_from_json(j: &Json) -> Option<Config> {
    j.as_object().map(|m| {
        m.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_and_values_round_trip_through_json() {
        let schema = Schema::of(Type::Struct(vec![
            Field {
                name: "orderid".into(),
                schema: Schema::of(Type::Int32),
            },
            Field {
                name: "itemid".into(),
                schema: Schema::of(Type::String).optional(),
            },
        ]))
        .named("ksql.orders");
        let j = schema.to_json();
        assert_eq!(
            j["fields"][0],
            json!({"type": "int32", "optional": false, "field": "orderid"})
        );
        assert_eq!(Schema::from_json(&j).unwrap(), schema);
        let v = Value::from_json_with(&json!({"orderid": 7, "itemid": null}), &schema).unwrap();
        assert_eq!(v.field("orderid"), Some(&Value::Int(7)));
        assert_eq!(v.to_json(), json!({"orderid": 7, "itemid": null}));
        assert!(Value::from_json_with(&json!({"orderid": "x"}), &schema).is_err());
    }
}
