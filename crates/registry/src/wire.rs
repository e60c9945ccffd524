//! Confluent's wire format for serialized records: a magic byte 0, the schema id as a 4-byte
//! big-endian integer, then (Protobuf only) the message indexes, then the payload.
//!
//! ```
//! let framed = brook_registry::wire::frame(42, b"payload");
//! assert_eq!(framed[..5], [0, 0, 0, 0, 42]);
//! assert_eq!(brook_registry::wire::unframe(&framed).unwrap(), (42, &b"payload"[..]));
//! ```

/// The first byte of every framed record.
pub const MAGIC: u8 = 0;

/// Why bytes are not a framed record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer than 5 bytes.
    #[error("{0} bytes are too short for Confluent's wire format (magic byte and schema id)")]
    TooShort(usize),
    /// The first byte is not 0.
    #[error("unknown magic byte {0}: not a Confluent-serialized record")]
    UnknownMagic(u8),
    /// Broken Protobuf message indexes.
    #[error("malformed Protobuf message indexes")]
    BadIndexes,
}

/// Frames `payload` with the schema id.
pub fn frame(id: i32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(MAGIC);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The schema id and payload of a framed record.
pub fn unframe(bytes: &[u8]) -> Result<(i32, &[u8]), WireError> {
    if bytes.len() < 5 {
        return Err(WireError::TooShort(bytes.len()));
    }
    if bytes[0] != MAGIC {
        return Err(WireError::UnknownMagic(bytes[0]));
    }
    let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Ok((id, &bytes[5..]))
}

fn put_varint(out: &mut Vec<u8>, value: i32) {
    let mut zigzag = ((value << 1) ^ (value >> 31)) as u32;
    while zigzag >= 0x80 {
        out.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Result<i32, WireError> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or(WireError::BadIndexes)?;
        *bytes = rest;
        value |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(((value >> 1) as i32) ^ -((value & 1) as i32));
        }
    }
    Err(WireError::BadIndexes)
}

/// Protobuf message indexes (the path to the message type in its file), zig-zag varints
/// prefixed by their count; the common `[0]` is the single byte 0.
pub fn encode_message_indexes(indexes: &[i32]) -> Vec<u8> {
    if indexes == [0] {
        return vec![0];
    }
    let mut out = Vec::new();
    put_varint(&mut out, indexes.len() as i32);
    for index in indexes {
        put_varint(&mut out, *index);
    }
    out
}

/// Reads message indexes; returns them and the rest of the bytes.
pub fn decode_message_indexes(mut bytes: &[u8]) -> Result<(Vec<i32>, &[u8]), WireError> {
    let count = take_varint(&mut bytes)?;
    if count == 0 {
        return Ok((vec![0], bytes));
    }
    if !(1..=100).contains(&count) {
        return Err(WireError::BadIndexes);
    }
    let indexes = (0..count)
        .map(|_| take_varint(&mut bytes))
        .collect::<Result<_, _>>()?;
    Ok((indexes, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_indexes_have_confluents_bytes() {
        assert_eq!(frame(1, &[9]), [0, 0, 0, 0, 1, 9]);
        assert_eq!(frame(-1, &[])[1..], [0xff; 4]);
        assert_eq!(unframe(&[0, 0, 0, 1, 0, 7]).unwrap(), (256, &[7][..]));
        assert_eq!(unframe(&[1, 0, 0, 0, 0]), Err(WireError::UnknownMagic(1)));
        assert_eq!(unframe(&[0, 0]), Err(WireError::TooShort(2)));
        assert_eq!(encode_message_indexes(&[0]), [0]);
        assert_eq!(encode_message_indexes(&[1]), [2, 2]);
        assert_eq!(encode_message_indexes(&[0, 2]), [4, 0, 4]);
        for indexes in [vec![0], vec![1], vec![3, 0, 64]] {
            let mut bytes = encode_message_indexes(&indexes);
            bytes.push(0xaa);
            assert_eq!(
                decode_message_indexes(&bytes).unwrap(),
                (indexes, &[0xaa][..])
            );
        }
        assert_eq!(decode_message_indexes(&[0x80]), Err(WireError::BadIndexes));
    }
}
