//! The tests of `jsre`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used)]
use super::*;

fn m(re: &str, s: &str) -> bool {
    let units: Vec<u16> = re.encode_utf16().collect();
    Program::compile(&units).unwrap().run_str(s, false) == Some(Tri::Yes)
}

fn err(re: &str) -> ReError {
    let units: Vec<u16> = re.encode_utf16().collect();
    Program::compile(&units).unwrap_err()
}

#[test]
fn javascript_semantics() {
    assert!(m(r"^(?:\/x(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$", "/x"));
    assert!(m(r"^(?:\/x(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$", "/x/a/b"));
    assert!(!m(r"^(?:\/x(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$", "/x/a/.b"));
    assert!(!m("^.$", "\n"));
    assert!(m("^[^]$", "\n"));
    assert!(!m("^[]$", "a"));
    assert!(m("^[]-a]$", "-a]") || !m("^[]-a]$", "a"));
    // `?`-like classes see UTF-16 code units: an astral char is two of them.
    assert!(!m("^[^/]$", "😀"));
    assert!(m("^[^/][^/]$", "😀"));
    assert!(m(r"^a{1,2}\}$", "aa}"));
    assert!(m("^(?!^(?:a)$).*$", "b"));
    assert!(!m("^(?!^(?:a)$).*$", "a"));
}

#[test]
fn invalid_sources_are_reported() {
    assert_eq!(err("(a|b"), ReError::Invalid("unterminated group"));
    assert_eq!(err("a)"), ReError::Invalid("unmatched ')'"));
    assert_eq!(
        err("[b-a]"),
        ReError::Invalid("range out of order in character class")
    );
    assert_eq!(err("(+a)"), ReError::Invalid("nothing to repeat"));
    assert_eq!(err("^*"), ReError::Invalid("nothing to repeat"));
}

#[test]
fn open_end_is_three_valued() {
    let units: Vec<u16> = r"^(?:\/a\/b)$".encode_utf16().collect();
    let p = Program::compile(&units).unwrap();
    assert_eq!(p.run_str("/a/", true), Some(Tri::Maybe));
    assert_eq!(p.run_str("/b/", true), Some(Tri::No));
    assert_eq!(p.run_str("/a/b", true), Some(Tri::No));
}
