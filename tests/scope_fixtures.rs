//! The committed picomatch 3.x fixture table is the specification of
//! `Glob::is_match`; this test demands 100% agreement with it, and uses the
//! same table to check that `could_match_at_or_below` never hides a match.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::collections::BTreeSet;

use infisical_mcp_rs::scope::{Glob, GlobError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    picomatch: String,
    total: usize,
    paths: Vec<String>,
    cases: Vec<(String, String, u8)>,
}

/// Globs `Glob::new` refuses on purpose, each with the refusal kind expected.
/// Anything refused that is not listed here (or listed but accepted) fails.
const REFUSED: &[(&str, &str)] = &[
    ("/x/{a,b", "never"),
    ("/x/[c-a]", "never"),
    ("/x/(a)", "unsupported"),
    ("/x/@(a|b)", "unsupported"),
    ("/x/a\\*", "unsupported"),
    ("/x/\"a\"", "unsupported"),
    ("/x/[[:alpha:]]", "unsupported"),
    ("/x/[a]+", "unsupported"),
    ("/x/a|b", "unsupported"),
    ("/x/+(a)", "unsupported"),
    ("/x/!(a)", "unsupported"),
    ("x/**", "relative"),
    ("**", "relative"),
];

fn load() -> Fixture {
    let raw = include_str!("fixtures/picomatch3.json");
    serde_json::from_str(raw).expect("fixture parses")
}

fn kind(e: &GlobError) -> &'static str {
    match e {
        GlobError::NeverMatches { .. } => "never",
        GlobError::Unsupported { .. } => "unsupported",
        GlobError::NotAbsolute { .. } => "relative",
        GlobError::TooLong { .. } => "too long",
    }
}

#[test]
fn agrees_with_picomatch_3_on_every_case() {
    let fx = load();
    assert!(
        fx.picomatch.starts_with("3."),
        "fixture from picomatch {}",
        fx.picomatch
    );
    let mut checked = 0usize;
    let mut refused_cases = 0usize;
    let mut disagreements = Vec::new();
    let mut refused_seen = BTreeSet::new();

    for (glob, bits, self_match) in &fx.cases {
        assert_eq!(bits.len(), fx.paths.len(), "row for {glob:?} has the wrong width");
        let compiled = match Glob::new(glob) {
            Ok(g) => g,
            Err(e) => {
                let expected = REFUSED.iter().find(|(g, _)| g == glob).map(|(_, k)| *k);
                if expected != Some(kind(&e)) {
                    disagreements.push(format!("{glob:?}: refused unexpectedly: {e}"));
                }
                refused_seen.insert(glob.clone());
                refused_cases += fx.paths.len() + 1;
                continue;
            }
        };
        for (path, bit) in fx.paths.iter().zip(bits.bytes()) {
            let want = bit == b'1';
            let got = compiled.is_match(path);
            checked += 1;
            if got != want {
                disagreements.push(format!(
                    "glob {glob:?} path {path:?}: picomatch {want}, ours {got}"
                ));
            }
        }
        let want = *self_match == 1;
        checked += 1;
        if compiled.is_match(glob) != want {
            disagreements.push(format!("glob {glob:?} against itself: picomatch {want}"));
        }
    }

    for (glob, _) in REFUSED {
        assert!(
            refused_seen.contains(*glob),
            "{glob:?} is listed as refused but was accepted"
        );
    }
    assert_eq!(
        checked + refused_cases,
        fx.total,
        "every fixture case was looked at"
    );
    if !disagreements.is_empty() {
        let n = disagreements.len();
        for d in disagreements.iter().take(20) {
            println!("{d}");
        }
        panic!(
            "{n} disagreements with picomatch {} (first 20 printed above)",
            fx.picomatch
        );
    }
    // Refusals are a small, deliberate minority of the table.
    assert!(
        checked >= 5_000 && refused_cases * 10 < checked,
        "{checked} / {refused_cases}"
    );
}

/// Every ancestor of a path picomatch matched must be reported as leading into the glob.
#[test]
fn could_match_at_or_below_never_hides_a_fixture_match() {
    let fx = load();
    let mut ancestors_checked = 0usize;
    let mut misses = Vec::new();
    for (glob, bits, _) in &fx.cases {
        let Ok(compiled) = Glob::new(glob) else {
            continue;
        };
        for (path, bit) in fx.paths.iter().zip(bits.bytes()) {
            if bit != b'1' {
                continue;
            }
            assert!(
                compiled.could_match_at_or_below(path),
                "{glob:?} at {path:?} itself"
            );
            for (i, c) in path.char_indices() {
                if c != '/' || i + 1 >= path.len() {
                    continue;
                }
                let dir = if i == 0 { "/" } else { &path[..i] };
                ancestors_checked += 1;
                if !compiled.could_match_at_or_below(dir) {
                    misses.push(format!("{glob:?}: {path:?} matches but not below {dir:?}"));
                }
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} misses, e.g. {:?}",
        misses.len(),
        &misses[..misses.len().min(20)]
    );
    assert!(
        ancestors_checked > 1_000,
        "only {ancestors_checked} ancestors checked"
    );
}

/// Differential run against a large random table from
/// `tools/picomatch-fixtures/random.mjs` (not committed; run by hand):
/// `PICOMATCH_EXTRA_FIXTURE=/tmp/r.json cargo test --test scope_fixtures -- --ignored`.
/// Accepted globs must agree everywhere; globs refused as "never matches" must
/// indeed match nothing in picomatch (other than their own text).
#[test]
#[ignore = "needs a table generated by random.mjs"]
fn agrees_with_a_random_picomatch_table() {
    let Ok(file) = std::env::var("PICOMATCH_EXTRA_FIXTURE") else {
        panic!("set PICOMATCH_EXTRA_FIXTURE to a table written by random.mjs");
    };
    let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let (mut checked, mut unsupported, mut never) = (0usize, 0usize, 0usize);
    let mut disagreements = Vec::new();
    for (glob, bits, self_match) in &fx.cases {
        match Glob::new(glob) {
            Ok(g) => {
                for (path, bit) in fx.paths.iter().zip(bits.bytes()) {
                    checked += 1;
                    if g.is_match(path) != (bit == b'1') {
                        disagreements.push(format!("{glob:?} vs {path:?}: picomatch {}", bit == b'1'));
                    }
                }
                if g.is_match(glob) != (*self_match == 1) {
                    disagreements.push(format!("{glob:?} vs itself"));
                }
            }
            Err(GlobError::NeverMatches { .. }) => {
                never += 1;
                let matched = fx.paths.iter().zip(bits.bytes());
                // picomatch still accepts an input identical to the glob text.
                if matched.filter(|(p, _)| *p != glob).any(|(_, b)| b == b'1') {
                    disagreements.push(format!("{glob:?} refused as never-matching but matches"));
                }
            }
            Err(_) => unsupported += 1,
        }
    }
    println!("checked {checked}, refused: {never} never-matching, {unsupported} unsupported globs");
    for d in disagreements.iter().take(20) {
        println!("{d}");
    }
    assert!(disagreements.is_empty(), "{} disagreements", disagreements.len());
}
