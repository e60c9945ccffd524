//! The compression codecs of Kafka's record batches, in the byte formats Kafka uses:
//! gzip streams, Snappy in xerial framing (raw Snappy is read too, as librdkafka may write it),
//! the LZ4 frame format, and Zstandard frames.
//!
//! The broker stores produced batches as they are, unless a topic's `compression.type` names a
//! codec (then batches in another codec are recompressed on append, as Kafka does); these
//! codecs serve that, the log cleaner, record decoding for timestamp lookups, and tests.

use std::io::{Read, Write};

/// A batch's compression codec (attribute bits 0–2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Uncompressed.
    None,
    /// gzip (id 1).
    Gzip,
    /// Snappy, xerial-framed (id 2).
    Snappy,
    /// LZ4 frame (id 3).
    Lz4,
    /// Zstandard (id 4).
    Zstd,
}

/// Decompressed output larger than this is refused, so that a small hostile batch cannot make
/// the process allocate without bound.
pub const MAX_DECOMPRESSED_SIZE: usize = 1 << 30;

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_BLOCK: usize = 32 * 1024;

impl Compression {
    /// Every codec, in id order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec with Kafka's id `id`; `Err(id)` when unknown.
    pub fn from_id(id: u8) -> Result<Self, u8> {
        Ok(match id {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            other => return Err(other),
        })
    }

    /// Kafka's id for the codec.
    pub fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Kafka's name (`compression.type` value).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Compresses `input` into a new buffer at the codec's default level.
    pub fn compress(self, input: &[u8]) -> Vec<u8> {
        self.compress_at(input, None)
    }

    /// Compresses `input` into a new buffer; `level` applies to gzip (1–9) and zstd
    /// (-131072–22), `None` meaning the codec's default (gzip 6, zstd 3).
    pub fn compress_at(self, input: &[u8], level: Option<i32>) -> Vec<u8> {
        match self {
            Compression::None => input.to_vec(),
            Compression::Gzip => {
                let level = level
                    .filter(|l| (1..=9).contains(l))
                    .map_or_else(flate2::Compression::default, |l| {
                        flate2::Compression::new(l as u32)
                    });
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), level);
                enc.write_all(input).expect("writing to a Vec cannot fail");
                enc.finish().expect("writing to a Vec cannot fail")
            }
            Compression::Snappy => {
                let mut out = Vec::with_capacity(input.len() / 2 + 32);
                out.extend_from_slice(&XERIAL_MAGIC);
                out.extend_from_slice(&1_i32.to_be_bytes()); // version
                out.extend_from_slice(&1_i32.to_be_bytes()); // compatible version
                let mut encoder = snap::raw::Encoder::new();
                for chunk in input.chunks(XERIAL_BLOCK) {
                    let block = encoder
                        .compress_vec(chunk)
                        .expect("snappy block within limits");
                    out.extend_from_slice(&(block.len() as i32).to_be_bytes());
                    out.extend_from_slice(&block);
                }
                out
            }
            Compression::Lz4 => {
                let info = lz4_flex::frame::FrameInfo::new()
                    .block_size(lz4_flex::frame::BlockSize::Max64KB)
                    .block_mode(lz4_flex::frame::BlockMode::Independent);
                let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
                enc.write_all(input).expect("writing to a Vec cannot fail");
                enc.finish().expect("writing to a Vec cannot fail")
            }
            Compression::Zstd => zstd::bulk::compress(input, level.unwrap_or(3))
                .expect("zstd compression of a slice"),
        }
    }

    /// Decompresses `input`; output over [`MAX_DECOMPRESSED_SIZE`] is an error.
    pub fn decompress(self, input: &[u8]) -> Result<Vec<u8>, String> {
        let limit = MAX_DECOMPRESSED_SIZE as u64 + 1;
        let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(1 << 24));
        let result = match self {
            Compression::None => {
                out.extend_from_slice(input);
                Ok(0)
            }
            Compression::Gzip => flate2::read::GzDecoder::new(input)
                .take(limit)
                .read_to_end(&mut out),
            Compression::Snappy => return decompress_snappy(input),
            Compression::Lz4 => lz4_flex::frame::FrameDecoder::new(input)
                .take(limit)
                .read_to_end(&mut out),
            Compression::Zstd => match zstd::stream::read::Decoder::new(input) {
                Ok(d) => d.take(limit).read_to_end(&mut out),
                Err(e) => Err(e),
            },
        };
        result.map_err(|e| e.to_string())?;
        if out.len() > MAX_DECOMPRESSED_SIZE {
            return Err(format!(
                "decompressed size exceeds {MAX_DECOMPRESSED_SIZE} bytes"
            ));
        }
        Ok(out)
    }
}

fn decompress_snappy(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoder = snap::raw::Decoder::new();
    let Some(mut rest) = input.strip_prefix(&XERIAL_MAGIC[..]) else {
        check_snappy_len(input)?;
        return decoder.decompress_vec(input).map_err(|e| e.to_string());
    };
    if rest.len() < 8 {
        return Err("xerial snappy header is truncated".into());
    }
    rest = &rest[8..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err("xerial snappy block length is truncated".into());
        }
        let len = i32::from_be_bytes(rest[..4].try_into().expect("4 bytes"));
        let len = usize::try_from(len).map_err(|_| "negative xerial snappy block length")?;
        let block = rest
            .get(4..4 + len)
            .ok_or("xerial snappy block is truncated")?;
        let block_len = check_snappy_len(block)?;
        if out.len() + block_len > MAX_DECOMPRESSED_SIZE {
            return Err(format!(
                "decompressed size exceeds {MAX_DECOMPRESSED_SIZE} bytes"
            ));
        }
        let start = out.len();
        out.resize(start + block_len, 0);
        decoder
            .decompress(block, &mut out[start..])
            .map_err(|e| e.to_string())?;
        rest = &rest[4 + len..];
    }
    Ok(out)
}

fn check_snappy_len(block: &[u8]) -> Result<usize, String> {
    let len = snap::raw::decompress_len(block).map_err(|e| e.to_string())?;
    if len > MAX_DECOMPRESSED_SIZE {
        return Err(format!(
            "decompressed size exceeds {MAX_DECOMPRESSED_SIZE} bytes"
        ));
    }
    Ok(len)
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips() {
        let input: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for codec in Compression::ALL {
            let packed = codec.compress(&input);
            assert_eq!(codec.decompress(&packed).unwrap(), input, "{codec}");
            assert_eq!(Compression::from_id(codec.id()), Ok(codec));
        }
        assert_eq!(Compression::from_id(5), Err(5));
    }

    #[test]
    fn snappy_uses_xerial_framing_and_reads_raw_blocks_too() {
        let packed = Compression::Snappy.compress(b"hello hello hello");
        assert_eq!(
            &packed[..16],
            &[
                0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1
            ]
        );
        let raw = snap::raw::Encoder::new()
            .compress_vec(b"raw block")
            .unwrap();
        assert_eq!(Compression::Snappy.decompress(&raw).unwrap(), b"raw block");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            assert!(
                codec.decompress(b"\x82SNAPPY\x00garbage-garbage").is_err(),
                "{codec}"
            );
        }
    }
}
