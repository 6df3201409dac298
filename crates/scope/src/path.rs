//! The one normalisation of secret folder paths used everywhere (tool input,
//! listing results, proxy requests) before any scope decision.
//!
//! Infisical checks permissions against the raw path string (after
//! JavaScript's trim and removing one trailing slash), so anything that a
//! server, proxy or agent might read differently — `..`, `.`, `//`, `\`,
//! percent-encoding, control, format or glob characters, white space that
//! JavaScript trims (U+FEFF among it) — is refused rather than "fixed up"
//! into something that then matches a scope entry (see [`crate::input`]).

use std::fmt;

use super::glob::quote;
use super::input::{InputProblem, is_js_whitespace, text_problem};

/// Longer paths are refused: no real folder tree is this deep, and it bounds
/// the matcher's work per path.
pub const MAX_PATH_LEN: usize = 1024;

/// What is wrong with a path (see [`PathError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    Empty,
    NotAbsolute,
    SurroundingWhitespace,
    EmptySegment,
    DotSegment,
    Backslash,
    PercentEncoding,
    ControlCharacter,
    FormatCharacter,
    GlobCharacter,
    TooLong,
    SlashInName,
}

impl PathProblem {
    fn describe(self) -> &'static str {
        match self {
            PathProblem::Empty => "it is empty",
            PathProblem::NotAbsolute => "it does not start with '/'",
            PathProblem::SurroundingWhitespace => {
                "it has leading or trailing white space (U+FEFF and no-break spaces included)"
            }
            PathProblem::EmptySegment => "it has an empty segment ('//')",
            PathProblem::DotSegment => "it has a '.' or '..' segment",
            PathProblem::Backslash => "it contains a backslash",
            PathProblem::PercentEncoding => "it contains '%' (percent-encoding is not decoded)",
            PathProblem::ControlCharacter => "it contains a control character",
            PathProblem::FormatCharacter => "it contains an invisible format character",
            PathProblem::GlobCharacter => "it contains a glob character (* ? [ ] { })",
            PathProblem::TooLong => "it is longer than 1024 bytes",
            PathProblem::SlashInName => "a folder name cannot contain '/'",
        }
    }
}

/// A path that [`SecretPath::parse`] refused. The message is one line, quotes
/// the input with control characters escaped, and says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid secret path {quoted}: {}; use an absolute folder path like /agents/warden \
     (segments separated by single '/', without '.', '..', '\\', '%', control, invisible or glob \
     characters)",
    problem.describe()
)]
pub struct PathError {
    quoted: String,
    problem: PathProblem,
}

impl PathError {
    fn new(raw: &str, problem: PathProblem) -> Self {
        let shown: String = raw.chars().take(120).collect();
        let mut quoted = quote(&shown);
        if shown.len() < raw.len() {
            quoted.push('…');
        }
        PathError { quoted, problem }
    }

    pub fn problem(&self) -> PathProblem {
        self.problem
    }
}

/// A normalised absolute folder path: `/` or `/seg(/seg)*`, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretPath(String);

impl SecretPath {
    /// Accepts `/`, `/a/b` and `/a/b/` (one trailing slash is dropped, as
    /// Infisical does); refuses everything ambiguous, never rewriting it.
    pub fn parse(raw: &str) -> Result<SecretPath, PathError> {
        let err = |p| Err(PathError::new(raw, p));
        if raw.is_empty() {
            return err(PathProblem::Empty);
        }
        if raw.len() > MAX_PATH_LEN {
            return err(PathProblem::TooLong);
        }
        match text_problem(raw) {
            None => {}
            Some(InputProblem::ControlCharacter) => return err(PathProblem::ControlCharacter),
            Some(InputProblem::FormatCharacter) => return err(PathProblem::FormatCharacter),
            Some(_) => return err(PathProblem::SurroundingWhitespace),
        }
        if !raw.starts_with('/') {
            return err(PathProblem::NotAbsolute);
        }
        for c in raw.chars() {
            let problem = match c {
                '\\' => PathProblem::Backslash,
                '%' => PathProblem::PercentEncoding,
                '*' | '?' | '[' | ']' | '{' | '}' => PathProblem::GlobCharacter,
                _ => continue,
            };
            return err(problem);
        }
        if raw == "/" {
            return Ok(SecretPath::root());
        }
        let body = raw.strip_suffix('/').unwrap_or(raw);
        // `/a /` would normalise to `/a `, which has trailing white space of
        // its own (and which Infisical, trimming first, would see differently).
        if body.ends_with(is_js_whitespace) {
            return err(PathProblem::SurroundingWhitespace);
        }
        for seg in body[1..].split('/') {
            if seg.is_empty() {
                return err(PathProblem::EmptySegment);
            }
            if seg == "." || seg == ".." {
                return err(PathProblem::DotSegment);
            }
        }
        Ok(SecretPath(body.to_owned()))
    }

    pub fn root() -> SecretPath {
        SecretPath("/".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The folder containing this one; `None` for the root.
    pub fn parent(&self) -> Option<SecretPath> {
        if self.is_root() {
            return None;
        }
        match self.0.rfind('/') {
            Some(0) | None => Some(SecretPath::root()),
            Some(i) => Some(SecretPath(self.0[..i].to_owned())),
        }
    }

    /// The sub-folder `child_name` of this folder; the name must be one
    /// segment that would itself pass [`SecretPath::parse`].
    pub fn join(&self, child_name: &str) -> Result<SecretPath, PathError> {
        if child_name.contains('/') {
            return Err(PathError::new(child_name, PathProblem::SlashInName));
        }
        if child_name.is_empty() {
            return Err(PathError::new(child_name, PathProblem::Empty));
        }
        let joined = if self.is_root() {
            format!("/{child_name}")
        } else {
            format!("{}/{child_name}", self.0)
        };
        SecretPath::parse(&joined).map_err(|e| PathError::new(child_name, e.problem))
    }

    /// This folder is `ancestor` or lies somewhere below it.
    pub fn is_at_or_below(&self, ancestor: &SecretPath) -> bool {
        ancestor.is_root()
            || self == ancestor
            || self
                .0
                .strip_prefix(ancestor.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// The folder names from the root down (none for the root itself).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

impl fmt::Display for SecretPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for SecretPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecretPath::parse(s)
    }
}

impl AsRef<str> for SecretPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn at_or_below() {
        let p = |s: &str| SecretPath::parse(s).unwrap();
        assert!(p("/a/b").is_at_or_below(&p("/a")));
        assert!(p("/a").is_at_or_below(&p("/a")));
        assert!(p("/a").is_at_or_below(&p("/")));
        assert!(p("/").is_at_or_below(&p("/")));
        assert!(!p("/ab").is_at_or_below(&p("/a")));
        assert!(!p("/a").is_at_or_below(&p("/a/b")));
    }

    #[test]
    fn text_views_agree() {
        let p = SecretPath::parse("/a/b/").unwrap();
        let text: &str = p.as_ref();
        assert_eq!(text, "/a/b");
        assert_eq!(p.to_string(), "/a/b");
        assert_eq!("/a/b/".parse::<SecretPath>().unwrap(), p);
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(SecretPath::parse("/").unwrap().as_str(), "/");
        assert_eq!(SecretPath::parse("/a").unwrap().as_str(), "/a");
        assert_eq!(SecretPath::parse("/a/").unwrap().as_str(), "/a");
        assert_eq!(SecretPath::parse("/a b/ü.x").unwrap().as_str(), "/a b/ü.x");
        assert_eq!(SecretPath::parse("/.env/x").unwrap().as_str(), "/.env/x");
        assert!(SecretPath::parse("/").unwrap().is_root());
    }

    #[test]
    fn refused_forms() {
        let cases = [
            ("", PathProblem::Empty),
            ("a/b", PathProblem::NotAbsolute),
            (" /a", PathProblem::SurroundingWhitespace),
            ("/a ", PathProblem::SurroundingWhitespace),
            ("/ /", PathProblem::SurroundingWhitespace),
            ("/a\u{3000}/", PathProblem::SurroundingWhitespace),
            ("/a//b", PathProblem::EmptySegment),
            ("//", PathProblem::EmptySegment),
            ("/a//", PathProblem::EmptySegment),
            ("/a/../b", PathProblem::DotSegment),
            ("/a/.", PathProblem::DotSegment),
            ("/./a", PathProblem::DotSegment),
            ("/a\\b", PathProblem::Backslash),
            ("/a%2Fb", PathProblem::PercentEncoding),
            ("/a\0b", PathProblem::ControlCharacter),
            ("/a\nb", PathProblem::ControlCharacter),
            ("/a/*", PathProblem::GlobCharacter),
            ("/a/{b}", PathProblem::GlobCharacter),
        ];
        for (raw, want) in cases {
            assert_eq!(SecretPath::parse(raw).unwrap_err().problem(), want, "{raw:?}");
        }
        assert_eq!(
            SecretPath::parse(&format!("/{}", "a".repeat(MAX_PATH_LEN)))
                .unwrap_err()
                .problem(),
            PathProblem::TooLong
        );
    }

    /// The length limit is inclusive: a path of exactly the limit passes.
    #[test]
    fn length_boundary() {
        let at_limit = format!("/{}", "a".repeat(MAX_PATH_LEN - 1));
        assert_eq!(SecretPath::parse(&at_limit).unwrap().as_str(), at_limit);
        let over = format!("{at_limit}a");
        assert_eq!(
            SecretPath::parse(&over).unwrap_err().problem(),
            PathProblem::TooLong
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let cases = [
            ("", "it is empty"),
            ("a", "does not start with '/'"),
            ("/a/\u{FEFF}", "leading or trailing white space (U+FEFF"),
            ("/a//b", "empty segment"),
            ("/a/..", "'.' or '..' segment"),
            ("/a\\b", "backslash"),
            ("/a%2F", "percent-encoding"),
            ("/a\u{1}", "control character"),
            ("/a\u{200B}b", "invisible format character"),
            ("/a/*", "glob character"),
        ];
        for (raw, says) in cases {
            let msg = SecretPath::parse(raw).unwrap_err().to_string();
            assert!(msg.contains(says), "{raw:?}: {msg}");
        }
        let msg = SecretPath::parse(&"/a".repeat(600)).unwrap_err().to_string();
        assert!(msg.contains("longer than 1024 bytes"), "{msg}");
        let msg = SecretPath::root().join("a/b").unwrap_err().to_string();
        assert!(msg.contains("cannot contain '/'"), "{msg}");
    }

    #[test]
    fn error_message_is_one_safe_line() {
        let msg = SecretPath::parse("/a\n\u{1b}[31mb").unwrap_err().to_string();
        assert!(!msg.contains('\n') && !msg.contains('\u{1b}'), "{msg}");
        assert!(msg.contains("'/a\\n\\u{1b}[31mb'"), "{msg}");
        assert!(msg.contains("like /agents/warden"), "{msg}");
    }

    #[test]
    fn navigation() {
        let p = SecretPath::parse("/a/b").unwrap();
        assert_eq!(p.parent().unwrap().as_str(), "/a");
        assert_eq!(p.parent().unwrap().parent().unwrap(), SecretPath::root());
        assert_eq!(SecretPath::root().parent(), None);
        assert_eq!(p.join("c").unwrap().as_str(), "/a/b/c");
        assert_eq!(SecretPath::root().join("c").unwrap().as_str(), "/c");
        assert!(p.join("..").is_err());
        assert!(p.join("c/d").is_err());
        assert!(p.join("").is_err());
        assert_eq!(p.segments().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(SecretPath::root().segments().count(), 0);
    }
}
