//! The scalar functions.

use super::ScalarFn;
use crate::time;
use crate::types::SqlType;
use crate::value::{Value, rescale};

type Types<'a> = &'a [SqlType];

fn arity(t: Types<'_>, min: usize, max: usize) -> Result<(), String> {
    if t.len() < min || t.len() > max {
        Err(if min == max {
            format!("expected {min} argument(s), got {}", t.len())
        } else {
            format!("expected {min} to {max} arguments, got {}", t.len())
        })
    } else {
        Ok(())
    }
}

fn want(t: &SqlType, ok: bool, what: &str) -> Result<(), String> {
    if ok || *t == SqlType::Null {
        Ok(())
    } else {
        Err(format!("expected {what}, got {t}"))
    }
}

fn strings(t: Types<'_>, min: usize, max: usize) -> Result<(), String> {
    arity(t, min, max)?;
    for x in t {
        want(x, *x == SqlType::String, "STRING")?;
    }
    Ok(())
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn text(v: impl Into<String>) -> Value {
    Value::string(v.into())
}

fn numeric1(t: Types<'_>) -> Result<SqlType, String> {
    arity(t, 1, 1)?;
    want(&t[0], t[0].is_numeric(), "a number")?;
    Ok(t[0].clone())
}

fn double1(t: Types<'_>) -> Result<SqlType, String> {
    arity(t, 1, 1)?;
    want(&t[0], t[0].is_numeric(), "a number")?;
    Ok(SqlType::Double)
}

fn math(v: &[Value], f: fn(f64) -> f64) -> Value {
    v[0].as_f64().map_or(Value::Null, |x| {
        let r = f(x);
        if r.is_nan() {
            Value::Null
        } else {
            Value::Double(r)
        }
    })
}

fn same_as_first_array(t: Types<'_>) -> Result<SqlType, String> {
    want(&t[0], matches!(t[0], SqlType::Array(_)), "an ARRAY")?;
    Ok(t[0].clone())
}

fn array_element(t: &SqlType) -> SqlType {
    match t {
        SqlType::Array(e) => (**e).clone(),
        _ => SqlType::String,
    }
}

fn round_value(v: &Value, places: i64) -> Value {
    match v {
        Value::Int(_) | Value::Bigint(_) if places >= 0 => v.clone(),
        Value::Int(_) | Value::Bigint(_) => {
            let p = 10i64.pow((-places).min(18) as u32);
            let n = v.as_i64().unwrap_or(0);
            let r = (n as f64 / p as f64).round() as i64 * p;
            if let Value::Int(_) = v {
                Value::Int(r as i32)
            } else {
                Value::Bigint(r)
            }
        }
        Value::Double(d) => {
            let p = 10f64.powi(places as i32);
            // Half up, as Java's Math.round / BigDecimal HALF_UP.
            let r = (d * p + 0.5).floor() / p;
            if places == 0 {
                Value::Bigint(r as i64)
            } else {
                Value::Double(r)
            }
        }
        Value::Decimal(u, sc) => {
            let target = places.clamp(0, i64::from(*sc)) as u8;
            Value::Decimal(rescale(rescale(*u, *sc, target), target, *sc), *sc)
        }
        _ => Value::Null,
    }
}

fn json_path<'a>(root: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let p = path.trim();
    let p = p.strip_prefix('$')?;
    let mut cur = root;
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            cur = if let Some(q) = inner.strip_prefix('\'').or_else(|| inner.strip_prefix('"')) {
                cur.get(q.trim_end_matches(['\'', '"']))?
            } else {
                cur.get(inner.parse::<usize>().ok()?)?
            };
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur)
}

fn json_text(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::String(s) => text(s.clone()),
        other => text(other.to_string()),
    }
}

fn distinct(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for i in items {
        if !out.iter().any(|o| *o == i && o.is_null() == i.is_null()) {
            out.push(i);
        }
    }
    out
}

fn array_of(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

fn pad(v: &[Value], left: bool) -> Value {
    let (Some(input), Some(len), Some(padding)) = (s(&v[0]), int(&v[1]), s(&v[2])) else {
        return Value::Null;
    };
    if len < 0 || (padding.is_empty() && (len as usize) > input.chars().count()) {
        return Value::Null;
    }
    let len = len as usize;
    let chars: Vec<char> = input.chars().collect();
    if chars.len() >= len {
        return text(chars[..len].iter().collect::<String>());
    }
    let fill: String = padding.chars().cycle().take(len - chars.len()).collect();
    if left {
        text(format!("{fill}{input}"))
    } else {
        text(format!("{input}{fill}"))
    }
}

fn timestamp_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(t) | Value::Bigint(t) => Some(*t),
        Value::Int(t) => Some(i64::from(*t)),
        _ => None,
    }
}

fn coalesce_type(t: Types<'_>) -> Result<SqlType, String> {
    if t.is_empty() {
        return Err("expected at least 1 argument".into());
    }
    let mut ty = SqlType::Null;
    for x in t {
        if *x == ty || *x == SqlType::Null {
            continue;
        }
        if ty == SqlType::Null {
            ty = x.clone();
            continue;
        }
        if x.is_numeric() && ty.is_numeric() {
            ty = SqlType::wider(&ty, x);
        } else {
            return Err(format!(
                "all arguments must have one type: {ty} and {x} differ"
            ));
        }
    }
    Ok(ty)
}

/// Every scalar function, by category.
pub static ALL: &[ScalarFn] = &[
    // String functions.
    ScalarFn {
        name: "CONCAT",
        category: "STRING",
        signature: "CONCAT(STRING, …)",
        description: "Joins strings; NULLs are skipped.",
        returns: |t| strings(t, 1, usize::MAX).map(|_| SqlType::String),
        eval: |v| text(v.iter().filter_map(s).collect::<String>()),
    },
    ScalarFn {
        name: "CONCAT_WS",
        category: "STRING",
        signature: "CONCAT_WS(separator STRING, STRING, …)",
        description: "Joins strings with a separator; NULLs are skipped.",
        returns: |t| strings(t, 2, usize::MAX).map(|_| SqlType::String),
        eval: |v| match s(&v[0]) {
            Some(sep) => text(v[1..].iter().filter_map(s).collect::<Vec<_>>().join(sep)),
            None => Value::Null,
        },
    },
    ScalarFn {
        name: "UCASE",
        category: "STRING",
        signature: "UCASE(STRING)",
        description: "Upper-case.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| text(x.to_uppercase())),
    },
    ScalarFn {
        name: "LCASE",
        category: "STRING",
        signature: "LCASE(STRING)",
        description: "Lower-case.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| text(x.to_lowercase())),
    },
    ScalarFn {
        name: "INITCAP",
        category: "STRING",
        signature: "INITCAP(STRING)",
        description: "Each word's first letter upper-case, the rest lower-case.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| {
            s(&v[0]).map_or(Value::Null, |x| {
                let mut out = String::with_capacity(x.len());
                let mut start = true;
                for c in x.chars() {
                    if c.is_whitespace() {
                        start = true;
                        out.push(c);
                    } else if start {
                        out.extend(c.to_uppercase());
                        start = false;
                    } else {
                        out.extend(c.to_lowercase());
                    }
                }
                text(out)
            })
        },
    },
    ScalarFn {
        name: "LEN",
        category: "STRING",
        signature: "LEN(STRING)",
        description: "The number of characters.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::Int),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| Value::Int(x.chars().count() as i32)),
    },
    ScalarFn {
        name: "LENGTH",
        category: "STRING",
        signature: "LENGTH(STRING)",
        description: "The number of characters (LEN).",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::Int),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| Value::Int(x.chars().count() as i32)),
    },
    ScalarFn {
        name: "TRIM",
        category: "STRING",
        signature: "TRIM(STRING)",
        description: "Without leading and trailing whitespace.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| text(x.trim())),
    },
    ScalarFn {
        name: "LTRIM",
        category: "STRING",
        signature: "LTRIM(STRING)",
        description: "Without leading whitespace.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| text(x.trim_start())),
    },
    ScalarFn {
        name: "RTRIM",
        category: "STRING",
        signature: "RTRIM(STRING)",
        description: "Without trailing whitespace.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| s(&v[0]).map_or(Value::Null, |x| text(x.trim_end())),
    },
    ScalarFn {
        name: "SUBSTRING",
        category: "STRING",
        signature: "SUBSTRING(STRING, position INT [, length INT])",
        description: "Part of a string; positions from 1, negative from the end.",
        returns: |t| {
            arity(t, 2, 3)?;
            want(&t[0], t[0] == SqlType::String, "STRING")?;
            Ok(SqlType::String)
        },
        eval: |v| {
            let (Some(x), Some(pos)) = (s(&v[0]), int(&v[1])) else {
                return Value::Null;
            };
            let chars: Vec<char> = x.chars().collect();
            let n = chars.len() as i64;
            let start = if pos > 0 {
                pos - 1
            } else if pos < 0 {
                (n + pos).max(0)
            } else {
                0
            };
            let len = match v.get(2) {
                Some(l) => match int(l) {
                    Some(l) => l.max(0),
                    None => return Value::Null,
                },
                None => n,
            };
            let end = (start + len).min(n);
            if start >= n || start >= end {
                return text("");
            }
            text(
                chars[start as usize..end as usize]
                    .iter()
                    .collect::<String>(),
            )
        },
    },
    ScalarFn {
        name: "REPLACE",
        category: "STRING",
        signature: "REPLACE(STRING, old STRING, new STRING)",
        description: "Every occurrence of old replaced by new.",
        returns: |t| strings(t, 3, 3).map(|_| SqlType::String),
        eval: |v| match (s(&v[0]), s(&v[1]), s(&v[2])) {
            (Some(x), Some(a), Some(b)) => text(x.replace(a, b)),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "INSTR",
        category: "STRING",
        signature: "INSTR(STRING, substring STRING)",
        description: "The position (from 1) of the first occurrence, or 0.",
        returns: |t| strings(t, 2, 2).map(|_| SqlType::Int),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some(sub)) => {
                Value::Int(x.find(sub).map_or(0, |i| x[..i].chars().count() as i32 + 1))
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "SPLIT",
        category: "STRING",
        signature: "SPLIT(STRING, delimiter STRING)",
        description: "The parts between delimiters, as an array.",
        returns: |t| strings(t, 2, 2).map(|_| SqlType::Array(Box::new(SqlType::String))),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some("")) => Value::Array(x.chars().map(|c| text(c.to_string())).collect()),
            (Some(x), Some(d)) => Value::Array(x.split(d).map(text).collect()),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "LPAD",
        category: "STRING",
        signature: "LPAD(STRING, length INT, padding STRING)",
        description: "Padded on the left to length (or cut to it).",
        returns: |t| {
            arity(t, 3, 3)?;
            Ok(SqlType::String)
        },
        eval: |v| pad(v, true),
    },
    ScalarFn {
        name: "RPAD",
        category: "STRING",
        signature: "RPAD(STRING, length INT, padding STRING)",
        description: "Padded on the right to length (or cut to it).",
        returns: |t| {
            arity(t, 3, 3)?;
            Ok(SqlType::String)
        },
        eval: |v| pad(v, false),
    },
    ScalarFn {
        name: "REGEXP_EXTRACT",
        category: "STRING",
        signature: "REGEXP_EXTRACT(pattern STRING, STRING [, group INT])",
        description: "The first match of a regular expression (or one of its groups).",
        returns: |t| {
            arity(t, 2, 3)?;
            Ok(SqlType::String)
        },
        eval: |v| {
            let (Some(p), Some(x)) = (s(&v[0]), s(&v[1])) else {
                return Value::Null;
            };
            let group = v.get(2).and_then(int).unwrap_or(0).max(0) as usize;
            regex::Regex::new(p)
                .ok()
                .and_then(|re| {
                    re.captures(x)
                        .and_then(|c| c.get(group).map(|m| text(m.as_str())))
                })
                .unwrap_or(Value::Null)
        },
    },
    ScalarFn {
        name: "REGEXP_REPLACE",
        category: "STRING",
        signature: "REGEXP_REPLACE(STRING, pattern STRING, replacement STRING)",
        description: "Every match of a regular expression replaced.",
        returns: |t| strings(t, 3, 3).map(|_| SqlType::String),
        eval: |v| match (s(&v[0]), s(&v[1]), s(&v[2])) {
            (Some(x), Some(p), Some(r)) => regex::Regex::new(p)
                .map_or(Value::Null, |re| text(re.replace_all(x, r).into_owned())),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "REGEXP_SPLIT_TO_ARRAY",
        category: "STRING",
        signature: "REGEXP_SPLIT_TO_ARRAY(STRING, pattern STRING)",
        description: "The parts between matches of a regular expression.",
        returns: |t| strings(t, 2, 2).map(|_| SqlType::Array(Box::new(SqlType::String))),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some(p)) => regex::Regex::new(p).map_or(Value::Null, |re| {
                Value::Array(re.split(x).map(text).collect())
            }),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "MASK",
        category: "STRING",
        signature: "MASK(STRING)",
        description: "Letters as X/x, digits as n, other characters as -.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::String),
        eval: |v| {
            s(&v[0]).map_or(Value::Null, |x| {
                text(
                    x.chars()
                        .map(|c| match c {
                            c if c.is_uppercase() => 'X',
                            c if c.is_lowercase() => 'x',
                            c if c.is_ascii_digit() => 'n',
                            _ => '-',
                        })
                        .collect::<String>(),
                )
            })
        },
    },
    ScalarFn {
        name: "CHR",
        category: "STRING",
        signature: "CHR(INT)",
        description: "The character of a Unicode code point.",
        returns: |t| {
            arity(t, 1, 1)?;
            Ok(SqlType::String)
        },
        eval: |v| {
            int(&v[0])
                .and_then(|n| u32::try_from(n).ok())
                .and_then(char::from_u32)
                .map_or(Value::Null, |c| text(c.to_string()))
        },
    },
    ScalarFn {
        name: "UUID",
        category: "STRING",
        signature: "UUID()",
        description: "A random UUID.",
        returns: |t| arity(t, 0, 0).map(|_| SqlType::String),
        eval: |_| {
            let a = random_u64();
            let b = random_u64();
            let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
            let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
            text(format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xffff,
                b >> 48,
                b & 0xffff_ffff_ffff
            ))
        },
    },
    // Null handling.
    ScalarFn {
        name: "COALESCE",
        category: "OTHER",
        signature: "COALESCE(a, b, …)",
        description: "The first argument that is not NULL.",
        returns: coalesce_type,
        eval: |v| {
            v.iter()
                .find(|x| !x.is_null())
                .cloned()
                .unwrap_or(Value::Null)
        },
    },
    ScalarFn {
        name: "IFNULL",
        category: "OTHER",
        signature: "IFNULL(expression, alternative)",
        description: "The alternative when the expression is NULL.",
        returns: |t| {
            arity(t, 2, 2)?;
            coalesce_type(t)
        },
        eval: |v| {
            if v[0].is_null() {
                v[1].clone()
            } else {
                v[0].clone()
            }
        },
    },
    ScalarFn {
        name: "NULLIF",
        category: "OTHER",
        signature: "NULLIF(a, b)",
        description: "NULL when a equals b, otherwise a.",
        returns: |t| {
            arity(t, 2, 2)?;
            Ok(t[0].clone())
        },
        eval: |v| {
            if v[0] == v[1] && !v[0].is_null() {
                Value::Null
            } else {
                v[0].clone()
            }
        },
    },
    // Math.
    ScalarFn {
        name: "ABS",
        category: "MATHEMATICAL",
        signature: "ABS(number)",
        description: "The absolute value.",
        returns: numeric1,
        eval: |v| match &v[0] {
            Value::Int(x) => x.checked_abs().map_or(Value::Null, Value::Int),
            Value::Bigint(x) => x.checked_abs().map_or(Value::Null, Value::Bigint),
            Value::Double(x) => Value::Double(x.abs()),
            Value::Decimal(u, s) => Value::Decimal(u.abs(), *s),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "CEIL",
        category: "MATHEMATICAL",
        signature: "CEIL(number)",
        description: "The smallest integer not below the number.",
        returns: numeric1,
        eval: |v| match &v[0] {
            Value::Double(x) => Value::Double(x.ceil()),
            Value::Decimal(u, s) => {
                let p = 10i128.pow(u32::from(*s));
                Value::Decimal((u.div_euclid(p) + i128::from(u.rem_euclid(p) != 0)) * p, *s)
            }
            other => other.clone(),
        },
    },
    ScalarFn {
        name: "FLOOR",
        category: "MATHEMATICAL",
        signature: "FLOOR(number)",
        description: "The largest integer not above the number.",
        returns: numeric1,
        eval: |v| match &v[0] {
            Value::Double(x) => Value::Double(x.floor()),
            Value::Decimal(u, s) => {
                let p = 10i128.pow(u32::from(*s));
                Value::Decimal(u.div_euclid(p) * p, *s)
            }
            other => other.clone(),
        },
    },
    ScalarFn {
        name: "ROUND",
        category: "MATHEMATICAL",
        signature: "ROUND(number [, places INT])",
        description: "Rounded half up (to places after the point).",
        returns: |t| {
            arity(t, 1, 2)?;
            want(&t[0], t[0].is_numeric(), "a number")?;
            Ok(match (&t[0], t.len()) {
                (SqlType::Double, 1) => SqlType::Bigint,
                (SqlType::Int, 1) => SqlType::Int,
                (other, _) => other.clone(),
            })
        },
        eval: |v| {
            let places = match v.get(1) {
                Some(p) => match int(p) {
                    Some(p) => p,
                    None => return Value::Null,
                },
                None => 0,
            };
            round_value(&v[0], places)
        },
    },
    ScalarFn {
        name: "TRUNC",
        category: "MATHEMATICAL",
        signature: "TRUNC(number)",
        description: "Without its fraction.",
        returns: numeric1,
        eval: |v| match &v[0] {
            Value::Double(x) => Value::Double(x.trunc()),
            Value::Decimal(u, s) => {
                let p = 10i128.pow(u32::from(*s));
                Value::Decimal(u / p * p, *s)
            }
            other => other.clone(),
        },
    },
    ScalarFn {
        name: "SQRT",
        category: "MATHEMATICAL",
        signature: "SQRT(number)",
        description: "The square root.",
        returns: double1,
        eval: |v| math(v, f64::sqrt),
    },
    ScalarFn {
        name: "EXP",
        category: "MATHEMATICAL",
        signature: "EXP(number)",
        description: "e to the power of the number.",
        returns: double1,
        eval: |v| math(v, f64::exp),
    },
    ScalarFn {
        name: "LN",
        category: "MATHEMATICAL",
        signature: "LN(number)",
        description: "The natural logarithm.",
        returns: double1,
        eval: |v| math(v, f64::ln),
    },
    ScalarFn {
        name: "LOG",
        category: "MATHEMATICAL",
        signature: "LOG([base,] number)",
        description: "The logarithm (natural, or to a base).",
        returns: |t| {
            arity(t, 1, 2)?;
            Ok(SqlType::Double)
        },
        eval: |v| match v {
            [x] => math(v, f64::ln).or_null_if(x.is_null()),
            [b, x] => match (b.as_f64(), x.as_f64()) {
                (Some(b), Some(x)) => Value::Double(x.ln() / b.ln()),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "POWER",
        category: "MATHEMATICAL",
        signature: "POWER(base, exponent)",
        description: "base to the power of exponent.",
        returns: |t| {
            arity(t, 2, 2)?;
            Ok(SqlType::Double)
        },
        eval: |v| match (v[0].as_f64(), v[1].as_f64()) {
            (Some(b), Some(e)) => Value::Double(b.powf(e)),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "SIGN",
        category: "MATHEMATICAL",
        signature: "SIGN(number)",
        description: "-1, 0 or 1.",
        returns: |t| {
            arity(t, 1, 1)?;
            Ok(SqlType::Int)
        },
        eval: |v| {
            v[0].as_f64().map_or(Value::Null, |x| {
                Value::Int(if x > 0.0 {
                    1
                } else if x < 0.0 {
                    -1
                } else {
                    0
                })
            })
        },
    },
    ScalarFn {
        name: "RANDOM",
        category: "MATHEMATICAL",
        signature: "RANDOM()",
        description: "A random DOUBLE in [0, 1).",
        returns: |t| arity(t, 0, 0).map(|_| SqlType::Double),
        eval: |_| Value::Double((random_u64() >> 11) as f64 / (1u64 << 53) as f64),
    },
    ScalarFn {
        name: "GREATEST",
        category: "MATHEMATICAL",
        signature: "GREATEST(a, b, …)",
        description: "The largest argument (NULLs ignored).",
        returns: coalesce_type,
        eval: |v| {
            v.iter().filter(|x| !x.is_null()).fold(Value::Null, |m, x| {
                if m.is_null() || x.sql_cmp(&m) == Some(std::cmp::Ordering::Greater) {
                    x.clone()
                } else {
                    m
                }
            })
        },
    },
    ScalarFn {
        name: "LEAST",
        category: "MATHEMATICAL",
        signature: "LEAST(a, b, …)",
        description: "The smallest argument (NULLs ignored).",
        returns: coalesce_type,
        eval: |v| {
            v.iter().filter(|x| !x.is_null()).fold(Value::Null, |m, x| {
                if m.is_null() || x.sql_cmp(&m) == Some(std::cmp::Ordering::Less) {
                    x.clone()
                } else {
                    m
                }
            })
        },
    },
    // Date and time.
    ScalarFn {
        name: "TIMESTAMPTOSTRING",
        category: "DATE / TIME",
        signature: "TIMESTAMPTOSTRING(epochMilli BIGINT, format STRING [, timeZone STRING])",
        description: "Milliseconds since the epoch as text in a Java date format.",
        returns: |t| {
            arity(t, 2, 3)?;
            Ok(SqlType::String)
        },
        eval: |v| match (timestamp_arg(&v[0]), s(&v[1])) {
            (Some(ms), Some(f)) => {
                time::format_millis(ms, f, v.get(2).and_then(s)).map_or(Value::Null, text)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "STRINGTOTIMESTAMP",
        category: "DATE / TIME",
        signature: "STRINGTOTIMESTAMP(text STRING, format STRING [, timeZone STRING])",
        description: "Text in a Java date format as milliseconds since the epoch (BIGINT).",
        returns: |t| strings(t, 2, 3).map(|_| SqlType::Bigint),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some(f)) => {
                time::parse_millis(x, f, v.get(2).and_then(s)).map_or(Value::Null, Value::Bigint)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "PARSE_TIMESTAMP",
        category: "DATE / TIME",
        signature: "PARSE_TIMESTAMP(text STRING, format STRING [, timeZone STRING])",
        description: "Text in a Java date format as a TIMESTAMP.",
        returns: |t| strings(t, 2, 3).map(|_| SqlType::Timestamp),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some(f)) => {
                time::parse_millis(x, f, v.get(2).and_then(s)).map_or(Value::Null, Value::Timestamp)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "FORMAT_TIMESTAMP",
        category: "DATE / TIME",
        signature: "FORMAT_TIMESTAMP(TIMESTAMP, format STRING [, timeZone STRING])",
        description: "A TIMESTAMP as text in a Java date format.",
        returns: |t| {
            arity(t, 2, 3)?;
            want(&t[0], t[0] == SqlType::Timestamp, "TIMESTAMP")?;
            Ok(SqlType::String)
        },
        eval: |v| match (&v[0], s(&v[1])) {
            (Value::Timestamp(ms), Some(f)) => {
                time::format_millis(*ms, f, v.get(2).and_then(s)).map_or(Value::Null, text)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "CONVERT_TZ",
        category: "DATE / TIME",
        signature: "CONVERT_TZ(TIMESTAMP, fromTimeZone STRING, toTimeZone STRING)",
        description: "A TIMESTAMP read as a wall-clock time in one zone, as the wall-clock time in another at the same instant.",
        returns: |t| {
            arity(t, 3, 3)?;
            want(&t[0], t[0] == SqlType::Timestamp, "TIMESTAMP")?;
            Ok(SqlType::Timestamp)
        },
        eval: |v| match (&v[0], s(&v[1]), s(&v[2])) {
            (Value::Timestamp(ms), Some(from), Some(to)) => {
                time::convert_zone(*ms, from, to).map_or(Value::Null, Value::Timestamp)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "UNIX_TIMESTAMP",
        category: "DATE / TIME",
        signature: "UNIX_TIMESTAMP([TIMESTAMP])",
        description: "Milliseconds since the epoch, now or of a TIMESTAMP.",
        returns: |t| arity(t, 0, 1).map(|_| SqlType::Bigint),
        eval: |v| match v.first() {
            None => Value::Bigint(time::now_millis()),
            Some(x) => timestamp_arg(x).map_or(Value::Null, Value::Bigint),
        },
    },
    ScalarFn {
        name: "UNIX_DATE",
        category: "DATE / TIME",
        signature: "UNIX_DATE([DATE])",
        description: "Days since the epoch, today or of a DATE.",
        returns: |t| arity(t, 0, 1).map(|_| SqlType::Int),
        eval: |v| match v.first() {
            None => Value::Int(time::now_millis().div_euclid(86_400_000) as i32),
            Some(Value::Date(d)) => Value::Int(*d),
            Some(_) => Value::Null,
        },
    },
    ScalarFn {
        name: "FROM_UNIXTIME",
        category: "DATE / TIME",
        signature: "FROM_UNIXTIME(epochMilli BIGINT)",
        description: "Milliseconds since the epoch as a TIMESTAMP.",
        returns: |t| arity(t, 1, 1).map(|_| SqlType::Timestamp),
        eval: |v| int(&v[0]).map_or(Value::Null, Value::Timestamp),
    },
    ScalarFn {
        name: "FROM_DAYS",
        category: "DATE / TIME",
        signature: "FROM_DAYS(days INT)",
        description: "Days since the epoch as a DATE.",
        returns: |t| arity(t, 1, 1).map(|_| SqlType::Date),
        eval: |v| {
            int(&v[0])
                .and_then(|d| i32::try_from(d).ok())
                .map_or(Value::Null, Value::Date)
        },
    },
    ScalarFn {
        name: "DATETOSTRING",
        category: "DATE / TIME",
        signature: "DATETOSTRING(days INT, format STRING)",
        description: "Days since the epoch as text in a Java date format.",
        returns: |t| arity(t, 2, 2).map(|_| SqlType::String),
        eval: |v| match (int(&v[0]), s(&v[1])) {
            (Some(d), Some(f)) => {
                time::format_millis(d * 86_400_000, f, None).map_or(Value::Null, text)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "STRINGTODATE",
        category: "DATE / TIME",
        signature: "STRINGTODATE(text STRING, format STRING)",
        description: "Text in a Java date format as days since the epoch (INT).",
        returns: |t| strings(t, 2, 2).map(|_| SqlType::Int),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some(f)) => time::parse_millis(x, f, None).map_or(Value::Null, |ms| {
                Value::Int(ms.div_euclid(86_400_000) as i32)
            }),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "PARSE_DATE",
        category: "DATE / TIME",
        signature: "PARSE_DATE(text STRING, format STRING)",
        description: "Text in a Java date format as a DATE.",
        returns: |t| strings(t, 2, 2).map(|_| SqlType::Date),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(x), Some(f)) => time::parse_millis(x, f, None).map_or(Value::Null, |ms| {
                Value::Date(ms.div_euclid(86_400_000) as i32)
            }),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "FORMAT_DATE",
        category: "DATE / TIME",
        signature: "FORMAT_DATE(DATE, format STRING)",
        description: "A DATE as text in a Java date format.",
        returns: |t| arity(t, 2, 2).map(|_| SqlType::String),
        eval: |v| match (&v[0], s(&v[1])) {
            (Value::Date(d), Some(f)) => {
                time::format_millis(i64::from(*d) * 86_400_000, f, None).map_or(Value::Null, text)
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "TIMESTAMPADD",
        category: "DATE / TIME",
        signature: "TIMESTAMPADD(unit, n INT, TIMESTAMP)",
        description: "A TIMESTAMP plus n units (the unit as a string such as 'HOURS').",
        returns: |t| arity(t, 3, 3).map(|_| SqlType::Timestamp),
        eval: |v| match (
            s(&v[0]).and_then(time::unit_millis),
            int(&v[1]),
            timestamp_arg(&v[2]),
        ) {
            (Some(u), Some(n), Some(ts)) => n
                .checked_mul(u)
                .and_then(|d| ts.checked_add(d))
                .map_or(Value::Null, Value::Timestamp),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "TIMESTAMPSUB",
        category: "DATE / TIME",
        signature: "TIMESTAMPSUB(unit, n INT, TIMESTAMP)",
        description: "A TIMESTAMP minus n units.",
        returns: |t| arity(t, 3, 3).map(|_| SqlType::Timestamp),
        eval: |v| match (
            s(&v[0]).and_then(time::unit_millis),
            int(&v[1]),
            timestamp_arg(&v[2]),
        ) {
            (Some(u), Some(n), Some(ts)) => n
                .checked_mul(u)
                .and_then(|d| ts.checked_sub(d))
                .map_or(Value::Null, Value::Timestamp),
            _ => Value::Null,
        },
    },
    // JSON.
    ScalarFn {
        name: "EXTRACTJSONFIELD",
        category: "JSON",
        signature: "EXTRACTJSONFIELD(json STRING, path STRING)",
        description: "The value at a JSONPath ($.a.b[0]) as text.",
        returns: |t| strings(t, 2, 2).map(|_| SqlType::String),
        eval: |v| match (s(&v[0]), s(&v[1])) {
            (Some(j), Some(p)) => serde_json::from_str::<serde_json::Value>(j)
                .ok()
                .and_then(|root| json_path(&root, p).map(json_text))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "IS_JSON_STRING",
        category: "JSON",
        signature: "IS_JSON_STRING(STRING)",
        description: "Whether the text is valid JSON.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::Boolean),
        eval: |v| {
            s(&v[0]).map_or(Value::Boolean(false), |j| {
                Value::Boolean(serde_json::from_str::<serde_json::Value>(j).is_ok())
            })
        },
    },
    ScalarFn {
        name: "JSON_ARRAY_LENGTH",
        category: "JSON",
        signature: "JSON_ARRAY_LENGTH(json STRING)",
        description: "The length of a JSON array.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::Int),
        eval: |v| match s(&v[0]).and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()) {
            Some(serde_json::Value::Array(a)) => Value::Int(a.len() as i32),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "JSON_KEYS",
        category: "JSON",
        signature: "JSON_KEYS(json STRING)",
        description: "The keys of a JSON object.",
        returns: |t| strings(t, 1, 1).map(|_| SqlType::Array(Box::new(SqlType::String))),
        eval: |v| match s(&v[0]).and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()) {
            Some(serde_json::Value::Object(o)) => Value::Array(o.keys().map(text).collect()),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "TO_JSON_STRING",
        category: "JSON",
        signature: "TO_JSON_STRING(any)",
        description: "A value as JSON text.",
        returns: |t| arity(t, 1, 1).map(|_| SqlType::String),
        eval: |v| text(crate::format::json::value_to_json(&v[0], None).to_string()),
    },
    // Arrays and maps.
    ScalarFn {
        name: "ARRAY_LENGTH",
        category: "ARRAY",
        signature: "ARRAY_LENGTH(ARRAY)",
        description: "The number of elements.",
        returns: |t| arity(t, 1, 1).map(|_| SqlType::Int),
        eval: |v| array_of(&v[0]).map_or(Value::Null, |a| Value::Int(a.len() as i32)),
    },
    ScalarFn {
        name: "ARRAY_CONTAINS",
        category: "ARRAY",
        signature: "ARRAY_CONTAINS(ARRAY, value)",
        description: "Whether the array holds the value.",
        returns: |t| arity(t, 2, 2).map(|_| SqlType::Boolean),
        eval: |v| {
            array_of(&v[0]).map_or(Value::Boolean(false), |a| {
                Value::Boolean(a.iter().any(|x| *x == v[1]))
            })
        },
    },
    ScalarFn {
        name: "ARRAY_DISTINCT",
        category: "ARRAY",
        signature: "ARRAY_DISTINCT(ARRAY)",
        description: "Without repeated elements, in first-seen order.",
        returns: |t| {
            arity(t, 1, 1)?;
            same_as_first_array(t)
        },
        eval: |v| array_of(&v[0]).map_or(Value::Null, |a| Value::Array(distinct(a.clone()))),
    },
    ScalarFn {
        name: "ARRAY_MAX",
        category: "ARRAY",
        signature: "ARRAY_MAX(ARRAY)",
        description: "The largest element.",
        returns: |t| arity(t, 1, 1).map(|_| array_element(&t[0])),
        eval: |v| {
            array_of(&v[0])
                .and_then(|a| {
                    a.iter()
                        .filter(|x| !x.is_null())
                        .max_by(|x, y| x.sql_cmp(y).unwrap_or(std::cmp::Ordering::Equal))
                        .cloned()
                })
                .unwrap_or(Value::Null)
        },
    },
    ScalarFn {
        name: "ARRAY_MIN",
        category: "ARRAY",
        signature: "ARRAY_MIN(ARRAY)",
        description: "The smallest element.",
        returns: |t| arity(t, 1, 1).map(|_| array_element(&t[0])),
        eval: |v| {
            array_of(&v[0])
                .and_then(|a| {
                    a.iter()
                        .filter(|x| !x.is_null())
                        .min_by(|x, y| x.sql_cmp(y).unwrap_or(std::cmp::Ordering::Equal))
                        .cloned()
                })
                .unwrap_or(Value::Null)
        },
    },
    ScalarFn {
        name: "ARRAY_SORT",
        category: "ARRAY",
        signature: "ARRAY_SORT(ARRAY [, 'ASC' | 'DESC'])",
        description: "Sorted, NULLs last.",
        returns: |t| {
            arity(t, 1, 2)?;
            same_as_first_array(t)
        },
        eval: |v| {
            let Some(a) = array_of(&v[0]) else {
                return Value::Null;
            };
            let desc = v
                .get(1)
                .and_then(s)
                .is_some_and(|d| d.eq_ignore_ascii_case("DESC"));
            let mut items: Vec<Value> = a.iter().filter(|x| !x.is_null()).cloned().collect();
            items.sort_by(|x, y| x.sql_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
            if desc {
                items.reverse();
            }
            items.extend(a.iter().filter(|x| x.is_null()).cloned());
            Value::Array(items)
        },
    },
    ScalarFn {
        name: "ARRAY_JOIN",
        category: "ARRAY",
        signature: "ARRAY_JOIN(ARRAY [, delimiter STRING])",
        description: "The elements as text joined with a delimiter (',' by default).",
        returns: |t| arity(t, 1, 2).map(|_| SqlType::String),
        eval: |v| {
            let Some(a) = array_of(&v[0]) else {
                return Value::Null;
            };
            let d = v.get(1).and_then(s).unwrap_or(",");
            text(a.iter().map(Value::to_text).collect::<Vec<_>>().join(d))
        },
    },
    ScalarFn {
        name: "ARRAY_REMOVE",
        category: "ARRAY",
        signature: "ARRAY_REMOVE(ARRAY, value)",
        description: "Without the elements equal to the value.",
        returns: |t| {
            arity(t, 2, 2)?;
            same_as_first_array(t)
        },
        eval: |v| {
            array_of(&v[0]).map_or(Value::Null, |a| {
                Value::Array(
                    a.iter()
                        .filter(|x| **x != v[1] || (x.is_null() != v[1].is_null()))
                        .cloned()
                        .collect(),
                )
            })
        },
    },
    ScalarFn {
        name: "ARRAY_UNION",
        category: "ARRAY",
        signature: "ARRAY_UNION(ARRAY, ARRAY)",
        description: "The distinct elements of both.",
        returns: |t| {
            arity(t, 2, 2)?;
            same_as_first_array(t)
        },
        eval: |v| match (array_of(&v[0]), array_of(&v[1])) {
            (Some(a), Some(b)) => Value::Array(distinct(a.iter().chain(b).cloned().collect())),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "ARRAY_INTERSECT",
        category: "ARRAY",
        signature: "ARRAY_INTERSECT(ARRAY, ARRAY)",
        description: "The distinct elements in both.",
        returns: |t| {
            arity(t, 2, 2)?;
            same_as_first_array(t)
        },
        eval: |v| match (array_of(&v[0]), array_of(&v[1])) {
            (Some(a), Some(b)) => Value::Array(distinct(
                a.iter().filter(|x| b.contains(x)).cloned().collect(),
            )),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "ARRAY_EXCEPT",
        category: "ARRAY",
        signature: "ARRAY_EXCEPT(ARRAY, ARRAY)",
        description: "The distinct elements of the first not in the second.",
        returns: |t| {
            arity(t, 2, 2)?;
            same_as_first_array(t)
        },
        eval: |v| match (array_of(&v[0]), array_of(&v[1])) {
            (Some(a), Some(b)) => Value::Array(distinct(
                a.iter().filter(|x| !b.contains(x)).cloned().collect(),
            )),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "ARRAY_CONCAT",
        category: "ARRAY",
        signature: "ARRAY_CONCAT(ARRAY, ARRAY)",
        description: "The elements of both, in order.",
        returns: |t| {
            arity(t, 2, 2)?;
            same_as_first_array(t)
        },
        eval: |v| match (&v[0], &v[1]) {
            (Value::Array(a), Value::Array(b)) => {
                Value::Array(a.iter().chain(b).cloned().collect())
            }
            (Value::Array(a), Value::Null) | (Value::Null, Value::Array(a)) => {
                Value::Array(a.clone())
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "SLICE",
        category: "ARRAY",
        signature: "SLICE(ARRAY, from INT, to INT)",
        description: "The elements from..to (from 1, inclusive).",
        returns: |t| {
            arity(t, 3, 3)?;
            same_as_first_array(t)
        },
        eval: |v| match (array_of(&v[0]), int(&v[1]), int(&v[2])) {
            (Some(a), Some(from), Some(to)) => {
                let from = (from.max(1) - 1) as usize;
                let to = (to.max(0) as usize).min(a.len());
                Value::Array(if from < to {
                    a[from..to].to_vec()
                } else {
                    Vec::new()
                })
            }
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "GENERATE_SERIES",
        category: "ARRAY",
        signature: "GENERATE_SERIES(start, end [, step])",
        description: "The integers from start to end (inclusive).",
        returns: |t| {
            arity(t, 2, 3)?;
            Ok(SqlType::Array(Box::new(if t.contains(&SqlType::Bigint) {
                SqlType::Bigint
            } else {
                SqlType::Int
            })))
        },
        eval: |v| {
            let (Some(a), Some(b)) = (int(&v[0]), int(&v[1])) else {
                return Value::Null;
            };
            let step = v
                .get(2)
                .and_then(int)
                .unwrap_or(if b >= a { 1 } else { -1 });
            if step == 0 || (b - a).signum() * step.signum() < 0 || (b - a) / step > 1_000_000 {
                return Value::Null;
            }
            let big = matches!(v[0], Value::Bigint(_)) || matches!(v[1], Value::Bigint(_));
            let mut out = Vec::new();
            let mut x = a;
            while (step > 0 && x <= b) || (step < 0 && x >= b) {
                out.push(if big {
                    Value::Bigint(x)
                } else {
                    Value::Int(x as i32)
                });
                x += step;
            }
            Value::Array(out)
        },
    },
    ScalarFn {
        name: "MAP_KEYS",
        category: "MAP",
        signature: "MAP_KEYS(MAP)",
        description: "The keys, as an array.",
        returns: |t| {
            arity(t, 1, 1)?;
            match &t[0] {
                SqlType::Map(k, _) => Ok(SqlType::Array(k.clone())),
                other => Err(format!("expected a MAP, got {other}")),
            }
        },
        eval: |v| match &v[0] {
            Value::Map(m) => Value::Array(m.iter().map(|(k, _)| k.clone()).collect()),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "MAP_VALUES",
        category: "MAP",
        signature: "MAP_VALUES(MAP)",
        description: "The values, as an array.",
        returns: |t| {
            arity(t, 1, 1)?;
            match &t[0] {
                SqlType::Map(_, v) => Ok(SqlType::Array(v.clone())),
                other => Err(format!("expected a MAP, got {other}")),
            }
        },
        eval: |v| match &v[0] {
            Value::Map(m) => Value::Array(m.iter().map(|(_, x)| x.clone()).collect()),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "MAP_UNION",
        category: "MAP",
        signature: "MAP_UNION(MAP, MAP)",
        description: "The entries of both; the second wins on equal keys.",
        returns: |t| {
            arity(t, 2, 2)?;
            Ok(t[0].clone())
        },
        eval: |v| match (&v[0], &v[1]) {
            (Value::Map(a), Value::Map(b)) => {
                let mut out: Vec<(Value, Value)> = a
                    .iter()
                    .filter(|(k, _)| !b.iter().any(|(k2, _)| k2 == k))
                    .cloned()
                    .collect();
                out.extend(b.iter().cloned());
                Value::Map(out)
            }
            (Value::Map(a), Value::Null) | (Value::Null, Value::Map(a)) => Value::Map(a.clone()),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "AS_MAP",
        category: "MAP",
        signature: "AS_MAP(keys ARRAY, values ARRAY)",
        description: "A map from parallel arrays of keys and values.",
        returns: |t| {
            arity(t, 2, 2)?;
            Ok(SqlType::Map(
                Box::new(array_element(&t[0])),
                Box::new(array_element(&t[1])),
            ))
        },
        eval: |v| match (array_of(&v[0]), array_of(&v[1])) {
            (Some(k), Some(x)) => Value::Map(k.iter().cloned().zip(x.iter().cloned()).collect()),
            _ => Value::Null,
        },
    },
    ScalarFn {
        name: "ELT",
        category: "OTHER",
        signature: "ELT(n INT, STRING, …)",
        description: "The n-th string argument (from 1).",
        returns: |t| {
            arity(t, 1, usize::MAX)?;
            Ok(SqlType::String)
        },
        eval: |v| {
            int(&v[0])
                .and_then(|n| {
                    if n >= 1 {
                        v.get(n as usize).cloned()
                    } else {
                        None
                    }
                })
                .unwrap_or(Value::Null)
        },
    },
    ScalarFn {
        name: "FIELD",
        category: "OTHER",
        signature: "FIELD(STRING, STRING, …)",
        description: "The position (from 1) of the first argument among the others, or 0.",
        returns: |t| {
            arity(t, 1, usize::MAX)?;
            Ok(SqlType::Int)
        },
        eval: |v| {
            if v[0].is_null() {
                return Value::Int(0);
            }
            Value::Int(
                v[1..]
                    .iter()
                    .position(|x| *x == v[0])
                    .map_or(0, |i| i as i32 + 1),
            )
        },
    },
    ScalarFn {
        name: "TYPEOF",
        category: "OTHER",
        signature: "TYPEOF(any)",
        description: "The value's type name.",
        returns: |t| arity(t, 1, 1).map(|_| SqlType::String),
        eval: |v| text(v[0].natural_type().kind_name()),
    },
];

trait OrNull {
    fn or_null_if(self, null: bool) -> Value;
}

impl OrNull for Value {
    fn or_null_if(self, null: bool) -> Value {
        if null { Value::Null } else { self }
    }
}

/// A random number from the thread's xorshift state (seeded from the clock and the thread).
fn random_u64() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
            let here = &t as *const u64 as u64;
            (t ^ here.rotate_left(32)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

#[cfg(test)]
mod tests {
    use crate::expr::{Scope, compile};
    use crate::parser::parse_expression;
    use crate::value::Value;

    fn eval(text: &str) -> Value {
        let (c, _) = compile(&parse_expression(text).unwrap(), &Scope::default()).unwrap();
        c.eval(&[])
    }

    #[test]
    fn functions_people_use() {
        assert_eq!(eval("UCASE('abc')"), Value::string("ABC"));
        assert_eq!(eval("SUBSTRING('hello', 2, 3)"), Value::string("ell"));
        assert_eq!(eval("SUBSTRING('hello', -3)"), Value::string("llo"));
        assert_eq!(eval("CONCAT('a', NULL, 'b')"), Value::string("ab"));
        assert_eq!(eval("LPAD('7', 3, '0')"), Value::string("007"));
        assert_eq!(eval("COALESCE(NULL, 2, 3)"), Value::Int(2));
        assert_eq!(eval("IFNULL(NULL, 'x')"), Value::string("x"));
        assert_eq!(eval("ROUND(2.5E0)"), Value::Bigint(3));
        assert_eq!(eval("ROUND(1.2345E0, 2)"), Value::Double(1.23));
        assert_eq!(eval("ABS(-4)"), Value::Int(4));
        assert_eq!(
            eval("TIMESTAMPTOSTRING(1577873730250, 'yyyy-MM-dd HH:mm:ss')"),
            Value::string("2020-01-01 10:15:30")
        );
        assert_eq!(
            eval("STRINGTOTIMESTAMP('2020-01-01 10:15:30', 'yyyy-MM-dd HH:mm:ss')"),
            Value::Bigint(1_577_873_730_000)
        );
        // The course's rides are New York times.
        assert_eq!(
            eval("TIMESTAMPTOSTRING(1577873730250, 'yyyy-MM-dd HH:mm:ss', 'America/New_York')"),
            Value::string("2020-01-01 05:15:30")
        );
        assert_eq!(
            eval("CONVERT_TZ(FROM_UNIXTIME(1577873730250), 'UTC', 'America/New_York')"),
            Value::Timestamp(1_577_873_730_250 - 5 * 3_600_000)
        );
        assert_eq!(
            eval("TIMESTAMPTOSTRING(1577873730250, 'yyyy', 'Nowhere/Atlantis')"),
            Value::Null
        );
        assert_eq!(
            eval(
                "FORMAT_TIMESTAMP(PARSE_TIMESTAMP('2020-01-01 10:15', 'yyyy-MM-dd HH:mm'), 'HH:mm')"
            ),
            Value::string("10:15")
        );
        assert_eq!(
            eval("EXTRACTJSONFIELD('{\"a\":{\"b\":[5,6]}}', '$.a.b[1]')"),
            Value::string("6")
        );
        assert_eq!(eval("ARRAY_LENGTH(ARRAY[1,2,3])"), Value::Int(3));
        assert_eq!(
            eval("ARRAY_JOIN(ARRAY_SORT(ARRAY[3,1,2]), '-')"),
            Value::string("1-2-3")
        );
        assert_eq!(
            eval("MAP_KEYS(MAP('a' := 1))"),
            Value::Array(vec![Value::string("a")])
        );
        assert_eq!(
            eval("REGEXP_EXTRACT('(\\d+)', 'ab12c', 1)"),
            Value::string("12")
        );
    }
}
