//! The second half of a scoped read: the vault's answer, held (up to the
//! response cap) and checked before the client sees any of it.
//!
//! - One secret (`{"secret": {...}}`) must come from the requested
//!   environment and, when the answer names its folder, from inside the
//!   scope; otherwise the whole answer is refused.
//! - A listing (`{"secrets": [...], "imports": [...]}`) keeps only the
//!   secrets of the requested environment whose `secretPath` is in scope
//!   (recursive listings: an entry without `secretPath` cannot be placed and
//!   is dropped), and loses every `imports[]` entry: the proxy asked for
//!   none, and the vault labels a chained import with its first hop, so an
//!   in-scope label does not vouch for the value.
//! - A folder listing keeps the folders that are in the scope or lead into it.
//!
//! Secret values pass through untouched: a value still holding `${...}` is
//! what a client asking with expansion off gets from the vault itself.

use serde_json::Value;
use zeroize::Zeroize;

use super::error::ProxyError;
use super::policy::{AnswerCheck, AnswerKind};
use crate::scope::{Scope, SecretPath};

/// What the check made of an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Everything in it is in scope: send the vault's bytes as they are.
    AsIs,
    /// Entries were dropped: send this body instead.
    Filtered { body: Vec<u8>, dropped: usize },
}

/// Checks one JSON answer; `Err` means the whole answer is refused.
pub fn check(scope: &Scope, want: &AnswerCheck, body: &[u8]) -> Result<Checked, ProxyError> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|_| ProxyError::UncheckableAnswer("it is not JSON".into()))?;
    let outcome = match want.kind {
        AnswerKind::Secret => check_one(scope, want, &value).map(|()| 0),
        AnswerKind::SecretList { recursive } => filter_list(scope, want, recursive, &mut value),
        AnswerKind::Folders => filter_folders(scope, want, &mut value),
    };
    let result = match outcome {
        Ok(0) => Ok(Checked::AsIs),
        Ok(dropped) => {
            // Sized up front so that serialising never reallocates and
            // leaves a copy of the values behind in freed memory.
            let mut out = Vec::with_capacity(body.len() + 64);
            match serde_json::to_writer(&mut out, &value) {
                Ok(()) => Ok(Checked::Filtered { body: out, dropped }),
                Err(e) => {
                    out.zeroize();
                    Err(ProxyError::UncheckableAnswer(e.to_string()))
                }
            }
        }
        Err(e) => Err(e),
    };
    wipe(&mut value);
    result
}

fn refuse_answer(scope: &Scope, what: String) -> ProxyError {
    ProxyError::ScopeRefused {
        reason: what,
        scope: scope.to_string(),
    }
}

fn check_one(scope: &Scope, want: &AnswerCheck, value: &Value) -> Result<(), ProxyError> {
    let secret = value
        .get("secret")
        .filter(|s| s.is_object())
        .ok_or_else(|| ProxyError::UncheckableAnswer("it holds no \"secret\" object".into()))?;
    if let Some(env) = secret.get("environment").and_then(Value::as_str)
        && env != want.environment
    {
        return Err(refuse_answer(
            scope,
            format!(
                "the vault answered with a secret from environment '{}', not the requested '{}'",
                env.escape_default(),
                want.environment
            ),
        ));
    }
    // The older build never names the folder of a single secret; with
    // imports off the requested (checked) folder is the only place it can
    // come from. A named folder must be in the scope.
    if let Some(path) = secret.get("secretPath").and_then(Value::as_str)
        && !in_scope(scope, &want.environment, path)
    {
        return Err(refuse_answer(
            scope,
            format!(
                "the vault answered with a secret from {}:{}, outside the scope",
                want.environment,
                path.escape_default()
            ),
        ));
    }
    Ok(())
}

fn in_scope(scope: &Scope, env: &str, path: &str) -> bool {
    SecretPath::parse(path).is_ok_and(|p| scope.allows(env, &p))
}

/// Drops out-of-scope secrets and every import; returns how many entries went.
fn filter_list(
    scope: &Scope,
    want: &AnswerCheck,
    recursive: bool,
    value: &mut Value,
) -> Result<usize, ProxyError> {
    let Some(object) = value.as_object_mut() else {
        return Err(ProxyError::UncheckableAnswer("it is not a JSON object".into()));
    };
    let Some(Value::Array(secrets)) = object.get_mut("secrets") else {
        return Err(ProxyError::UncheckableAnswer(
            "it holds no \"secrets\" list".into(),
        ));
    };
    let mut dropped = 0;
    let all = std::mem::take(secrets);
    for mut secret in all {
        let env_ok = secret
            .get("environment")
            .and_then(Value::as_str)
            .is_none_or(|e| e == want.environment);
        let path_ok = match secret.get("secretPath").and_then(Value::as_str) {
            Some(path) => in_scope(scope, &want.environment, path),
            // Without recursion every entry is in the checked folder.
            None => !recursive,
        };
        if env_ok && path_ok {
            secrets.push(secret);
        } else {
            dropped += 1;
            wipe(&mut secret);
        }
    }
    if let Some(Value::Array(imports)) = object.get_mut("imports")
        && !imports.is_empty()
    {
        dropped += imports.len();
        for import in imports.iter_mut() {
            wipe(import);
        }
        imports.clear();
    }
    Ok(dropped)
}

/// Keeps the folders in the scope or on the way into it.
fn filter_folders(scope: &Scope, want: &AnswerCheck, value: &mut Value) -> Result<usize, ProxyError> {
    let Some(Value::Array(folders)) = value.get_mut("folders") else {
        return Err(ProxyError::UncheckableAnswer(
            "it holds no \"folders\" list".into(),
        ));
    };
    let before = folders.len();
    folders.retain(|f| {
        f.get("name")
            .and_then(Value::as_str)
            .and_then(|name| want.folder.join(name).ok())
            .is_some_and(|p| scope.allows(&want.environment, &p) || scope.leads_into(&want.environment, &p))
    });
    Ok(before - folders.len())
}

/// Overwrites every string in `value` (values, names, ids alike) before it
/// is freed.
pub fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        Scope::parse_list(&["dev:/agents/warden/**".to_string()]).unwrap()
    }

    fn want(folder: &str, kind: AnswerKind) -> AnswerCheck {
        AnswerCheck {
            environment: "dev".into(),
            folder: SecretPath::parse(folder).unwrap(),
            kind,
        }
    }

    fn run(w: &AnswerCheck, v: Value) -> Result<Option<Value>, ProxyError> {
        let body = serde_json::to_vec(&v).unwrap();
        check(&scope(), w, &body).map(|c| match c {
            Checked::AsIs => None,
            Checked::Filtered { body, .. } => Some(serde_json::from_slice(&body).unwrap()),
        })
    }

    #[test]
    fn a_single_secret_must_come_from_the_scope() {
        let w = want("/agents/warden", AnswerKind::Secret);
        let ok =
            json!({"secret": {"secretKey": "K", "secretValue": "${dev.shared.X}", "environment": "dev"}});
        assert_eq!(run(&w, ok).unwrap(), None, "raw references pass as they are");
        let named =
            json!({"secret": {"secretKey": "K", "environment": "dev", "secretPath": "/agents/warden/x"}});
        assert_eq!(run(&w, named).unwrap(), None);
        for bad in [
            json!({"secret": {"secretKey": "K", "environment": "prod"}}),
            json!({"secret": {"secretKey": "K", "environment": "dev", "secretPath": "/shared"}}),
        ] {
            assert_eq!(run(&w, bad).unwrap_err().code(), "ProxyScopeRefused");
        }
        for odd in [json!({"secrets": []}), json!([1])] {
            assert_eq!(run(&w, odd).unwrap_err().code(), "ProxyAnswerUncheckable");
        }
        let e = check(&scope(), &w, b"<html>").unwrap_err();
        assert_eq!(e.code(), "ProxyAnswerUncheckable");
    }

    #[test]
    fn listings_lose_out_of_scope_entries_and_every_import() {
        let w = want("/agents", AnswerKind::SecretList { recursive: true });
        let v = json!({
            "secrets": [
                {"secretKey": "IN", "secretValue": "a", "environment": "dev", "secretPath": "/agents/warden"},
                {"secretKey": "DEEP", "secretValue": "b", "environment": "dev", "secretPath": "/agents/warden/deep"},
                {"secretKey": "OUT", "secretValue": "c", "environment": "dev", "secretPath": "/agents/other"},
                {"secretKey": "NOPATH", "secretValue": "d", "environment": "dev"},
                {"secretKey": "PROD", "secretValue": "e", "environment": "prod", "secretPath": "/agents/warden"}
            ],
            "imports": [{"secretPath": "/agents/warden/deep", "environment": "dev", "secrets": [{"secretKey": "S", "secretValue": "f"}]}]
        });
        let out = run(&w, v).unwrap().unwrap();
        let keys: Vec<&str> = out["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["secretKey"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["IN", "DEEP"]);
        assert_eq!(out["imports"], json!([]));
        // Non-recursive: entries without a path are in the checked folder.
        let w = want("/agents/warden", AnswerKind::SecretList { recursive: false });
        let v = json!({"secrets": [{"secretKey": "A", "environment": "dev"}]});
        assert_eq!(run(&w, v).unwrap(), None);
        // The older build omits `imports` when they are off.
        let v = json!({"secrets": []});
        assert_eq!(run(&w, v).unwrap(), None);
    }

    #[test]
    fn folder_listings_keep_the_way_into_the_scope() {
        let w = want("/agents", AnswerKind::Folders);
        let v = json!({"folders": [{"name": "warden"}, {"name": "other"}, {"name": "wardenx"}]});
        let out = run(&w, v).unwrap().unwrap();
        assert_eq!(out["folders"], json!([{"name": "warden"}]));
    }

    #[test]
    fn wipe_blanks_every_string() {
        let mut v = json!({"a": ["secret-1", {"b": "secret-2"}], "n": 1});
        wipe(&mut v);
        let text = v.to_string();
        assert!(!text.contains("secret"), "{text}");
    }
}
