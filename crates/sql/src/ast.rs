//! The statements of ksqlDB's dialect, as the parser produces them.

use std::collections::BTreeMap;

use crate::types::SqlType;
use crate::value::Value;

/// STREAM or TABLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An unbounded sequence of events.
    Stream,
    /// The latest value per key.
    Table,
}

impl SourceKind {
    /// `STREAM` or `TABLE`.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Stream => "STREAM",
            SourceKind::Table => "TABLE",
        }
    }
}

/// A column in `CREATE STREAM|TABLE (…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
    /// KEY (streams) or PRIMARY KEY (tables).
    pub key: bool,
    /// `HEADERS` or `HEADER('k')`: read from the record's headers.
    pub header: Option<Option<String>>,
}

/// `WITH (…)` properties: names upper-cased, literal values.
pub type Properties = BTreeMap<String, Value>;

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name (cols) WITH (…)`.
    CreateSource {
        /// STREAM or TABLE.
        kind: SourceKind,
        /// `OR REPLACE`.
        or_replace: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// `SOURCE`: read-only, materialized for pull queries.
        source: bool,
        /// The name.
        name: String,
        /// The columns (empty when the schema registry provides them).
        columns: Vec<ColumnDef>,
        /// `WITH (…)`.
        properties: Properties,
    },
    /// `CREATE [OR REPLACE] STREAM|TABLE name [WITH (…)] AS SELECT …`.
    CreateAsSelect {
        /// STREAM or TABLE.
        kind: SourceKind,
        /// `OR REPLACE`.
        or_replace: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The name.
        name: String,
        /// `WITH (…)`.
        properties: Properties,
        /// The query.
        query: Box<Query>,
    },
    /// `INSERT INTO name [WITH (QUERY_ID = …)] SELECT …`.
    InsertSelect {
        /// The target stream.
        target: String,
        /// `WITH (…)`.
        properties: Properties,
        /// The query.
        query: Box<Query>,
    },
    /// `INSERT INTO name [(cols)] VALUES (…)`.
    InsertValues {
        /// The target.
        target: String,
        /// The named columns, or all of them in order.
        columns: Option<Vec<String>>,
        /// The values.
        values: Vec<Expr>,
    },
    /// `SELECT …`: a push query (`EMIT CHANGES`) or a pull query.
    Select(Box<Query>),
    /// `SHOW|LIST STREAMS|TABLES|TOPICS|QUERIES|PROPERTIES|FUNCTIONS|VARIABLES [EXTENDED]`.
    Show {
        /// What to list.
        what: ShowWhat,
        /// `EXTENDED`.
        extended: bool,
    },
    /// `DESCRIBE [EXTENDED] name` or `DESCRIBE STREAMS|TABLES [EXTENDED]`.
    Describe {
        /// The source, or None for all streams or tables.
        name: Option<String>,
        /// With all streams/tables: which kind.
        all: Option<SourceKind>,
        /// `EXTENDED`.
        extended: bool,
    },
    /// `DESCRIBE FUNCTION name`.
    DescribeFunction(String),
    /// `EXPLAIN query_id` or `EXPLAIN statement`.
    Explain(ExplainTarget),
    /// `DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC]`.
    Drop {
        /// STREAM or TABLE.
        kind: SourceKind,
        /// `IF EXISTS`.
        if_exists: bool,
        /// The name.
        name: String,
        /// `DELETE TOPIC`.
        delete_topic: bool,
    },
    /// `TERMINATE query_id` or `TERMINATE ALL`.
    Terminate(Option<String>),
    /// `PRINT topic [FROM BEGINNING] [INTERVAL n] [LIMIT n]`.
    Print {
        /// The topic.
        topic: String,
        /// `FROM BEGINNING`.
        from_beginning: bool,
        /// `INTERVAL n`: print every n-th record.
        interval: u64,
        /// `LIMIT n`.
        limit: Option<u64>,
    },
    /// `SET 'name' = 'value'`.
    Set(String, String),
    /// `UNSET 'name'`.
    Unset(String),
    /// `DEFINE name = 'value'`.
    Define(String, String),
    /// `UNDEFINE name`.
    Undefine(String),
    /// `RUN SCRIPT 'file'` (the shell reads the file; the server refuses it).
    RunScript(String),
}

/// What `SHOW` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowWhat {
    /// Streams.
    Streams,
    /// Tables.
    Tables,
    /// Topics (`ALL TOPICS` included internal ones).
    Topics {
        /// `SHOW ALL TOPICS`.
        all: bool,
    },
    /// Persistent queries.
    Queries,
    /// Properties.
    Properties,
    /// Functions.
    Functions,
    /// Variables.
    Variables,
}

/// What `EXPLAIN` explains.
#[derive(Debug, Clone, PartialEq)]
pub enum ExplainTarget {
    /// A running query.
    QueryId(String),
    /// A statement not run.
    Statement(Box<Statement>),
}

/// A `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The select list.
    pub select: Vec<SelectItem>,
    /// `FROM` with its joins.
    pub from: Relation,
    /// `WINDOW …`.
    pub window: Option<WindowExpr>,
    /// `WHERE`.
    pub where_clause: Option<Expr>,
    /// `GROUP BY`.
    pub group_by: Vec<Expr>,
    /// `PARTITION BY`.
    pub partition_by: Vec<Expr>,
    /// `HAVING`.
    pub having: Option<Expr>,
    /// `EMIT CHANGES` or `EMIT FINAL`; None for pull queries.
    pub emit: Option<Emit>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
}

/// `EMIT CHANGES` or `EMIT FINAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// Every change.
    Changes,
    /// Once per window when it closes.
    Final,
}

/// One item of the select list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`.
    All,
    /// `alias.*`.
    AllOf(String),
    /// An expression with an optional `AS alias`.
    Expr {
        /// The expression.
        expr: Expr,
        /// `AS alias`.
        alias: Option<String>,
    },
}

/// What a query reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Relation {
    /// A stream or table, with an optional alias.
    Source {
        /// Its name.
        name: String,
        /// Its alias.
        alias: Option<String>,
    },
    /// A join of two relations.
    Join {
        /// Left side.
        left: Box<Relation>,
        /// Right side.
        right: Box<Relation>,
        /// INNER, LEFT, RIGHT or FULL.
        kind: JoinKind,
        /// `WITHIN` for stream–stream joins.
        within: Option<WithinExpr>,
        /// The join condition.
        on: Expr,
    },
}

/// The kind of join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `[INNER] JOIN`.
    Inner,
    /// `LEFT [OUTER] JOIN`.
    Left,
    /// `RIGHT [OUTER] JOIN`.
    Right,
    /// `FULL [OUTER] JOIN`.
    Full,
}

/// `WITHIN n unit [GRACE PERIOD n unit]` or `WITHIN (before, after)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithinExpr {
    /// How much earlier the right side may be, in ms.
    pub before_ms: i64,
    /// How much later the right side may be, in ms.
    pub after_ms: i64,
    /// `GRACE PERIOD`.
    pub grace_ms: Option<i64>,
}

/// `WINDOW TUMBLING|HOPPING|SESSION (…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowExpr {
    /// The kind and its sizes.
    pub kind: WindowKind,
    /// `RETENTION`.
    pub retention_ms: Option<i64>,
    /// `GRACE PERIOD`.
    pub grace_ms: Option<i64>,
}

/// A window's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// `TUMBLING (SIZE n)`.
    Tumbling {
        /// Size in ms.
        size_ms: i64,
    },
    /// `HOPPING (SIZE n, ADVANCE BY m)`.
    Hopping {
        /// Size in ms.
        size_ms: i64,
        /// Advance in ms.
        advance_ms: i64,
    },
    /// `SESSION (n)`.
    Session {
        /// Inactivity gap in ms.
        gap_ms: i64,
    },
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `||` (string concatenation).
    Concat,
    /// `=`.
    Eq,
    /// `<>` or `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `AND`.
    And,
    /// `OR`.
    Or,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Concat => "||",
            Eq => "=",
            NotEq => "<>",
            Lt => "<",
            LtEq => "<=",
            Gt => ">",
            GtEq => ">=",
            And => "AND",
            Or => "OR",
        }
    }
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column, optionally qualified by a source or alias.
    Column {
        /// `source.` before the name.
        qualifier: Option<String>,
        /// The name.
        name: String,
    },
    /// A literal.
    Literal(Value),
    /// `a op b`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `-a`.
    Negate(Box<Expr>),
    /// `NOT a`.
    Not(Box<Expr>),
    /// `f(args)`, `f(DISTINCT args)` or `COUNT(*)` (no args, `star`).
    Function {
        /// The name, upper-cased.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
        /// `COUNT(*)`.
        star: bool,
    },
    /// `CASE [operand] WHEN … THEN … [ELSE …] END`.
    Case {
        /// `CASE x WHEN v …`.
        operand: Option<Box<Expr>>,
        /// The branches.
        whens: Vec<(Expr, Expr)>,
        /// `ELSE`.
        otherwise: Option<Box<Expr>>,
    },
    /// `CAST(e AS type)`.
    Cast(Box<Expr>, SqlType),
    /// `a[i]` (arrays from 1, negative from the end) or `m['k']`.
    Subscript(Box<Expr>, Box<Expr>),
    /// `s->field`.
    Field(Box<Expr>, String),
    /// `a IS [NOT] NULL`.
    IsNull(Box<Expr>, bool),
    /// `a [NOT] BETWEEN b AND c`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    /// `a [NOT] IN (…)`.
    InList(Box<Expr>, Vec<Expr>, bool),
    /// `a [NOT] LIKE pattern [ESCAPE c]`.
    Like(Box<Expr>, Box<Expr>, bool, Option<char>),
    /// `ARRAY[…]`.
    Array(Vec<Expr>),
    /// `MAP(k := v, …)`.
    Map(Vec<(Expr, Expr)>),
    /// `STRUCT(name := v, …)`.
    Struct(Vec<(String, Expr)>),
    /// `x => expr` or `(x, y) => expr` (lambda arguments of TRANSFORM, FILTER, REDUCE).
    Lambda(Vec<String>, Box<Expr>),
}

/// A name quoted with backticks when it is not a plain upper-case identifier.
pub fn quote_if_needed(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if plain && !crate::parser::is_reserved(name) {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Column { qualifier, name } => match qualifier {
                Some(q) => write!(f, "{}.{}", quote_if_needed(q), quote_if_needed(name)),
                None => f.write_str(&quote_if_needed(name)),
            },
            Expr::Literal(Value::String(s)) => write!(f, "'{}'", s.replace('\'', "''")),
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::Negate(a) => write!(f, "-{a}"),
            Expr::Not(a) => write!(f, "(NOT {a})"),
            Expr::Function { name, args, star } => {
                if *star {
                    return write!(f, "{name}(*)");
                }
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                f.write_str("(CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END)")
            }
            Expr::Cast(e, t) => write!(f, "CAST({e} AS {t})"),
            Expr::Subscript(a, i) => write!(f, "{a}[{i}]"),
            Expr::Field(a, n) => write!(f, "{a}->{}", quote_if_needed(n)),
            Expr::IsNull(a, negated) => {
                write!(f, "({a} IS {}NULL)", if *negated { "NOT " } else { "" })
            }
            Expr::Between(a, lo, hi, negated) => write!(
                f,
                "({a} {}BETWEEN {lo} AND {hi})",
                if *negated { "NOT " } else { "" }
            ),
            Expr::InList(a, list, negated) => {
                write!(f, "({a} {}IN (", if *negated { "NOT " } else { "" })?;
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("))")
            }
            Expr::Like(a, p, negated, _) => {
                write!(f, "({a} {}LIKE {p})", if *negated { "NOT " } else { "" })
            }
            Expr::Array(items) => {
                f.write_str("ARRAY[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            Expr::Map(entries) => {
                f.write_str("MAP(")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}:={v}")?;
                }
                f.write_str(")")
            }
            Expr::Struct(fields) => {
                f.write_str("STRUCT(")?;
                for (i, (n, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}:={v}", quote_if_needed(n))?;
                }
                f.write_str(")")
            }
            Expr::Lambda(params, body) => write!(f, "({}) => {body}", params.join(", ")),
        }
    }
}
