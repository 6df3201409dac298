//! The scanner's vocabulary: UTF-16 helpers, picomatch's POSIX constants
//! (with `dot: false`), its string utilities (`escapeLast`, `expandRange`,
//! the regex special characters) and the characters refused before
//! scanning, kept apart from the scanner that uses them.

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

/// picomatch's default `expandRange`: a sorted character class, or — when that
/// class would not compile — the escaped endpoints joined by a raw `..`.
pub(super) fn expand_range(mut args: Vec<Vec<u16>>) -> Vec<u16> {
    // JS `Array.prototype.sort()` compares strings by UTF-16 code units.
    args.sort();
    let mut class = vec![u('[')];
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            class.push(u('-'));
        }
        class.extend_from_slice(a);
    }
    class.push(u(']'));
    if crate::glob::jsre::Program::compile(&class).is_ok() {
        return class;
    }
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.extend(units(".."));
        }
        out.extend(escape_regex(a));
    }
    out
}

/// Characters refused up front: their picomatch meaning is raw regex
/// (groups, alternation), differs between 3.0.x patch releases (extglobs), or
/// is an escape/quote layer we would have to emulate without benefit.
pub(super) fn refuse_up_front(c: char) -> Option<&'static str> {
    match c {
        '(' | ')' => Some("parentheses (extglobs such as @(a|b) and regex groups) are not supported"),
        '|' => Some("'|' is only meaningful inside extglobs, which are not supported; use {a,b}"),
        '"' => Some("double quotes (picomatch literal quoting) are not supported"),
        '\\' => Some("backslash escapes are not supported"),
        c if c.is_control() => Some("control characters are not allowed in a glob"),
        _ => None,
    }
}
