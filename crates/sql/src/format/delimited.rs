//! The DELIMITED format: a row's columns in order, separated by a delimiter (`,` by default),
//! fields with the delimiter, quotes or line breaks double-quoted (RFC 4180).

use crate::expr::cast;
use crate::types::SqlType;
use crate::value::{Row, Value};

/// Reads one delimited line into a row of `columns`.
pub fn read_row(
    bytes: &[u8],
    columns: &[(String, SqlType)],
    delimiter: char,
) -> Result<Row, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the record is not UTF-8".to_string())?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let fields = split(text, delimiter)?;
    if fields.len() != columns.len() {
        return Err(format!(
            "Unexpected field count, csvFields:{} schemaFields:{}",
            fields.len(),
            columns.len()
        ));
    }
    fields
        .into_iter()
        .zip(columns)
        .map(|(f, (name, ty))| match f {
            None => Ok(Value::Null),
            Some(f) => {
                let v = match ty {
                    SqlType::String => Value::string(&f),
                    SqlType::Timestamp if f.bytes().all(|b| b.is_ascii_digit()) => {
                        f.parse().map_or(Value::Null, Value::Timestamp)
                    }
                    SqlType::Bytes => crate::functions::base64_decode(&f)
                        .map_or(Value::Null, |b| Value::Bytes(b.into())),
                    ty => cast(Value::string(&f), ty),
                };
                if v.is_null() {
                    Err(format!("column {name}: '{f}' is not a {ty}"))
                } else {
                    Ok(v)
                }
            }
        })
        .collect()
}

/// The fields of a line; an empty unquoted field is NULL.
fn split(text: &str, delimiter: char) -> Result<Vec<Option<String>>, String> {
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut field = String::new();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".into()),
                }
            }
            fields.push(Some(field));
            match chars.next() {
                None => return Ok(fields),
                Some(c) if c == delimiter => continue,
                Some(c) => return Err(format!("unexpected '{c}' after a quoted field")),
            }
        }
        let mut field = String::new();
        let mut ended = true;
        for c in chars.by_ref() {
            if c == delimiter {
                ended = false;
                break;
            }
            field.push(c);
        }
        fields.push(if field.is_empty() { None } else { Some(field) });
        if ended {
            return Ok(fields);
        }
    }
}

/// Writes a row as one delimited line.
pub fn write_row(out: &mut Vec<u8>, row: &[Value], delimiter: char) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            let mut buf = [0u8; 4];
            out.extend_from_slice(delimiter.encode_utf8(&mut buf).as_bytes());
        }
        let text = match v {
            Value::Null => continue,
            Value::Timestamp(t) | Value::Time(t) => t.to_string(),
            Value::Date(d) => d.to_string(),
            other => other.to_text(),
        };
        if text.contains([delimiter, '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_and_write() {
        let cols = vec![
            ("A".to_string(), SqlType::Int),
            ("B".to_string(), SqlType::String),
            ("C".to_string(), SqlType::Double),
        ];
        let row = read_row(b"1,\"x, \"\"y\"\"\",2.5", &cols, ',').unwrap();
        assert_eq!(
            row,
            vec![Value::Int(1), Value::string("x, \"y\""), Value::Double(2.5)]
        );
        let mut out = Vec::new();
        write_row(&mut out, &row, ',');
        assert_eq!(out, b"1,\"x, \"\"y\"\"\",2.5");
        assert_eq!(read_row(b"1,,", &cols, ',').unwrap()[1], Value::Null);
        assert!(
            read_row(b"1,2", &cols, ',')
                .unwrap_err()
                .contains("field count")
        );
        assert!(
            read_row(b"x,a,1", &cols, ',')
                .unwrap_err()
                .contains("not a INTEGER")
        );
    }
}
