//! TEMPORARY stub.
#[derive(Debug, thiserror::Error)]
#[error("bad glob")]
pub struct GlobError;
#[derive(Debug, Clone)]
pub struct Glob(String);
impl Glob {
    pub fn new(p: &str) -> Result<Glob, GlobError> {
        Ok(Glob(p.into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_match(&self, path: &str) -> bool {
        match self.0.strip_suffix("/**") {
            Some(pre) => path == pre || path.starts_with(&format!("{pre}/")) || pre.is_empty(),
            None => self.0 == path,
        }
    }
    pub fn could_match_at_or_below(&self, dir: &str) -> bool {
        let pre = self.0.strip_suffix("/**").unwrap_or(&self.0);
        dir == "/" || pre.starts_with(&format!("{dir}/")) || self.is_match(dir)
    }
}
