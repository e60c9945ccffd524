//! Errors with ksqlDB's error codes (`io.confluent.ksql.rest.Errors`), which its REST API
//! returns in `error_code` beside the message.

use crate::lexer::Position;

/// ksqlDB's `ERROR_CODE_BAD_REQUEST`.
pub const BAD_REQUEST: u32 = 40000;
/// ksqlDB's `ERROR_CODE_BAD_STATEMENT`: a statement that cannot be parsed or run.
pub const BAD_STATEMENT: u32 = 40001;
/// ksqlDB's `ERROR_CODE_QUERY_ENDPOINT`: a query sent to `/ksql`.
pub const QUERY_ENDPOINT: u32 = 40002;
/// ksqlDB's `ERROR_CODE_NOT_FOUND`.
pub const NOT_FOUND: u32 = 40400;
/// ksqlDB's `ERROR_CODE_SERVER_ERROR`.
pub const SERVER_ERROR: u32 = 50000;

/// An error to show to the user, with ksqlDB's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    /// ksqlDB's error code (40001 for a bad statement, …).
    pub code: u32,
    /// What went wrong, for people.
    pub message: String,
}

impl SqlError {
    /// A statement that cannot be run (ksqlDB's 40001).
    pub fn statement(message: impl Into<String>) -> Self {
        SqlError {
            code: BAD_STATEMENT,
            message: message.into(),
        }
    }

    /// A syntax error at `at`.
    pub fn syntax(at: Position, message: impl AsRef<str>) -> Self {
        SqlError {
            code: BAD_STATEMENT,
            message: format!("line {}:{}: {}", at.line, at.column, message.as_ref()),
        }
    }

    /// A failure of the server or the cluster (ksqlDB's 50000).
    pub fn server(message: impl Into<String>) -> Self {
        SqlError {
            code: SERVER_ERROR,
            message: message.into(),
        }
    }

    /// Something named that does not exist (ksqlDB's 40400).
    pub fn not_found(message: impl Into<String>) -> Self {
        SqlError {
            code: NOT_FOUND,
            message: message.into(),
        }
    }

    /// A request that is not valid (ksqlDB's 40000).
    pub fn bad_request(message: impl Into<String>) -> Self {
        SqlError {
            code: BAD_REQUEST,
            message: message.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = SqlError> = std::result::Result<T, E>;
