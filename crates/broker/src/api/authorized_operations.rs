//! `authorized_operations` in Metadata, DescribeCluster, DescribeGroups and
//! ConsumerGroupDescribe. Brook has no authorizer, so — as Kafka without an authorizer does —
//! every operation a resource type supports is reported as allowed: a 32-bit field with bit
//! `n` set for ACL operation code `n` (Kafka's `AclEntry.supportedOperations`).

/// ACL operation codes.
const READ: u32 = 3;
const WRITE: u32 = 4;
const CREATE: u32 = 5;
const DELETE: u32 = 6;
const ALTER: u32 = 7;
const DESCRIBE: u32 = 8;
const CLUSTER_ACTION: u32 = 9;
const DESCRIBE_CONFIGS: u32 = 10;
const ALTER_CONFIGS: u32 = 11;
const IDEMPOTENT_WRITE: u32 = 12;

const fn field(operations: &[u32]) -> i32 {
    let mut bits = 0u32;
    let mut i = 0;
    while i < operations.len() {
        bits |= 1 << operations[i];
        i += 1;
    }
    bits as i32
}

/// Everything on a topic.
pub const TOPIC: i32 = field(&[
    READ,
    WRITE,
    CREATE,
    DESCRIBE,
    DELETE,
    ALTER,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
]);

/// Everything on a group.
pub const GROUP: i32 = field(&[READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS]);

/// Everything on the cluster.
pub const CLUSTER: i32 = field(&[
    CREATE,
    CLUSTER_ACTION,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
    IDEMPOTENT_WRITE,
    ALTER,
    DESCRIBE,
]);

/// Kafka's value when the client did not ask.
pub const NOT_REQUESTED: i32 = i32::MIN;

#[cfg(test)]
mod tests {
    #[test]
    fn fields_match_kafkas_values() {
        // As a Kafka 4 broker without an authorizer answers (bits of the ACL operation codes).
        assert_eq!(super::TOPIC, 3576);
        assert_eq!(super::GROUP, 3400);
        assert_eq!(super::CLUSTER, 8096);
    }
}
