//! The App's private key: PEM text as stored in the vault → an RSA key pair.
//!
//! Accepts what people actually store: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what
//! GitHub hands out) and PKCS#8 (`BEGIN PRIVATE KEY`), with real newlines,
//! with literal `\n` sequences (a multi-line value pasted into a one-line
//! field), with CRLF, or wrapped in quotes. Everything else gets a reason
//! that says what it is instead — never a byte of the key.
//!
//! Intermediate copies of the key live in zeroizing buffers.

use base64::Engine as _;
use ring::signature::RsaKeyPair;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// Which container the key came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    Pkcs1,
    Pkcs8,
}

/// Why the stored text is not a usable key; safe to show (no key material).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

fn reject(reason: impl Into<String>) -> KeyError {
    KeyError(reason.into())
}

/// Undoes the usual ways a PEM gets mangled on its way into a secret store.
fn normalise(stored: &str) -> Zeroizing<String> {
    let mut text = Zeroizing::new(stored.trim().to_string());
    for quote in ['"', '\''] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            *text = text[1..text.len() - 1].to_string();
        }
    }
    if text.contains("\\n") {
        *text = text.replace("\\r\\n", "\n").replace("\\n", "\n");
    }
    if text.contains('\r') {
        *text = text.replace('\r', "");
    }
    text
}

/// The label of a `-----BEGIN <label>-----` line, and what follows it.
fn begin_label(text: &str) -> Option<(&str, &str)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let end = rest.find("-----")?;
    Some((&rest[..end], &rest[end + "-----".len()..]))
}

/// Parses a stored PEM into the DER it carries and its format.
pub fn decode_pem(stored: &SecretString) -> Result<(KeyFormat, Zeroizing<Vec<u8>>), KeyError> {
    let text = normalise(stored.expose_secret());
    if text.is_empty() {
        return Err(reject("the value is empty"));
    }
    let Some((label, rest)) = begin_label(&text) else {
        return Err(reject(
            "no '-----BEGIN ... PRIVATE KEY-----' line (the value is not PEM text)",
        ));
    };
    let format = match label {
        "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
        "PRIVATE KEY" => KeyFormat::Pkcs8,
        "ENCRYPTED PRIVATE KEY" => return Err(reject("it is an encrypted PKCS#8 key; store it unencrypted")),
        "OPENSSH PRIVATE KEY" => {
            return Err(reject("it is an OpenSSH key, not the App's PEM private key"));
        }
        "EC PRIVATE KEY" => return Err(reject("it is an EC key; GitHub App keys are RSA")),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => return Err(reject("it is a public key, not the private key")),
        "CERTIFICATE" => return Err(reject("it is a certificate, not the private key")),
        other => {
            return Err(reject(format!(
                "unexpected PEM label '{}'",
                other.chars().take(40).collect::<String>().escape_default()
            )));
        }
    };
    let end_line = format!("-----END {label}-----");
    let Some(end) = rest.find(&end_line) else {
        return Err(reject(format!(
            "the '{end_line}' line is missing (truncated value?)"
        )));
    };
    let body = &rest[..end];
    if body.contains("Proc-Type:") || body.contains("DEK-Info:") {
        return Err(reject("it is an encrypted PKCS#1 key; store it unencrypted"));
    }
    let compact: Zeroizing<String> = Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
    if compact.is_empty() {
        return Err(reject("the PEM body is empty"));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| reject("the PEM body is not valid base64 (corrupted when stored?)"))?;
    Ok((format, der))
}

/// Parses a stored PEM into a key pair ready to sign.
pub fn load_key(stored: &SecretString) -> Result<RsaKeyPair, KeyError> {
    let (format, der) = decode_pem(stored)?;
    let parsed = match format {
        KeyFormat::Pkcs1 => RsaKeyPair::from_der(&der),
        KeyFormat::Pkcs8 => RsaKeyPair::from_pkcs8(&der),
    };
    parsed.map_err(|e| {
        let what = match format {
            KeyFormat::Pkcs1 => "PKCS#1",
            KeyFormat::Pkcs8 => "PKCS#8",
        };
        // ring's reasons are fixed words (InvalidEncoding, TooSmall,
        // WrongAlgorithm, ...), never key material.
        reject(match e.to_string().as_str() {
            "WrongAlgorithm" => format!("the {what} key is not an RSA key; GitHub App keys are RSA"),
            "TooSmall" => "the RSA key is shorter than 2048 bits".to_string(),
            reason => format!("the {what} key does not parse ({reason})"),
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    fn reason(s: &str) -> String {
        decode_pem(&secret(s)).map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn labels_decide_the_format() {
        let pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nAAEC\n-----END RSA PRIVATE KEY-----";
        let (f, der) = decode_pem(&secret(pkcs1)).unwrap();
        assert_eq!((f, der.as_slice()), (KeyFormat::Pkcs1, &[0u8, 1, 2][..]));
        let pkcs8 = "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n";
        assert_eq!(decode_pem(&secret(pkcs8)).unwrap().0, KeyFormat::Pkcs8);
    }

    #[test]
    fn mangled_storage_is_undone() {
        for stored in [
            "-----BEGIN RSA PRIVATE KEY-----\\nAAEC\\n-----END RSA PRIVATE KEY-----",
            "\"-----BEGIN RSA PRIVATE KEY-----\\nAAEC\\n-----END RSA PRIVATE KEY-----\"",
            "-----BEGIN RSA PRIVATE KEY-----\r\nAA\r\nEC\r\n-----END RSA PRIVATE KEY-----\r\n",
            "-----BEGIN RSA PRIVATE KEY----- AAEC -----END RSA PRIVATE KEY-----",
        ] {
            let (_, der) = decode_pem(&secret(stored)).unwrap();
            assert_eq!(der.as_slice(), &[0u8, 1, 2], "{stored:?}");
        }
    }

    #[test]
    fn wrong_things_are_named() {
        assert!(reason("").contains("empty"));
        assert!(reason("MIIEpAIBAAKCAQEA").contains("not PEM"));
        assert!(
            reason("-----BEGIN OPENSSH PRIVATE KEY-----\nAA\n-----END OPENSSH PRIVATE KEY-----")
                .contains("OpenSSH")
        );
        assert!(reason("-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----").contains("public key"));
        assert!(reason("-----BEGIN RSA PRIVATE KEY-----\nAAEC\n").contains("missing"));
        assert!(
            reason("-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----").contains("base64")
        );
        let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAEC\n-----END RSA PRIVATE KEY-----";
        assert!(reason(encrypted).contains("encrypted"));
    }

    #[test]
    fn garbage_der_is_rejected_without_echoing_it() {
        let stored = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END RSA PRIVATE KEY-----";
        let err = load_key(&secret(stored)).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("PKCS#1"), "{err}");
        assert!(!err.contains("c2VjcmV0") && !err.contains("secret-bytes"));
    }
}
