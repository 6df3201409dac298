//! The tests of `translate`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used)]
use super::*;

fn src(p: &str) -> String {
    String::from_utf16(&translate(p).unwrap()).unwrap()
}

// Sources observed from picomatch 3.0.1 `makeRe(glob, {strictSlashes:false}).source`.
#[test]
fn same_source_as_picomatch() {
    let cases = [
        ("/[!a]", r"^(?:\/(?:\[!a\]|[!a])\/?)$"),
        ("/a.c/{1..3}", r"^(?:\/.c\/[1-3])$"),
        ("/x/**", r"^(?:\/x(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$"),
        (
            "/x/*/**",
            r"^(?:\/x\/(?!\.)(?=.)[^/]*?\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?))$",
        ),
        (
            "!/x/**",
            r"^(?!^(?:\/x(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$).*$",
        ),
        ("/{a,b}/*", r"^(?:\/(a|b)\/(?!\.)(?=.)[^/]*?\/?)$"),
        ("/a/{1..10}", r"^(?:\/a\/[1-10])$"),
        ("/[]a", r"^(?:\/\[\]a\/?)$"),
        ("/?", r"^(?:\/[^.\/])$"),
        ("/**/x", r"^(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)\/x)$"),
        (
            "/a/**/b",
            r"^(?:\/a(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)\/|\/|$)b)$",
        ),
        ("/a/{..}", r"^(?:\/a\/[])$"),
        ("/@3]//***", r"^(?:\/3]\/\/(?!\.)[^/]*?\/?)$"),
    ];
    for (glob, want) in cases {
        assert_eq!(src(glob), want, "glob {glob}");
    }
}

#[test]
fn refuses_extglobs_and_escapes() {
    for p in ["/@(a|b)", "/a\\*", "/\"x\"", "/[[:alpha:]]", "/[a]+", "/a|b"] {
        assert!(translate(p).is_err(), "{p}");
    }
}
