//! The `__consumer_offsets` record formats, byte for byte as Kafka writes them, so that tools
//! reading that topic (and a future migration) understand Brook's.
//!
//! ```text
//! OffsetCommitKey   version i16 (1) | group string | topic string | partition i32
//! OffsetCommitValue version i16 (3) | offset i64 | leader_epoch i32 | metadata string
//!                   | commit_timestamp i64
//! GroupMetadataKey  version i16 (2) | group string
//! ```
//! Strings are an i16 length followed by UTF-8 bytes. A record with a null value (tombstone)
//! deletes the committed offset.

use crate::record_codec::{Reader, put_bytes, put_nullable_string, put_string};

/// A decoded `__consumer_offsets` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsKey {
    /// A committed offset of one partition (key versions 0 and 1).
    OffsetCommit {
        /// Group id.
        group: String,
        /// Topic name.
        topic: String,
        /// Partition index.
        partition: i32,
    },
    /// Group membership metadata (key version 2); its value is not used yet.
    GroupMetadata {
        /// Group id.
        group: String,
    },
}

/// A committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitValue {
    /// The next offset to consume.
    pub offset: i64,
    /// Leader epoch of the committed record, or -1.
    pub leader_epoch: i32,
    /// Client metadata.
    pub metadata: String,
    /// When the commit happened (ms).
    pub commit_timestamp: i64,
}

/// The partition of `__consumer_offsets` that owns `group`: Kafka's
/// `Utils.abs(groupId.hashCode()) % partitions`, with Java's `String.hashCode`.
pub fn partition_for(group: &str, partitions: i32) -> i32 {
    let hash = group.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs % partitions
}

/// A group's membership as stored (GroupMetadataValue).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupMetadataValue {
    /// Usually "consumer".
    pub protocol_type: String,
    /// Generation.
    pub generation: i32,
    /// Chosen assignor, if any.
    pub protocol: Option<String>,
    /// Leader's member id, if any.
    pub leader: Option<String>,
    /// When the group entered its state (ms).
    pub current_state_timestamp: i64,
    /// Members.
    pub members: Vec<MemberMetadata>,
}

/// One member as stored in GroupMetadataValue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberMetadata {
    /// Member id.
    pub member_id: String,
    /// Static id.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Rebalance timeout (ms).
    pub rebalance_timeout: i32,
    /// Session timeout (ms).
    pub session_timeout: i32,
    /// Subscription bytes (consumer protocol).
    pub subscription: Vec<u8>,
    /// Assignment bytes (consumer protocol).
    pub assignment: Vec<u8>,
}

/// Encodes a GroupMetadataKey (version 2).
pub fn encode_group_key(group: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + group.len());
    out.extend_from_slice(&2i16.to_be_bytes());
    put_string(&mut out, group);
    out
}

/// Encodes a GroupMetadataValue (version 3).
pub fn encode_group_value(value: &GroupMetadataValue) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&3i16.to_be_bytes());
    put_string(&mut out, &value.protocol_type);
    out.extend_from_slice(&value.generation.to_be_bytes());
    put_nullable_string(&mut out, value.protocol.as_deref());
    put_nullable_string(&mut out, value.leader.as_deref());
    out.extend_from_slice(&value.current_state_timestamp.to_be_bytes());
    out.extend_from_slice(&(value.members.len() as i32).to_be_bytes());
    for m in &value.members {
        put_string(&mut out, &m.member_id);
        put_nullable_string(&mut out, m.group_instance_id.as_deref());
        put_string(&mut out, &m.client_id);
        put_string(&mut out, &m.client_host);
        out.extend_from_slice(&m.rebalance_timeout.to_be_bytes());
        out.extend_from_slice(&m.session_timeout.to_be_bytes());
        put_bytes(&mut out, &m.subscription);
        put_bytes(&mut out, &m.assignment);
    }
    out
}

/// Decodes a GroupMetadataValue of any version (0–3); fields a version lacks come back empty
/// (`current_state_timestamp` -1, no instance ids, rebalance timeout = session timeout).
pub fn decode_group_value(bytes: &[u8]) -> Option<GroupMetadataValue> {
    let mut r = Reader(bytes);
    let version = r.i16()?;
    if !(0..=3).contains(&version) {
        return None;
    }
    let protocol_type = r.string()?;
    let generation = r.i32()?;
    let protocol = r.nullable_string()?;
    let leader = r.nullable_string()?;
    let current_state_timestamp = if version >= 2 { r.i64()? } else { -1 };
    let count = usize::try_from(r.i32()?).ok()?;
    let mut members = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let member_id = r.string()?;
        let group_instance_id = if version >= 3 {
            r.nullable_string()?
        } else {
            None
        };
        let client_id = r.string()?;
        let client_host = r.string()?;
        let rebalance_timeout = if version >= 1 { Some(r.i32()?) } else { None };
        let session_timeout = r.i32()?;
        members.push(MemberMetadata {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout: rebalance_timeout.unwrap_or(session_timeout),
            session_timeout,
            subscription: r.bytes()?,
            assignment: r.bytes()?,
        });
    }
    Some(GroupMetadataValue {
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp,
        members,
    })
}

/// The topics of a consumer's subscription (ConsumerProtocolSubscription, any version): what
/// its JoinGroup metadata says it consumes. `None` when the bytes are not that format.
pub fn subscription_topics(metadata: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader(metadata);
    let _version = r.i16()?;
    let count = usize::try_from(r.i32()?).ok()?;
    (0..count).map(|_| r.string()).collect()
}

/// Encodes an OffsetCommitKey (version 1).
pub fn encode_offset_key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + group.len() + topic.len());
    out.extend_from_slice(&1i16.to_be_bytes());
    put_string(&mut out, group);
    put_string(&mut out, topic);
    out.extend_from_slice(&partition.to_be_bytes());
    out
}

/// Encodes an OffsetCommitValue (version 3).
pub fn encode_offset_value(value: &OffsetCommitValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + value.metadata.len());
    out.extend_from_slice(&3i16.to_be_bytes());
    out.extend_from_slice(&value.offset.to_be_bytes());
    out.extend_from_slice(&value.leader_epoch.to_be_bytes());
    put_string(&mut out, &value.metadata);
    out.extend_from_slice(&value.commit_timestamp.to_be_bytes());
    out
}

/// Decodes a key; `None` for versions or bytes Brook does not understand.
pub fn decode_key(bytes: &[u8]) -> Option<OffsetsKey> {
    let mut r = Reader(bytes);
    match r.i16()? {
        0 | 1 => Some(OffsetsKey::OffsetCommit {
            group: r.string()?,
            topic: r.string()?,
            partition: r.i32()?,
        }),
        2 => Some(OffsetsKey::GroupMetadata { group: r.string()? }),
        _ => None,
    }
}

/// Decodes an OffsetCommitValue of versions 0–3; `None` when malformed.
pub fn decode_offset_value(bytes: &[u8]) -> Option<OffsetCommitValue> {
    let mut r = Reader(bytes);
    let version = r.i16()?;
    let offset = r.i64()?;
    let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
    let metadata = r.string()?;
    let commit_timestamp = r.i64()?;
    if version == 1 {
        r.i64()?; // expire timestamp, unused since Kafka 2.1
    }
    (0..=3).contains(&version).then_some(OffsetCommitValue {
        offset,
        leader_epoch,
        metadata,
        commit_timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_key_and_value_bytes_match_kafkas_layout() {
        assert_eq!(
            encode_offset_key("g", "rides", 3),
            [
                0, 1, 0, 1, b'g', 0, 5, b'r', b'i', b'd', b'e', b's', 0, 0, 0, 3
            ]
        );
        let value = OffsetCommitValue {
            offset: 42,
            leader_epoch: 0,
            metadata: "m".into(),
            commit_timestamp: 7,
        };
        assert_eq!(
            encode_offset_value(&value),
            [
                0, 3, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 1, b'm', 0, 0, 0, 0, 0, 0, 0, 7
            ]
        );
        assert_eq!(
            decode_offset_value(&encode_offset_value(&value)),
            Some(value)
        );
        assert_eq!(
            decode_key(&encode_offset_key("g", "rides", 3)),
            Some(OffsetsKey::OffsetCommit {
                group: "g".into(),
                topic: "rides".into(),
                partition: 3
            })
        );
        assert_eq!(
            decode_key(&[0, 2, 0, 1, b'g']),
            Some(OffsetsKey::GroupMetadata { group: "g".into() })
        );
        assert_eq!(decode_key(&[0, 9]), None);
        assert_eq!(decode_offset_value(&[0, 3, 1]), None);
    }

    #[test]
    fn group_metadata_bytes_match_kafkas_layout() {
        assert_eq!(encode_group_key("g"), [0, 2, 0, 1, b'g']);
        let value = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 3,
            protocol: Some("range".into()),
            leader: Some("m".into()),
            current_state_timestamp: 9,
            members: vec![MemberMetadata {
                member_id: "m".into(),
                group_instance_id: None,
                client_id: "c".into(),
                client_host: "/h".into(),
                rebalance_timeout: 300,
                session_timeout: 45,
                subscription: vec![1],
                assignment: vec![],
            }],
        };
        let mut expected = vec![0, 3, 0, 8];
        expected.extend_from_slice(b"consumer");
        expected.extend_from_slice(&[0, 0, 0, 3, 0, 5]);
        expected.extend_from_slice(b"range");
        expected.extend_from_slice(&[0, 1, b'm', 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 1, b'm', 0xff, 0xff, 0, 1, b'c', 0, 2, b'/', b'h']);
        expected.extend_from_slice(&[0, 0, 1, 44, 0, 0, 0, 45, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
        assert_eq!(encode_group_value(&value), expected);
        assert_eq!(decode_group_value(&expected), Some(value));
        let empty = GroupMetadataValue {
            generation: 4,
            current_state_timestamp: 1_700_000_000_000,
            ..Default::default()
        };
        assert_eq!(decode_group_value(&encode_group_value(&empty)), Some(empty));
        // Version 0 (no rebalance timeout, state timestamp or instance id).
        let mut v0 = vec![0, 0, 0, 8];
        v0.extend_from_slice(b"consumer");
        v0.extend_from_slice(&[0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
        v0.extend_from_slice(&[0, 1, b'm', 0, 1, b'c', 0, 2, b'/', b'h', 0, 0, 0, 45]);
        v0.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        let old = decode_group_value(&v0).unwrap();
        assert_eq!((old.generation, old.current_state_timestamp), (2, -1));
        assert_eq!(old.members[0].rebalance_timeout, 45);
        assert_eq!(decode_group_value(&v0[..v0.len() - 1]), None);
    }

    #[test]
    fn subscription_topics_are_read_from_consumer_metadata() {
        // version 1, topics ["a", "rides"], user data null, owned partitions [].
        let metadata = [
            0, 1, 0, 0, 0, 2, 0, 1, b'a', 0, 5, b'r', b'i', b'd', b'e', b's', 0xff, 0xff, 0xff,
            0xff, 0, 0, 0, 0,
        ];
        assert_eq!(
            subscription_topics(&metadata),
            Some(vec!["a".to_string(), "rides".to_string()])
        );
        assert_eq!(subscription_topics(&[0, 1, 0, 0, 0, 9]), None);
    }

    #[test]
    fn old_value_versions_decode() {
        // Version 1: offset, metadata, commit timestamp, expire timestamp.
        let v1 = [
            0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 10,
        ];
        let decoded = decode_offset_value(&v1).unwrap();
        assert_eq!(
            (
                decoded.offset,
                decoded.leader_epoch,
                decoded.commit_timestamp
            ),
            (5, -1, 9)
        );
    }

    #[test]
    fn partition_matches_javas_string_hash_code() {
        // Java: "consumer.group.id.csv-example".hashCode() and "".hashCode() == 0.
        assert_eq!(partition_for("", 50), 0);
        let java_hash = "consumer.group.id.csv-example"
            .chars()
            .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32));
        assert_eq!(
            partition_for("consumer.group.id.csv-example", 50),
            java_hash.wrapping_abs() % 50
        );
        // "polygenelubricants".hashCode() is Integer.MIN_VALUE; Kafka's Utils.abs maps it to 0.
        assert_eq!(partition_for("polygenelubricants", 50), 0);
    }
}
