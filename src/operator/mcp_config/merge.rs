//! Merging an entry into an existing `.mcp.json` without disturbing it: the
//! other servers and top-level keys are carried as raw JSON text in their
//! original order, so an operator's hand-written entries are neither
//! reordered nor reformatted.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use serde_json::value::RawValue;

use super::McpConfigError;

/// A JSON object whose keys keep the order they are given in.
#[derive(Debug, Default)]
pub(super) struct Ordered<V>(pub(super) Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Ordered<Box<RawValue>> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered<Box<RawValue>>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.retain(|(key, _): &(String, Box<RawValue>)| key != &k);
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// Pretty JSON (2 spaces) re-indented to sit `depth` levels deep. JSON
/// strings cannot hold a raw newline, so adding spaces after each one only
/// touches indentation.
fn pretty_at_depth<T: Serialize>(value: &T, depth: usize) -> Result<String, McpConfigError> {
    let pretty = serde_json::to_string_pretty(value)?;
    Ok(pretty.replace('\n', &format!("\n{}", "  ".repeat(depth))))
}

/// An object `depth` levels deep whose values are already JSON text placed
/// for that depth (kept exactly as they were read, or made by
/// [`pretty_at_depth`]).
fn object_text(entries: &[(String, String)], depth: usize) -> Result<String, McpConfigError> {
    if entries.is_empty() {
        return Ok("{}".into());
    }
    let pad = "  ".repeat(depth + 1);
    let mut lines = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        lines.push(format!("{pad}{}: {value}", serde_json::to_string(key)?));
    }
    Ok(format!("{{\n{}\n{}}}", lines.join(",\n"), "  ".repeat(depth)))
}

fn raw_entries(ordered: Ordered<Box<RawValue>>) -> Vec<(String, String)> {
    ordered
        .0
        .into_iter()
        .map(|(k, v)| (k, v.get().to_string()))
        .collect()
}

/// The new text of `.mcp.json`: `existing` with the entry `name` added (or
/// replaced, with `force`), every other key and server kept in order and as
/// written (their text is copied, not re-serialised).
pub(super) fn merged<T: Serialize>(
    existing: Option<&str>,
    name: &str,
    entry: &T,
    force: bool,
) -> Result<String, McpConfigError> {
    let mut top: Vec<(String, String)> = match existing {
        Some(text) if !text.trim().is_empty() => {
            let value: Value =
                serde_json::from_str(text).map_err(|e| McpConfigError::Malformed(e.to_string()))?;
            if !value.is_object() {
                return Err(McpConfigError::Shape("the top level is not a JSON object"));
            }
            raw_entries(serde_json::from_str(text).map_err(|e| McpConfigError::Malformed(e.to_string()))?)
        }
        _ => Vec::new(),
    };
    let mut servers: Vec<(String, String)> = match top.iter().find(|(k, _)| k == "mcpServers") {
        Some((_, raw)) => {
            let value: Value = serde_json::from_str(raw)?;
            if !value.is_object() {
                return Err(McpConfigError::Shape("\"mcpServers\" is not a JSON object"));
            }
            raw_entries(serde_json::from_str(raw)?)
        }
        None => Vec::new(),
    };
    let new = pretty_at_depth(entry, 2)?;
    match servers.iter_mut().find(|(k, _)| k == name) {
        Some(_) if !force => return Err(McpConfigError::Exists(name.to_string())),
        Some((_, slot)) => *slot = new,
        None => servers.push((name.to_string(), new)),
    }
    let servers = object_text(&servers, 1)?;
    match top.iter_mut().find(|(k, _)| k == "mcpServers") {
        Some((_, slot)) => *slot = servers,
        None => top.push(("mcpServers".into(), servers)),
    }
    let mut text = object_text(&top, 0)?;
    text.push('\n');
    // Whatever the old text looked like, the result must be valid JSON.
    serde_json::from_str::<Value>(&text).map_err(|e| McpConfigError::Malformed(e.to_string()))?;
    Ok(text)
}
