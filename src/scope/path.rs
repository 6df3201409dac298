//! TEMPORARY stub.
#[derive(Debug, thiserror::Error)]
#[error("invalid secret path '{0}'")]
pub struct PathError(String);
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretPath(String);
impl SecretPath {
    pub fn parse(raw: &str) -> Result<SecretPath, PathError> {
        if !raw.starts_with('/') || raw.contains("..") || raw.contains("//") {
            return Err(PathError(raw.into()));
        }
        let t = if raw.len() > 1 {
            raw.strip_suffix('/').unwrap_or(raw)
        } else {
            raw
        };
        Ok(SecretPath(t.into()))
    }
    pub fn root() -> SecretPath {
        SecretPath("/".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }
    pub fn join(&self, child: &str) -> Result<SecretPath, PathError> {
        if self.is_root() {
            SecretPath::parse(&format!("/{child}"))
        } else {
            SecretPath::parse(&format!("{}/{child}", self.0))
        }
    }
}
impl std::fmt::Display for SecretPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
