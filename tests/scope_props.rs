//! Properties of path normalisation and glob matching that must hold for any
//! input, not just the fixture table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::words;
use infisical_mcp_rs::scope::input::{is_format, js_trim};
use infisical_mcp_rs::scope::{Glob, SecretPath, check_secret_name};
use proptest::prelude::*;

/// Strings that look like paths, with every kind of trouble mixed in.
fn pathish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        14 => words(&["/", "//", ".", "..", "a", "b", ".env", " ", "\\", "%2F", "*", "ü", "😀", "\0"]),
        1 => "[a-z]{1,3}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

/// Globs built from the shapes scopes use, plus the awkward ones.
fn globish() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec![
        "a", "b", "ab", "*", "**", "?", "a*", "*b", "{a,b}", "{a,}", "{1..3}", "[ab]", "[!a]", "[^a]", ".a",
        "a.b", "",
    ]);
    (any::<bool>(), prop::collection::vec(seg, 1..5), any::<bool>()).prop_map(|(negate, segs, trailing)| {
        let mut g = String::new();
        if negate {
            g.push('!');
        }
        for s in segs {
            g.push('/');
            g.push_str(s);
        }
        if trailing {
            g.push('/');
        }
        g
    })
}

/// Paths over the alphabet the globs above talk about, so matches are common.
fn nearby_path() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec!["a", "b", "ab", "ba", "1", "2", ".a", "a.b", "c", ""]);
    (prop::collection::vec(seg, 0..6), any::<bool>()).prop_map(|(segs, trailing)| {
        let mut p = String::new();
        for s in segs {
            p.push('/');
            p.push_str(s);
        }
        if p.is_empty() || trailing {
            p.push('/');
        }
        p
    })
}

/// Paths and names with what JavaScript reads differently from Rust planted
/// anywhere: U+FEFF, Unicode spaces, format and control characters.
fn js_trouble() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => words(&["/", "a", "warden", "."]),
        1 => prop::sample::select(vec![
                '\u{FEFF}', '\u{A0}', '\u{1680}', '\u{2000}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}',
                '\u{205F}', '\u{3000}', '\u{85}', '\u{180E}', '\u{200B}', '\u{200D}', '\u{2060}', '\u{61C}',
                '\u{FFF9}', '\t', '\u{B}', ' ', '\0', '\u{301}', '+', ';',
            ])
            .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The vault trims with JavaScript and drops one trailing slash: for an
    /// accepted path that gives the accepted folder, and nothing invisible
    /// is in it. (tests/js_input_agreement.rs checks the same against Node.)
    #[test]
    fn the_vault_reads_the_accepted_folder(raw in prop_oneof![js_trouble(), pathish()]) {
        if let Ok(p) = SecretPath::parse(&raw) {
            let trimmed = js_trim(&raw);
            let read = if trimmed == "/" { trimmed } else { trimmed.strip_suffix('/').unwrap_or(trimmed) };
            prop_assert_eq!(read, p.as_str());
            prop_assert!(!raw.chars().any(|c| c.is_control() || is_format(c)), "{:?}", raw);
        }
    }

    #[test]
    fn accepted_names_are_read_as_given(name in js_trouble()) {
        if check_secret_name(&name).is_ok() {
            prop_assert_eq!(js_trim(&name), name.as_str());
            prop_assert!(name != "." && name != ".." && !name.contains(['/', ';']));
            prop_assert!(!name.chars().any(|c| c.is_control() || is_format(c) || c.is_whitespace()));
        }
    }

    #[test]
    fn normalisation_is_idempotent(raw in pathish()) {
        if let Ok(p) = SecretPath::parse(&raw) {
            let again = SecretPath::parse(p.as_str()).expect("a normalised path parses");
            prop_assert_eq!(&again, &p);
            prop_assert_eq!(again.as_str(), p.as_str());
        }
    }

    #[test]
    fn accepted_paths_have_no_dot_or_empty_segments(raw in pathish()) {
        if let Ok(p) = SecretPath::parse(&raw) {
            let s = p.as_str();
            prop_assert!(s.starts_with('/'));
            prop_assert!(p.is_root() || !s.ends_with('/'));
            prop_assert!(!s.contains("//"));
            for seg in s.split('/').skip(1).filter(|_| !p.is_root()) {
                prop_assert!(!seg.is_empty() && seg != "." && seg != "..", "{:?}", s);
            }
            let forbidden = ['\\', '%', '*', '?', '[', ']', '{', '}'];
            prop_assert!(!s.contains(forbidden), "{:?}", s);
            prop_assert!(!s.chars().any(char::is_control));
            // Normalisation only ever drops one trailing slash.
            let with_slash = format!("{s}/");
            prop_assert!(raw == s || raw == with_slash, "{:?} -> {:?}", raw, s);
        }
    }

    #[test]
    fn no_accepted_path_escapes_its_prefix(prefix in nearby_path(), tail in pathish()) {
        let Ok(base) = SecretPath::parse(&prefix) else { return Ok(()) };
        let joined = if base.is_root() { format!("/{tail}") } else { format!("{base}/{tail}") };
        if let Ok(p) = SecretPath::parse(&joined) {
            let below = if base.is_root() { "/".to_owned() } else { format!("{base}/") };
            prop_assert!(p == base || p.as_str().starts_with(&below), "{:?} from {:?}", p, joined);
        }
        if let Ok(child) = base.join(&tail) {
            prop_assert_eq!(child.parent(), Some(base.clone()));
        }
    }

    #[test]
    fn a_globstar_never_matches_outside_its_folder(raw in prop_oneof![pathish(), nearby_path()]) {
        let g = Glob::new("/a/**").unwrap();
        if g.is_match(&raw) {
            prop_assert!(raw.starts_with("/a"), "{:?}", raw);
            prop_assert!(raw == "/a" || raw.starts_with("/a/"), "{:?}", raw);
        }
        let with_prefix = format!("/a{raw}");
        if g.is_match(&with_prefix) {
            prop_assert!(with_prefix == "/a" || with_prefix.starts_with("/a/"));
        }
    }

    /// Soundness: whenever a descendant matches, every ancestor leads into the glob.
    #[test]
    fn could_match_at_or_below_is_sound(glob in globish(), path in nearby_path(), extra in pathish()) {
        let Ok(g) = Glob::new(&glob) else { return Ok(()) };
        for candidate in [path.clone(), format!("{path}{extra}")] {
            if !g.is_match(&candidate) {
                continue;
            }
            prop_assert!(g.could_match_at_or_below(&candidate));
            for (i, c) in candidate.char_indices() {
                if c == '/' && i + 1 < candidate.len() {
                    let dir = if i == 0 { "/" } else { &candidate[..i] };
                    prop_assert!(
                        g.could_match_at_or_below(dir),
                        "{:?} matches {:?} but not at or below {:?}", glob, candidate, dir
                    );
                }
            }
        }
    }

    /// Tightness for positive globs: a dir whose own text already diverges from
    /// a literal first segment cannot lead into it.
    #[test]
    fn could_match_is_tight_on_literal_prefixes(seg in "[a-z]{1,6}", other in "[a-z]{1,6}") {
        let g = Glob::new(&format!("/{seg}/**")).unwrap();
        let dir = format!("/{other}");
        prop_assert_eq!(g.could_match_at_or_below(&dir), other == seg);
        prop_assert!(g.could_match_at_or_below("/"));
    }
}
