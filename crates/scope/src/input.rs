//! The one rule for text this client hands to the vault: folder paths,
//! environment slugs and secret names.
//!
//! Infisical is JavaScript. It reads each of these with zod's
//! `z.string().trim()` (JavaScript `String.prototype.trim`, which removes
//! U+FEFF and every Unicode space separator, where Rust's `str::trim` keeps
//! U+FEFF), and a folder path then loses one trailing slash. A string the
//! vault would read differently from this client could name a folder or key
//! the scope never judged, so it is refused, never "fixed up": anything
//! JavaScript's trim would change, any control or format (invisible)
//! character, and for secret names anything that would change the route the
//! name is put in. `tests/js_input_agreement.rs` checks these tables and the
//! decisions built on them against Node itself.

use super::glob::quote;

/// JavaScript's WhiteSpace and LineTerminator code points (ECMA-262: TAB,
/// VT, FF, ZWNBSP, every `Zs` space separator, LF, CR, LS, PS): exactly what
/// `String.prototype.trim` removes.
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

/// Unicode format characters (general category `Cf`): invisible, so a name
/// holding one looks like another; U+FEFF is also JavaScript white space.
pub fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// `s` as JavaScript's `s.trim()` returns it.
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// What is wrong with a piece of text (see [`InputError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputProblem {
    Empty,
    TooLong,
    /// Leading or trailing white space in the JavaScript sense (U+FEFF too).
    SurroundingWhitespace,
    /// White space anywhere in a name that allows none.
    Whitespace,
    ControlCharacter,
    FormatCharacter,
    /// `.` or `..` as a secret name: URL normalisation rewrites the route.
    DotName,
    /// A character that means something in a URL path (`/ \ ? # % ;`).
    RouteCharacter,
    /// Outside an environment slug's letters, digits, `-` and `_`.
    NotSlug,
}

/// The problem shared by every kind of text, if any: control or format
/// characters anywhere, or white space at either end that JavaScript's trim
/// removes (Rust's `trim` removes a subset of it plus U+0085, a control).
pub fn text_problem(s: &str) -> Option<InputProblem> {
    if js_trim(s) != s {
        return Some(InputProblem::SurroundingWhitespace);
    }
    for c in s.chars() {
        if c.is_control() {
            return Some(InputProblem::ControlCharacter);
        }
        if is_format(c) {
            return Some(InputProblem::FormatCharacter);
        }
    }
    None
}

/// Characters a secret name may not hold: each would change, end or
/// re-encode the route segment the name is sent in.
const ROUTE_CHARACTERS: [char; 6] = ['/', '\\', '?', '#', '%', ';'];

/// Longest secret name accepted.
pub const MAX_SECRET_NAME_BYTES: usize = 256;
/// Longest environment slug accepted.
pub const MAX_ENVIRONMENT_BYTES: usize = 128;

/// Which kind of text was refused, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SecretName,
    Environment,
}

/// Text that [`check_secret_name`] or [`check_environment`] refused. The
/// message is one line, quotes the input escaped, and says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct InputError {
    quoted: String,
    kind: Kind,
    problem: InputProblem,
}

impl InputError {
    fn new(raw: &str, kind: Kind, problem: InputProblem) -> Self {
        let shown: String = raw.chars().take(64).collect();
        let mut quoted = quote(&shown);
        if shown.len() < raw.len() {
            quoted.push('…');
        }
        InputError {
            quoted,
            kind,
            problem,
        }
    }

    pub fn problem(&self) -> InputProblem {
        self.problem
    }

    fn render(&self) -> String {
        let why = match self.problem {
            InputProblem::Empty => "it is empty",
            InputProblem::TooLong => "it is too long",
            InputProblem::SurroundingWhitespace | InputProblem::Whitespace => {
                "it contains white space (U+FEFF and no-break spaces included)"
            }
            InputProblem::ControlCharacter => "it contains a control character",
            InputProblem::FormatCharacter => "it contains an invisible format character",
            InputProblem::DotName => "'.' and '..' are not names",
            InputProblem::RouteCharacter => "it contains one of / \\ ? # % ;",
            InputProblem::NotSlug => "it has characters other than letters, digits, '-' and '_'",
        };
        match self.kind {
            Kind::SecretName => format!(
                "{} is not a secret name: {why}; a name has no white space, control or invisible \
                 characters, none of / \\ ? # % ;, is not '.' or '..', and has at most \
                 {MAX_SECRET_NAME_BYTES} bytes",
                self.quoted
            ),
            Kind::Environment => format!(
                "{} is not an environment slug: {why}; use letters, digits, '-' and '_' \
                 (at most {MAX_ENVIRONMENT_BYTES}), e.g. dev",
                self.quoted
            ),
        }
    }
}

/// A secret name the vault reads exactly as given, in a route it cannot
/// read any other way.
pub fn check_secret_name(name: &str) -> Result<(), InputError> {
    let err = |p| Err(InputError::new(name, Kind::SecretName, p));
    if name.is_empty() {
        return err(InputProblem::Empty);
    }
    if name.len() > MAX_SECRET_NAME_BYTES {
        return err(InputProblem::TooLong);
    }
    if let Some(problem) = text_problem(name) {
        return err(problem);
    }
    // Rust's white space is JavaScript's plus U+0085, a control refused above.
    if name.contains(is_js_whitespace) {
        return err(InputProblem::Whitespace);
    }
    if name.contains(ROUTE_CHARACTERS) {
        return err(InputProblem::RouteCharacter);
    }
    if name == "." || name == ".." {
        return err(InputProblem::DotName);
    }
    Ok(())
}

/// An environment slug: ASCII letters, digits, `-` and `_`, which no trim
/// or decoding can change.
pub fn check_environment(environment: &str) -> Result<(), InputError> {
    let err = |p| Err(InputError::new(environment, Kind::Environment, p));
    if environment.is_empty() {
        return err(InputProblem::Empty);
    }
    if environment.len() > MAX_ENVIRONMENT_BYTES {
        return err(InputProblem::TooLong);
    }
    if let Some(problem) = text_problem(environment) {
        return err(problem);
    }
    if !environment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return err(InputProblem::NotSlug);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn js_trim_removes_what_javascript_removes() {
        assert_eq!(js_trim("\u{FEFF}/a/\u{FEFF}"), "/a/");
        assert_eq!(js_trim("\u{A0}\u{3000}x\u{2028}"), "x");
        // U+0085 is white space to Rust, not to JavaScript; U+180E neither.
        assert_eq!(js_trim("\u{85}x"), "\u{85}x");
        assert_eq!(js_trim("\u{180E}x"), "\u{180E}x");
        assert_eq!(js_trim(""), "");
    }

    /// Every character Rust calls white space is JavaScript white space or a
    /// control, so checking JavaScript's set after the controls covers both.
    #[test]
    fn rust_white_space_is_covered() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if c.is_whitespace() {
                assert!(is_js_whitespace(c) || c.is_control(), "{c:?}");
            }
        }
    }

    #[test]
    fn text_problems() {
        assert_eq!(text_problem("/a"), None);
        assert_eq!(text_problem("/a b"), None);
        assert_eq!(text_problem("/a\u{301}"), None);
        assert_eq!(
            text_problem("/a/\u{FEFF}"),
            Some(InputProblem::SurroundingWhitespace)
        );
        assert_eq!(text_problem(" /a"), Some(InputProblem::SurroundingWhitespace));
        assert_eq!(text_problem("/a\u{FEFF}b"), Some(InputProblem::FormatCharacter));
        assert_eq!(text_problem("/a\u{200B}"), Some(InputProblem::FormatCharacter));
        assert_eq!(text_problem("/a\u{85}"), Some(InputProblem::ControlCharacter));
        assert_eq!(text_problem("/a\0b"), Some(InputProblem::ControlCharacter));
        assert_eq!(text_problem("/a\u{7F}b"), Some(InputProblem::ControlCharacter));
    }

    #[test]
    fn secret_names() {
        for ok in ["WARDEN_API_KEY", "a.b", "...", ".env", "ü", "a-b", "K\u{301}"] {
            assert!(check_secret_name(ok).is_ok(), "{ok:?}");
        }
        let max = "K".repeat(MAX_SECRET_NAME_BYTES);
        assert!(check_secret_name(&max).is_ok());
        let cases = [
            ("", InputProblem::Empty),
            (".", InputProblem::DotName),
            ("..", InputProblem::DotName),
            ("KEY\u{FEFF}", InputProblem::SurroundingWhitespace),
            ("\u{A0}KEY", InputProblem::SurroundingWhitespace),
            ("K\u{200B}EY", InputProblem::FormatCharacter),
            ("K\u{0}EY", InputProblem::ControlCharacter),
            ("K EY", InputProblem::Whitespace),
            ("K\u{3000}EY", InputProblem::Whitespace),
            ("a/b", InputProblem::RouteCharacter),
            ("a\\b", InputProblem::RouteCharacter),
            ("a?b", InputProblem::RouteCharacter),
            ("a#b", InputProblem::RouteCharacter),
            ("a%2Fb", InputProblem::RouteCharacter),
            ("a;b", InputProblem::RouteCharacter),
        ];
        for (name, want) in cases {
            assert_eq!(check_secret_name(name).unwrap_err().problem(), want, "{name:?}");
        }
        assert_eq!(
            check_secret_name(&format!("{max}K")).unwrap_err().problem(),
            InputProblem::TooLong
        );
    }

    #[test]
    fn environments() {
        for ok in ["dev", "prod-eu_2", "Dev", "a"] {
            assert!(check_environment(ok).is_ok(), "{ok:?}");
        }
        assert!(check_environment(&"e".repeat(MAX_ENVIRONMENT_BYTES)).is_ok());
        let cases = [
            ("", InputProblem::Empty),
            ("dev\u{FEFF}", InputProblem::SurroundingWhitespace),
            (" dev", InputProblem::SurroundingWhitespace),
            ("d\u{2060}ev", InputProblem::FormatCharacter),
            ("d\tev", InputProblem::ControlCharacter),
            ("de v", InputProblem::NotSlug),
            ("dév", InputProblem::NotSlug),
            ("dev+", InputProblem::NotSlug),
        ];
        for (env, want) in cases {
            assert_eq!(check_environment(env).unwrap_err().problem(), want, "{env:?}");
        }
        assert_eq!(
            check_environment(&"e".repeat(MAX_ENVIRONMENT_BYTES + 1))
                .unwrap_err()
                .problem(),
            InputProblem::TooLong
        );
    }

    #[test]
    fn messages_are_one_safe_line_naming_the_fix() {
        let msg = check_secret_name("K\n\u{1b}[31m").unwrap_err().to_string();
        assert!(!msg.contains('\n') && !msg.contains('\u{1b}'), "{msg}");
        assert!(msg.starts_with("'K\\n\\u{1b}[31m' is not a secret name"), "{msg}");
        assert!(msg.contains("is not '.' or '..'"), "{msg}");
        let msg = check_environment("dev\u{FEFF}").unwrap_err().to_string();
        assert!(
            msg.starts_with("'dev\\u{feff}' is not an environment slug"),
            "{msg}"
        );
        assert!(msg.contains("e.g. dev"), "{msg}");
        let long = check_secret_name(&"K".repeat(300)).unwrap_err().to_string();
        assert!(long.contains('…') && long.len() < 400, "{long}");
    }
}
