//! Background upkeep of every partition log, as Kafka's log manager schedules it: `flush.ms`
//! checks every `log.flush.scheduler.interval.ms`, retention every
//! `log.retention.check.interval.ms`, compaction of compacted topics every
//! `log.cleaner.backoff.ms` (committed offsets expire on the retention schedule, after
//! `offsets.retention.minutes`). The file work runs on the blocking pool so that requests are
//! never stalled behind it.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::server::BrokerContext;

/// Runs until the shutdown signal.
pub async fn run(context: Arc<BrokerContext>, mut shutdown: watch::Receiver<bool>) {
    let config = &context.config;
    let tick = config
        .flush_scheduler_interval
        .min(config.retention_check_interval)
        .min(config.cleaner_backoff);
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut last_flush, mut last_retention, mut last_clean) =
        (Instant::now(), Instant::now(), Instant::now());
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        let flush = last_flush.elapsed() >= config.flush_scheduler_interval;
        let retention = last_retention.elapsed() >= config.retention_check_interval;
        let clean = last_clean.elapsed() >= config.cleaner_backoff;
        if !(flush || retention || clean) {
            continue;
        }
        let now = Instant::now();
        if flush {
            last_flush = now;
        }
        if retention {
            last_retention = now;
        }
        if clean {
            last_clean = now;
        }
        let context = context.clone();
        let _ =
            tokio::task::spawn_blocking(move || run_once(&context, flush, retention, clean)).await;
    }
}

/// One pass over every partition (and, with retention, over committed offsets).
pub fn run_once(context: &BrokerContext, flush: bool, retention: bool, clean: bool) {
    if retention {
        let expired = context
            .coordinator
            .expire_offsets(context.config.offsets_retention);
        if expired > 0 {
            tracing::info!(offsets = expired, "expired committed offsets");
        }
    }
    for topic in context.topics.list() {
        for partition in &topic.partitions {
            let log = &partition.log;
            let dir = log.dir().display().to_string();
            if flush && let Err(e) = log.flush_if_due() {
                tracing::warn!(log = %dir, error = %e, "scheduled flush failed");
            }
            if retention {
                match log.enforce_retention() {
                    Ok(outcome) if !outcome.deleted_segments.is_empty() => tracing::info!(
                        log = %dir, segments = outcome.deleted_segments.len(), bytes = outcome.deleted_bytes,
                        log_start_offset = outcome.log_start_offset, "retention deleted segments"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(log = %dir, error = %e, "retention failed"),
                }
            }
            if clean && log.config().cleanup_policy.compacts() {
                match log.compact() {
                    Ok(outcome) if outcome.segments_cleaned > 0 => tracing::info!(
                        log = %dir, segments = outcome.segments_cleaned, records_removed = outcome.records_removed,
                        "compacted"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(log = %dir, error = %e, "compaction failed"),
                }
            }
        }
    }
}

/// The transaction coordinator's schedule: abort transactions past their timeout every
/// `transaction.abort.timed.out.transaction.cleanup.interval.ms`, remove idle transactional
/// ids every `transaction.remove.expired.transaction.cleanup.interval.ms`. Runs until the
/// shutdown signal.
pub async fn run_transactions(context: Arc<BrokerContext>, mut shutdown: watch::Receiver<bool>) {
    let settings = context.transactions.settings().clone();
    let mut aborts = tokio::time::interval(settings.abort_interval);
    let mut expiry = tokio::time::interval(settings.expiration_interval);
    aborts.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    expiry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = aborts.tick() => {
                context
                    .transactions
                    .abort_timed_out(&context.topics, &context.coordinator)
                    .await;
            }
            _ = expiry.tick() => {
                let removed = context.transactions.expire_transactional_ids();
                if removed > 0 {
                    tracing::info!(transactional_ids = removed, "expired transactional ids");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}
