//! The JSON format: a row is an object with a field per column (matched to column names
//! ignoring case, as ksqlDB matches them), or one bare value when the row has one column and is
//! not wrapped. Reading streams the JSON straight into typed values; fields the schema does not
//! name are skipped without being built.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::expr::cast;
use crate::types::SqlType;
use crate::value::{Row, Value, decimal_text};

/// A value as JSON (`ty`, when known, picks the form of decimals and times).
pub fn value_to_json(v: &Value, ty: Option<&SqlType>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Bigint(i) => J::from(*i),
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
        Value::Decimal(u, s) => {
            let text = decimal_text(*u, *s);
            serde_json::from_str::<serde_json::Number>(&text).map_or(J::String(text), J::Number)
        }
        Value::String(s) => J::String(s.to_string()),
        Value::Bytes(b) => J::String(crate::functions::base64_encode(b)),
        // ksqlDB writes TIMESTAMP, DATE and TIME as numbers in the JSON format.
        Value::Timestamp(t) | Value::Time(t) => J::from(*t),
        Value::Date(d) => J::from(*d),
        Value::Array(items) => {
            let et = match ty {
                Some(SqlType::Array(e)) => Some(&**e),
                _ => None,
            };
            J::Array(items.iter().map(|i| value_to_json(i, et)).collect())
        }
        Value::Map(entries) => {
            let vt = match ty {
                Some(SqlType::Map(_, v)) => Some(&**v),
                _ => None,
            };
            J::Object(
                entries
                    .iter()
                    .map(|(k, x)| (k.to_text(), value_to_json(x, vt)))
                    .collect(),
            )
        }
        Value::Struct(fields) => match ty {
            Some(SqlType::Struct(defs)) => J::Object(
                defs.iter()
                    .zip(fields)
                    .map(|((n, t), x)| (n.clone(), value_to_json(x, Some(t))))
                    .collect(),
            ),
            _ => J::Array(fields.iter().map(|x| value_to_json(x, None)).collect()),
        },
    }
}

/// Writes `v` as JSON text into `out` (faster than building a `serde_json::Value`).
pub fn write_json(out: &mut Vec<u8>, v: &Value, ty: &SqlType) {
    use std::io::Write;
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Bigint(i) | Value::Timestamp(i) | Value::Time(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Date(d) => {
            let _ = write!(out, "{d}");
        }
        Value::Double(d) => {
            if d.is_finite() {
                // Shortest round-trip form, always with a fraction or exponent.
                let _ = serde_json::to_writer(&mut *out, d);
            } else {
                out.extend_from_slice(b"null");
            }
        }
        Value::Decimal(u, s) => out.extend_from_slice(decimal_text(*u, *s).as_bytes()),
        Value::String(s) => write_json_string(out, s),
        other => {
            let j = value_to_json(other, Some(ty));
            let _ = serde_json::to_writer(&mut *out, &j);
        }
    }
}

/// A JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A row as a JSON object with its columns' names, in column order.
pub fn write_row_object(out: &mut Vec<u8>, columns: &[(String, SqlType)], row: &[Value]) {
    out.push(b'{');
    for (i, ((name, ty), v)) in columns.iter().zip(row).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, name);
        out.push(b':');
        write_json(out, v, ty);
    }
    out.push(b'}');
}

/// Reads a JSON document into a row of `columns`: an object's fields by name, or (when
/// `wrapped` is false and there is one column) the bare value.
pub fn read_row(bytes: &[u8], columns: &[(String, SqlType)], wrapped: bool) -> Result<Row, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let row = if wrapped || columns.len() != 1 {
        de.deserialize_any(RowVisitor { columns })
    } else {
        TypedSeed(&columns[0].1)
            .deserialize(&mut de)
            .map(|v| vec![v])
    }
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(row)
}

pub(crate) struct RowVisitor<'a> {
    pub(crate) columns: &'a [(String, SqlType)],
}

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = Row;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
        // Room for the key columns and ROWTIME that queries add in front and behind.
        let mut row = Vec::with_capacity(self.columns.len() + 4);
        row.resize(self.columns.len(), Value::Null);
        while let Some(at) = map.next_key_seed(FieldSeed(self.columns))? {
            match at {
                Some(i) => row[i] = map.next_value_seed(TypedSeed(&self.columns[i].1))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(row)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Row, E> {
        Err(E::custom("null is not a row"))
    }
}

/// A field name, looked up among columns without being copied: the column's position, or
/// None for a field the schema does not name. Names match exactly, then ignoring case.
struct FieldSeed<'a>(&'a [(String, SqlType)]);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self
            .0
            .iter()
            .position(|(n, _)| n == key)
            .or_else(|| self.0.iter().position(|(n, _)| n.eq_ignore_ascii_case(key))))
    }
}

/// Deserializes any JSON value as a value of a SQL type, converting where ksqlDB does
/// (numbers from strings and back, timestamps from numbers or text).
pub(crate) struct TypedSeed<'a>(pub(crate) &'a SqlType);

impl<'de> DeserializeSeed<'de> for TypedSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(TypedVisitor(self.0))
    }
}

struct TypedVisitor<'a>(&'a SqlType);

impl TypedVisitor<'_> {
    fn convert<E: serde::de::Error>(&self, v: Value) -> Result<Value, E> {
        if v.is_null() {
            return Ok(v);
        }
        let shown = v.to_text();
        let converted = match (self.0, &v) {
            (SqlType::Timestamp, Value::Bigint(t)) => Value::Timestamp(*t),
            (SqlType::Time, Value::Bigint(t)) => Value::Time(*t),
            (SqlType::Date, Value::Bigint(d)) => i32::try_from(*d).map_or(Value::Null, Value::Date),
            (SqlType::Bytes, Value::String(s)) => {
                crate::functions::base64_decode(s).map_or(Value::Null, |b| Value::Bytes(b.into()))
            }
            (SqlType::Int, Value::Double(_)) | (SqlType::Bigint, Value::Double(_)) => Value::Null,
            (ty, _) => cast(v, ty),
        };
        if converted.is_null() {
            return Err(E::custom(format!(
                "Can't convert type. sourceType: {shown}, requiredType: {}",
                self.0
            )));
        }
        Ok(converted)
    }
}

impl<'de> Visitor<'de> for TypedVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} value", self.0)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        match self.0 {
            SqlType::Boolean => Ok(Value::Boolean(v)),
            SqlType::String => Ok(Value::string(v.to_string())),
            t => Err(E::custom(format!(
                "Can't convert type. sourceType: BOOLEAN, requiredType: {t}"
            ))),
        }
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        match self.0 {
            SqlType::Bigint => Ok(Value::Bigint(v)),
            SqlType::Int => i32::try_from(v)
                .map(Value::Int)
                .map_err(|_| E::custom(format!("{v} does not fit an INTEGER"))),
            SqlType::Double => Ok(Value::Double(v as f64)),
            _ => self.convert(Value::Bigint(v)),
        }
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        match self.0 {
            SqlType::Double => Ok(Value::Double(v)),
            _ => self.convert(Value::Double(v)),
        }
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        match self.0 {
            SqlType::String => Ok(Value::string(v)),
            SqlType::Decimal(p, s) => match crate::expr::parse_decimal(v, *s) {
                Some(u) if crate::value::fits_precision(u, *p) => Ok(Value::Decimal(u, *s)),
                _ => Err(E::custom(format!(
                    "Can't convert type. sourceType: STRING '{v}', requiredType: {}",
                    self.0
                ))),
            },
            _ => self.convert(Value::string(v)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        match self.0 {
            SqlType::Array(e) => {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element_seed(TypedSeed(e))? {
                    items.push(v);
                }
                Ok(Value::Array(items))
            }
            SqlType::String => {
                let j: Vec<serde_json::Value> = serde::Deserialize::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(seq),
                )?;
                Ok(Value::string(serde_json::Value::Array(j).to_string()))
            }
            t => Err(serde::de::Error::custom(format!(
                "Can't convert type. sourceType: ARRAY, requiredType: {t}"
            ))),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match self.0 {
            SqlType::Struct(fields) => {
                let mut values = vec![Value::Null; fields.len()];
                while let Some(at) = map.next_key_seed(FieldSeed(fields))? {
                    match at {
                        Some(i) => values[i] = map.next_value_seed(TypedSeed(&fields[i].1))?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Value::Struct(values))
            }
            SqlType::Map(k, v) => {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value_seed(TypedSeed(v))?;
                    entries.push((cast(Value::string(key), k), value));
                }
                Ok(Value::Map(entries))
            }
            SqlType::String => {
                let j: serde_json::Map<String, serde_json::Value> =
                    serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(
                        map,
                    ))?;
                Ok(Value::string(serde_json::Value::Object(j).to_string()))
            }
            t => Err(serde::de::Error::custom(format!(
                "Can't convert type. sourceType: STRUCT, requiredType: {t}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_by_name_ignoring_case_and_convert() {
        let columns = vec![
            ("VENDORID".to_string(), SqlType::Int),
            ("TOTAL_AMOUNT".to_string(), SqlType::Double),
            ("NOTE".to_string(), SqlType::String),
            ("PICKUP".to_string(), SqlType::Timestamp),
        ];
        let row = read_row(
            br#"{"VendorID": 2, "extra": {"x": [1]}, "total_amount": "12.5", "pickup": 1000}"#,
            &columns,
            true,
        )
        .unwrap();
        assert_eq!(
            row,
            vec![
                Value::Int(2),
                Value::Double(12.5),
                Value::Null,
                Value::Timestamp(1000)
            ]
        );
        let err = read_row(br#"{"VendorID": "x"}"#, &columns, true).unwrap_err();
        assert!(err.contains("Can't convert type"), "{err}");
        assert!(read_row(b"{", &columns, true).is_err());
    }

    #[test]
    fn rows_write_in_column_order() {
        let columns = vec![
            ("B".to_string(), SqlType::Double),
            ("A".to_string(), SqlType::String),
        ];
        let mut out = Vec::new();
        write_row_object(
            &mut out,
            &columns,
            &[Value::Double(1.5), Value::string("q\"")],
        );
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"B":1.5,"A":"q\""}"#);
    }
}
