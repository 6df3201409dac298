//! What `github-token` writes to stdout: the bare token line, or with
//! `--export` two `export` lines for `eval`. Nothing else ever goes there.
//!
//! The output may be `eval`ed by a shell, so GitHub's answer is checked
//! before it is printed: a token or expiry carrying anything but the
//! characters GitHub uses is refused rather than quoted.

use std::io::Write;

use secrecy::ExposeSecret;

use crate::github_app::{GithubError, InstallationToken};

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn is_timestamp_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '.' | '+')
}

fn unexpected(detail: &str) -> GithubError {
    GithubError::GithubUnexpected {
        url: "the access_tokens answer".into(),
        status: 201,
        detail: detail.into(),
    }
}

/// Writes the token (and with `export` its expiry) to `out`, shell-safe.
pub fn write_token(out: &mut dyn Write, minted: &InstallationToken, export: bool) -> Result<(), GithubError> {
    let token = minted.token.expose_secret();
    if token.is_empty() || token.len() > 1024 || !token.chars().all(is_token_char) {
        return Err(unexpected(
            "the token is empty or has characters GitHub does not use",
        ));
    }
    let expires_at = minted.expires_at.as_str();
    if expires_at.len() > 64 || !expires_at.chars().all(is_timestamp_char) {
        return Err(unexpected("expires_at is not a timestamp"));
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    if export {
        text.push_str("export GH_TOKEN=");
        text.push_str(token);
        text.push('\n');
        if !expires_at.is_empty() {
            text.push_str("export GH_TOKEN_EXPIRES_AT=");
            text.push_str(expires_at);
            text.push('\n');
        }
    } else {
        text.push_str(token);
        text.push('\n');
    }
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(GithubError::Output)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use secrecy::SecretString;

    fn minted(token: &str, expires_at: &str) -> InstallationToken {
        InstallationToken {
            token: SecretString::from(token.to_string()),
            expires_at: expires_at.into(),
        }
    }

    fn render(m: &InstallationToken, export: bool) -> Result<String, GithubError> {
        let mut out = Vec::new();
        write_token(&mut out, m, export)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn plain_and_export_forms() {
        let m = minted("ghs_abc123", "2026-01-01T12:00:00Z");
        assert_eq!(render(&m, false).unwrap(), "ghs_abc123\n");
        assert_eq!(
            render(&m, true).unwrap(),
            "export GH_TOKEN=ghs_abc123\nexport GH_TOKEN_EXPIRES_AT=2026-01-01T12:00:00Z\n"
        );
    }

    #[test]
    fn nothing_a_shell_would_interpret_is_printed() {
        for bad in ["ghs_a;rm -rf ~", "$(id)", "a\nexport X=1", "", "a'b"] {
            assert!(
                render(&minted(bad, "2026-01-01T12:00:00Z"), true).is_err(),
                "{bad:?}"
            );
        }
        assert!(render(&minted("ghs_a", "$(id)"), true).is_err());
    }
}
