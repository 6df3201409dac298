//! The stdin side of the stdio transport, with a line-length limit that
//! answers instead of staying silent.
//!
//! rmcp drops a JSON-RPC line longer than its limit without a reply, so the
//! client waits until its own timeout. This reader sits in front of rmcp: a
//! line over [`MAX_MESSAGE_BYTES`] is never buffered whole (only its first
//! and last few KiB, to find the request `id`), is logged at warn, and is
//! replaced by a tiny request that the server answers with a JSON-RPC
//! "invalid request" error under the same `id`. A notification, or a line
//! whose `id` cannot be found, is dropped with the warning only.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// Largest JSON-RPC line accepted on stdin. Real calls are a few hundred
/// bytes; a bigger line is dropped (and answered) before it is buffered.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// The tool name of the stand-in request; the server answers it with
/// [`oversized_error`].
pub const OVERSIZED_TOOL: &str = "infisical-mcp-rs/oversized-request";

/// How much of each end of an oversized line is kept to find its `id`.
const KEPT: usize = 16 * 1024;

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
    guard(super::stdio::stdin())
}

/// The guard around any reader (tests use it on in-memory input).
pub fn guard<R: AsyncRead + Send + Unpin + 'static>(input: R) -> impl AsyncRead + Send + Unpin + 'static {
    let (reader, mut writer) = tokio::io::simplex(64 * 1024);
    tokio::spawn(async move {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let mut line: Vec<u8> = Vec::new();
        loop {
            let (consumed, ended, oversized) = {
                let available = match input.fill_buf().await {
                    Ok(available) if !available.is_empty() => available,
                    _ => break,
                };
                let newline = available.iter().position(|b| *b == b'\n');
                let take = newline.map_or(available.len(), |i| i + 1);
                line.extend_from_slice(&available[..take]);
                (take, newline.is_some(), line.len() > MAX_MESSAGE_BYTES)
            };
            input.consume(consumed);
            if oversized {
                let replacement = skip_oversized(&mut input, std::mem::take(&mut line), ended).await;
                if let Some(replacement) = replacement
                    && writer.write_all(&replacement).await.is_err()
                {
                    break;
                }
                continue;
            }
            if ended {
                if writer.write_all(&line).await.is_err() {
                    break;
                }
                line.clear();
            }
        }
        // Whatever is left is an unterminated last line: pass it on, as
        // stdin itself would have.
        if !line.is_empty() && line.len() <= MAX_MESSAGE_BYTES {
            let _ = writer.write_all(&line).await;
        }
        let _ = writer.shutdown().await;
    });
    reader
}

/// Reads past the rest of an oversized line, keeping only its two ends,
/// and returns the stand-in request, if the line had an `id`.
async fn skip_oversized<R: AsyncRead + Unpin>(
    input: &mut BufReader<R>,
    mut seen: Vec<u8>,
    mut ended: bool,
) -> Option<Vec<u8>> {
    let mut total = seen.len();
    let head: Vec<u8> = seen[..KEPT.min(seen.len())].to_vec();
    let mut tail: Vec<u8> = seen[seen.len().saturating_sub(KEPT)..].to_vec();
    seen.clear();
    while !ended {
        let (consumed, newline) = {
            let available = match input.fill_buf().await {
                Ok(available) if !available.is_empty() => available,
                _ => break,
            };
            let newline = available.iter().position(|b| *b == b'\n');
            let take = newline.map_or(available.len(), |i| i + 1);
            tail.extend_from_slice(&available[..take]);
            (take, newline.is_some())
        };
        input.consume(consumed);
        total += consumed;
        ended = newline;
        if tail.len() > 2 * KEPT {
            tail.drain(..tail.len() - KEPT);
        }
    }
    let id = request_id(&head, &tail);
    tracing::warn!(
        bytes = total,
        limit = MAX_MESSAGE_BYTES,
        answered = id.is_some(),
        "JSON-RPC line over the size limit dropped"
    );
    let id = id?;
    let mut stand_in = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "tools/call",
        "params": {"name": OVERSIZED_TOOL},
    })
    .to_string()
    .into_bytes();
    stand_in.push(b'\n');
    Some(stand_in)
}

/// The request `id` of a JSON object of which only `head` (its start) and
/// `tail` (its end) are known: a top-level `"id"` member among the first
/// members, or as the last member.
fn request_id(head: &[u8], tail: &[u8]) -> Option<serde_json::Value> {
    id_in_head(head).or_else(|| id_in_tail(tail))
}

/// Walks the top-level members of a JSON object from its start, skipping
/// nested values, until `"id"` or the end of what is known.
fn id_in_head(head: &[u8]) -> Option<serde_json::Value> {
    let text = std::str::from_utf8(head).ok().or_else(|| {
        // Cut in the middle of a character: keep what decodes.
        std::str::from_utf8(&head[..head.len().saturating_sub(3)]).ok()
    })?;
    let mut chars = text.char_indices().peekable();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
    };
    skip_ws(&mut chars);
    if chars.next()?.1 != '{' {
        return None;
    }
    loop {
        skip_ws(&mut chars);
        let (start, c) = chars.next()?;
        if c != '"' {
            return None;
        }
        let key_end = string_end(text, start)?;
        let key = &text[start..key_end];
        while chars.peek().is_some_and(|(i, _)| *i < key_end) {
            chars.next();
        }
        skip_ws(&mut chars);
        if chars.next()?.1 != ':' {
            return None;
        }
        skip_ws(&mut chars);
        let (value_start, _) = *chars.peek()?;
        let value_end = value_end(text, value_start)?;
        if key == "\"id\"" {
            return parse_id(&text[value_start..value_end]);
        }
        while chars.peek().is_some_and(|(i, _)| *i < value_end) {
            chars.next();
        }
        skip_ws(&mut chars);
        if chars.next()?.1 != ',' {
            return None;
        }
    }
}

/// Finds `"id": <number or string>` as the last member of the object that
/// `tail` ends.
fn id_in_tail(tail: &[u8]) -> Option<serde_json::Value> {
    let text = String::from_utf8_lossy(tail);
    let body = text.trim_end().strip_suffix('}')?.trim_end();
    let (before, value) = if let Some(stripped) = body.strip_suffix('"') {
        let open = stripped.rfind('"')?;
        (&body[..open], &body[open..])
    } else {
        let start = body
            .rfind(|c: char| !(c.is_ascii_digit() || c == '-'))
            .map_or(0, |i| i + 1);
        (&body[..start], &body[start..])
    };
    let before = before.trim_end().strip_suffix(':')?.trim_end();
    if !before.ends_with("\"id\"") {
        return None;
    }
    let separator = before[..before.len() - 4].trim_end();
    if !(separator.ends_with(',') || separator.ends_with('{')) {
        return None;
    }
    parse_id(value)
}

/// A JSON-RPC id: a number or a short string, nothing else.
fn parse_id(raw: &str) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(raw.trim()).ok()?;
    match &value {
        serde_json::Value::Number(_) => Some(value),
        serde_json::Value::String(s) if s.len() <= 256 => Some(value),
        _ => None,
    }
}

/// The byte index just past the JSON string starting at `start` (a `"`).
fn string_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The byte index just past the JSON value starting at `start`; `None` when
/// it runs past what is known.
fn value_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes.get(start)? {
        b'"' => string_end(text, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let rest = &text[start..];
            let len = rest
                .find(|c: char| c == ',' || c == '}' || c.is_whitespace())
                .unwrap_or(rest.len());
            (start + len < text.len()).then_some(start + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::io::AsyncReadExt;

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
        // A nested "id" is not the request's.
        assert_eq!(request_id(br#"{"params":{"id":5,"x":"AAAA"#, br#"AAAA"}}"#), None);
        // A notification has none.
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","method":"x","params":{"a":"AA"#, br#"AA"}}"#),
            None
        );
    }

    #[tokio::test]
    async fn oversized_lines_become_an_answerable_stand_in() {
        let huge = "A".repeat(MAX_MESSAGE_BYTES + 10);
        let input = format!(
            "{}\n{}\n{}\n",
            json!({"jsonrpc":"2.0","id":1,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{"x":huge}}}),
            json!({"jsonrpc":"2.0","method":"notifications/x","params":{"x":huge}}),
        ) + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}";
        let mut out = String::new();
        let read = guard(std::io::Cursor::new(input.into_bytes()))
            .read_to_string(&mut out)
            .await;
        assert!(read.is_ok());
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
            .collect();
        assert_eq!(lines.len(), 3, "{out:.200}");
        assert_eq!(lines[0]["id"], json!(1));
        assert_eq!(lines[1]["id"], json!(2));
        assert_eq!(lines[1]["params"]["name"], json!(OVERSIZED_TOOL));
        assert_eq!(
            lines[2]["id"],
            json!(3),
            "the unterminated last line still passes"
        );
    }
}
