//! The process's log: `tracing` to stderr, filtered by `BROOK_LOG` (default `info`), with a
//! filter that Brook Connect's `/admin/loggers` can change while the process runs.

use std::sync::{Arc, OnceLock};

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, reload};

static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Starts logging to stderr.
pub fn init() {
    let filter = EnvFilter::try_from_env("BROOK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file must not fill with escape codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let _ = FILTER.set(handle);
    }
}

/// The loggers Brook Connect's `/admin/loggers` shows and changes: the root starts at
/// `BROOK_LOG`'s level when that is a plain level, and changes reload the filter.
pub fn connect_loggers() -> Arc<brook_connect::loggers::Loggers> {
    let root = std::env::var("BROOK_LOG")
        .ok()
        .filter(|l| !l.contains(['=', ',']))
        .unwrap_or_else(|| "info".to_string());
    let apply: Option<brook_connect::loggers::ApplyDirectives> = FILTER.get().map(|handle| {
        let handle = handle.clone();
        Box::new(move |directives: &str| {
            let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        }) as brook_connect::loggers::ApplyDirectives
    });
    Arc::new(brook_connect::loggers::Loggers::new(&root, apply))
}
