//! ksqlDB's built-in functions: scalar functions ([`scalar`]) and aggregates
//! ([`aggregate`]), found by name for expressions, `SHOW FUNCTIONS` and `DESCRIBE FUNCTION`.

mod aggregates;
mod scalars;

use std::collections::HashMap;
use std::sync::LazyLock;

use base64::Engine;

pub use aggregates::{AggregateFn, Aggregator};

use crate::types::SqlType;
use crate::value::Value;

/// A scalar function.
pub struct ScalarFn {
    /// Its name, upper-case.
    pub name: &'static str,
    /// Its category, as `SHOW FUNCTIONS` groups them.
    pub category: &'static str,
    /// How it is called.
    pub signature: &'static str,
    /// What it does.
    pub description: &'static str,
    /// The result type for these argument types, or why they are not accepted.
    pub returns: fn(&[SqlType]) -> Result<SqlType, String>,
    /// The result for these arguments (NULL when it cannot be computed).
    pub eval: fn(&[Value]) -> Value,
}

impl std::fmt::Debug for ScalarFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

static SCALARS: LazyLock<HashMap<&'static str, &'static ScalarFn>> =
    LazyLock::new(|| scalars::ALL.iter().map(|f| (f.name, f)).collect());

/// The scalar function `name` (upper-case).
pub fn scalar(name: &str) -> Option<&'static ScalarFn> {
    SCALARS.get(name).copied()
}

/// Every scalar function.
pub fn scalars() -> &'static [ScalarFn] {
    scalars::ALL
}

/// The aggregate function `name` (upper-case).
pub fn aggregate(name: &str) -> Option<&'static AggregateFn> {
    aggregates::ALL.iter().find(|a| a.name == name)
}

/// Every aggregate function.
pub fn aggregates() -> &'static [AggregateFn] {
    aggregates::ALL
}

/// Bytes as standard base64 (how ksqlDB shows BYTES).
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Standard base64 as bytes.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}
