//! Builder calls that pin the ids of environments and folders, so that a
//! vault can mirror a recorded server whose requests name objects by id (the
//! conformance replay). The plain builder derives ids from names instead.

use super::data::VaultData;

impl VaultData {
    /// Like [`VaultData::environment`], with the environment's id given.
    pub fn environment_with_id(mut self, project_id: &str, slug: &str, name: &str, id: &str) -> Self {
        let env = self.env_mut(project_id, slug);
        env.name = name.to_owned();
        env.id = id.to_owned();
        self
    }

    /// Like [`VaultData::folder`], with the id of the folder at `path` given;
    /// its children follow it (their `parentId` is updated).
    pub fn folder_with_id(mut self, project_id: &str, env: &str, path: &str, id: &str) -> Self {
        let old = std::mem::replace(&mut self.folder_mut(project_id, env, path).id, id.to_owned());
        let environment = self.env_mut(project_id, env);
        for folder in environment.folders.values_mut() {
            if folder.parent_id.as_deref() == Some(old.as_str()) {
                folder.parent_id = Some(id.to_owned());
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_folder_ids_are_kept_by_children() {
        let data = VaultData::new()
            .folder("p", "dev", "/a/b")
            .folder_with_id("p", "dev", "/a", "A-ID")
            .environment_with_id("p", "dev", "Development", "ENV-ID");
        let env = data.project_by_id("p").and_then(|p| p.env("dev"));
        assert_eq!(env.map(|e| e.id.as_str()), Some("ENV-ID"));
        let folders = env.map(|e| &e.folders);
        assert_eq!(
            folders.and_then(|f| f.get("/a")).map(|f| f.id.as_str()),
            Some("A-ID")
        );
        assert_eq!(
            folders
                .and_then(|f| f.get("/a/b"))
                .and_then(|f| f.parent_id.as_deref()),
            Some("A-ID")
        );
    }
}
