//! The request target: which rule, which upstream path, and whether the
//! client tried to choose the destination or to smuggle a second meaning
//! into the path.
//!
//! Only origin-form targets (`/RULE/path?query`) are accepted: an
//! absolute-form target (`http://other/…`) and `CONNECT`'s authority form
//! would let the client pick the host. The path after the rule name is
//! refused, never repaired, when it could be read two ways by the upstream
//! or by the allow-list: dot segments, empty segments (`//`), backslashes,
//! `;` (matrix parameters some servers strip), control characters, and the
//! encoded forms of `.`, `/`, `\`, `;` and `%` itself (double encoding).
//! What passes is matched against the rule's globs percent-decoded, and sent
//! upstream exactly as it arrived.

use hyper::{Method, Uri};
use percent_encoding::percent_decode_str;

use super::error::BrokerError;

/// Encoded bytes that would change a path's structure once decoded.
const STRUCTURAL_ESCAPES: [&str; 5] = ["%2e", "%2f", "%5c", "%3b", "%25"];

/// A request target that passed: rule name, the path to send upstream (as
/// the client wrote it), its decoded form for the allow-list, and the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub rule: &'a str,
    pub raw_path: &'a str,
    pub decoded_path: String,
    pub query: Option<&'a str>,
}

/// Checks the method and target of one request.
pub fn parse<'a>(method: &Method, uri: &'a Uri) -> Result<Target<'a>, BrokerError> {
    if *method == Method::CONNECT || *method == Method::TRACE {
        return Err(BrokerError::TargetRefused(format!("{method} is never brokered")));
    }
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Err(BrokerError::TargetRefused(
            "absolute-form request targets are refused (the rule fixes the destination)".into(),
        ));
    }
    let path = uri.path();
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| BrokerError::TargetRefused("the request target is not an absolute path".into()))?;
    let (rule, raw_path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    if rule.is_empty() {
        return Err(BrokerError::UnknownRule(String::new()));
    }
    let decoded_path = check_path(raw_path)?;
    Ok(Target {
        rule,
        raw_path,
        decoded_path,
        query: uri.query(),
    })
}

/// The decoded path, or why it is ambiguous.
pub fn check_path(raw: &str) -> Result<String, BrokerError> {
    let refuse = |why: &str| Err(BrokerError::PathRefused(why.to_string()));
    if raw.contains('\\') {
        return refuse("a backslash");
    }
    if raw.contains(';') {
        return refuse("a ';' (path parameters)");
    }
    let lower = raw.to_ascii_lowercase();
    if STRUCTURAL_ESCAPES.iter().any(|e| lower.contains(e)) {
        return refuse("an encoded '.', '/', '\\', ';' or '%'");
    }
    let body = raw.strip_prefix('/').unwrap_or(raw);
    // One trailing slash is a real distinction some APIs make; `//` anywhere
    // else is an empty segment, which servers collapse differently.
    let body = body.strip_suffix('/').unwrap_or(body);
    if !body.is_empty() {
        for segment in body.split('/') {
            if segment.is_empty() {
                return refuse("an empty segment ('//')");
            }
            if segment == "." || segment == ".." {
                return refuse("a dot segment ('.' or '..')");
            }
        }
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| BrokerError::PathRefused("it is not UTF-8 once decoded".into()))?;
    if decoded.chars().any(char::is_control) {
        return refuse("control characters");
    }
    Ok(decoded.into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn target(method: Method, t: &str) -> Result<(String, String, Option<String>), String> {
        let uri: Uri = t.parse().unwrap();
        parse(&method, &uri)
            .map(|t| (t.rule.to_string(), t.decoded_path, t.query.map(str::to_string)))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn origin_form_targets_name_the_rule_and_the_path() {
        assert_eq!(
            target(Method::GET, "/dns/client/v4/zones?page=2").unwrap(),
            ("dns".into(), "/client/v4/zones".into(), Some("page=2".into()))
        );
        assert_eq!(target(Method::GET, "/dns").unwrap().1, "/");
        assert_eq!(target(Method::GET, "/dns/").unwrap().1, "/");
        assert_eq!(target(Method::GET, "/dns/a/b/").unwrap().1, "/a/b/");
        assert_eq!(target(Method::GET, "/dns/a%20b").unwrap().1, "/a b");
    }

    #[test]
    fn chosen_destinations_are_refused() {
        for t in ["http://evil.example/dns/x", "https://api.example.com/x"] {
            assert!(
                target(Method::GET, t).unwrap_err().contains("absolute-form"),
                "{t}"
            );
        }
        let e = target(Method::CONNECT, "/dns/x").unwrap_err();
        assert!(e.contains("never brokered"));
        assert!(target(Method::TRACE, "/dns/x").is_err());
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for t in [
            "/dns/a/../b",
            "/dns/..",
            "/dns/./a",
            "/dns/a/%2e%2e/b",
            "/dns/a/%2E/b",
            "/dns/a%2fb",
            "/dns/a%2Fb",
            "/dns/a%5cb",
            "/dns/a;b=c",
            "/dns/a%3bb",
            "/dns/a//b",
            "/dns//a",
            "/dns/a%252e%252e/b",
            "/dns/a%00b",
            "/dns/a%0ab",
            "/dns/a%ffb",
        ] {
            assert!(target(Method::GET, t).is_err(), "{t}");
        }
    }
}
