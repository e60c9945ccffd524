//! Values of rows: one [`Value`] per column, typed as [`SqlType`] says.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::types::SqlType;

/// One column's value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// SQL NULL.
    #[default]
    Null,
    /// BOOLEAN.
    Boolean(bool),
    /// INT.
    Int(i32),
    /// BIGINT.
    Bigint(i64),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL: the unscaled value and the scale.
    Decimal(i128, u8),
    /// STRING (shared, so copying a row does not copy its text).
    String(Arc<str>),
    /// BYTES.
    Bytes(Arc<[u8]>),
    /// DATE: days since 1970-01-01.
    Date(i32),
    /// TIME: milliseconds since midnight.
    Time(i64),
    /// TIMESTAMP: milliseconds since the epoch, UTC.
    Timestamp(i64),
    /// ARRAY.
    Array(Vec<Value>),
    /// MAP, in insertion order.
    Map(Vec<(Value, Value)>),
    /// STRUCT: values in the type's field order.
    Struct(Vec<Value>),
}

/// A row: one value per column of its schema.
pub type Row = Vec<Value>;

impl Value {
    /// A STRING value.
    pub fn string(s: impl AsRef<str>) -> Value {
        Value::String(Arc::from(s.as_ref()))
    }

    /// Whether this is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a 64-bit integer, when it is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(i64::from(*v)),
            Value::Bigint(v) | Value::Timestamp(v) | Value::Time(v) => Some(*v),
            Value::Date(v) => Some(i64::from(*v)),
            _ => None,
        }
    }

    /// The value as a double, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(f64::from(*v)),
            Value::Bigint(v) => Some(*v as f64),
            Value::Double(v) => Some(*v),
            Value::Decimal(u, s) => Some(*u as f64 / 10f64.powi(i32::from(*s))),
            _ => None,
        }
    }

    /// The value as text, when it is a STRING.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a boolean, when it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The decimal's unscaled value at `scale`, for numbers.
    pub fn as_decimal(&self, scale: u8) -> Option<i128> {
        match self {
            Value::Int(v) => i128::from(*v).checked_mul(10i128.pow(u32::from(scale.min(38)))),
            Value::Bigint(v) => i128::from(*v).checked_mul(10i128.pow(u32::from(scale.min(38)))),
            Value::Decimal(u, s) => Some(rescale(*u, *s, scale)),
            Value::Double(d) => Some((d * 10f64.powi(i32::from(scale))).round() as i128),
            _ => None,
        }
    }

    /// The value as ksqlDB prints it in query results and `CAST(… AS STRING)`.
    pub fn to_text(&self) -> String {
        match self {
            Value::String(s) => s.to_string(),
            other => other.to_string(),
        }
    }
}

/// `unscaled` at `from` decimal places moved to `to` places (rounding half up).
pub fn rescale(unscaled: i128, from: u8, to: u8) -> i128 {
    match from.cmp(&to) {
        Ordering::Equal => unscaled,
        Ordering::Less => unscaled.saturating_mul(10i128.pow(u32::from((to - from).min(38)))),
        Ordering::Greater => {
            let div = 10i128.pow(u32::from((from - to).min(38)));
            let q = unscaled / div;
            let r = unscaled % div;
            if r.abs() * 2 >= div {
                q + unscaled.signum()
            } else {
                q
            }
        }
    }
}

/// Whether an unscaled decimal has at most `precision` digits.
pub fn fits_precision(unscaled: i128, precision: u8) -> bool {
    unscaled.unsigned_abs() < 10u128.pow(u32::from(precision.min(38)))
}

/// A decimal as text: `unscaled` with `scale` digits after the point.
pub fn decimal_text(unscaled: i128, scale: u8) -> String {
    if scale == 0 {
        return unscaled.to_string();
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale - digits.len() + 1))
    } else {
        digits
    };
    let (whole, frac) = padded.split_at(padded.len() - scale);
    format!("{}{whole}.{frac}", if unscaled < 0 { "-" } else { "" })
}

/// A double as ksqlDB (Java's `Double.toString`) prints it: always with a fraction.
pub fn double_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if v == v.trunc() && v.abs() < 1e7 {
        format!("{v:.1}")
    } else if v.abs() >= 1e7 || v.abs() < 1e-3 {
        let s = format!("{v:E}");
        // Rust prints 1.5E7; Java prints 1.5E7 too, but 1E7 as 1.0E7.
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    } else {
        format!("{v}")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Bigint(v) => write!(f, "{v}"),
            Value::Double(v) => f.write_str(&double_text(*v)),
            Value::Decimal(u, s) => f.write_str(&decimal_text(*u, *s)),
            Value::String(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&crate::functions::base64_encode(b)),
            Value::Date(d) => f.write_str(&crate::time::format_date(*d)),
            Value::Time(t) => f.write_str(&crate::time::format_time(*t)),
            Value::Timestamp(t) => f.write_str(&crate::time::format_timestamp_iso(*t)),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
            Value::Struct(fields) => {
                f.write_str("Struct{")?;
                for (i, v) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.sql_cmp(other) == Some(Ordering::Equal)
            || matches!((self, other), (Value::Null, Value::Null))
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Boolean(b) => b.hash(state),
            // Numbers equal across types hash alike: integers by value, others by their double.
            Value::Int(_) | Value::Bigint(_) => self.as_i64().hash(state),
            Value::Double(_) | Value::Decimal(..) => {
                let d = self.as_f64().unwrap_or(0.0);
                if d == d.trunc() && d.abs() < 9.0e18 {
                    Some(d as i64).hash(state)
                } else {
                    d.to_bits().hash(state)
                }
            }
            Value::String(s) => s.hash(state),
            Value::Bytes(b) => b.hash(state),
            Value::Date(d) => d.hash(state),
            Value::Time(t) | Value::Timestamp(t) => t.hash(state),
            Value::Array(items) | Value::Struct(items) => items.hash(state),
            Value::Map(entries) => entries.hash(state),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    /// A total order for sorting and ordered stores: NULL first, then by kind (numbers of
    /// every type together), then by value.
    fn cmp(&self, other: &Self) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Boolean(_) => 1,
                Value::Int(_) | Value::Bigint(_) | Value::Double(_) | Value::Decimal(..) => 2,
                Value::String(_) => 3,
                Value::Bytes(_) => 4,
                Value::Date(_) => 5,
                Value::Time(_) => 6,
                Value::Timestamp(_) => 7,
                Value::Array(_) => 8,
                Value::Map(_) => 9,
                Value::Struct(_) => 10,
            }
        }
        match rank(self).cmp(&rank(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        if let Some(o) = self.sql_cmp(other) {
            return o;
        }
        match (self, other) {
            (Value::Double(a), Value::Double(b)) => a.total_cmp(b),
            (Value::Array(a), Value::Array(b)) | (Value::Struct(a), Value::Struct(b)) => a.cmp(b),
            (Value::Map(a), Value::Map(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

impl Value {
    /// SQL comparison: None when either side is NULL or the types do not compare.
    pub fn sql_cmp(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        match (self, other) {
            (Null, _) | (_, Null) => None,
            (Int(a), Int(b)) => Some(a.cmp(b)),
            (Int(_) | Bigint(_), Int(_) | Bigint(_)) => Some(self.as_i64()?.cmp(&other.as_i64()?)),
            (Decimal(a, sa), Decimal(b, sb)) => {
                let s = (*sa).max(*sb);
                Some(rescale(*a, *sa, s).cmp(&rescale(*b, *sb, s)))
            }
            (Decimal(_, s), Int(_) | Bigint(_)) => {
                Some(self.as_decimal(*s)?.cmp(&other.as_decimal(*s)?))
            }
            (Int(_) | Bigint(_), Decimal(_, s)) => {
                Some(self.as_decimal(*s)?.cmp(&other.as_decimal(*s)?))
            }
            (
                Int(_) | Bigint(_) | Double(_) | Decimal(..),
                Int(_) | Bigint(_) | Double(_) | Decimal(..),
            ) => self.as_f64()?.partial_cmp(&other.as_f64()?),
            (Boolean(a), Boolean(b)) => Some(a.cmp(b)),
            (String(a), String(b)) => Some(a.cmp(b)),
            (Bytes(a), Bytes(b)) => Some(a.cmp(b)),
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (Time(a), Time(b)) | (Timestamp(a), Timestamp(b)) => Some(a.cmp(b)),
            (Array(a), Array(b)) | (Struct(a), Struct(b)) => {
                for (x, y) in a.iter().zip(b) {
                    match (x, y) {
                        (Null, Null) => continue,
                        _ => match x.sql_cmp(y)? {
                            Ordering::Equal => continue,
                            o => return Some(o),
                        },
                    }
                }
                Some(a.len().cmp(&b.len()))
            }
            (Map(a), Map(b)) => {
                let same = a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2));
                same.then_some(Ordering::Equal)
            }
            _ => None,
        }
    }

    /// The value's type, as far as the value shows it (NULL and empty collections say
    /// STRING).
    pub fn natural_type(&self) -> SqlType {
        match self {
            Value::Null => SqlType::Null,
            Value::String(_) => SqlType::String,
            Value::Boolean(_) => SqlType::Boolean,
            Value::Int(_) => SqlType::Int,
            Value::Bigint(_) => SqlType::Bigint,
            Value::Double(_) => SqlType::Double,
            Value::Decimal(u, s) => {
                let digits = u.unsigned_abs().to_string().len() as u8;
                SqlType::Decimal(digits.max(*s).max(1), *s)
            }
            Value::Bytes(_) => SqlType::Bytes,
            Value::Date(_) => SqlType::Date,
            Value::Time(_) => SqlType::Time,
            Value::Timestamp(_) => SqlType::Timestamp,
            Value::Array(items) => SqlType::Array(Box::new(
                items
                    .iter()
                    .find(|v| !v.is_null())
                    .map_or(SqlType::String, Value::natural_type),
            )),
            Value::Map(entries) => SqlType::Map(
                Box::new(SqlType::String),
                Box::new(
                    entries
                        .iter()
                        .map(|(_, v)| v)
                        .find(|v| !v.is_null())
                        .map_or(SqlType::String, Value::natural_type),
                ),
            ),
            Value::Struct(_) => SqlType::Struct(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_and_rescale() {
        assert_eq!(decimal_text(12345, 2), "123.45");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(rescale(12345, 2, 1), 1235);
        assert_eq!(rescale(-12345, 2, 1), -1235);
    }

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(double_text(3.0), "3.0");
        assert_eq!(double_text(2.5), "2.5");
        assert_eq!(double_text(1e7), "1.0E7");
    }

    #[test]
    fn numbers_compare_across_types() {
        assert_eq!(Value::Int(3), Value::Bigint(3));
        assert_eq!(
            Value::Double(3.0).sql_cmp(&Value::Int(2)),
            Some(Ordering::Greater)
        );
        assert_eq!(Value::Decimal(300, 2), Value::Int(3));
        assert_eq!(Value::Null.sql_cmp(&Value::Int(1)), None);
    }
}
