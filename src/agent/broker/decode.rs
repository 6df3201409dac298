//! Encoded answers made plain, so that redaction sees the bytes a client
//! would see after decoding. The broker asks for `identity`; an upstream
//! that compresses anyway gets its gzip or deflate answer decoded (bounded,
//! against a decompression bomb), and any other encoding is refused rather
//! than passed on unchecked.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};

pub enum DecodeError {
    Unsupported,
    Corrupt(String),
}

/// The decoded body, at most `limit` bytes.
pub fn decode(encoding: &str, raw: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let reader: Box<dyn Read + '_> = match encoding {
        "gzip" | "x-gzip" => Box::new(GzDecoder::new(raw)),
        "deflate" => Box::new(ZlibDecoder::new(raw)),
        _ => return Err(DecodeError::Unsupported),
    };
    let mut out = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt(format!("the {encoding} answer does not decode ({e})")))?;
    if out.len() > limit {
        return Err(DecodeError::Corrupt(format!(
            "the {encoding} answer decodes to more than {limit} bytes"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    #[test]
    fn gzip_decodes_within_the_limit_only() {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&[b'a'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(decode("gzip", &gz, 10_000).ok().unwrap().len(), 10_000);
        assert!(matches!(decode("gzip", &gz, 9_999), Err(DecodeError::Corrupt(_))));
        assert!(matches!(decode("br", &gz, 10), Err(DecodeError::Unsupported)));
        assert!(matches!(
            decode("gzip", b"not gzip", 10),
            Err(DecodeError::Corrupt(_))
        ));
    }
}
