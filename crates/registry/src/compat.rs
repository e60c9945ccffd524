//! Compatibility levels and the check of a new schema against a subject's earlier versions.
//!
//! BACKWARD: the new schema reads data written with the latest one. FORWARD: the latest reads
//! data written with the new one. FULL: both. The `_TRANSITIVE` levels check every earlier
//! version instead of only the latest. NONE checks nothing.

use serde::{Deserialize, Serialize};

use crate::error::RegistryError;
use crate::format::Parsed;

/// A compatibility level, by Confluent's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// No checks.
    None,
    /// New reads latest.
    #[default]
    Backward,
    /// New reads all earlier.
    BackwardTransitive,
    /// Latest reads new.
    Forward,
    /// All earlier read new.
    ForwardTransitive,
    /// Backward and forward against the latest.
    Full,
    /// Backward and forward against all earlier.
    FullTransitive,
}

impl Level {
    /// Parses a level in any case (`backward`, `FULL_TRANSITIVE`, …).
    pub fn parse(text: &str) -> Result<Level, RegistryError> {
        Ok(match text.to_ascii_uppercase().as_str() {
            "NONE" => Level::None,
            "BACKWARD" => Level::Backward,
            "BACKWARD_TRANSITIVE" => Level::BackwardTransitive,
            "FORWARD" => Level::Forward,
            "FORWARD_TRANSITIVE" => Level::ForwardTransitive,
            "FULL" => Level::Full,
            "FULL_TRANSITIVE" => Level::FullTransitive,
            _ => return Err(RegistryError::InvalidCompatibilityLevel),
        })
    }

    /// Confluent's name.
    pub fn name(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    fn transitive(self) -> bool {
        matches!(
            self,
            Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive
        )
    }

    fn backward(self) -> bool {
        matches!(
            self,
            Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive
        )
    }

    /// Why `new` breaks this level against `earlier` (oldest first); empty when it does not.
    pub fn check<P: std::borrow::Borrow<Parsed>>(self, new: &Parsed, earlier: &[P]) -> Vec<String> {
        let against: &[P] = match (self, earlier) {
            (Level::None, _) | (_, []) => return Vec::new(),
            (level, all) if level.transitive() => all,
            (_, all) => &all[all.len() - 1..],
        };
        let mut problems = Vec::new();
        for old in against.iter().rev() {
            let old = old.borrow();
            if self.backward() {
                problems.extend(new.read_problems(old).into_iter().map(|p| {
                    format!("new schema cannot read data written with an earlier one: {p}")
                }));
            }
            if self.forward() {
                problems.extend(old.read_problems(new).into_iter().map(|p| {
                    format!("an earlier schema cannot read data written with the new one: {p}")
                }));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::SchemaType;

    fn avro(text: &str) -> Parsed {
        Parsed::parse(SchemaType::Avro, text, &[]).unwrap()
    }

    #[test]
    fn levels_check_the_right_direction_and_depth() {
        let v1 = avro(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
        // v2 drops `a` and adds `b` with a default: old data readable (b defaults, a ignored).
        let v2 = avro(
            r#"{"type":"record","name":"R","fields":[{"name":"b","type":"int","default":0}]}"#,
        );
        // v3 adds `c` without a default.
        let v3 = avro(
            r#"{"type":"record","name":"R","fields":[{"name":"b","type":"int","default":0},
                {"name":"c","type":"string"}]}"#,
        );
        assert!(
            Level::Backward
                .check(&v2, std::slice::from_ref(&v1))
                .is_empty()
        );
        // v1 readers need `a`, which v2 data lacks and has no default.
        assert!(
            !Level::Forward
                .check(&v2, std::slice::from_ref(&v1))
                .is_empty()
        );
        assert!(
            !Level::Backward
                .check(&v3, &[v1.clone(), v2.clone()])
                .is_empty()
        );
        assert!(
            Level::Forward
                .check(&v3, &[v1.clone(), v2.clone()])
                .is_empty()
        );
        assert!(
            !Level::ForwardTransitive
                .check(&v3, &[v1.clone(), v2.clone()])
                .is_empty()
        );
        assert!(Level::None.check(&v3, &[v1, v2]).is_empty());
    }

    #[test]
    fn names_parse_in_any_case() {
        assert_eq!(
            Level::parse("full_transitive").unwrap(),
            Level::FullTransitive
        );
        assert_eq!(Level::parse("BACKWARD").unwrap().name(), "BACKWARD");
        assert_eq!(
            Level::parse("sideways").unwrap_err(),
            RegistryError::InvalidCompatibilityLevel
        );
    }
}
