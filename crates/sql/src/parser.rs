//! A recursive-descent parser for ksqlDB's dialect (its `SqlBase.g4`). A syntax error names
//! the line, the column, the token found and the tokens that could have come there. Why hand
//! written: docs/decisions/0005-hand-written-sql-parser.md.

use std::collections::BTreeMap;

use crate::ast::*;
use crate::error::{Result, SqlError};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::types::SqlType;
use crate::value::Value;

/// Words that cannot be unquoted identifiers (they start or separate clauses).
const RESERVED: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "WINDOW",
    "EMIT",
    "LIMIT",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "ON",
    "WITHIN",
    "PARTITION",
    "AS",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "TRUE",
    "FALSE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "IS",
    "IN",
    "BETWEEN",
    "LIKE",
    "CREATE",
    "INSERT",
    "INTO",
    "VALUES",
    "WITH",
    "CAST",
    "DROP",
    "TABLE",
    "STREAM",
];

/// Whether `word` (upper-case) is reserved.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

/// Parses one statement (a trailing `;` is allowed).
pub fn parse_statement(text: &str) -> Result<Statement> {
    let mut p = Parser::new(text)?;
    let statement = p.statement()?;
    p.eat_symbol(";");
    p.expect_end()?;
    Ok(statement)
}

/// Parses one expression.
pub fn parse_expression(text: &str) -> Result<Expr> {
    let mut p = Parser::new(text)?;
    let e = p.expr()?;
    p.expect_end()?;
    Ok(e)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// What was tried at the current token, for the error message.
    expected: Vec<String>,
}

impl Parser {
    fn new(text: &str) -> Result<Self> {
        Ok(Parser {
            tokens: tokenize(text)?,
            pos: 0,
            expected: Vec::new(),
        })
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_at(&self, n: usize) -> &TokenKind {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].kind
    }

    fn advance(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        self.expected.clear();
        t
    }

    fn expect_note(&mut self, what: impl Into<String>) {
        let what = what.into();
        if !self.expected.contains(&what) {
            self.expected.push(what);
        }
    }

    fn error(&self) -> SqlError {
        let token = self.peek();
        let expected = match self.expected.len() {
            0 => String::new(),
            1 => format!(": expected {}", self.expected[0]),
            _ => format!(": expected one of {}", self.expected.join(", ")),
        };
        let found = if token.kind == TokenKind::End {
            "the end of the statement".to_string()
        } else {
            token.describe()
        };
        SqlError::syntax(
            token.at,
            format!("syntax error at or near {found}{expected}"),
        )
    }

    fn is_word(&mut self, word: &str) -> bool {
        if matches!(&self.peek().kind, TokenKind::Word(w) if w == word) {
            true
        } else {
            self.expect_note(format!("'{word}'"));
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let yes = self.is_word(word);
        if yes {
            self.advance();
        }
        yes
    }

    fn expect_word(&mut self, word: &str) -> Result<()> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn is_symbol(&mut self, symbol: &str) -> bool {
        if matches!(&self.peek().kind, TokenKind::Symbol(s) if *s == symbol) {
            true
        } else {
            self.expect_note(format!("'{symbol}'"));
            false
        }
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let yes = self.is_symbol(symbol);
        if yes {
            self.advance();
        }
        yes
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<()> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn expect_end(&mut self) -> Result<()> {
        if self.peek().kind == TokenKind::End {
            Ok(())
        } else {
            self.expect_note("the end of the statement");
            Err(self.error())
        }
    }

    /// An identifier: an unquoted word that is not reserved, or a quoted one.
    fn identifier(&mut self) -> Result<String> {
        match self.peek().kind.clone() {
            TokenKind::Word(w) if !is_reserved(&w) => {
                self.advance();
                Ok(w)
            }
            TokenKind::QuotedIdent(w) => {
                self.advance();
                Ok(w)
            }
            _ => {
                self.expect_note("an identifier");
                Err(self.error())
            }
        }
    }

    /// An identifier where reserved words are allowed too (after `AS`, in `WITH` names).
    fn any_identifier(&mut self) -> Result<String> {
        match self.peek().kind.clone() {
            TokenKind::Word(w) | TokenKind::QuotedIdent(w) => {
                self.advance();
                Ok(w)
            }
            _ => {
                self.expect_note("an identifier");
                Err(self.error())
            }
        }
    }

    fn string(&mut self) -> Result<String> {
        match self.peek().kind.clone() {
            TokenKind::Str(s) => {
                self.advance();
                Ok(s)
            }
            _ => {
                self.expect_note("a string");
                Err(self.error())
            }
        }
    }

    fn integer(&mut self) -> Result<i64> {
        match self.peek().kind.clone() {
            TokenKind::Integer(n) => {
                let at = self.peek().at;
                self.advance();
                n.parse()
                    .map_err(|_| SqlError::syntax(at, format!("{n} is out of range")))
            }
            _ => {
                self.expect_note("an integer");
                Err(self.error())
            }
        }
    }

    fn statement(&mut self) -> Result<Statement> {
        if self.eat_word("CREATE") {
            return self.create();
        }
        if self.eat_word("INSERT") {
            return self.insert();
        }
        if self.is_word("SELECT") {
            return Ok(Statement::Select(Box::new(self.query()?)));
        }
        if self.eat_word("SHOW") || self.eat_word("LIST") {
            return self.show();
        }
        if self.eat_word("DESCRIBE") {
            return self.describe();
        }
        if self.eat_word("EXPLAIN") {
            if let TokenKind::Word(w) | TokenKind::QuotedIdent(w) = self.peek().kind.clone() {
                if !matches!(w.as_str(), "SELECT" | "CREATE" | "INSERT") {
                    self.advance();
                    return Ok(Statement::Explain(ExplainTarget::QueryId(w)));
                }
            }
            let inner = self.statement()?;
            return Ok(Statement::Explain(ExplainTarget::Statement(Box::new(
                inner,
            ))));
        }
        if self.eat_word("DROP") {
            return self.drop();
        }
        if self.eat_word("TERMINATE") {
            if self.eat_word("ALL") {
                return Ok(Statement::Terminate(None));
            }
            return Ok(Statement::Terminate(Some(self.any_identifier()?)));
        }
        if self.eat_word("PRINT") {
            return self.print();
        }
        if self.eat_word("SET") {
            let name = self.string()?;
            self.expect_symbol("=")?;
            let value = self.string()?;
            return Ok(Statement::Set(name, value));
        }
        if self.eat_word("UNSET") {
            return Ok(Statement::Unset(self.string()?));
        }
        if self.eat_word("DEFINE") {
            let name = self.any_identifier()?;
            self.expect_symbol("=")?;
            let value = self.string()?;
            return Ok(Statement::Define(name.to_lowercase(), value));
        }
        if self.eat_word("UNDEFINE") {
            return Ok(Statement::Undefine(self.any_identifier()?.to_lowercase()));
        }
        if self.eat_word("RUN") {
            self.expect_word("SCRIPT")?;
            return Ok(Statement::RunScript(self.string()?));
        }
        for w in [
            "SELECT",
            "SHOW",
            "LIST",
            "DESCRIBE",
            "EXPLAIN",
            "DROP",
            "TERMINATE",
            "PRINT",
            "SET",
            "UNSET",
            "DEFINE",
            "RUN",
        ] {
            self.expect_note(format!("'{w}'"));
        }
        Err(self.error())
    }

    fn source_kind(&mut self) -> Result<SourceKind> {
        if self.eat_word("STREAM") {
            Ok(SourceKind::Stream)
        } else if self.eat_word("TABLE") {
            Ok(SourceKind::Table)
        } else {
            Err(self.error())
        }
    }

    fn create(&mut self) -> Result<Statement> {
        let or_replace = if self.eat_word("OR") {
            self.expect_word("REPLACE")?;
            true
        } else {
            false
        };
        let source = self.eat_word("SOURCE");
        let kind = self.source_kind()?;
        let if_not_exists = if self.eat_word("IF") {
            self.expect_word("NOT")?;
            self.expect_word("EXISTS")?;
            true
        } else {
            false
        };
        let name = self.identifier()?;
        let mut columns = Vec::new();
        if self.eat_symbol("(") {
            loop {
                columns.push(self.column_def(kind)?);
                if !self.eat_symbol(",") {
                    break;
                }
            }
            self.expect_symbol(")")?;
        }
        let properties = if self.eat_word("WITH") {
            self.properties()?
        } else {
            BTreeMap::new()
        };
        if columns.is_empty() && !source && self.eat_word("AS") {
            let query = self.query()?;
            return Ok(Statement::CreateAsSelect {
                kind,
                or_replace,
                if_not_exists,
                name,
                properties,
                query: Box::new(query),
            });
        }
        Ok(Statement::CreateSource {
            kind,
            or_replace,
            if_not_exists,
            source,
            name,
            columns,
            properties,
        })
    }

    fn column_def(&mut self, kind: SourceKind) -> Result<ColumnDef> {
        let name = self.any_identifier()?;
        let ty = self.sql_type()?;
        let mut key = false;
        let mut header = None;
        if kind == SourceKind::Table && self.eat_word("PRIMARY") {
            self.expect_word("KEY")?;
            key = true;
        } else if self.eat_word("KEY") {
            if kind == SourceKind::Table {
                return Err(SqlError::statement(format!(
                    "Column `{name}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\n\
                     Tables have PRIMARY KEYs, which are unique and NON NULL.\n\
                     Streams have KEYs, which have no uniqueness or NON NULL constraints."
                )));
            }
            key = true;
        } else if self.eat_word("HEADERS") {
            header = Some(None);
        } else if self.eat_word("HEADER") {
            self.expect_symbol("(")?;
            header = Some(Some(self.string()?));
            self.expect_symbol(")")?;
        }
        Ok(ColumnDef {
            name,
            ty,
            key,
            header,
        })
    }

    /// A type: BOOLEAN, INT, … ARRAY<T>, MAP<K, V>, STRUCT<name T, …>.
    fn sql_type(&mut self) -> Result<SqlType> {
        let at = self.peek().at;
        let TokenKind::Word(word) = self.peek().kind.clone() else {
            self.expect_note("a type");
            return Err(self.error());
        };
        self.advance();
        Ok(match word.as_str() {
            "BOOLEAN" => SqlType::Boolean,
            "INT" | "INTEGER" => SqlType::Int,
            "BIGINT" => SqlType::Bigint,
            "DOUBLE" => SqlType::Double,
            "STRING" | "VARCHAR" => SqlType::String,
            "BYTES" => SqlType::Bytes,
            "DATE" => SqlType::Date,
            "TIME" => SqlType::Time,
            "TIMESTAMP" => SqlType::Timestamp,
            "DECIMAL" => {
                self.expect_symbol("(")?;
                let p = self.integer()?;
                self.expect_symbol(",")?;
                let s = self.integer()?;
                self.expect_symbol(")")?;
                if !(1..=38).contains(&p) || s < 0 || s > p {
                    return Err(SqlError::syntax(
                        at,
                        format!(
                            "DECIMAL({p}, {s}): precision must be 1..38 and scale 0..precision"
                        ),
                    ));
                }
                SqlType::Decimal(p as u8, s as u8)
            }
            "ARRAY" => {
                self.expect_symbol("<")?;
                let e = self.sql_type()?;
                self.expect_symbol(">")?;
                SqlType::Array(Box::new(e))
            }
            "MAP" => {
                self.expect_symbol("<")?;
                let k = self.sql_type()?;
                self.expect_symbol(",")?;
                let v = self.sql_type()?;
                self.expect_symbol(">")?;
                SqlType::Map(Box::new(k), Box::new(v))
            }
            "STRUCT" => {
                self.expect_symbol("<")?;
                let mut fields = Vec::new();
                if !self.eat_symbol(">") {
                    loop {
                        let n = self.any_identifier()?;
                        let t = self.sql_type()?;
                        fields.push((n, t));
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                    self.expect_symbol(">")?;
                }
                SqlType::Struct(fields)
            }
            other => {
                return Err(SqlError::syntax(
                    at,
                    format!(
                        "unknown type '{other}': expected one of BOOLEAN, INT, BIGINT, DOUBLE, \
                         DECIMAL, STRING, VARCHAR, BYTES, DATE, TIME, TIMESTAMP, ARRAY, MAP, STRUCT"
                    ),
                ));
            }
        })
    }

    fn properties(&mut self) -> Result<Properties> {
        self.expect_symbol("(")?;
        let mut props = BTreeMap::new();
        loop {
            let name = match self.peek().kind.clone() {
                TokenKind::Str(s) => {
                    self.advance();
                    s
                }
                _ => self.any_identifier()?,
            };
            self.expect_symbol("=")?;
            let value = self.literal()?;
            props.insert(name.to_uppercase(), value);
            if !self.eat_symbol(",") {
                break;
            }
        }
        self.expect_symbol(")")?;
        Ok(props)
    }

    fn literal(&mut self) -> Result<Value> {
        let negative = self.eat_symbol("-");
        let v = match self.peek().kind.clone() {
            TokenKind::Str(s) => Value::string(s),
            TokenKind::Integer(n) => integer_value(&n, negative),
            TokenKind::Number(n) => number_value(&n, negative),
            TokenKind::Word(w) if w == "TRUE" => Value::Boolean(true),
            TokenKind::Word(w) if w == "FALSE" => Value::Boolean(false),
            TokenKind::Word(w) if w == "NULL" => Value::Null,
            _ => {
                self.expect_note("a literal");
                return Err(self.error());
            }
        };
        self.advance();
        Ok(v)
    }

    fn insert(&mut self) -> Result<Statement> {
        self.expect_word("INTO")?;
        let target = self.identifier()?;
        let properties = if self.eat_word("WITH") {
            self.properties()?
        } else {
            BTreeMap::new()
        };
        if self.is_word("SELECT") {
            let query = self.query()?;
            return Ok(Statement::InsertSelect {
                target,
                properties,
                query: Box::new(query),
            });
        }
        let columns = if self.eat_symbol("(") {
            let mut cols = vec![self.any_identifier()?];
            while self.eat_symbol(",") {
                cols.push(self.any_identifier()?);
            }
            self.expect_symbol(")")?;
            Some(cols)
        } else {
            None
        };
        self.expect_word("VALUES")?;
        self.expect_symbol("(")?;
        let mut values = vec![self.expr()?];
        while self.eat_symbol(",") {
            values.push(self.expr()?);
        }
        self.expect_symbol(")")?;
        Ok(Statement::InsertValues {
            target,
            columns,
            values,
        })
    }

    fn show(&mut self) -> Result<Statement> {
        let what = if self.eat_word("STREAMS") {
            ShowWhat::Streams
        } else if self.eat_word("TABLES") {
            ShowWhat::Tables
        } else if self.eat_word("TOPICS") {
            ShowWhat::Topics { all: false }
        } else if self.eat_word("ALL") {
            self.expect_word("TOPICS")?;
            ShowWhat::Topics { all: true }
        } else if self.eat_word("QUERIES") {
            ShowWhat::Queries
        } else if self.eat_word("PROPERTIES") {
            ShowWhat::Properties
        } else if self.eat_word("FUNCTIONS") {
            ShowWhat::Functions
        } else if self.eat_word("VARIABLES") {
            ShowWhat::Variables
        } else {
            return Err(self.error());
        };
        let extended = self.eat_word("EXTENDED");
        Ok(Statement::Show { what, extended })
    }

    fn describe(&mut self) -> Result<Statement> {
        if self.eat_word("FUNCTION") {
            return Ok(Statement::DescribeFunction(self.any_identifier()?));
        }
        let extended = self.eat_word("EXTENDED");
        let all = if self.eat_word("STREAMS") {
            Some(SourceKind::Stream)
        } else if self.eat_word("TABLES") {
            Some(SourceKind::Table)
        } else {
            None
        };
        let name = if all.is_none() {
            Some(self.identifier()?)
        } else {
            None
        };
        let extended = extended || self.eat_word("EXTENDED");
        Ok(Statement::Describe {
            name,
            all,
            extended,
        })
    }

    fn drop(&mut self) -> Result<Statement> {
        let kind = self.source_kind()?;
        let if_exists = if self.eat_word("IF") {
            self.expect_word("EXISTS")?;
            true
        } else {
            false
        };
        let name = self.identifier()?;
        let delete_topic = if self.eat_word("DELETE") {
            self.expect_word("TOPIC")?;
            true
        } else {
            false
        };
        Ok(Statement::Drop {
            kind,
            if_exists,
            name,
            delete_topic,
        })
    }

    fn print(&mut self) -> Result<Statement> {
        let topic = match self.peek().kind.clone() {
            TokenKind::Str(s) => {
                self.advance();
                s
            }
            TokenKind::Word(w) => {
                // Unquoted topic names may contain '-' and '.', which the lexer splits.
                self.advance();
                let mut name = w.to_lowercase();
                while let TokenKind::Symbol(s @ ("-" | ".")) = self.peek().kind.clone() {
                    self.advance();
                    name.push_str(s);
                    match self.peek().kind.clone() {
                        TokenKind::Word(w) | TokenKind::Integer(w) => {
                            self.advance();
                            name.push_str(&w.to_lowercase());
                        }
                        _ => return Err(self.error()),
                    }
                }
                name
            }
            TokenKind::QuotedIdent(w) => {
                self.advance();
                w
            }
            _ => {
                self.expect_note("a topic name");
                return Err(self.error());
            }
        };
        let mut from_beginning = false;
        let mut interval = 1;
        let mut limit = None;
        loop {
            if self.eat_word("FROM") {
                self.expect_word("BEGINNING")?;
                from_beginning = true;
            } else if self.eat_word("INTERVAL") || self.eat_word("SAMPLE") {
                interval = self.integer()?.max(1) as u64;
            } else if self.eat_word("LIMIT") {
                limit = Some(self.integer()?.max(0) as u64);
            } else {
                break;
            }
        }
        Ok(Statement::Print {
            topic,
            from_beginning,
            interval,
            limit,
        })
    }

    fn query(&mut self) -> Result<Query> {
        self.expect_word("SELECT")?;
        let mut select = vec![self.select_item()?];
        while self.eat_symbol(",") {
            select.push(self.select_item()?);
        }
        self.expect_word("FROM")?;
        let from = self.relation()?;
        let window = if self.eat_word("WINDOW") {
            Some(self.window()?)
        } else {
            None
        };
        let where_clause = if self.eat_word("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut group_by = Vec::new();
        if self.eat_word("GROUP") {
            self.expect_word("BY")?;
            group_by = self.expr_list()?;
        }
        let mut partition_by = Vec::new();
        if self.eat_word("PARTITION") {
            self.expect_word("BY")?;
            partition_by = self.expr_list()?;
        }
        let having = if self.eat_word("HAVING") {
            Some(self.expr()?)
        } else {
            None
        };
        let emit = if self.eat_word("EMIT") {
            if self.eat_word("CHANGES") {
                Some(Emit::Changes)
            } else if self.eat_word("FINAL") {
                Some(Emit::Final)
            } else {
                return Err(self.error());
            }
        } else {
            None
        };
        let limit = if self.eat_word("LIMIT") {
            Some(self.integer()?.max(0) as u64)
        } else {
            None
        };
        Ok(Query {
            select,
            from,
            window,
            where_clause,
            group_by,
            partition_by,
            having,
            emit,
            limit,
        })
    }

    fn expr_list(&mut self) -> Result<Vec<Expr>> {
        // `GROUP BY (a, b)` is the same as `GROUP BY a, b`.
        if self.is_symbol("(") && !matches!(self.peek_at(2), TokenKind::Symbol("(")) {
            let save = self.pos;
            self.advance();
            let mut list = vec![self.expr()?];
            while self.eat_symbol(",") {
                list.push(self.expr()?);
            }
            if self.eat_symbol(")") && list.len() > 1 {
                return Ok(list);
            }
            self.pos = save;
        }
        let mut list = vec![self.expr()?];
        while self.eat_symbol(",") {
            list.push(self.expr()?);
        }
        Ok(list)
    }

    fn select_item(&mut self) -> Result<SelectItem> {
        if self.eat_symbol("*") {
            return Ok(SelectItem::All);
        }
        if let (
            TokenKind::Word(q) | TokenKind::QuotedIdent(q),
            TokenKind::Symbol("."),
            TokenKind::Symbol("*"),
        ) = (
            self.peek().kind.clone(),
            self.peek_at(1).clone(),
            self.peek_at(2).clone(),
        ) {
            self.advance();
            self.advance();
            self.advance();
            return Ok(SelectItem::AllOf(q));
        }
        let expr = self.expr()?;
        let alias = if self.eat_word("AS") {
            Some(self.any_identifier()?)
        } else if let TokenKind::Word(w) = &self.peek().kind {
            if is_reserved(w) {
                None
            } else {
                Some(self.identifier()?)
            }
        } else if let TokenKind::QuotedIdent(_) = &self.peek().kind {
            Some(self.identifier()?)
        } else {
            None
        };
        Ok(SelectItem::Expr { expr, alias })
    }

    fn relation(&mut self) -> Result<Relation> {
        let mut left = self.aliased_source()?;
        loop {
            let kind = if self.eat_word("JOIN") {
                JoinKind::Inner
            } else if self.eat_word("INNER") {
                self.expect_word("JOIN")?;
                JoinKind::Inner
            } else if self.eat_word("LEFT") {
                self.eat_word("OUTER");
                self.expect_word("JOIN")?;
                JoinKind::Left
            } else if self.eat_word("RIGHT") {
                self.eat_word("OUTER");
                self.expect_word("JOIN")?;
                JoinKind::Right
            } else if self.eat_word("FULL") {
                self.eat_word("OUTER");
                self.expect_word("JOIN")?;
                JoinKind::Full
            } else {
                return Ok(left);
            };
            let right = self.aliased_source()?;
            let within = if self.eat_word("WITHIN") {
                Some(self.within()?)
            } else {
                None
            };
            self.expect_word("ON")?;
            let on = self.expr()?;
            left = Relation::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                within,
                on,
            };
        }
    }

    fn aliased_source(&mut self) -> Result<Relation> {
        let name = self.identifier()?;
        let alias = if self.eat_word("AS") {
            Some(self.identifier()?)
        } else if let TokenKind::Word(w) = &self.peek().kind {
            if is_reserved(w) || w == "EMIT" {
                None
            } else {
                Some(self.identifier()?)
            }
        } else if matches!(self.peek().kind, TokenKind::QuotedIdent(_)) {
            Some(self.identifier()?)
        } else {
            None
        };
        Ok(Relation::Source { name, alias })
    }

    fn within(&mut self) -> Result<WithinExpr> {
        let (before_ms, after_ms) = if self.eat_symbol("(") {
            let before = self.duration()?;
            self.expect_symbol(",")?;
            let after = self.duration()?;
            self.expect_symbol(")")?;
            (before, after)
        } else {
            let d = self.duration()?;
            (d, d)
        };
        let grace_ms = if self.eat_word("GRACE") {
            self.expect_word("PERIOD")?;
            Some(self.duration()?)
        } else {
            None
        };
        Ok(WithinExpr {
            before_ms,
            after_ms,
            grace_ms,
        })
    }

    /// `n UNIT`, in milliseconds.
    fn duration(&mut self) -> Result<i64> {
        let n = self.integer()?;
        let at = self.peek().at;
        let TokenKind::Word(unit) = self.peek().kind.clone() else {
            self.expect_note("a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS)");
            return Err(self.error());
        };
        let Some(factor) = crate::time::unit_millis(&unit) else {
            return Err(SqlError::syntax(
                at,
                format!(
                    "unknown time unit '{unit}': expected one of MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS"
                ),
            ));
        };
        self.advance();
        n.checked_mul(factor)
            .ok_or_else(|| SqlError::syntax(at, "the duration is out of range"))
    }

    fn window(&mut self) -> Result<WindowExpr> {
        enum K {
            Tumbling,
            Hopping,
            Session,
        }
        let k = if self.eat_word("TUMBLING") {
            K::Tumbling
        } else if self.eat_word("HOPPING") {
            K::Hopping
        } else if self.eat_word("SESSION") {
            K::Session
        } else {
            return Err(self.error());
        };
        self.expect_symbol("(")?;
        let (mut size, mut advance, mut retention, mut grace) = (None, None, None, None);
        let mut first = true;
        loop {
            if !first && !self.eat_symbol(",") {
                break;
            }
            first = false;
            // SESSION (5 MINUTES) names its gap without a keyword.
            let bare_gap = matches!(k, K::Session)
                && size.is_none()
                && matches!(self.peek().kind, TokenKind::Integer(_));
            if bare_gap || self.eat_word("SIZE") {
                size = Some(self.duration()?);
            } else if self.eat_word("ADVANCE") {
                self.expect_word("BY")?;
                advance = Some(self.duration()?);
            } else if self.eat_word("RETENTION") {
                retention = Some(self.duration()?);
            } else if self.eat_word("GRACE") {
                self.expect_word("PERIOD")?;
                grace = Some(self.duration()?);
            } else {
                return Err(self.error());
            }
        }
        self.expect_symbol(")")?;
        let missing = |what: &str| SqlError::statement(format!("the window needs {what}"));
        let kind = match k {
            K::Tumbling => WindowKind::Tumbling {
                size_ms: size.ok_or_else(|| missing("SIZE"))?,
            },
            K::Hopping => WindowKind::Hopping {
                size_ms: size.ok_or_else(|| missing("SIZE"))?,
                advance_ms: advance.ok_or_else(|| missing("ADVANCE BY"))?,
            },
            K::Session => WindowKind::Session {
                gap_ms: size.ok_or_else(|| missing("an inactivity gap"))?,
            },
        };
        Ok(WindowExpr {
            kind,
            retention_ms: retention,
            grace_ms: grace,
        })
    }

    fn expr(&mut self) -> Result<Expr> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.eat_word("OR") {
            let right = self.and()?;
            left = Expr::Binary(BinaryOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.eat_word("AND") {
            let right = self.not()?;
            left = Expr::Binary(BinaryOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.eat_word("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let left = self.additive()?;
        for (symbol, op) in [
            ("=", BinaryOp::Eq),
            ("<>", BinaryOp::NotEq),
            ("!=", BinaryOp::NotEq),
            ("<=", BinaryOp::LtEq),
            (">=", BinaryOp::GtEq),
            ("<", BinaryOp::Lt),
            (">", BinaryOp::Gt),
        ] {
            if self.eat_symbol(symbol) {
                let right = self.additive()?;
                return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
            }
        }
        if self.eat_word("IS") {
            let negated = self.eat_word("NOT");
            self.expect_word("NULL")?;
            return Ok(Expr::IsNull(Box::new(left), negated));
        }
        let negated = self.eat_word("NOT");
        if self.eat_word("BETWEEN") {
            let lo = self.additive()?;
            self.expect_word("AND")?;
            let hi = self.additive()?;
            return Ok(Expr::Between(
                Box::new(left),
                Box::new(lo),
                Box::new(hi),
                negated,
            ));
        }
        if self.eat_word("IN") {
            self.expect_symbol("(")?;
            let mut list = vec![self.expr()?];
            while self.eat_symbol(",") {
                list.push(self.expr()?);
            }
            self.expect_symbol(")")?;
            return Ok(Expr::InList(Box::new(left), list, negated));
        }
        if self.eat_word("LIKE") {
            let pattern = self.additive()?;
            let escape = if self.eat_word("ESCAPE") {
                self.string()?.chars().next()
            } else {
                None
            };
            return Ok(Expr::Like(
                Box::new(left),
                Box::new(pattern),
                negated,
                escape,
            ));
        }
        if negated {
            return Err(self.error());
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_symbol("+") {
                BinaryOp::Add
            } else if self.eat_symbol("-") {
                BinaryOp::Sub
            } else if self.eat_symbol("||") {
                BinaryOp::Concat
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_symbol("*") {
                BinaryOp::Mul
            } else if self.eat_symbol("/") {
                BinaryOp::Div
            } else if self.eat_symbol("%") {
                BinaryOp::Mod
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat_symbol("-") {
            return Ok(match self.unary()? {
                Expr::Literal(Value::Int(n)) => Expr::Literal(Value::Int(-n)),
                Expr::Literal(Value::Bigint(n)) => Expr::Literal(Value::Bigint(-n)),
                Expr::Literal(Value::Double(n)) => Expr::Literal(Value::Double(-n)),
                Expr::Literal(Value::Decimal(u, s)) => Expr::Literal(Value::Decimal(-u, s)),
                e => Expr::Negate(Box::new(e)),
            });
        }
        if self.eat_symbol("+") {
            return self.unary();
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat_symbol("[") {
                let index = self.expr()?;
                self.expect_symbol("]")?;
                e = Expr::Subscript(Box::new(e), Box::new(index));
            } else if self.eat_symbol("->") {
                let field = self.any_identifier()?;
                e = Expr::Field(Box::new(e), field);
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let token = self.peek().clone();
        match token.kind {
            TokenKind::Str(s) => {
                self.advance();
                Ok(Expr::Literal(Value::string(s)))
            }
            TokenKind::Integer(n) => {
                self.advance();
                Ok(Expr::Literal(integer_value(&n, false)))
            }
            TokenKind::Number(n) => {
                self.advance();
                Ok(Expr::Literal(number_value(&n, false)))
            }
            TokenKind::Symbol("(") => {
                self.advance();
                // A lambda's parameter list: (x, y) => …
                if let (TokenKind::Word(_), TokenKind::Symbol(",") | TokenKind::Symbol(")")) =
                    (self.peek().kind.clone(), self.peek_at(1).clone())
                {
                    let save = self.pos;
                    let mut params = Vec::new();
                    let mut ok = true;
                    loop {
                        match self.identifier() {
                            Ok(p) => params.push(p),
                            Err(_) => {
                                ok = false;
                                break;
                            }
                        }
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                    if ok && self.eat_symbol(")") && self.eat_symbol("=>") {
                        let body = self.expr()?;
                        return Ok(Expr::Lambda(params, Box::new(body)));
                    }
                    self.pos = save;
                }
                let e = self.expr()?;
                self.expect_symbol(")")?;
                Ok(e)
            }
            TokenKind::QuotedIdent(_) => self.column_or_call(),
            TokenKind::Word(w) => match w.as_str() {
                "NULL" => {
                    self.advance();
                    Ok(Expr::Literal(Value::Null))
                }
                "TRUE" | "FALSE" => {
                    self.advance();
                    Ok(Expr::Literal(Value::Boolean(w == "TRUE")))
                }
                "CASE" => {
                    self.advance();
                    self.case()
                }
                "CAST" => {
                    self.advance();
                    self.expect_symbol("(")?;
                    let e = self.expr()?;
                    self.expect_word("AS")?;
                    let t = self.sql_type()?;
                    self.expect_symbol(")")?;
                    Ok(Expr::Cast(Box::new(e), t))
                }
                "ARRAY" if matches!(self.peek_at(1), TokenKind::Symbol("[")) => {
                    self.advance();
                    self.advance();
                    let mut items = Vec::new();
                    if !self.eat_symbol("]") {
                        items.push(self.expr()?);
                        while self.eat_symbol(",") {
                            items.push(self.expr()?);
                        }
                        self.expect_symbol("]")?;
                    }
                    Ok(Expr::Array(items))
                }
                "MAP" if matches!(self.peek_at(1), TokenKind::Symbol("(")) => {
                    self.advance();
                    self.advance();
                    let mut entries = Vec::new();
                    if !self.eat_symbol(")") {
                        loop {
                            let k = self.expr()?;
                            self.expect_symbol(":=")?;
                            let v = self.expr()?;
                            entries.push((k, v));
                            if !self.eat_symbol(",") {
                                break;
                            }
                        }
                        self.expect_symbol(")")?;
                    }
                    Ok(Expr::Map(entries))
                }
                "STRUCT" if matches!(self.peek_at(1), TokenKind::Symbol("(")) => {
                    self.advance();
                    self.advance();
                    let mut fields = Vec::new();
                    if !self.eat_symbol(")") {
                        loop {
                            let n = self.any_identifier()?;
                            self.expect_symbol(":=")?;
                            let v = self.expr()?;
                            fields.push((n, v));
                            if !self.eat_symbol(",") {
                                break;
                            }
                        }
                        self.expect_symbol(")")?;
                    }
                    Ok(Expr::Struct(fields))
                }
                _ if is_reserved(&w) => {
                    self.expect_note("an expression");
                    Err(self.error())
                }
                _ => self.column_or_call(),
            },
            _ => {
                self.expect_note("an expression");
                Err(self.error())
            }
        }
    }

    fn column_or_call(&mut self) -> Result<Expr> {
        let quoted = matches!(self.peek().kind, TokenKind::QuotedIdent(_));
        let name = self.identifier()?;
        if !quoted && self.is_symbol("=>") {
            self.advance();
            let body = self.expr()?;
            return Ok(Expr::Lambda(vec![name], Box::new(body)));
        }
        if !quoted && self.eat_symbol("(") {
            if self.eat_symbol("*") {
                self.expect_symbol(")")?;
                return Ok(Expr::Function {
                    name,
                    args: Vec::new(),
                    star: true,
                });
            }
            let mut args = Vec::new();
            if !self.eat_symbol(")") {
                self.eat_word("DISTINCT");
                args.push(self.expr()?);
                while self.eat_symbol(",") {
                    args.push(self.expr()?);
                }
                self.expect_symbol(")")?;
            }
            return Ok(Expr::Function {
                name,
                args,
                star: false,
            });
        }
        if self.eat_symbol(".") {
            let column = self.any_identifier()?;
            return Ok(Expr::Column {
                qualifier: Some(name),
                name: column,
            });
        }
        Ok(Expr::Column {
            qualifier: None,
            name,
        })
    }

    fn case(&mut self) -> Result<Expr> {
        let operand = if self.is_word("WHEN") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_word("WHEN") {
            let w = self.expr()?;
            self.expect_word("THEN")?;
            let t = self.expr()?;
            whens.push((w, t));
        }
        if whens.is_empty() {
            return Err(self.error());
        }
        let otherwise = if self.eat_word("ELSE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_word("END")?;
        Ok(Expr::Case {
            operand,
            whens,
            otherwise,
        })
    }
}

fn integer_value(text: &str, negative: bool) -> Value {
    let text = if negative {
        format!("-{text}")
    } else {
        text.to_string()
    };
    match text.parse::<i64>() {
        Ok(n) => match i32::try_from(n) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Bigint(n),
        },
        Err(_) => Value::Double(text.parse().unwrap_or(f64::NAN)),
    }
}

/// `1.5` is a DECIMAL, as in ksqlDB; `1.5E3` a DOUBLE.
fn number_value(text: &str, negative: bool) -> Value {
    let sign = if negative { -1 } else { 1 };
    if text.contains(['e', 'E']) {
        return Value::Double(sign as f64 * text.parse::<f64>().unwrap_or(f64::NAN));
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    match format!("{whole}{frac}").parse::<i128>() {
        Ok(u) if frac.len() <= 38 => Value::Decimal(sign * u, frac.len() as u8),
        _ => Value::Double(sign as f64 * text.parse::<f64>().unwrap_or(f64::NAN)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_stream_with_columns_and_properties() {
        let s = parse_statement(
            "CREATE STREAM rides (VendorID INT KEY, total_amount DOUBLE, `Zone` STRING)\n\
             WITH (KAFKA_TOPIC='rides', VALUE_FORMAT='JSON', PARTITIONS=2);",
        )
        .unwrap();
        let Statement::CreateSource {
            kind,
            name,
            columns,
            properties,
            ..
        } = s
        else {
            panic!("{s:?}")
        };
        assert_eq!(kind, SourceKind::Stream);
        assert_eq!(name, "RIDES");
        assert_eq!(columns[0].name, "VENDORID");
        assert!(columns[0].key);
        assert_eq!(columns[2].name, "Zone");
        assert_eq!(properties["KAFKA_TOPIC"], Value::string("rides"));
        assert_eq!(properties["PARTITIONS"], Value::Int(2));
    }

    #[test]
    fn windowed_aggregation() {
        let s = parse_statement(
            "CREATE TABLE rides_per_zone AS SELECT PULocationID, COUNT(*) AS n, SUM(total_amount) \
             FROM rides WINDOW TUMBLING (SIZE 1 HOUR, GRACE PERIOD 10 MINUTES) \
             GROUP BY PULocationID EMIT CHANGES;",
        )
        .unwrap();
        let Statement::CreateAsSelect { query, .. } = s else {
            panic!()
        };
        assert_eq!(
            query.window.unwrap().kind,
            WindowKind::Tumbling { size_ms: 3_600_000 }
        );
        assert_eq!(query.window.unwrap().grace_ms, Some(600_000));
        assert_eq!(query.group_by.len(), 1);
        assert_eq!(query.emit, Some(Emit::Changes));
        assert_eq!(query.select.len(), 3);
    }

    #[test]
    fn expressions_bind_as_sql_does() {
        let e = parse_expression("a + b * 2 > 3 AND NOT c IS NULL OR d LIKE 'x%'").unwrap();
        assert_eq!(
            e.to_string(),
            "((((A + (B * 2)) > 3) AND (NOT (C IS NULL))) OR (D LIKE 'x%'))"
        );
        let e = parse_expression("CASE WHEN x->y[1] = 'a' THEN CAST(z AS BIGINT) ELSE -1.50 END")
            .unwrap();
        assert_eq!(
            e.to_string(),
            "(CASE WHEN (X->Y[1] = 'a') THEN CAST(Z AS BIGINT) ELSE -1.50 END)"
        );
        let e = parse_expression("TRANSFORM(arr, x => x + 1)").unwrap();
        assert_eq!(e.to_string(), "TRANSFORM(ARR, (X) => (X + 1))");
    }

    #[test]
    fn syntax_errors_name_line_column_and_expected_tokens() {
        let err = parse_statement("SELECT *\nFORM rides EMIT CHANGES;").unwrap_err();
        assert_eq!(err.code, crate::error::BAD_STATEMENT);
        assert!(
            err.message
                .starts_with("line 2:1: syntax error at or near 'FORM'"),
            "{}",
            err.message
        );
        assert!(err.message.contains("'FROM'"), "{}", err.message);
        let err = parse_statement("CREATE STREAM s (a INT) WITH (KAFKA_TOPIC=);").unwrap_err();
        assert!(err.message.starts_with("line 1:43:"), "{}", err.message);
        assert!(err.message.contains("a literal"), "{}", err.message);
        let err = parse_statement("SELEC 1").unwrap_err();
        assert!(err.message.contains("'SELECT'"), "{}", err.message);
    }

    #[test]
    fn joins_and_within() {
        let s = parse_statement(
            "SELECT * FROM a JOIN b WITHIN 1 HOUR ON a.id = b.id LEFT JOIN c ON a.x = c.x EMIT CHANGES",
        )
        .unwrap();
        let Statement::Select(q) = s else { panic!() };
        let Relation::Join { left, kind, .. } = q.from else {
            panic!()
        };
        assert_eq!(kind, JoinKind::Left);
        let Relation::Join { within, .. } = *left else {
            panic!()
        };
        assert_eq!(within.unwrap().before_ms, 3_600_000);
    }

    #[test]
    fn other_statements() {
        assert_eq!(
            parse_statement("drop table if exists t delete topic").unwrap(),
            Statement::Drop {
                kind: SourceKind::Table,
                if_exists: true,
                name: "T".into(),
                delete_topic: true
            }
        );
        assert_eq!(
            parse_statement("PRINT rides-json FROM BEGINNING LIMIT 3").unwrap(),
            Statement::Print {
                topic: "rides-json".into(),
                from_beginning: true,
                interval: 1,
                limit: Some(3)
            }
        );
        assert_eq!(
            parse_statement("SET 'auto.offset.reset'='earliest';").unwrap(),
            Statement::Set("auto.offset.reset".into(), "earliest".into())
        );
        assert!(matches!(
            parse_statement("INSERT INTO s (a, b) VALUES (1, 'x')").unwrap(),
            Statement::InsertValues { .. }
        ));
    }
}
