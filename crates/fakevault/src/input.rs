//! How the vault reads the text it is given: secret paths, folder paths,
//! environment slugs and secret names.
//!
//! Infisical validates these with zod's `z.string().trim()`, which is
//! JavaScript's `String.prototype.trim`: it strips every `WhiteSpace` and
//! `LineTerminator` code point of ECMA-262 from both ends, a set that is
//! neither Rust's `str::trim` (which keeps U+FEFF and strips U+0085) nor
//! ASCII white space. Paths then lose exactly one trailing slash
//! (`removeTrailingSlash`, which leaves `/` alone), and the folder routes
//! first prefix a missing leading slash (`prefixWithSlash`).
//!
//! A folder lookup, like the vault's `findBySecretPath`, ignores empty
//! segments, so `/a//b/` names the folder `/a/b` while permission checks see
//! the path as given.

/// Whether `c` is an ECMAScript `WhiteSpace` or `LineTerminator` code point:
/// TAB, VT, FF, ZWNBSP (U+FEFF), every `Zs` space, LF, CR, LS and PS.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

/// JavaScript's `String.prototype.trim`.
pub(crate) fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// Infisical's `removeTrailingSlash`: one trailing slash goes, `/` stays.
pub(crate) fn remove_trailing_slash(path: &str) -> &str {
    if path == "/" {
        return path;
    }
    path.strip_suffix('/').unwrap_or(path)
}

/// A secrets route's `secretPath` as the vault reads it: absent means `/`,
/// then trimmed and one trailing slash removed. No leading slash is added,
/// so `agents/warden` stays as given and matches no `/…` permission glob.
pub(crate) fn secret_path(raw: Option<&str>) -> String {
    raw.map_or_else(
        || "/".to_owned(),
        |raw| remove_trailing_slash(js_trim(raw)).to_owned(),
    )
}

/// A folder route's `path` or `directory`: trimmed, a leading slash added
/// when missing, then one trailing slash removed.
pub(crate) fn folder_path(raw: &str) -> String {
    let trimmed = js_trim(raw);
    let prefixed = if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };
    remove_trailing_slash(&prefixed).to_owned()
}

/// Whether the current build accepts a secret path (after
/// [`secret_path`]): every segment made of ASCII letters, digits, `-` and
/// `_`, so `.`, `..`, glob characters, `%` and backslashes are refused.
/// Empty segments (doubled, leading or trailing slashes) pass.
pub(crate) fn is_valid_secret_path(path: &str) -> bool {
    path.split('/').all(|s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// An environment slug or a secret name: trimmed.
pub(crate) fn name(raw: &str) -> &str {
    js_trim(raw)
}

/// The folder a path names in a lookup: empty segments ignored, so the
/// result is `/` or `/a/b` without doubled or trailing slashes.
pub(crate) fn folder_key(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code point JavaScript's `trim` removes (ECMA-262 `WhiteSpace`
    /// and `LineTerminator`, Unicode 15 `Zs`).
    const JS_TRIMMED: &[char] = &[
        '\t', '\n', '\u{B}', '\u{C}', '\r', ' ', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}',
        '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}',
        '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}', '\u{FEFF}',
    ];

    #[test]
    fn trim_strips_exactly_javascripts_white_space() {
        for c in JS_TRIMMED {
            assert_eq!(js_trim(&format!("{c}/a{c}")), "/a", "U+{:04X}", u32::from(*c));
        }
        // Kept by JavaScript: NEL (which Rust's trim strips), the Mongolian
        // vowel separator (no longer Zs), zero-width space and joiners.
        for c in [
            '\u{85}', '\u{180E}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
        ] {
            let s = format!("{c}/a{c}");
            assert_eq!(js_trim(&s), s, "U+{:04X}", u32::from(c));
        }
        let all: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| is_js_whitespace(*c))
            .collect();
        assert_eq!(all, JS_TRIMMED);
    }

    #[test]
    fn a_secret_path_loses_one_trailing_slash_after_the_trim() {
        assert_eq!(secret_path(None), "/");
        assert_eq!(secret_path(Some("")), "");
        assert_eq!(secret_path(Some("/")), "/");
        assert_eq!(secret_path(Some("//")), "/");
        assert_eq!(secret_path(Some(" /agents/warden ")), "/agents/warden");
        assert_eq!(secret_path(Some("/agents/warden/")), "/agents/warden");
        assert_eq!(secret_path(Some("/agents/warden//")), "/agents/warden/");
        assert_eq!(secret_path(Some("/agents/warden/\u{FEFF}")), "/agents/warden");
        assert_eq!(
            secret_path(Some("\u{3000}/agents/warden/\u{2028}")),
            "/agents/warden"
        );
        assert_eq!(secret_path(Some("agents/warden")), "agents/warden");
        // Trimmed once, before the slash: white space inside stays.
        assert_eq!(secret_path(Some("/a/ \u{FEFF}/")), "/a/ \u{FEFF}");
    }

    #[test]
    fn a_secret_path_is_checked_segment_by_segment() {
        for ok in ["/", "", "/agents/warden", "agents//warden/", "/a-b_C9"] {
            assert!(is_valid_secret_path(ok), "{ok}");
        }
        for bad in [
            "/agents/./warden",
            "/a/..",
            "/a/*",
            "/a/**",
            "/a%2Fb",
            "\\a",
            "/a b",
            "/a\u{FEFF}",
        ] {
            assert!(!is_valid_secret_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_folder_path_gains_a_leading_slash_and_loses_one_trailing() {
        assert_eq!(folder_path(""), "/");
        assert_eq!(folder_path("agents\u{A0}"), "/agents");
        assert_eq!(folder_path("/agents//"), "/agents/");
    }

    #[test]
    fn a_lookup_ignores_empty_segments() {
        assert_eq!(folder_key(""), "/");
        assert_eq!(folder_key("agents/warden"), "/agents/warden");
        assert_eq!(folder_key("//agents//warden//"), "/agents/warden");
        assert_eq!(name("\u{FEFF}dev\u{205F}"), "dev");
    }
}
