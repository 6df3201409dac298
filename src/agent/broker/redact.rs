//! Takes the injected value back out of everything the upstream answers.
//!
//! An API may echo a credential: in an error message, in a redirect's
//! `Location`, in a debugging endpoint that mirrors request headers. Every
//! form the value is likely to travel in is searched for at once (one
//! Aho-Corasick automaton, leftmost-longest): as is; base64 and base64url,
//! padded or not and at each of the three alignments inside a longer
//! base64 text; percent-encoded (upper and lower hex, with and without the
//! unreserved characters encoded, `+` for space); JSON-escaped; and the
//! whole `Basic` credential. Each hit becomes `[redacted: KEY]`.
//!
//! Bodies are redacted as a stream: each chunk is searched together with
//! the previous chunk's last `longest pattern - 1` bytes, which are held
//! back until the next chunk (or the end) shows they are not the start of a
//! match. A value split across chunks is therefore found, and memory stays
//! at one chunk plus that tail.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use bytes::{Bytes, BytesMut};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroize;

use super::error::BrokerError;

/// RFC 3986's unreserved characters, left as they are by most encoders.
const KEEP_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A base64 text shorter than this is too likely to occur by chance to be
/// worth redacting at an unaligned offset.
const MIN_UNALIGNED_LEN: usize = 8;

/// Every searched form of every value, with what replaces it.
pub struct Redactor {
    automaton: AhoCorasick,
    replacements: Vec<Bytes>,
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.replacements.len())
            .finish()
    }
}

/// One value to take out, and the key named in its place.
pub struct Sensitive<'a> {
    pub value: &'a str,
    pub key: &'a str,
}

/// The base64 characters that depend only on `value` when it starts
/// `offset` bytes into a longer text (0, 1 or 2).
fn unaligned_base64(value: &[u8], offset: usize, url: bool) -> Option<String> {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(value);
    padded.extend_from_slice(&[0, 0]);
    let text = if url {
        URL_SAFE_NO_PAD.encode(&padded)
    } else {
        STANDARD_NO_PAD.encode(&padded)
    };
    padded.zeroize();
    let first_bit = offset * 8;
    let end_bit = first_bit + value.len() * 8;
    let first_char = first_bit.div_ceil(6);
    let end_char = end_bit / 6;
    let core = text.get(first_char..end_char).map(str::to_string);
    let mut text = text;
    text.zeroize();
    core.filter(|c| c.len() >= MIN_UNALIGNED_LEN)
}

/// The forms one value is searched for in.
fn forms(value: &str) -> Vec<String> {
    let bytes = value.as_bytes();
    let mut out = vec![value.to_string()];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(bytes));
    }
    for offset in 0..3 {
        for url in [false, true] {
            out.extend(unaligned_base64(bytes, offset, url));
        }
    }
    for set in [NON_ALPHANUMERIC, KEEP_UNRESERVED] {
        let upper = utf8_percent_encode(value, set).to_string();
        out.push(upper.replace("%20", "+"));
        out.push(lower_hex(&upper));
        out.push(upper);
    }
    if let Ok(json) = serde_json::to_string(value) {
        let inner = json.trim_matches('"');
        out.push(inner.to_string());
        out.push(inner.replace('/', "\\/"));
    }
    out.retain(|f| !f.is_empty());
    out.sort();
    out.dedup();
    out
}

fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl Redactor {
    /// Builds the automaton for `values`; `extra` are whole credentials
    /// (e.g. `user:password`) searched for in base64 too.
    pub fn new(values: &[Sensitive<'_>], basic: Option<(&str, &str)>) -> Result<Self, BrokerError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut replacements = Vec::new();
        let mut add = |forms: Vec<String>, key: &str, patterns: &mut Vec<String>| {
            for form in forms {
                patterns.push(form);
                replacements.push(Bytes::from(format!("[redacted: {key}]")));
            }
        };
        for v in values.iter().filter(|v| !v.value.is_empty()) {
            add(forms(v.value), v.key, &mut patterns);
        }
        if let Some((credential, key)) = basic {
            let mut both = vec![
                STANDARD.encode(credential.as_bytes()),
                URL_SAFE.encode(credential.as_bytes()),
            ];
            both.dedup();
            add(both, key, &mut patterns);
        }
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| BrokerError::Client(format!("cannot build the redaction search: {e}")));
        for p in &mut patterns {
            p.zeroize();
        }
        Ok(Self {
            automaton: automaton?,
            replacements,
            longest,
        })
    }

    /// `input` with every match replaced.
    pub fn all(&self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        let mut at = 0;
        for m in self.automaton.find_iter(input) {
            out.extend_from_slice(&input[at..m.start()]);
            out.extend_from_slice(&self.replacements[m.pattern().as_usize()]);
            at = m.end();
        }
        out.extend_from_slice(&input[at..]);
        out
    }

    /// Whether `input` holds any form of any value.
    pub fn finds(&self, input: &[u8]) -> bool {
        self.automaton.is_match(input)
    }

    pub fn stream(self: &Arc<Self>) -> Stream {
        Stream {
            redactor: self.clone(),
            tail: BytesMut::new(),
        }
    }
}

/// The redaction of one body, chunk by chunk.
pub struct Stream {
    redactor: Arc<Redactor>,
    tail: BytesMut,
}

impl Stream {
    /// The part of the body so far that can be let go: redacted, without the
    /// bytes that might still be the start of a match.
    pub fn push(&mut self, chunk: &[u8]) -> Bytes {
        self.tail.extend_from_slice(chunk);
        let buf = &self.tail[..];
        let keep = self.redactor.longest.saturating_sub(1);
        // Matches starting before `safe` are complete inside `buf`.
        let safe = buf.len().saturating_sub(keep);
        let mut out = Vec::with_capacity(buf.len());
        let mut at = 0;
        for m in self.redactor.automaton.find_iter(buf) {
            if m.start() >= safe {
                break;
            }
            out.extend_from_slice(&buf[at..m.start()]);
            out.extend_from_slice(&self.redactor.replacements[m.pattern().as_usize()]);
            at = m.end();
        }
        let emit_to = at.max(safe);
        out.extend_from_slice(&buf[at..emit_to]);
        let rest = self.tail.split_off(emit_to);
        self.tail.zeroize();
        self.tail = rest;
        Bytes::from(out)
    }

    /// What is left at the end of the body, redacted.
    pub fn finish(&mut self) -> Bytes {
        let out = self.redactor.all(&self.tail);
        self.tail.zeroize();
        self.tail.clear();
        Bytes::from(out)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.tail.zeroize();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const VALUE: &str = "tok_3x4mple/S3cr3t+val=ue";

    fn redactor() -> Arc<Redactor> {
        Arc::new(
            Redactor::new(
                &[Sensitive {
                    value: VALUE,
                    key: "API_TOKEN",
                }],
                Some(("bot:pw-9f8e7d6c", "API_TOKEN")),
            )
            .unwrap(),
        )
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn every_form_is_replaced() {
        let r = redactor();
        let bodies = [
            VALUE.to_string(),
            STANDARD.encode(VALUE),
            URL_SAFE_NO_PAD.encode(VALUE),
            utf8_percent_encode(VALUE, NON_ALPHANUMERIC).to_string(),
            lower_hex(&utf8_percent_encode(VALUE, NON_ALPHANUMERIC).to_string()),
            utf8_percent_encode(VALUE, KEEP_UNRESERVED).to_string(),
            serde_json::to_string(VALUE).unwrap(),
            STANDARD.encode("bot:pw-9f8e7d6c"),
            // Inside a longer base64 text, at each alignment.
            STANDARD.encode(format!("x{VALUE}y")),
            STANDARD.encode(format!("xy{VALUE}")),
            STANDARD.encode(format!("xyz{VALUE}zz")),
            URL_SAFE.encode(format!("{{\"auth\":\"{VALUE}\"}}")),
        ];
        for body in bodies {
            let out = text(&r.all(format!("before {body} after").as_bytes()));
            assert!(out.contains("[redacted: API_TOKEN]"), "{body} -> {out}");
            assert!(
                !out.contains(VALUE) && !out.contains(&STANDARD.encode(VALUE)),
                "{out}"
            );
            assert!(out.starts_with("before ") && out.ends_with(" after"), "{out}");
        }
        assert_eq!(r.all(b"nothing here"), b"nothing here");
    }

    #[test]
    fn a_value_split_across_chunks_is_found() {
        let r = redactor();
        let body = format!("{{\"echo\":\"{VALUE}\",\"again\":\"{VALUE}\"}}");
        for size in 1..=body.len() {
            let mut s = r.stream();
            let mut out = Vec::new();
            for chunk in body.as_bytes().chunks(size) {
                out.extend_from_slice(&s.push(chunk));
            }
            out.extend_from_slice(&s.finish());
            let out = text(&out);
            assert_eq!(
                out, "{\"echo\":\"[redacted: API_TOKEN]\",\"again\":\"[redacted: API_TOKEN]\"}",
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn plain_text_streams_through_unchanged() {
        let r = redactor();
        let body: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut s = r.stream();
        let mut out = Vec::new();
        for chunk in body.chunks(777) {
            out.extend_from_slice(&s.push(chunk));
        }
        out.extend_from_slice(&s.finish());
        assert_eq!(out, body);
    }
}
