//! TEMPORARY stub of the scope API (replaced by the real module on merge).
pub mod glob;
pub mod path;
pub use glob::{Glob, GlobError};
pub use path::{PathError, SecretPath};

#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(
        "no scope configured: pass --scope ENV:GLOB (e.g. --scope 'dev:/agents/warden/**'), or grant everything explicitly with --scope '*:/**'"
    )]
    Empty,
    #[error("malformed scope entry '{0}': expected ENV:GLOB such as dev:/agents/warden/**")]
    Malformed(String),
    #[error(transparent)]
    Glob(#[from] GlobError),
}

#[derive(Debug, Clone)]
pub struct ScopeEntry {
    env: String,
    glob: Glob,
}
impl ScopeEntry {
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let (env, glob) = s.split_once(':').ok_or_else(|| ScopeError::Malformed(s.into()))?;
        if env.is_empty() || !glob.starts_with('/') {
            return Err(ScopeError::Malformed(s.into()));
        }
        Ok(Self {
            env: env.into(),
            glob: Glob::new(glob)?,
        })
    }
    pub fn environment(&self) -> &str {
        &self.env
    }
    pub fn glob(&self) -> &Glob {
        &self.glob
    }
    fn env_matches(&self, env: &str) -> bool {
        self.env == "*" || self.env == env
    }
}
impl std::fmt::Display for ScopeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.env, self.glob.as_str())
    }
}
#[derive(Debug, Clone)]
pub struct Scope {
    entries: Vec<ScopeEntry>,
}
impl Scope {
    pub fn new(entries: Vec<ScopeEntry>) -> Result<Scope, ScopeError> {
        if entries.is_empty() {
            return Err(ScopeError::Empty);
        }
        Ok(Scope { entries })
    }
    pub fn parse_list(entries: &[String]) -> Result<Scope, ScopeError> {
        let mut v = Vec::new();
        for e in entries {
            for w in e.split_whitespace() {
                v.push(ScopeEntry::parse(w)?);
            }
        }
        Scope::new(v)
    }
    pub fn allows(&self, environment: &str, folder: &SecretPath) -> bool {
        self.entries
            .iter()
            .any(|e| e.env_matches(environment) && e.glob.is_match(folder.as_str()))
    }
    pub fn leads_into(&self, environment: &str, folder: &SecretPath) -> bool {
        self.entries
            .iter()
            .any(|e| e.env_matches(environment) && e.glob.could_match_at_or_below(folder.as_str()))
    }
    pub fn entries(&self) -> &[ScopeEntry] {
        &self.entries
    }
}
impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<String> = self.entries.iter().map(|e| e.to_string()).collect();
        f.write_str(&v.join(", "))
    }
}
