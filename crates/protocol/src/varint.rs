//! Zig-zag variable-length integers (protobuf style), as Kafka's record format uses them.

/// Decodes a zig-zag varint (at most 5 bytes) from the front of `buf`, advancing it.
pub fn read_varint(buf: &mut &[u8]) -> Option<i32> {
    let raw = read_unsigned(buf, 5)?;
    let raw = u32::try_from(raw).ok()?;
    Some(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Decodes a zig-zag varlong (at most 10 bytes) from the front of `buf`, advancing it.
pub fn read_varlong(buf: &mut &[u8]) -> Option<i64> {
    let raw = read_unsigned(buf, 10)?;
    Some(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

fn read_unsigned(buf: &mut &[u8], max_len: usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..max_len {
        let byte = *buf.get(i)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Some(value);
        }
    }
    None
}

/// Appends `value` as a zig-zag varint.
pub fn write_varint(out: &mut Vec<u8>, value: i32) {
    write_unsigned(out, ((value << 1) ^ (value >> 31)) as u32 as u64);
}

/// Appends `value` as a zig-zag varlong.
pub fn write_varlong(out: &mut Vec<u8>, value: i64) {
    write_unsigned(out, ((value << 1) ^ (value >> 63)) as u64);
}

fn write_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Bytes `write_varint(value)` appends.
pub fn varint_size(value: i32) -> usize {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings_match_kafka() {
        // From Kafka's ByteUtilsTest: zig-zag maps 0,-1,1,-2,2 to 0,1,2,3,4.
        let cases: &[(i32, &[u8])] = &[
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (i32::MAX, &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            write_varint(&mut out, *value);
            assert_eq!(&out[..], *bytes, "{value}");
            assert_eq!(varint_size(*value), bytes.len());
            let mut slice = *bytes;
            assert_eq!(read_varint(&mut slice), Some(*value));
            assert!(slice.is_empty());
        }
    }

    #[test]
    fn overlong_or_truncated_input_is_refused() {
        assert_eq!(read_varint(&mut &[0x80u8, 0x80][..]), None);
        assert_eq!(
            read_varint(&mut &[0xffu8, 0xff, 0xff, 0xff, 0xff, 0x01][..]),
            None
        );
        assert_eq!(read_varlong(&mut &[0xffu8; 11][..]), None);
    }

    proptest::proptest! {
        #[test]
        fn varlong_round_trips(v: i64) {
            let mut out = Vec::new();
            write_varlong(&mut out, v);
            proptest::prop_assert_eq!(read_varlong(&mut &out[..]), Some(v));
        }
        #[test]
        fn varint_round_trips(v: i32) {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            proptest::prop_assert_eq!(read_varint(&mut &out[..]), Some(v));
        }
    }
}
