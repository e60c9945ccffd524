//! Confluent's `AvroConverter` (`io.confluent.connect.avro.AvroConverter`): Connect data as
//! Avro datums, through the registry ([`super::registry`]).
//!
//! Schemas map as Confluent's `AvroData` maps them: a struct is a record (named by the
//! Connect schema's name, else `io.confluent.connect.avro.ConnectDefault`), an optional
//! schema a union with `null` first and a `null` default, int8 / int16 ints that keep their
//! `connect.type`, Kafka Connect's Timestamp, Date and Time the Avro logical types.

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::Schema as AvroSchema;
use apache_avro::types::Value as AvroValue;
use brook_registry::format::{Parsed, SchemaType};
use serde_json::{Value as Json, json};

use super::ConvertError;
use super::registry::{Format, RegistryConverter};
use crate::data::{Field, Schema, Type, Value};
use crate::transforms::{DATE, TIME, TIMESTAMP};

/// The Avro format of the registry converters.
pub struct Avro;

/// `io.confluent.connect.avro.AvroConverter`.
pub type AvroConverter = RegistryConverter<Avro>;

fn avro_of(parsed: &Parsed) -> Result<&apache_avro::Schema, ConvertError> {
    match parsed {
        Parsed::Avro(a) => Ok(a.schema()),
        _ => Err(ConvertError("not an Avro schema".to_string())),
    }
}

impl Format for Avro {
    const TYPE: SchemaType = SchemaType::Avro;
    const NAME: &'static str = "AvroConverter";

    fn schema_text(schema: &Schema) -> Result<String, ConvertError> {
        Ok(avro_schema(schema, &mut 0).to_string())
    }

    fn encode(parsed: &Parsed, _: &Schema, value: &Value) -> Result<Vec<u8>, ConvertError> {
        let avro = avro_of(parsed)?;
        let datum = to_avro(value, avro).map_err(ConvertError)?;
        apache_avro::writer::datum::GenericDatumWriter::builder(avro)
            .build()
            .map_err(|e| ConvertError(e.to_string()))?
            .write_value_to_vec(datum)
            .map_err(|e| ConvertError(format!("the value does not fit its Avro schema: {e}")))
    }

    type Reader = (AvroSchema, Schema);

    fn reader(parsed: Arc<Parsed>) -> Result<Self::Reader, ConvertError> {
        let avro = avro_of(&parsed)?.clone();
        let schema = connect_schema(&avro, &mut HashMap::new())?;
        Ok((avro, schema))
    }

    fn decode(
        (avro, schema): &Self::Reader,
        mut payload: &[u8],
    ) -> Result<(Schema, Value), ConvertError> {
        let datum = apache_avro::reader::datum::GenericDatumReader::builder(avro)
            .build()
            .map_err(|e| ConvertError(e.to_string()))?
            .read_value(&mut payload)
            .map_err(|e| ConvertError(format!("not an Avro datum of its schema: {e}")))?;
        Ok((schema.clone(), from_avro(datum)))
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
fn to_avro(value: &Value, schema: &AvroSchema) -> Result<AvroValue, String> {
    let wrong = || {
        format!(
            "{} does not fit the Avro schema {schema:?}",
            value.to_json()
        )
    };
    Ok(match (schema, value) {
        (AvroSchema::Union(u), v) => {
            let variants = u.variants();
            let index = if *v == Value::Null {
                variants.iter().position(|s| *s == AvroSchema::Null)
            } else {
                variants.iter().position(|s| *s != AvroSchema::Null)
            }
            .ok_or_else(wrong)?;
            AvroValue::Union(index as u32, Box::new(to_avro(v, &variants[index])?))
        }
        (AvroSchema::Null, Value::Null) => AvroValue::Null,
        (AvroSchema::Boolean, Value::Boolean(b)) => AvroValue::Boolean(*b),
        (AvroSchema::Int, Value::Int(i)) => {
            AvroValue::Int(i32::try_from(*i).map_err(|_| format!("{i} is out of an int's range"))?)
        }
        (AvroSchema::Long, Value::Int(i)) => AvroValue::Long(*i),
        (AvroSchema::Float, Value::Float(f)) => AvroValue::Float(*f as f32),
        (AvroSchema::Float, Value::Int(i)) => AvroValue::Float(*i as f32),
        (AvroSchema::Double, Value::Float(f)) => AvroValue::Double(*f),
        (AvroSchema::Double, Value::Int(i)) => AvroValue::Double(*i as f64),
        (AvroSchema::String, Value::String(s)) => AvroValue::String(s.clone()),
        (AvroSchema::Enum(e), Value::String(s)) => AvroValue::Enum(
            e.symbols.iter().position(|x| x == s).ok_or_else(wrong)? as u32,
            s.clone(),
        ),
        (AvroSchema::Bytes, Value::Bytes(b)) => AvroValue::Bytes(b.clone()),
        (AvroSchema::Fixed(f), Value::Bytes(b)) => AvroValue::Fixed(f.size, b.clone()),
        (AvroSchema::Date, Value::Int(d)) => AvroValue::Date(*d as i32),
        (AvroSchema::TimeMillis, Value::Int(t)) => AvroValue::TimeMillis(*t as i32),
        (AvroSchema::TimestampMillis, Value::Int(t)) => AvroValue::TimestampMillis(*t),
        (AvroSchema::Array(a), Value::Array(items)) => AvroValue::Array(
            items
                .iter()
                .map(|i| to_avro(i, &a.items))
                .collect::<Result<_, _>>()?,
        ),
        (AvroSchema::Map(m), Value::Map(entries)) => AvroValue::Map(
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
        (AvroSchema::Record(r), Value::Struct(values)) => AvroValue::Record(
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
    avro: &AvroSchema,
    named: &mut HashMap<String, Schema>,
) -> Result<Schema, ConvertError> {
    Ok(match avro {
        AvroSchema::Null => Schema::of(Type::String).optional(),
        AvroSchema::Boolean => Schema::of(Type::Boolean),
        AvroSchema::Int => Schema::of(Type::Int32),
        AvroSchema::Long => Schema::of(Type::Int64),
        AvroSchema::Float => Schema::of(Type::Float32),
        AvroSchema::Double => Schema::of(Type::Float64),
        AvroSchema::String | AvroSchema::Uuid(_) | AvroSchema::Enum(_) => Schema::of(Type::String),
        AvroSchema::Bytes
        | AvroSchema::Fixed(_)
        | AvroSchema::Decimal(_)
        | AvroSchema::BigDecimal
        | AvroSchema::Duration(_) => Schema::of(Type::Bytes),
        AvroSchema::Date => Schema::of(Type::Int32).named(DATE),
        AvroSchema::TimeMillis => Schema::of(Type::Int32).named(TIME),
        AvroSchema::TimeMicros => Schema::of(Type::Int64),
        AvroSchema::TimestampMillis | AvroSchema::LocalTimestampMillis => {
            Schema::of(Type::Int64).named(TIMESTAMP)
        }
        AvroSchema::TimestampMicros
        | AvroSchema::TimestampNanos
        | AvroSchema::LocalTimestampMicros
        | AvroSchema::LocalTimestampNanos => Schema::of(Type::Int64),
        AvroSchema::Array(a) => Schema::of(Type::Array(Box::new(connect_schema(&a.items, named)?))),
        AvroSchema::Map(m) => Schema::of(Type::Map(
            Box::new(Schema::of(Type::String)),
            Box::new(connect_schema(&m.types, named)?),
        )),
        AvroSchema::Union(u) => {
            let others: Vec<&AvroSchema> = u
                .variants()
                .iter()
                .filter(|s| **s != AvroSchema::Null)
                .collect();
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
        AvroSchema::Record(r) => {
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
        AvroSchema::Ref { name } => named
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
        let avro = AvroSchema::parse_str(&text).unwrap();
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
