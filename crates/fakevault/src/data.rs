//! The vault's content: projects (with their tags) → environments → folders
//! (keyed by their normalised path) → secrets and secret imports, plus a chainable
//! builder. Missing parents are created on the way, so a builder call never
//! fails; ids are derived from names so that fixtures are stable across runs.

use std::collections::BTreeMap;

use super::input;

/// Timestamp given to fixture rows that were not written through the API.
pub(crate) const FIXTURE_TIME: &str = "2026-01-01T00:00:00.000Z";
const ORG_ID: &str = "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e";

#[derive(Clone, Debug, Default)]
pub struct VaultData {
    pub(crate) projects: Vec<Project>,
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) org_id: String,
    pub(crate) environments: Vec<Environment>,
    /// The project's tags, in creation order; secrets carry copies of them.
    pub(crate) tags: Vec<ProjectTag>,
}

/// A tag as the project's tag routes list it.
#[derive(Clone, Debug)]
pub(crate) struct ProjectTag {
    pub(crate) tag: Tag,
    pub(crate) created_at: String,
    /// The user or identity id that created it.
    pub(crate) created_by: String,
    /// `user` or `identity`.
    pub(crate) created_by_actor_type: &'static str,
}

/// The admin user fixture tags are attributed to.
pub(crate) const FIXTURE_ADMIN_USER_ID: &str = "8c0d81f7-5b99-40ae-8d4c-e1e0f16dcce5";

#[derive(Clone, Debug)]
pub(crate) struct Environment {
    pub(crate) id: String,
    pub(crate) slug: String,
    pub(crate) name: String,
    /// Keyed by normalised path; `/` always exists.
    pub(crate) folders: BTreeMap<String, Folder>,
}

#[derive(Clone, Debug)]
pub(crate) struct Folder {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) parent_id: Option<String>,
    pub(crate) secrets: Vec<Secret>,
    pub(crate) imports: Vec<SecretImport>,
}

/// A shared secret. Older values are kept so `?version=N` can be answered.
#[derive(Clone, Debug)]
pub(crate) struct Secret {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) comment: String,
    pub(crate) version: u32,
    pub(crate) tags: Vec<Tag>,
    pub(crate) skip_multiline_encoding: bool,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) history: Vec<(u32, String)>,
}

/// A secret tag; `name` defaults to the slug, as on the 2024 build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub color: String,
}

impl Tag {
    /// A tag whose colour is picked by its taxonomy dimension. The builder
    /// takes any slug (tests need what a real vault may hold from older
    /// days); the tag routes refuse what Infisical refuses.
    pub fn new(slug: &str) -> Self {
        // The dimension is what precedes the first `-` or `:`, as the
        // taxonomy writes it (`function-dns-edit`, `function:dns-edit`).
        let dimension = slug.split(['-', ':']).next();
        let color = match dimension {
            Some("function") => "#3b82f6",
            Some("sensitivity") => "#ef4444",
            Some("consumer") => "#10b981",
            Some("rotation") => "#f59e0b",
            _ => "#6b7280",
        };
        Tag {
            id: stable_id(&["tag", slug]),
            slug: slug.to_owned(),
            name: slug.to_owned(),
            color: color.to_owned(),
        }
    }

    /// A tag whose name differs from its slug, as newer builds allow
    /// (`function-dns-edit` named `function:dns-edit`).
    pub fn named(slug: &str, name: &str) -> Self {
        Tag {
            name: name.to_owned(),
            ..Tag::new(slug)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SecretImport {
    pub(crate) environment: String,
    pub(crate) path: String,
}

/// A secret to add, with optional comment and tags.
#[derive(Clone, Debug)]
pub struct SecretEntry {
    key: String,
    value: String,
    comment: String,
    tags: Vec<Tag>,
    id: Option<String>,
    version: u32,
}

impl SecretEntry {
    pub fn new(key: &str, value: &str) -> Self {
        SecretEntry {
            key: key.to_owned(),
            value: value.to_owned(),
            comment: String::new(),
            tags: Vec::new(),
            id: None,
            version: 1,
        }
    }

    /// A fixed id instead of one derived from the names (to mirror a
    /// recorded server's ids).
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// The secret's current version; earlier versions are not kept.
    pub fn version(mut self, version: u32) -> Self {
        self.version = version.max(1);
        self
    }

    /// Adds a tag as given (id and colour included).
    pub fn tag_as(mut self, tag: Tag) -> Self {
        self.tags.push(tag);
        self
    }

    pub fn comment(mut self, comment: &str) -> Self {
        self.comment = comment.to_owned();
        self
    }

    /// Adds a tag by slug (e.g. `"sensitivity-high"`).
    pub fn tag(mut self, slug: &str) -> Self {
        self.tags.push(Tag::new(slug));
        self
    }

    /// Adds a tag whose name is not its slug.
    pub fn named_tag(mut self, slug: &str, name: &str) -> Self {
        self.tags.push(Tag::named(slug, name));
        self
    }

    pub fn tags(mut self, slugs: &[&str]) -> Self {
        self.tags.extend(slugs.iter().map(|s| Tag::new(s)));
        self
    }
}

impl VaultData {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts every project in the organization `org_id`.
    pub fn organization(mut self, org_id: &str) -> Self {
        for project in &mut self.projects {
            project.org_id = org_id.to_owned();
        }
        self
    }

    pub fn project(mut self, id: &str, name: &str, slug: &str) -> Self {
        match self.projects.iter_mut().find(|p| p.id == id) {
            Some(p) => {
                p.name = name.to_owned();
                p.slug = slug.to_owned();
            }
            None => self.projects.push(Project {
                id: id.to_owned(),
                name: name.to_owned(),
                slug: slug.to_owned(),
                org_id: ORG_ID.to_owned(),
                environments: Vec::new(),
                tags: Vec::new(),
            }),
        }
        self
    }

    pub fn environment(mut self, project_id: &str, slug: &str, name: &str) -> Self {
        self.env_mut(project_id, slug).name = name.to_owned();
        self
    }

    /// Creates the folder at `path` and any missing ancestors.
    pub fn folder(mut self, project_id: &str, env: &str, path: &str) -> Self {
        self.folder_mut(project_id, env, path);
        self
    }

    pub fn secret(self, project_id: &str, env: &str, path: &str, key: &str, value: &str) -> Self {
        self.add_secret(project_id, env, path, SecretEntry::new(key, value))
    }

    /// Adds a project tag that no secret need carry (yet).
    pub fn tag(mut self, project_id: &str, tag: Tag) -> Self {
        if self.project_by_id(project_id).is_none() {
            self = self.project(project_id, project_id, project_id);
        }
        if let Some(project) = self.project_mut(project_id) {
            project.register_tag(&tag);
        }
        self
    }

    /// Adds (or replaces) a secret, creating its folder if needed; its tags
    /// become project tags too.
    pub fn add_secret(mut self, project_id: &str, env: &str, path: &str, entry: SecretEntry) -> Self {
        let id = entry
            .id
            .unwrap_or_else(|| stable_id(&["secret", project_id, env, path, &entry.key]));
        let tags = entry.tags.clone();
        let folder = self.folder_mut(project_id, env, path);
        folder.secrets.retain(|s| s.key != entry.key);
        folder.secrets.push(Secret {
            id,
            key: entry.key,
            value: entry.value.clone(),
            comment: entry.comment,
            version: entry.version,
            tags: entry.tags,
            skip_multiline_encoding: false,
            created_at: FIXTURE_TIME.to_owned(),
            updated_at: FIXTURE_TIME.to_owned(),
            history: vec![(entry.version, entry.value)],
        });
        if let Some(project) = self.project_mut(project_id) {
            for tag in &tags {
                project.register_tag(tag);
            }
        }
        self
    }

    /// Makes the folder at `path` import the secrets of `from_env:from_path`.
    pub fn import(
        mut self,
        project_id: &str,
        env: &str,
        path: &str,
        from_env: &str,
        from_path: &str,
    ) -> Self {
        let import = SecretImport {
            environment: from_env.to_owned(),
            path: normalise_folder_path(from_path),
        };
        let folder = self.folder_mut(project_id, env, path);
        if !folder.imports.contains(&import) {
            folder.imports.push(import);
        }
        self
    }

    pub(crate) fn project_by_id(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub(crate) fn project_by_id_or_slug(&self, id: Option<&str>, slug: Option<&str>) -> Option<&Project> {
        match (id, slug) {
            (Some(id), _) => self.project_by_id(id),
            (None, Some(slug)) => self.projects.iter().find(|p| p.slug == slug),
            (None, None) => None,
        }
    }

    pub(crate) fn project_mut(&mut self, id: &str) -> Option<&mut Project> {
        self.projects.iter_mut().find(|p| p.id == id)
    }

    pub(crate) fn env_mut(&mut self, project_id: &str, slug: &str) -> &mut Environment {
        let pos = match self.projects.iter().position(|p| p.id == project_id) {
            Some(pos) => pos,
            None => {
                *self = std::mem::take(self).project(project_id, project_id, project_id);
                self.projects.len() - 1
            }
        };
        let project = &mut self.projects[pos];
        let env_pos = match project.environments.iter().position(|e| e.slug == slug) {
            Some(i) => i,
            None => {
                let root = Folder::new(stable_id(&["folder", project_id, slug, "/"]), "root", None);
                project.environments.push(Environment {
                    id: stable_id(&["env", project_id, slug]),
                    slug: slug.to_owned(),
                    name: slug.to_owned(),
                    folders: BTreeMap::from([("/".to_owned(), root)]),
                });
                project.environments.len() - 1
            }
        };
        &mut project.environments[env_pos]
    }

    pub(crate) fn folder_mut(&mut self, project_id: &str, env: &str, path: &str) -> &mut Folder {
        let environment = self.env_mut(project_id, env);
        let path = normalise_folder_path(path);
        let mut current = String::from("/");
        for name in path.split('/').filter(|s| !s.is_empty()) {
            let parent_id = environment.folders.get(&current).map(|f| f.id.clone());
            current = child_path(&current, name);
            if !environment.folders.contains_key(&current) {
                let id = stable_id(&["folder", project_id, env, &current]);
                environment
                    .folders
                    .insert(current.clone(), Folder::new(id, name, parent_id));
            }
        }
        environment
            .folders
            .entry(current)
            .or_insert_with(|| Folder::new(String::new(), "root", None))
    }
}

impl Project {
    /// Records `tag` among the project's tags unless its slug is there.
    fn register_tag(&mut self, tag: &Tag) {
        if !self.tags.iter().any(|t| t.tag.slug == tag.slug) {
            self.tags.push(ProjectTag {
                tag: tag.clone(),
                created_at: FIXTURE_TIME.to_owned(),
                created_by: FIXTURE_ADMIN_USER_ID.to_owned(),
                created_by_actor_type: "user",
            });
        }
    }

    pub(crate) fn env(&self, slug: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.slug == slug)
    }

    pub(crate) fn env_mut(&mut self, slug: &str) -> Option<&mut Environment> {
        self.environments.iter_mut().find(|e| e.slug == slug)
    }
}

impl Environment {
    /// The folder at `path` and every folder below it, parents first.
    pub(crate) fn subtree<'a>(
        &'a self,
        path: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Folder)> + 'a {
        self.folders
            .iter()
            .filter(move |(p, _)| is_same_or_below(p, path))
    }

    /// Direct child folders of `path`, sorted by name.
    pub(crate) fn children<'a>(&'a self, path: &str) -> Vec<(&'a String, &'a Folder)> {
        let mut out: Vec<_> = self
            .folders
            .iter()
            .filter(|(p, _)| p.as_str() != "/" && parent_path(p) == path)
            .collect();
        out.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        out
    }
}

impl Folder {
    fn new(id: String, name: &str, parent_id: Option<String>) -> Self {
        Folder {
            id,
            name: name.to_owned(),
            parent_id,
            secrets: Vec::new(),
            imports: Vec::new(),
        }
    }

    pub(crate) fn secret(&self, key: &str) -> Option<&Secret> {
        self.secrets.iter().find(|s| s.key == key)
    }
}

/// The folder a folder route's `path` names: read as the vault reads it
/// ([`input::folder_path`]), then looked up without empty segments.
pub(crate) fn normalise_folder_path(path: &str) -> String {
    input::folder_key(&input::folder_path(path))
}

pub(crate) fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

pub(crate) fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

pub(crate) fn is_same_or_below(path: &str, ancestor: &str) -> bool {
    ancestor == "/"
        || path == ancestor
        || (path.starts_with(ancestor) && path.as_bytes().get(ancestor.len()) == Some(&b'/'))
}

/// A UUID-shaped id derived from names (FNV-1a), stable across runs.
pub(crate) fn stable_id(parts: &[&str]) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for part in parts {
        for &b in part.as_bytes().iter().chain(std::iter::once(&0u8)) {
            h1 = (h1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            h2 = (h2 ^ u64::from(b))
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(7);
        }
    }
    let hex = format!("{h1:016x}{h2:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_creates_parents_and_sorts_children() {
        let data = VaultData::new()
            .secret("p", "dev", "/a/b", "K", "v")
            .folder("p", "dev", "/a/aa");
        let env = data.project_by_id("p").and_then(|p| p.env("dev"));
        let env = env.map(|e| {
            e.children("/a")
                .iter()
                .map(|(p, _)| (*p).clone())
                .collect::<Vec<_>>()
        });
        assert_eq!(env, Some(vec!["/a/aa".to_owned(), "/a/b".to_owned()]));
    }

    #[test]
    fn paths() {
        assert_eq!(normalise_folder_path("a/b/"), "/a/b");
        assert_eq!(normalise_folder_path("/"), "/");
        assert_eq!(parent_path("/a"), "/");
        assert_eq!(parent_path("/a/b"), "/a");
        assert!(is_same_or_below("/a/b", "/a"));
        assert!(!is_same_or_below("/ab", "/a"));
        assert_eq!(stable_id(&["x"]).len(), 36);
    }
}
