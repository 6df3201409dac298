//! The scanner's vocabulary: UTF-16 helpers, picomatch's POSIX constants
//! (with `dot: false`) and its string utilities (`escapeLast`, the regex
//! special characters), kept apart from the scanner that uses them.

pub(super) const fn u(c: char) -> u16 {
    c as u16
}

pub(super) fn units(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

// Picomatch's POSIX constants; the dot-related ones assume `dot: false`.
pub(super) const SLASH_LITERAL: &str = "\\/";
pub(super) const DOT_LITERAL: &str = "\\.";
pub(super) const ONE_CHAR: &str = "(?=.)";
pub(super) const QMARK: &str = "[^/]";
pub(super) const QMARK_NO_DOT: &str = "[^.\\/]";
pub(super) const STAR: &str = "[^/]*?";
pub(super) const NO_DOT: &str = "(?!\\.)";
pub(super) const NO_DOT_SLASH: &str = "(?!\\.{0,1}(?:\\/|$))";
pub(super) const GLOBSTAR: &str = "(?:(?:(?!(?:^|\\/)\\.).)*?)";

/// JS `str.slice(0, -n)`: note that `n == 0` yields the empty string.
pub(super) fn slice_neg(v: &mut Vec<u16>, n: usize) {
    if n == 0 || n >= v.len() {
        v.clear();
    } else {
        v.truncate(v.len() - n);
    }
}

pub(super) fn contains(v: &[u16], c: char) -> bool {
    v.contains(&u(c))
}

/// picomatch's `REGEX_SPECIAL_CHARS`.
pub(super) fn is_regex_special(c: u16) -> bool {
    "-*+?.^${}(|)[]".encode_utf16().any(|s| s == c)
}

pub(super) fn escape_regex(v: &[u16]) -> Vec<u16> {
    let mut out = Vec::with_capacity(v.len() + 4);
    for &c in v {
        if is_regex_special(c) {
            out.push(u('\\'));
        }
        out.push(c);
    }
    out
}

/// picomatch's `REGEX_NON_SPECIAL_CHARS` run length at the start of `rest`.
pub(super) fn non_special_run(rest: &[u16]) -> usize {
    rest.iter()
        .take_while(|&&c| {
            !matches!(
                char::from_u32(u32::from(c)),
                Some('@' | '!' | '[' | ']' | '.' | ',' | '$' | '*' | '+' | '?' | '^')
                    | Some('{' | '}' | '(' | ')' | '|' | '\\' | '/')
            )
        })
        .count()
}

/// picomatch's `utils.escapeLast`: escape the last unescaped `ch` at or before `upto`.
pub(super) fn escape_last(input: &[u16], ch: u16, upto: Option<usize>) -> Vec<u16> {
    let Some(last) = input.len().checked_sub(1) else {
        return Vec::new();
    };
    let upto = upto.map_or(last, |i| i.min(last));
    match input[..=upto].iter().rposition(|&c| c == ch) {
        None => input.to_vec(),
        Some(idx) if idx > 0 && input[idx - 1] == u('\\') => escape_last(input, ch, Some(idx - 1)),
        Some(idx) => {
            let mut out = input[..idx].to_vec();
            out.push(u('\\'));
            out.extend_from_slice(&input[idx..]);
            out
        }
    }
}
