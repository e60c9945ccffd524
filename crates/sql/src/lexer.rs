//! Splits statement text into tokens, each with its line and column (1-based), as ksqlDB's
//! grammar reads it: unquoted identifiers are upper-cased, `` `quoted` `` and `"quoted"`
//! identifiers keep their case, strings are single-quoted with `''` for a quote, and `--` and
//! `/* */` are comments.

use crate::error::SqlError;

/// Where a token starts in the statement text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A word: a keyword or an unquoted identifier, upper-cased.
    Word(String),
    /// A quoted identifier, as written.
    QuotedIdent(String),
    /// A string literal, unescaped.
    Str(String),
    /// An integer literal.
    Integer(String),
    /// A literal with a decimal point or an exponent.
    Number(String),
    /// Punctuation or an operator.
    Symbol(&'static str),
    /// The end of the text.
    End,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it starts.
    pub at: Position,
    /// Byte offset of its start in the text.
    pub offset: usize,
}

impl Token {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Word(w) => format!("'{w}'"),
            TokenKind::QuotedIdent(w) => format!("'`{w}`'"),
            TokenKind::Str(s) => format!("''{s}''"),
            TokenKind::Integer(n) | TokenKind::Number(n) => format!("'{n}'"),
            TokenKind::Symbol(s) => format!("'{s}'"),
            TokenKind::End => "<EOF>".to_string(),
        }
    }
}

const SYMBOLS: [&str; 22] = [
    "=>", "->", "<>", "!=", "<=", ">=", "||", ":=", "(", ")", ",", ";", ".", "*", "+", "-", "/",
    "%", "=", "<", ">", "[",
];

/// The tokens of `text`, ending with [`TokenKind::End`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, SqlError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let (mut line, mut line_start) = (1, 0);
    let at = |i: usize, line: usize, line_start: usize| Position {
        line,
        column: text[line_start..i].chars().count() + 1,
    };
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            i += 1;
            line += 1;
            line_start = i;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if text[i..].starts_with("--") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if text[i..].starts_with("/*") {
            let start = at(i, line, line_start);
            let Some(end) = text[i + 2..].find("*/") else {
                return Err(SqlError::syntax(
                    start,
                    "a comment is not closed: expected '*/'",
                ));
            };
            for (j, b) in bytes[i..i + 2 + end].iter().enumerate() {
                if *b == b'\n' {
                    line += 1;
                    line_start = i + j + 1;
                }
            }
            i += end + 4;
            continue;
        }
        let start = at(i, line, line_start);
        let offset = i;
        let kind = if c == b'\'' || c == b'`' || c == b'"' {
            let mut value = String::new();
            let mut j = i + 1;
            loop {
                let Some(ch) = text[j..].chars().next() else {
                    let what = if c == b'\'' {
                        "a string"
                    } else {
                        "a quoted identifier"
                    };
                    return Err(SqlError::syntax(
                        start,
                        format!("{what} is not closed: expected {}", c as char),
                    ));
                };
                if ch as u32 == u32::from(c) {
                    if bytes.get(j + 1) == Some(&c) {
                        value.push(ch);
                        j += 2;
                        continue;
                    }
                    j += 1;
                    break;
                }
                if ch == '\n' {
                    line += 1;
                    line_start = j + 1;
                }
                value.push(ch);
                j += ch.len_utf8();
            }
            i = j;
            if c == b'\'' {
                TokenKind::Str(value)
            } else {
                TokenKind::QuotedIdent(value)
            }
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let mut j = i;
            let mut decimal = false;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j < bytes.len()
                && bytes[j] == b'.'
                && bytes
                    .get(j + 1)
                    .is_none_or(|b| !b.is_ascii_alphabetic() || b.eq_ignore_ascii_case(&b'e'))
            {
                decimal = true;
                j += 1;
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < bytes.len() && (bytes[j] == b'e' || bytes[j] == b'E') {
                let mut k = j + 1;
                if k < bytes.len() && (bytes[k] == b'+' || bytes[k] == b'-') {
                    k += 1;
                }
                if k < bytes.len() && bytes[k].is_ascii_digit() {
                    decimal = true;
                    j = k;
                    while j < bytes.len() && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                }
            }
            let literal = text[i..j].to_string();
            i = j;
            if decimal {
                TokenKind::Number(literal)
            } else {
                TokenKind::Integer(literal)
            }
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'@' || c >= 0x80 {
            let mut j = i;
            while j < bytes.len()
                && (bytes[j].is_ascii_alphanumeric()
                    || bytes[j] == b'_'
                    || bytes[j] == b'@'
                    || bytes[j] >= 0x80)
            {
                j += 1;
            }
            let word = text[i..j].to_uppercase();
            i = j;
            TokenKind::Word(word)
        } else if let Some(symbol) =
            SYMBOLS
                .iter()
                .find(|s| text[i..].starts_with(**s))
                .or([&"]", &"{", &"}", &":"]
                    .into_iter()
                    .find(|s| text[i..].starts_with(**s)))
        {
            i += symbol.len();
            TokenKind::Symbol(symbol)
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(SqlError::syntax(
                start,
                format!("unexpected character '{ch}'"),
            ));
        };
        tokens.push(Token {
            kind,
            at: start,
            offset,
        });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        at: at(bytes.len(), line, line_start),
        offset: bytes.len(),
    });
    Ok(tokens)
}

/// Splits a script into statements at top-level semicolons (not inside strings, quoted
/// identifiers or comments). Each part keeps its text, without the semicolon; blank parts are
/// dropped.
pub fn split_statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '`' | '"' => {
                current.push(c);
                while let Some(d) = chars.next() {
                    current.push(d);
                    if d == c {
                        if chars.peek() == Some(&c) {
                            current.push(chars.next().unwrap_or(c));
                            continue;
                        }
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
                current.push(' ');
            }
            ';' => {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_string());
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_kinds() {
        let tokens = tokenize("SELECT a,\n  `b` FROM 'x''y' 1.5 42;").unwrap();
        let kinds: Vec<_> = tokens.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Word("SELECT".into()),
                TokenKind::Word("A".into()),
                TokenKind::Symbol(","),
                TokenKind::QuotedIdent("b".into()),
                TokenKind::Word("FROM".into()),
                TokenKind::Str("x'y".into()),
                TokenKind::Number("1.5".into()),
                TokenKind::Integer("42".into()),
                TokenKind::Symbol(";"),
                TokenKind::End,
            ]
        );
        assert_eq!(tokens[3].at, Position { line: 2, column: 3 });
    }

    #[test]
    fn scripts_split_at_top_level_semicolons() {
        let parts = split_statements("A 'x;y'; -- c;\nB /* ; */ C;\n\n");
        assert_eq!(parts, vec!["A 'x;y'".to_string(), "B   C".to_string()]);
    }

    #[test]
    fn unclosed_string_is_an_error_with_a_position() {
        let err = tokenize("SELECT\n 'abc").unwrap_err();
        assert!(err.to_string().contains("line 2:2"), "{err}");
    }
}
