//! The stdin side of the stdio transport, with a line-length limit that
//! answers instead of staying silent.
//!
//! rmcp drops a JSON-RPC line longer than its limit without a reply, so the
//! client waits until its own timeout. This reader sits in front of rmcp: a
//! line over [`MAX_MESSAGE_BYTES`] is never buffered whole (only its first
//! [`MAX_MESSAGE_BYTES`] and its last few KiB, to find the request `id`), is
//! logged at warn, and is replaced by a tiny request that the server answers
//! with a JSON-RPC "invalid request" error under the same `id`. A
//! notification, or a line whose `id` cannot be found, is dropped with the
//! warning only.

use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};

/// Largest JSON-RPC line accepted on stdin. Real calls are a few hundred
/// bytes; a bigger line is dropped (and answered) before it is buffered.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// The tool name of the stand-in request; the server answers it with
/// [`oversized_error`].
pub const OVERSIZED_TOOL: &str = "infisical-mcp-rs/oversized-request";

/// How much of the end of an oversized line is kept to find an `id` that
/// is its last member (the official TypeScript SDK writes it last).
const TAIL: usize = 16 * 1024;

/// The error a client gets for a request line over the limit.
pub fn oversized_error() -> rmcp::ErrorData {
    rmcp::ErrorData::invalid_request(
        format!(
            "the request line is longer than the {} MiB this server accepts; send smaller arguments",
            MAX_MESSAGE_BYTES / (1024 * 1024)
        ),
        None,
    )
}

/// Stdin as rmcp should see it: lines within the limit pass unchanged.
pub fn guarded_stdin() -> impl AsyncRead + Send + Unpin + 'static {
    guard(super::stdio::stdin(), MAX_MESSAGE_BYTES)
}

/// The guard around any reader, for lines of at most `limit` bytes (tests use
/// it on in-memory input with small limits).
pub fn guard<R: AsyncRead + Send + Unpin + 'static>(
    input: R,
    limit: usize,
) -> impl AsyncRead + Send + Unpin + 'static {
    let (reader, mut writer) = tokio::io::simplex(64 * 1024);
    tokio::spawn(async move {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let mut line = Vec::new();
        loop {
            line.clear();
            // At most the limit and its newline are ever buffered.
            match (&mut input)
                .take(limit as u64 + 1)
                .read_until(b'\n', &mut line)
                .await
            {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let passed = if line.len() > limit && line.last() != Some(&b'\n') {
                match skip_oversized(&mut input, &line).await {
                    Some(stand_in) => writer.write_all(&stand_in).await,
                    None => Ok(()),
                }
            } else {
                // An unterminated last line passes too, as stdin itself would
                // have passed it.
                writer.write_all(&line).await
            };
            if passed.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    reader
}

/// Reads past the rest of an oversized line whose first bytes are `head`,
/// keeping only its last few KiB, and returns the stand-in request if the
/// line had an `id`.
async fn skip_oversized<R: AsyncRead + Unpin>(input: &mut BufReader<R>, head: &[u8]) -> Option<Vec<u8>> {
    let mut total = head.len();
    let mut previous = head[head.len().saturating_sub(TAIL)..].to_vec();
    let mut current = Vec::new();
    loop {
        let mut chunk = Vec::new();
        match (&mut *input)
            .take(TAIL as u64)
            .read_until(b'\n', &mut chunk)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
        let ended = chunk.last() == Some(&b'\n');
        previous = std::mem::replace(&mut current, chunk);
        if ended {
            break;
        }
    }
    previous.extend_from_slice(&current);
    let id = request_id(head, &previous);
    tracing::warn!(
        bytes = total,
        limit = MAX_MESSAGE_BYTES,
        answered = id.is_some(),
        "JSON-RPC line over the size limit dropped"
    );
    let mut stand_in = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id?,
        "method": "tools/call",
        "params": {"name": OVERSIZED_TOOL},
    })
    .to_string()
    .into_bytes();
    stand_in.push(b'\n');
    Some(stand_in)
}

/// The request `id` of a JSON object of which only `head` (its start) and
/// `tail` (its end) are known: a top-level `"id"` member within the head,
/// or as the object's last member.
fn request_id(head: &[u8], tail: &[u8]) -> Option<Value> {
    id_in_head(head)
        .or_else(|| id_at_end(tail))
        .filter(|id| match id {
            Value::Number(_) => true,
            Value::String(s) => s.len() <= 256,
            _ => false,
        })
}

/// serde_json reads the object's members in order, skipping nested values,
/// and records the top-level `id` when it passes it; the parse error at the
/// cut-off end comes after that and is ignored.
fn id_in_head(head: &[u8]) -> Option<Value> {
    struct FindId<'a>(&'a mut Option<Value>);

    impl<'de> Visitor<'de> for FindId<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON-RPC request object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if key == "id" {
                    *self.0 = Some(map.next_value()?);
                    return Ok(());
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }

    let mut found = None;
    let mut reader = serde_json::Deserializer::from_slice(head);
    let _ = serde::Deserializer::deserialize_map(&mut reader, FindId(&mut found));
    found
}

/// An `"id": value` member that closes the line's object. The text from an
/// `"id"` to the end, opened with `{`, must parse as an object with that one
/// member: then the `}` after the value is the line's last, the top-level
/// object's. (`"id"` with both quotes cannot occur inside a JSON string,
/// whose own quotes are escaped.)
fn id_at_end(tail: &[u8]) -> Option<Value> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LastMember {
        id: Value,
    }
    let text = String::from_utf8_lossy(tail);
    text.rmatch_indices("\"id\"")
        // The last is the key, or a string id `"id"` with the key before it.
        .take(2)
        .find_map(|(at, _)| serde_json::from_str::<LastMember>(&format!("{{{}", &text[at..])).ok())
        .map(|member| member.id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn finds_the_id_at_either_end() {
        let head = br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"arguments":{"x":"AAAA"#;
        assert_eq!(request_id(head, b""), Some(json!(42)));
        let head = br#"{"method":"tools/call","params":{"name":"get-secret","arguments":{"id":7,"x":"AAA"#;
        let tail = br#"AAAA"}},"jsonrpc":"2.0","id":"req-9"}
"#;
        assert_eq!(request_id(head, tail), Some(json!("req-9")));
        let tail = br#"AAA"}},"id":-3}"#;
        assert_eq!(request_id(b"{\"params\":{", tail), Some(json!(-3)));
        assert_eq!(
            request_id(b"{\"params\":{", br#"A"},"id":"id"}"#),
            Some(json!("id"))
        );
        // A nested "id" is not the request's.
        assert_eq!(request_id(br#"{"params":{"id":5,"x":"AAAA"#, br#"AAAA"}}"#), None);
        assert_eq!(request_id(b"{\"params\":{", br#"A","id":5}}"#), None);
        // A notification has none; an object is no id.
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","method":"x","params":{"a":"AA"#, br#"AA"}}"#),
            None
        );
        assert_eq!(request_id(br#"{"id":{"a":1},"x":"AA"#, b""), None);
        // A multibyte character cut by the tail's start, or right before
        // the id, is no trouble.
        assert_eq!(
            request_id(b"{", &"\u{e9}\"},\"id\":1}".as_bytes()[1..]),
            Some(json!(1))
        );
        assert_eq!(request_id(b"{", "\"\u{e9}\u{e9}\"1}".as_bytes()), None);
    }

    async fn guarded(input: Vec<u8>, limit: usize) -> String {
        let mut out = Vec::new();
        guard(std::io::Cursor::new(input), limit)
            .read_to_end(&mut out)
            .await
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn oversized_lines_become_an_answerable_stand_in() {
        let huge = "A".repeat(MAX_MESSAGE_BYTES + 10);
        let input = [
            json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string(),
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{"x":huge}}})
                .to_string(),
            json!({"jsonrpc":"2.0","method":"notifications/x","params":{"x":huge}}).to_string(),
            // The id last, as the TypeScript SDK writes it.
            format!(r#"{{"method":"tools/call","params":{{"x":"{huge}"}},"id":"ts-4"}}"#),
        ]
        .map(|line| line + "\n")
        .concat()
            + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}";
        let out = guarded(input.into_bytes(), MAX_MESSAGE_BYTES).await;
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        assert_eq!(lines.len(), 4, "{out:.200}");
        assert_eq!(lines[0]["id"], json!(1));
        assert_eq!(lines[1]["id"], json!(2));
        assert_eq!(lines[1]["params"]["name"], json!(OVERSIZED_TOOL));
        assert_eq!(lines[2]["id"], json!("ts-4"));
        assert_eq!(lines[2]["params"]["name"], json!(OVERSIZED_TOOL));
        assert_eq!(
            lines[3]["id"],
            json!(3),
            "the unterminated last line still passes"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn no_head_or_tail_panics(head in proptest::collection::vec(any::<u8>(), 0..200),
                                  tail in "\\PC{0,40}(\"id\"\\PC{0,20})?") {
            let _ = request_id(&head, &head);
            let _ = request_id(&head, tail.as_bytes());
            for cut in 0..tail.len() {
                let _ = request_id(tail.as_bytes(), &tail.as_bytes()[cut..]);
            }
        }

        /// Whatever arrives, lines within the limit come out as they went
        /// in, and each longer one as at most one small stand-in.
        #[test]
        fn lines_within_the_limit_pass_and_no_input_panics(
            lines in proptest::collection::vec("[^\n]{0,48}", 0..8),
            limit in 1usize..32,
        ) {
            let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let out = runtime.block_on(guarded(input.into_bytes(), limit));
            let mut out_lines = out.split_terminator('\n');
            for line in &lines {
                if line.len() <= limit {
                    prop_assert_eq!(out_lines.next(), Some(line.as_str()));
                } else if line.contains("\"id\"") || line.starts_with('{') {
                    // Either dropped, or replaced by a stand-in request.
                    let mut rest = out_lines.clone();
                    if let Some(next) = rest.next().filter(|n| n.contains(OVERSIZED_TOOL)) {
                        prop_assert!(next.len() < 400, "{}", next);
                        out_lines = rest;
                    }
                }
            }
            prop_assert_eq!(out_lines.next(), None);
        }
    }
}
