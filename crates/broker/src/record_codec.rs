//! The primitive encodings of Kafka's internal-topic records (`__consumer_offsets`,
//! `__transaction_state`): big-endian integers, i16-length strings, i32-length bytes, and the
//! flexible versions' unsigned varints, compact strings and tagged fields. Shared by
//! `coordinator::records` and `transactions::records`.

/// Appends an i16-length string (truncated at `i16::MAX` bytes).
pub(crate) fn put_string(out: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(i16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as i16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends a nullable string (length -1 for null).
pub(crate) fn put_nullable_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_string(out, s),
        None => out.extend_from_slice(&(-1_i16).to_be_bytes()),
    }
}

/// Appends i32-length bytes.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends a compact string: its length + 1 as an unsigned varint, then the bytes.
pub(crate) fn put_compact_string(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u32 + 1);
    out.extend_from_slice(s.as_bytes());
}

/// Appends an unsigned varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads the encodings above; every method answers `None` on short or malformed input.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl Reader<'_> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn i8(&mut self) -> Option<i8> {
        Some(self.take(1)?[0] as i8)
    }

    pub(crate) fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    pub(crate) fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    pub(crate) fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    pub(crate) fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.i16()?).ok()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    pub(crate) fn bytes(&mut self) -> Option<Vec<u8>> {
        let len = usize::try_from(self.i32()?).ok()?;
        Some(self.take(len)?.to_vec())
    }

    /// `Some(None)` for a null string (length -1).
    pub(crate) fn nullable_string(&mut self) -> Option<Option<String>> {
        let len = self.i16()?;
        if len == -1 {
            return Some(None);
        }
        let len = usize::try_from(len).ok()?;
        String::from_utf8(self.take(len)?.to_vec()).ok().map(Some)
    }

    pub(crate) fn uvarint(&mut self) -> Option<u32> {
        let mut value = 0u32;
        for shift in (0..35).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u32::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    pub(crate) fn compact_string(&mut self) -> Option<String> {
        let len = (self.uvarint()? as usize).checked_sub(1)?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    /// Reads a tagged-field section, handing each (tag, data) to `each`.
    pub(crate) fn tagged_fields(
        &mut self,
        mut each: impl FnMut(u32, &[u8]) -> Option<()>,
    ) -> Option<()> {
        let count = self.uvarint()?;
        for _ in 0..count {
            let tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            let data = self.take(size)?;
            each(tag, data)?;
        }
        Some(())
    }
}
