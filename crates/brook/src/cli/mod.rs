//! The client subcommands: `brook topic`, `produce`, `consume`, `group`, `transactions` and
//! `bench`. They
//! talk to any Kafka-compatible cluster through librdkafka (the `rdkafka` crate), plus a few
//! admin requests librdkafka does not offer, sent directly ([`wire`]).
//!
//! Exit codes: 0 success; 1 the cluster refused or an operation failed; 2 bad usage; 3 the
//! cluster could not be reached; 4 a named topic or group does not exist.

pub mod bench;
pub mod connect;
pub mod connector;
pub mod consume;
pub mod group;
pub mod output;
pub mod produce;
pub mod sql;
pub mod topic;
pub mod transactions;

/// A failure with its exit code; its message is the one line the user sees.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Fail {
    /// Process exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

impl Fail {
    /// The cluster refused, or an operation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Fail {
        Fail {
            code: 1,
            message: message.into(),
        }
    }

    /// Bad flags or input (exit 2, like clap's own usage errors).
    pub fn usage(message: impl Into<String>) -> Fail {
        Fail {
            code: 2,
            message: message.into(),
        }
    }

    /// No answer from the cluster (exit 3).
    pub fn unreachable(message: impl Into<String>) -> Fail {
        Fail {
            code: 3,
            message: message.into(),
        }
    }

    /// A named topic or group does not exist (exit 4).
    pub fn not_found(message: impl Into<String>) -> Fail {
        Fail {
            code: 4,
            message: message.into(),
        }
    }
}

/// The exit code for an error: a [`Fail`]'s own, else 1.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<Fail>())
        .map_or(1, |f| f.code)
}
