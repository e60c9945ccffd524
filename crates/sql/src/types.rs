//! ksqlDB's SQL types.

use std::fmt;

/// A column's type (ksqlDB's `SqlType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// BOOLEAN.
    Boolean,
    /// INT (32 bits).
    Int,
    /// BIGINT (64 bits).
    Bigint,
    /// DOUBLE.
    Double,
    /// DECIMAL(precision, scale).
    Decimal(u8, u8),
    /// STRING (VARCHAR).
    String,
    /// BYTES.
    Bytes,
    /// DATE: days since the epoch.
    Date,
    /// TIME: milliseconds since midnight.
    Time,
    /// TIMESTAMP: milliseconds since the epoch.
    Timestamp,
    /// ARRAY<element>.
    Array(Box<SqlType>),
    /// MAP<key, value>.
    Map(Box<SqlType>, Box<SqlType>),
    /// STRUCT<name type, …>.
    Struct(Vec<(String, SqlType)>),
    /// The type of the NULL literal, which fits any other type.
    Null,
}

impl SqlType {
    /// Whether values of this type are numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            SqlType::Int | SqlType::Bigint | SqlType::Double | SqlType::Decimal(..)
        )
    }

    /// The wider of two numeric types (INT < BIGINT < DECIMAL < DOUBLE), as ksqlDB widens
    /// arithmetic.
    pub fn wider(a: &SqlType, b: &SqlType) -> SqlType {
        use SqlType::*;
        match (a, b) {
            (Null, other) | (other, Null) => other.clone(),
            (Double, _) | (_, Double) => Double,
            (Decimal(p1, s1), Decimal(p2, s2)) => {
                let s = (*s1).max(*s2);
                let p = (p1 - s1).max(p2 - s2) + s;
                Decimal(p.min(38), s)
            }
            (Decimal(p, s), _) | (_, Decimal(p, s)) => Decimal((*p).max(19 + s).min(38), *s),
            (Bigint, _) | (_, Bigint) => Bigint,
            _ => Int,
        }
    }

    /// The type's name as ksqlDB's `DESCRIBE` shows it in the REST API's `schema.type`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            SqlType::Boolean => "BOOLEAN",
            SqlType::Int => "INTEGER",
            SqlType::Bigint => "BIGINT",
            SqlType::Double => "DOUBLE",
            SqlType::Decimal(..) => "DECIMAL",
            SqlType::String => "STRING",
            SqlType::Bytes => "BYTES",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Array(_) => "ARRAY",
            SqlType::Map(..) => "MAP",
            SqlType::Struct(_) => "STRUCT",
            SqlType::Null => "NULL",
        }
    }

    /// The field of a struct type, matched as ksqlDB matches names (exactly, then ignoring
    /// case).
    pub fn field(&self, name: &str) -> Option<(usize, &SqlType)> {
        let SqlType::Struct(fields) = self else {
            return None;
        };
        fields
            .iter()
            .position(|(n, _)| n == name)
            .or_else(|| {
                fields
                    .iter()
                    .position(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .map(|i| (i, &fields[i].1))
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Int => f.write_str("INTEGER"),
            SqlType::Decimal(p, s) => write!(f, "DECIMAL({p}, {s})"),
            SqlType::Array(e) => write!(f, "ARRAY<{e}>"),
            SqlType::Map(k, v) => write!(f, "MAP<{k}, {v}>"),
            SqlType::Struct(fields) => {
                f.write_str("STRUCT<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} {ty}", crate::ast::quote_if_needed(name))?;
                }
                f.write_str(">")
            }
            other => f.write_str(other.kind_name()),
        }
    }
}
