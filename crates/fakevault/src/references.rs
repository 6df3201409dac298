//! Secret reference expansion: `${KEY}` (same environment and folder) and
//! `${env.folder.sub.KEY}` (another environment/folder), recursively, with
//! Infisical's rule that the caller must be able to read every referenced
//! secret. What happens on a forbidden reference depends on the caller.

use super::data::Project;

/// How deep references inside referenced values are followed.
const MAX_DEPTH: usize = 5;

/// A reference the caller may not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forbidden {
    pub(crate) key: String,
    pub(crate) environment: String,
    pub(crate) path: String,
}

impl Forbidden {
    /// The current build's words, naming the secret holding the reference.
    pub(crate) fn message_for(&self, key: &str, environment: &str, path: &str) -> String {
        format!(
            "You do not have permission to read secret '{}' in environment '{}' at path '{}', which is referenced by secret '{key}' in environment '{environment}' at path '{path}'.",
            self.key, self.environment, self.path
        )
    }

    /// The 2024 build's words.
    pub(crate) fn message(&self) -> String {
        format!(
            "You are attempting to reference secret named {} from environment {} in path {} which you do not have access to.",
            self.key, self.environment, self.path
        )
    }
}

/// What to do with a reference the caller may not read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnForbidden {
    Fail,
    /// The 2024 build's list route: leave the `${…}` text as it is.
    KeepText,
}

pub(crate) struct Expander<'a, F: Fn(&str, &str) -> bool> {
    pub(crate) project: &'a Project,
    pub(crate) can_read: F,
    pub(crate) on_forbidden: OnForbidden,
}

impl<F: Fn(&str, &str) -> bool> Expander<'_, F> {
    /// Expands `value`, found in `environment` at folder `path`. A missing
    /// referenced secret expands to the empty string.
    pub(crate) fn expand(&self, value: &str, environment: &str, path: &str) -> Result<String, Forbidden> {
        self.expand_at(value, environment, path, 0)
    }

    fn expand_at(
        &self,
        value: &str,
        environment: &str,
        path: &str,
        depth: usize,
    ) -> Result<String, Forbidden> {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            let whole = &rest[start..start + 2 + len + 1];
            let inner = rest[start + 2..start + 2 + len].trim();
            rest = &rest[start + 2 + len + 1..];
            if depth >= MAX_DEPTH || inner.is_empty() {
                out.push_str(whole);
                continue;
            }
            let target = resolve(inner, environment, path);
            if !(self.can_read)(&target.environment, &target.path) {
                match self.on_forbidden {
                    OnForbidden::Fail => return Err(target),
                    OnForbidden::KeepText => {
                        out.push_str(whole);
                        continue;
                    }
                }
            }
            let found = self
                .project
                .env(&target.environment)
                .and_then(|e| e.folders.get(&target.path))
                .and_then(|f| f.secret(&target.key));
            if let Some(secret) = found {
                out.push_str(&self.expand_at(&secret.value, &target.environment, &target.path, depth + 1)?);
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `KEY` → here; `env.KEY` → root of `env`; `env.a.b.KEY` → `/a/b` of `env`.
fn resolve(reference: &str, environment: &str, path: &str) -> Forbidden {
    let parts: Vec<&str> = reference.split('.').collect();
    match parts.as_slice() {
        [key] => Forbidden {
            key: (*key).to_owned(),
            environment: environment.to_owned(),
            path: path.to_owned(),
        },
        [env, folders @ .., key] => Forbidden {
            key: (*key).to_owned(),
            environment: (*env).to_owned(),
            path: format!("/{}", folders.join("/")),
        },
        [] => Forbidden {
            key: String::new(),
            environment: environment.to_owned(),
            path: path.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VaultData;

    fn data() -> VaultData {
        VaultData::new()
            .secret("p", "dev", "/a", "USER", "bob")
            .secret("p", "dev", "/a", "URL", "db://${USER}@${prod.secret.b.PASS}")
            .secret("p", "prod", "/secret/b", "PASS", "hunter2")
    }

    #[test]
    fn expands_local_and_cross_references() {
        let data = data();
        let Some(project) = data.project_by_id("p") else {
            return;
        };
        let open = Expander {
            project,
            can_read: |_: &str, _: &str| true,
            on_forbidden: OnForbidden::Fail,
        };
        assert_eq!(
            open.expand("${URL}", "dev", "/a"),
            Ok("db://bob@hunter2".to_owned())
        );
        assert_eq!(open.expand("x${MISSING}y", "dev", "/a"), Ok("xy".to_owned()));

        let closed = Expander {
            project,
            can_read: |env: &str, _: &str| env == "dev",
            on_forbidden: OnForbidden::Fail,
        };
        let err = closed.expand("${URL}", "dev", "/a").err().map(|f| f.message());
        assert_eq!(
            err.as_deref(),
            Some(
                "You are attempting to reference secret named PASS from environment prod in path /secret/b which you do not have access to."
            )
        );
        let keep = Expander {
            on_forbidden: OnForbidden::KeepText,
            ..closed
        };
        assert_eq!(
            keep.expand("${URL}", "dev", "/a"),
            Ok("db://bob@${prod.secret.b.PASS}".to_owned())
        );
    }
}
