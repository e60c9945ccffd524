//! Log levels at run time, as Kafka Connect's `/admin/loggers` changes them (KIP-495).
//!
//! Kafka's loggers are log4j names; Brook's are `tracing` targets (`brook_connect`,
//! `brook_connect::worker`, `rdkafka`, …) and `root`. Levels are Kafka's names (`OFF`,
//! `FATAL`, `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`). Each change rebuilds the process's
//! filter directives (`info,brook_connect::worker=debug`) and hands them to the hook the
//! process installed (the `brook` binary reloads its `tracing` filter).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Applies filter directives to the process's logging.
pub type ApplyDirectives = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// A logger's level and when it was last set (milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerLevel {
    /// Kafka's level name.
    pub level: String,
    /// When it was set through the API (`None` for the level the process started with).
    pub last_modified: Option<i64>,
}

/// The process's loggers.
pub struct Loggers {
    levels: Mutex<BTreeMap<String, LoggerLevel>>,
    apply: Option<ApplyDirectives>,
}

const LEVELS: [&str; 7] = ["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

/// Kafka's level as a `tracing` directive level.
fn directive_level(level: &str) -> &'static str {
    match level {
        "OFF" => "off",
        "FATAL" | "ERROR" => "error",
        "WARN" => "warn",
        "DEBUG" => "debug",
        "TRACE" => "trace",
        _ => "info",
    }
}

impl Loggers {
    /// Loggers whose root starts at `root_level` (Kafka's name) and whose changes go to
    /// `apply`; without a hook, levels can be read but not changed.
    pub fn new(root_level: &str, apply: Option<ApplyDirectives>) -> Loggers {
        let root = root_level.to_ascii_uppercase();
        let root = if LEVELS.contains(&root.as_str()) {
            root
        } else {
            "INFO".to_string()
        };
        Loggers {
            levels: Mutex::new(BTreeMap::from([(
                "root".to_string(),
                LoggerLevel {
                    level: root,
                    last_modified: None,
                },
            )])),
            apply,
        }
    }

    /// Every logger with a level.
    pub fn levels(&self) -> BTreeMap<String, LoggerLevel> {
        self.levels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One logger's level: its own, or the closest parent's (`a::b` inherits from `a`).
    pub fn level(&self, logger: &str) -> LoggerLevel {
        let levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        let mut name = logger;
        loop {
            if let Some(l) = levels.get(name) {
                return l.clone();
            }
            match name.rsplit_once("::") {
                Some((parent, _)) => name = parent,
                None => return levels["root"].clone(),
            }
        }
    }

    /// Sets `logger` (and so every logger below it) to `level`; returns the loggers whose
    /// level changed, as Kafka's API does.
    pub fn set(&self, logger: &str, level: &str) -> Result<Vec<String>, LoggerError> {
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(LoggerError::BadRequest(format!(
                "Invalid log level '{level}'."
            )));
        }
        if logger.is_empty() || logger.contains(char::is_whitespace) || logger.contains(',') {
            return Err(LoggerError::BadRequest(format!(
                "Invalid logger name '{logger}'."
            )));
        }
        let Some(apply) = &self.apply else {
            return Err(LoggerError::Unsupported(
                "This process cannot change its log levels".to_string(),
            ));
        };
        let mut levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut next = levels.clone();
        // A logger set explicitly resets those below it (they inherit from it again).
        let below = format!("{logger}::");
        let mut changed: Vec<String> = next
            .keys()
            .filter(|k| logger == "root" || k.starts_with(&below))
            .filter(|k| k.as_str() != logger)
            .cloned()
            .collect();
        next.retain(|k, _| !changed.contains(k));
        next.insert(
            logger.to_string(),
            LoggerLevel {
                level: level.clone(),
                last_modified: Some(now),
            },
        );
        apply(&directives(&next))?;
        changed.push(logger.to_string());
        changed.sort();
        *levels = next;
        Ok(changed)
    }
}

/// The filter directives for these levels: the root's level, then each logger's.
fn directives(levels: &BTreeMap<String, LoggerLevel>) -> String {
    let mut parts = vec![directive_level(&levels["root"].level).to_string()];
    for (name, l) in levels {
        if name != "root" {
            parts.push(format!("{name}={}", directive_level(&l.level)));
        }
    }
    parts.join(",")
}

/// Why a level was not set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoggerError {
    /// A bad level or logger name (400).
    #[error("{0}")]
    BadRequest(String),
    /// The process has no way to change its logging (500).
    #[error("{0}")]
    Unsupported(String),
}

impl From<String> for LoggerError {
    fn from(e: String) -> Self {
        LoggerError::Unsupported(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn levels_build_directives_and_inherit() {
        let applied = Arc::new(Mutex::new(Vec::new()));
        let seen = applied.clone();
        let loggers = Loggers::new(
            "info",
            Some(Box::new(move |d: &str| {
                seen.lock().unwrap().push(d.to_string());
                Ok(())
            })),
        );
        assert_eq!(loggers.level("brook_connect::worker").level, "INFO");
        let changed = loggers.set("brook_connect::worker", "debug").unwrap();
        assert_eq!(changed, vec!["brook_connect::worker"]);
        assert_eq!(loggers.level("brook_connect::worker::task").level, "DEBUG");
        assert_eq!(loggers.level("brook_connect").level, "INFO");
        loggers.set("rdkafka", "FATAL").unwrap();
        assert_eq!(
            applied.lock().unwrap().last().unwrap(),
            "info,brook_connect::worker=debug,rdkafka=error"
        );
        // Setting a parent resets what is below it.
        let changed = loggers.set("brook_connect", "WARN").unwrap();
        assert_eq!(changed, vec!["brook_connect", "brook_connect::worker"]);
        assert_eq!(loggers.level("brook_connect::worker").level, "WARN");
        assert!(matches!(
            loggers.set("x", "LOUD"),
            Err(LoggerError::BadRequest(m)) if m == "Invalid log level 'LOUD'."
        ));
        assert!(matches!(
            Loggers::new("INFO", None).set("x", "DEBUG"),
            Err(LoggerError::Unsupported(_))
        ));
    }
}
