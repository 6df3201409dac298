//! Properties of path normalisation and glob matching that must hold for any
//! input, not just the fixture table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use infisical_mcp_rs::scope::{Glob, SecretPath};
use proptest::prelude::*;

/// Strings that look like paths, with every kind of trouble mixed in.
fn pathish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_owned()),
        Just("//".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just(".env".to_owned()),
        Just(" ".to_owned()),
        Just("\\".to_owned()),
        Just("%2F".to_owned()),
        Just("*".to_owned()),
        Just("ü".to_owned()),
        Just("😀".to_owned()),
        Just("\0".to_owned()),
        "[a-z]{1,3}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

/// Globs built from the shapes scopes use, plus the awkward ones.
fn globish() -> impl Strategy<Value = String> {
    let seg = prop_oneof![
        Just("a"),
        Just("b"),
        Just("ab"),
        Just("*"),
        Just("**"),
        Just("?"),
        Just("a*"),
        Just("*b"),
        Just("{a,b}"),
        Just("{a,}"),
        Just("{1..3}"),
        Just("[ab]"),
        Just("[!a]"),
        Just("[^a]"),
        Just(".a"),
        Just("a.b"),
        Just(""),
    ];
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
    let seg = prop_oneof![
        Just("a"),
        Just("b"),
        Just("ab"),
        Just("ba"),
        Just("1"),
        Just("2"),
        Just(".a"),
        Just("a.b"),
        Just("c"),
        Just(""),
    ];
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

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
