//! Fuzzes the scope layer: glob compilation and matching, the navigation
//! check, and path normalisation must never panic and must keep their
//! invariants on arbitrary input.
#![no_main]

use infisical_mcp_rs::scope::input::{is_format, js_trim};
use infisical_mcp_rs::scope::{Glob, SecretPath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One input carries both a glob and a path, split at the first 0xFF byte
    // (which can never occur in UTF-8, so both halves stay arbitrary text).
    let (g, p) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let glob_text = String::from_utf8_lossy(g);
    let path_text = String::from_utf8_lossy(p);

    if let Ok(path) = SecretPath::parse(&path_text) {
        let again = SecretPath::parse(path.as_str());
        assert_eq!(again.as_ref(), Ok(&path), "normalisation is idempotent");
        // What the vault (JavaScript) reads is what was accepted.
        assert_eq!(js_trim(&path_text), &*path_text, "JavaScript would trim it");
        assert!(!path_text.chars().any(|c| c.is_control() || is_format(c)));
        let s = path.as_str();
        assert!(s.starts_with('/') && !s.contains("//"));
        assert!(!s.split('/').any(|seg| seg == "." || seg == ".."));
        if let Some(parent) = path.parent() {
            assert!(s.starts_with(parent.as_str()));
        }
    }

    if let Ok(glob) = Glob::new(&glob_text) {
        if !glob_text.is_empty() {
            assert!(
                glob.is_match(&glob_text),
                "picomatch accepts the glob's own text"
            );
        }
        let matched = glob.is_match(&path_text);
        let below = glob.could_match_at_or_below(&path_text);
        if matched {
            assert!(below, "a matching dir leads into its glob");
            // Soundness: every ancestor of a matching path leads into the glob.
            for (i, c) in path_text.char_indices() {
                if c == '/' && i + 1 < path_text.len() {
                    let dir = if i == 0 { "/" } else { &path_text[..i] };
                    assert!(
                        glob.could_match_at_or_below(dir),
                        "{glob:?} {path_text:?} {dir:?}"
                    );
                }
            }
        }
    }
});
