//! Requests refused because Brook does not have the feature yet (share groups, group configs,
//! an authorizer, KIP-848's online upgrade).
//! Each is answered at once with a non-retriable error so the client stops instead of retrying
//! forever, and logged at INFO once per (feature, API, client id), so an operator sees why a
//! client fails without the log filling up with its retries.

use std::collections::HashSet;
use std::sync::Mutex;

use kafka_protocol::messages::{ApiKey, RequestHeader};

/// The features a client can ask for that Brook refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    /// KIP-932 share groups.
    ShareGroups,
    /// ACLs: there is no authorizer (Kafka's SECURITY_DISABLED answer).
    Authorizer,
    /// Group configs (config resource type 32: KIP-848 and KIP-932 group settings).
    GroupConfigs,
    /// KIP-848's online upgrade of a classic group with members to the consumer protocol
    /// (Kafka's `group.consumer.migration.policy=disabled` answer).
    OnlineUpgrade,
}

impl Missing {
    /// The message clients get with the error code.
    pub fn message(self) -> &'static str {
        match self {
            Missing::ShareGroups => {
                "share groups (KIP-932) are not available in this version of Brook; use a \
                 consumer group"
            }
            Missing::Authorizer => "No Authorizer is configured on the broker",
            Missing::GroupConfigs => {
                "group configs (config resource type 32) are not available in this version of \
                 Brook; set group.consumer.* and share settings on the broker"
            }
            Missing::OnlineUpgrade => {
                "online upgrade of a classic group with members to the consumer protocol is \
                 disabled"
            }
        }
    }
}

/// Which refusals were already logged. Shared by all connections.
#[derive(Debug, Default)]
pub struct Refusals {
    logged: Mutex<HashSet<(Missing, i16, String)>>,
}

/// Distinct (feature, API, client id) triples remembered; past it (clients inventing ids)
/// refusals are logged at DEBUG only, so memory stays bounded.
const REMEMBERED: usize = 4096;

impl Refusals {
    /// Logs the refusal at INFO the first time this client id is refused `feature` on `api`.
    pub fn refuse(&self, feature: Missing, api: ApiKey, header: &RequestHeader) {
        let client_id = header.client_id.as_deref().unwrap_or("").to_string();
        let key = (feature, api as i16, client_id.clone());
        let first = {
            let mut logged = self
                .logged
                .lock()
                .expect("no panics while holding the lock");
            if logged.contains(&key) {
                false
            } else if logged.len() < REMEMBERED {
                logged.insert(key)
            } else {
                tracing::debug!(api = ?api, client_id = %client_id, "refused: {}", feature.message());
                false
            }
        };
        if first {
            tracing::info!(api = ?api, client_id = %client_id, "refused: {}", feature.message());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn each_client_is_remembered_once_and_memory_stays_bounded() {
        let refusals = Refusals::default();
        let header =
            |id: String| RequestHeader::default().with_client_id(Some(StrBytes::from_string(id)));
        for _ in 0..3 {
            refusals.refuse(
                Missing::GroupConfigs,
                ApiKey::DescribeConfigs,
                &header("app".into()),
            );
        }
        assert_eq!(refusals.logged.lock().unwrap().len(), 1);
        for i in 0..REMEMBERED + 100 {
            refusals.refuse(
                Missing::ShareGroups,
                ApiKey::ShareGroupHeartbeat,
                &header(format!("c{i}")),
            );
        }
        assert_eq!(refusals.logged.lock().unwrap().len(), REMEMBERED);
    }
}
