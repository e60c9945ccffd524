//! Brook SQL's own compact encoding of rows, for its internal topics (aggregation changelogs
//! and repartitions), which only Brook SQL reads.

use brook_streams::serdes::{Serde, SerdeError};

use crate::value::{Row, Value};

/// Rows in the internal encoding.
#[derive(Debug, Clone, Copy, Default)]
pub struct InternalSerde;

impl Serde<Row> for InternalSerde {
    fn serialize(&self, _: &str, row: &Row) -> Result<Vec<u8>, SerdeError> {
        let mut out = Vec::with_capacity(16 * row.len());
        write_len(&mut out, row.len());
        for v in row {
            write_value(&mut out, v);
        }
        Ok(out)
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<Row, SerdeError> {
        let mut r = Reader { bytes, at: 0 };
        let n = r.len().ok_or_else(|| bad(topic))?;
        let mut row = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            row.push(r.value(0).ok_or_else(|| bad(topic))?);
        }
        Ok(row)
    }
}

fn bad(topic: &str) -> SerdeError {
    SerdeError::deserialize(topic, "internal row", "the bytes are not an internal row")
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(0),
        Value::Boolean(b) => out.extend_from_slice(&[1, u8::from(*b)]),
        Value::Int(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Bigint(i) => {
            out.push(3);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Double(d) => {
            out.push(4);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Decimal(u, s) => {
            out.push(5);
            out.extend_from_slice(&u.to_le_bytes());
            out.push(*s);
        }
        Value::String(s) => {
            out.push(6);
            write_len(out, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(7);
            write_len(out, b.len());
            out.extend_from_slice(b);
        }
        Value::Date(d) => {
            out.push(8);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Time(t) => {
            out.push(9);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Timestamp(t) => {
            out.push(10);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Array(items) | Value::Struct(items) => {
            out.push(if matches!(v, Value::Array(_)) { 11 } else { 13 });
            write_len(out, items.len());
            for i in items {
                write_value(out, i);
            }
        }
        Value::Map(entries) => {
            out.push(12);
            write_len(out, entries.len());
            for (k, x) in entries {
                write_value(out, k);
                write_value(out, x);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn len(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > 64 {
            return None;
        }
        let tag = *self.take(1)?.first()?;
        Some(match tag {
            0 => Value::Null,
            1 => Value::Boolean(self.take(1)?[0] != 0),
            2 => Value::Int(i32::from_le_bytes(self.take(4)?.try_into().ok()?)),
            3 => Value::Bigint(i64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            4 => Value::Double(f64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            5 => {
                let u = i128::from_le_bytes(self.take(16)?.try_into().ok()?);
                Value::Decimal(u, self.take(1)?[0])
            }
            6 => {
                let n = self.len()?;
                Value::string(std::str::from_utf8(self.take(n)?).ok()?)
            }
            7 => {
                let n = self.len()?;
                Value::Bytes(self.take(n)?.into())
            }
            8 => Value::Date(i32::from_le_bytes(self.take(4)?.try_into().ok()?)),
            9 => Value::Time(i64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            10 => Value::Timestamp(i64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            11 | 13 => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                if tag == 11 {
                    Value::Array(items)
                } else {
                    Value::Struct(items)
                }
            }
            12 => {
                let n = self.len()?;
                let mut entries = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let k = self.value(depth + 1)?;
                    entries.push((k, self.value(depth + 1)?));
                }
                Value::Map(entries)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip() {
        let row = vec![
            Value::Null,
            Value::Int(-3),
            Value::string("é"),
            Value::Decimal(12345, 2),
            Value::Array(vec![Value::Bigint(1), Value::Null]),
            Value::Map(vec![(Value::string("k"), Value::Double(0.5))]),
            Value::Struct(vec![Value::Timestamp(9)]),
        ];
        let bytes = InternalSerde.serialize("t", &row).unwrap();
        assert_eq!(InternalSerde.deserialize("t", &bytes).unwrap(), row);
        assert!(
            InternalSerde
                .deserialize("t", &bytes[..bytes.len() - 1])
                .is_err()
        );
    }
}
