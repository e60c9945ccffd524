//! Confluent's `AvroConverter` (`io.confluent.connect.avro.AvroConverter`): Connect data as
//! Avro in Confluent's wire format, with schemas in a schema registry
//! (`schema.registry.url`), under `<topic>-key` / `<topic>-value` (TopicNameStrategy), and
//! registered when new (`auto.register.schemas`, default true).
//!
//! Schemas map as Confluent's `AvroData` maps them: a struct is a record (named by the
//! Connect schema's name, else `io.confluent.connect.avro.ConnectDefault`), an optional
//! schema a union with `null` first and a `null` default, int8 / int16 ints that keep their
//! `connect.type`, Kafka Connect's Timestamp, Date and Time the Avro logical types.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use apache_avro::Schema as Avro;
use apache_avro::types::Value as AvroValue;
use brook_registry::client::RegistryClient;
use brook_registry::format::{Parsed, SchemaType};
use serde_json::{Value as Json, json};

use super::{ConvertError, Converter};
use crate::data::{Config, Field, Schema, Type, Value};
use crate::transforms::{DATE, TIME, TIMESTAMP};

/// The Avro converter for one side (keys or values).
pub struct AvroConverter {
    client: Arc<RegistryClient>,
    is_key: bool,
    auto_register: bool,
    /// The last schema written: its Connect form, id and Avro form.
    last: Mutex<Option<(Schema, i32, Avro)>>,
    /// Connect schemas of the Avro schemas read, by id.
    read: Mutex<HashMap<i32, (Schema, Avro)>>,
}

impl AvroConverter {
    /// Configured by the converter's settings; `schema.registry.url` is required.
    pub fn new(settings: &Config, is_key: bool) -> Result<AvroConverter, ConvertError> {
        let url = settings
            .get("schema.registry.url")
            .map(|u| u.split(',').next().unwrap_or_default().trim())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                ConvertError("Missing required configuration \"schema.registry.url\" which has no default value.".to_string())
            })?;
        Ok(AvroConverter {
            client: Arc::new(RegistryClient::new(url)),
            is_key,
            auto_register: settings
                .get("auto.register.schemas")
                .is_none_or(|v| v.trim() != "false"),
            last: Mutex::new(None),
            read: Mutex::new(HashMap::new()),
        })
    }

    fn subject(&self, topic: &str) -> String {
        format!("{topic}-{}", if self.is_key { "key" } else { "value" })
    }

    /// The id and Avro form of `schema` under the topic's subject.
    fn writer_schema(&self, topic: &str, schema: &Schema) -> Result<(i32, Avro), ConvertError> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, id, avro)) = last.as_ref() {
            if s == schema {
                return Ok((*id, avro.clone()));
            }
        }
        let text = avro_schema(schema, &mut 0).to_string();
        let subject = self.subject(topic);
        let fail = |e: brook_registry::client::ClientError| {
            ConvertError(format!(
                "cannot register the Avro schema under {subject}: {e}"
            ))
        };
        let (id, parsed) = if self.auto_register {
            self.client
                .register(&subject, SchemaType::Avro, &text)
                .map_err(fail)?
        } else {
            self.client.latest(&subject).map_err(fail)?
        };
        let Parsed::Avro(avro) = parsed.as_ref() else {
            return Err(ConvertError(format!(
                "the schema of {subject} is not an Avro schema"
            )));
        };
        let avro = avro.schema().clone();
        *last = Some((schema.clone(), id, avro.clone()));
        Ok((id, avro))
    }
}

impl Converter for AvroConverter {
    fn encode(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        if *value == Value::Null && schema.is_none_or(|s| s.optional) {
            return Ok(None);
        }
        let schema = schema.ok_or_else(|| {
            ConvertError("the AvroConverter needs a schema with the value".to_string())
        })?;
        let (id, avro) = self.writer_schema(topic, schema)?;
        let datum = to_avro(value, &avro).map_err(ConvertError)?;
        let payload = apache_avro::writer::datum::GenericDatumWriter::builder(&avro)
            .build()
            .map_err(|e| ConvertError(e.to_string()))?
            .write_value_to_vec(datum)
            .map_err(|e| ConvertError(format!("the value does not fit its Avro schema: {e}")))?;
        Ok(Some(brook_registry::wire::frame(id, &payload)))
    }

    fn decode(
        &self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Schema>, Value), ConvertError> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        let (id, mut payload) = brook_registry::wire::unframe(bytes).map_err(|e| {
            ConvertError(format!(
                "Failed to deserialize data to Avro: not Confluent's wire format ({e})"
            ))
        })?;
        let (schema, avro) = {
            let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
            match read.get(&id) {
                Some(found) => found.clone(),
                None => {
                    let parsed = self.client.schema(id).map_err(|e| {
                        ConvertError(format!("cannot fetch the schema with id {id}: {e}"))
                    })?;
                    let Parsed::Avro(a) = parsed.as_ref() else {
                        return Err(ConvertError(format!(
                            "the schema with id {id} is not an Avro schema"
                        )));
                    };
                    let avro = a.schema().clone();
                    let schema = connect_schema(&avro, &mut HashMap::new())?;
                    read.insert(id, (schema.clone(), avro.clone()));
                    (schema, avro)
                }
            }
        };
        let datum = apache_avro::reader::datum::GenericDatumReader::builder(&avro)
            .build()
            .map_err(|e| ConvertError(e.to_string()))?
            .read_value(&mut payload)
            .map_err(|e| ConvertError(format!("not an Avro datum of schema {id}: {e}")))?;
        Ok((Some(schema), from_avro(datum)))
    }
}

/// The Avro schema (JSON) of a Connect schema; `count` numbers unnamed records.
pub(crate) fn avro_schema(schema: &Schema, count: &mut usize) -> Json {
    let plain = match (&schema.kind, schema.name.as_deref()) {
        (Type::Int64, Some(TIMESTAMP)) => json!({"type": "long", "connect.version": 1,
            "connect.name": TIMESTAMP, "logicalType": "timestamp-millis"}),
        (Type::Int32, Some(DATE)) => json!({"type": "int", "connect.version": 1,
            "connect.name": DATE, "logicalType": "date"}),
        (Type::Int32, Some(TIME)) => json!({"type": "int", "connect.version": 1,
            "connect.name": TIME, "logicalType": "time-millis"}),
        (Type::Int8, _) => json!({"type": "int", "connect.type": "int8"}),
        (Type::Int16, _) => json!({"type": "int", "connect.type": "int16"}),
        (Type::Int32, _) => json!("int"),
        (Type::Int64, _) => json!("long"),
        (Type::Float32, _) => json!("float"),
        (Type::Float64, _) => json!("double"),
        (Type::Boolean, _) => json!("boolean"),
        (Type::String, _) => json!("string"),
        (Type::Bytes, _) => json!("bytes"),
        (Type::Array(items), _) => json!({"type": "array", "items": avro_schema(items, count)}),
        (Type::Map(_, values), _) => json!({"type": "map", "values": avro_schema(values, count)}),
        (Type::Struct(fields), name) => {
            *count += 1;
            let full = match name {
                Some(n) => n.to_string(),
                None if *count == 1 => "io.confluent.connect.avro.ConnectDefault".to_string(),
                None => format!("io.confluent.connect.avro.ConnectDefault{count}"),
            };
            let fields: Vec<Json> = fields
                .iter()
                .map(|f| {
                    let mut j = json!({"name": f.name, "type": avro_schema(&f.schema, count)});
                    if f.schema.optional {
                        j["default"] = Json::Null;
                    }
                    j
                })
                .collect();
            let mut record = json!({"type": "record", "name": full, "fields": fields});
            if let Some(doc) = &schema.doc {
                record["doc"] = json!(doc);
            }
            record
        }
    };
    if schema.optional {
        json!(["null", plain])
    } else {
        plain
    }
}

/// A Connect value as an Avro value of `schema`.
fn to_avro(value: &Value, schema: &Avro) -> Result<AvroValue, String> {
    let wrong = || {
        format!(
            "{} does not fit the Avro schema {schema:?}",
            value.to_json()
        )
    };
    Ok(match (schema, value) {
        (Avro::Union(u), v) => {
            let variants = u.variants();
            let index = if *v == Value::Null {
                variants.iter().position(|s| *s == Avro::Null)
            } else {
                variants.iter().position(|s| *s != Avro::Null)
            }
            .ok_or_else(wrong)?;
            AvroValue::Union(index as u32, Box::new(to_avro(v, &variants[index])?))
        }
        (Avro::Null, Value::Null) => AvroValue::Null,
        (Avro::Boolean, Value::Boolean(b)) => AvroValue::Boolean(*b),
        (Avro::Int, Value::Int(i)) => {
            AvroValue::Int(i32::try_from(*i).map_err(|_| format!("{i} is out of an int's range"))?)
        }
        (Avro::Long, Value::Int(i)) => AvroValue::Long(*i),
        (Avro::Float, Value::Float(f)) => AvroValue::Float(*f as f32),
        (Avro::Float, Value::Int(i)) => AvroValue::Float(*i as f32),
        (Avro::Double, Value::Float(f)) => AvroValue::Double(*f),
        (Avro::Double, Value::Int(i)) => AvroValue::Double(*i as f64),
        (Avro::String, Value::String(s)) => AvroValue::String(s.clone()),
        (Avro::Enum(e), Value::String(s)) => AvroValue::Enum(
            e.symbols.iter().position(|x| x == s).ok_or_else(wrong)? as u32,
            s.clone(),
        ),
        (Avro::Bytes, Value::Bytes(b)) => AvroValue::Bytes(b.clone()),
        (Avro::Fixed(f), Value::Bytes(b)) => AvroValue::Fixed(f.size, b.clone()),
        (Avro::Date, Value::Int(d)) => AvroValue::Date(*d as i32),
        (Avro::TimeMillis, Value::Int(t)) => AvroValue::TimeMillis(*t as i32),
        (Avro::TimestampMillis, Value::Int(t)) => AvroValue::TimestampMillis(*t),
        (Avro::Array(a), Value::Array(items)) => AvroValue::Array(
            items
                .iter()
                .map(|i| to_avro(i, &a.items))
                .collect::<Result<_, _>>()?,
        ),
        (Avro::Map(m), Value::Map(entries)) => AvroValue::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => other.to_json().to_string(),
                    };
                    Ok((key, to_avro(v, &m.types)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        (Avro::Record(r), Value::Struct(values)) => AvroValue::Record(
            r.fields
                .iter()
                .map(|f| {
                    let v = values
                        .iter()
                        .find(|(n, _)| *n == f.name)
                        .map_or(&Value::Null, |(_, v)| v);
                    Ok((
                        f.name.clone(),
                        to_avro(v, &f.schema).map_err(|e| format!("field {}: {e}", f.name))?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        ),
        _ => return Err(wrong()),
    })
}

/// The Connect schema of an Avro schema (`named` holds the records seen, for references).
fn connect_schema(
    avro: &Avro,
    named: &mut HashMap<String, Schema>,
) -> Result<Schema, ConvertError> {
    Ok(match avro {
        Avro::Null => Schema::of(Type::String).optional(),
        Avro::Boolean => Schema::of(Type::Boolean),
        Avro::Int => Schema::of(Type::Int32),
        Avro::Long => Schema::of(Type::Int64),
        Avro::Float => Schema::of(Type::Float32),
        Avro::Double => Schema::of(Type::Float64),
        Avro::String | Avro::Uuid(_) | Avro::Enum(_) => Schema::of(Type::String),
        Avro::Bytes | Avro::Fixed(_) | Avro::Decimal(_) | Avro::BigDecimal | Avro::Duration(_) => {
            Schema::of(Type::Bytes)
        }
        Avro::Date => Schema::of(Type::Int32).named(DATE),
        Avro::TimeMillis => Schema::of(Type::Int32).named(TIME),
        Avro::TimeMicros => Schema::of(Type::Int64),
        Avro::TimestampMillis | Avro::LocalTimestampMillis => {
            Schema::of(Type::Int64).named(TIMESTAMP)
        }
        Avro::TimestampMicros
        | Avro::TimestampNanos
        | Avro::LocalTimestampMicros
        | Avro::LocalTimestampNanos => Schema::of(Type::Int64),
        Avro::Array(a) => Schema::of(Type::Array(Box::new(connect_schema(&a.items, named)?))),
        Avro::Map(m) => Schema::of(Type::Map(
            Box::new(Schema::of(Type::String)),
            Box::new(connect_schema(&m.types, named)?),
        )),
        Avro::Union(u) => {
            let others: Vec<&Avro> = u.variants().iter().filter(|s| **s != Avro::Null).collect();
            match others.as_slice() {
                [one] => {
                    let mut s = connect_schema(one, named)?;
                    s.optional |= u.is_nullable();
                    s
                }
                _ => {
                    return Err(ConvertError(
                        "Avro unions of several non-null types are not supported by Brook Connect"
                            .to_string(),
                    ));
                }
            }
        }
        Avro::Record(r) => {
            let fields = r
                .fields
                .iter()
                .map(|f| {
                    Ok(Field {
                        name: f.name.clone(),
                        schema: connect_schema(&f.schema, named)?,
                    })
                })
                .collect::<Result<Vec<_>, ConvertError>>()?;
            let schema = Schema::of(Type::Struct(fields)).named(&r.name.fullname(None));
            named.insert(r.name.fullname(None), schema.clone());
            schema
        }
        Avro::Ref { name } => named
            .get(&name.fullname(None))
            .cloned()
            .ok_or_else(|| ConvertError(format!("unknown Avro type {}", name.fullname(None))))?,
    })
}

/// An Avro value as a Connect value.
fn from_avro(v: AvroValue) -> Value {
    match v {
        AvroValue::Null => Value::Null,
        AvroValue::Boolean(b) => Value::Boolean(b),
        AvroValue::Int(i) | AvroValue::Date(i) | AvroValue::TimeMillis(i) => {
            Value::Int(i64::from(i))
        }
        AvroValue::Long(i)
        | AvroValue::TimeMicros(i)
        | AvroValue::TimestampMillis(i)
        | AvroValue::TimestampMicros(i)
        | AvroValue::TimestampNanos(i)
        | AvroValue::LocalTimestampMillis(i)
        | AvroValue::LocalTimestampMicros(i)
        | AvroValue::LocalTimestampNanos(i) => Value::Int(i),
        AvroValue::Float(f) => Value::Float(f64::from(f)),
        AvroValue::Double(f) => Value::Float(f),
        AvroValue::Bytes(b) | AvroValue::Fixed(_, b) => Value::Bytes(b),
        AvroValue::String(s) | AvroValue::Enum(_, s) => Value::String(s),
        AvroValue::Uuid(u) => Value::String(u.to_string()),
        AvroValue::Union(_, inner) => from_avro(*inner),
        AvroValue::Array(items) => Value::Array(items.into_iter().map(from_avro).collect()),
        AvroValue::Map(m) => {
            let mut entries: Vec<(String, AvroValue)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (Value::String(k), from_avro(v)))
                    .collect(),
            )
        }
        AvroValue::Record(fields) => {
            Value::Struct(fields.into_iter().map(|(n, v)| (n, from_avro(v))).collect())
        }
        other => Value::String(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ride_schema() -> Schema {
        Schema::of(Type::Struct(vec![
            Field {
                name: "vendor_id".into(),
                schema: Schema::of(Type::Int32),
            },
            Field {
                name: "pickup".into(),
                schema: Schema::of(Type::Int64).named(TIMESTAMP),
            },
            Field {
                name: "fare".into(),
                schema: Schema::of(Type::Float64).optional(),
            },
            Field {
                name: "flag".into(),
                schema: Schema::of(Type::String).optional(),
            },
        ]))
        .named("brook.Ride")
    }

    #[test]
    fn connect_schemas_and_values_round_trip_through_avro() {
        let text = avro_schema(&ride_schema(), &mut 0).to_string();
        let avro = Avro::parse_str(&text).unwrap();
        let value = Value::Struct(vec![
            ("vendor_id".into(), Value::Int(2)),
            ("pickup".into(), Value::Int(1_593_563_132_000)),
            ("fare".into(), Value::Float(12.5)),
            ("flag".into(), Value::Null),
        ]);
        let datum = to_avro(&value, &avro).unwrap();
        let bytes = apache_avro::writer::datum::GenericDatumWriter::builder(&avro)
            .build()
            .unwrap()
            .write_value_to_vec(datum)
            .unwrap();
        let back = apache_avro::reader::datum::GenericDatumReader::builder(&avro)
            .build()
            .unwrap()
            .read_value(&mut bytes.as_slice())
            .unwrap();
        assert_eq!(from_avro(back), value);
        assert_eq!(
            connect_schema(&avro, &mut HashMap::new()).unwrap(),
            ride_schema()
        );
        let j: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(j["fields"][1]["type"]["logicalType"], "timestamp-millis");
        assert_eq!(j["fields"][2]["type"], json!(["null", "double"]));
        assert_eq!(j["fields"][2]["default"], Json::Null);
        // A value that does not fit names the field.
        let bad = Value::Struct(vec![("vendor_id".into(), Value::String("x".into()))]);
        assert!(
            to_avro(&bad, &avro)
                .unwrap_err()
                .starts_with("field vendor_id")
        );
    }
}
