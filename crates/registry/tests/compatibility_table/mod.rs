//! The table-driven compatibility tests' shared part: a case (an old and a new schema with
//! the expected BACKWARD and FORWARD verdicts) and the runner that checks each case under
//! BACKWARD, FORWARD, FULL and NONE.

use brook_registry::compat::Level;
use brook_registry::format::{Parsed, SchemaType};

/// One evolution: `old` registered first, then `new`.
pub struct Case {
    pub what: &'static str,
    pub old: String,
    pub new: String,
    /// Whether `new` reads data written with `old`.
    pub backward: bool,
    /// Whether `old` reads data written with `new`.
    pub forward: bool,
}

pub fn case(
    what: &'static str,
    old: impl Into<String>,
    new: impl Into<String>,
    backward: bool,
    forward: bool,
) -> Case {
    Case {
        what,
        old: old.into(),
        new: new.into(),
        backward,
        forward,
    }
}

/// Checks every case under BACKWARD, FORWARD, FULL (both) and NONE (always compatible);
/// returns how many checks ran and a line for each wrong verdict.
pub fn check(schema_type: SchemaType, cases: &[Case]) -> (usize, Vec<String>) {
    let parse = |text: &str| {
        Parsed::parse(schema_type, text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let mut checked = 0;
    let mut wrong = Vec::new();
    for c in cases {
        let (old, new) = (parse(&c.old), parse(&c.new));
        let earlier = [old];
        for (level, expected) in [
            (Level::Backward, c.backward),
            (Level::Forward, c.forward),
            (Level::Full, c.backward && c.forward),
            (Level::None, true),
        ] {
            let problems = level.check(&new, &earlier);
            checked += 1;
            if problems.is_empty() != expected {
                wrong.push(format!(
                    "{} under {}: expected {}, got {problems:?}",
                    c.what,
                    level.name(),
                    if expected {
                        "compatible"
                    } else {
                        "incompatible"
                    }
                ));
            }
        }
    }
    (checked, wrong)
}
