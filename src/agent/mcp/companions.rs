//! Metadata companions (`<KEY>__EXPIRES_AT`, `__SCOPES`, …): taken out of
//! a listing and shown as their parent's metadata, as the token taxonomy
//! names them.

use std::collections::{HashMap, HashSet};

use secrecy::SecretString;

use crate::scope::SecretPath;
use crate::taxonomy::{self, Role};
use crate::vault::{Secret, is_metadata_key};

/// One secret found by a listing, with where it really lives.
pub(super) struct Found {
    pub(super) secret: Secret,
    pub(super) environment: String,
    pub(super) path: SecretPath,
    pub(super) imported_from: Option<String>,
}

/// Companion values by (environment, folder, parent key): suffix → value.
pub(super) type Companions = HashMap<(String, SecretPath, String), Vec<(String, SecretString)>>;

/// Takes the `<KEY>__SUFFIX` companions out of a listing: they describe
/// their parent in the same folder, and are shown as its metadata. Each
/// remaining entry comes with the name its companions hang off: its own key,
/// or a key pair's base (`AWS_X` for `AWS_X__ACCESS_KEY_ID`), as in
/// [`taxonomy::role`], which `lint` uses too.
pub(super) fn split_companions(entries: Vec<Found>) -> (Vec<(Found, String)>, Companions) {
    let mut keys_by_folder: HashMap<(String, SecretPath), HashSet<String>> = HashMap::new();
    for f in &entries {
        keys_by_folder
            .entry((f.environment.clone(), f.path.clone()))
            .or_default()
            .insert(f.secret.secret_key.clone());
    }
    // Each folder's key set is made once: made per entry, a 10,000-secret
    // folder cost 10^8 insertions (1.8 s a call, bench/analysis.md).
    let key_sets: HashMap<&(String, SecretPath), HashSet<&str>> = keys_by_folder
        .iter()
        .map(|(folder, keys)| (folder, keys.iter().map(String::as_str).collect()))
        .collect();
    let no_keys = HashSet::new();
    let mut parents = Vec::new();
    let mut companions = Companions::new();
    for f in entries {
        let folder = (f.environment.clone(), f.path.clone());
        let keys = key_sets.get(&folder).unwrap_or(&no_keys);
        match taxonomy::role(&f.secret.secret_key, keys) {
            Role::Companion { parent, suffix } => companions
                .entry((folder.0, folder.1, parent.to_string()))
                .or_default()
                .push((suffix.to_string(), f.secret.secret_value.clone())),
            Role::Secret { base } => {
                let base = base.to_string();
                parents.push((f, base));
            }
            // Shown as what it is, a secret of its own, so nothing is hidden.
            Role::Orphan { .. } => {
                let key = f.secret.secret_key.clone();
                parents.push((f, key));
            }
        }
    }
    (parents, companions)
}

/// What each tag says for the taxonomy: its slug (`function-dns-edit`), or
/// its name where only the name carries a dimension (`function:dns-edit`).
pub(super) fn tag_labels(tags: &[crate::vault::Tag]) -> Vec<String> {
    tags.iter()
        .map(|t| taxonomy::tag_label(&t.slug, t.name.as_deref()).to_string())
        .collect()
}

/// The folder's keys, and the secret whose family `key` belongs to: `key`
/// itself, or the secret a companion describes.
fn family<'a>(key: &'a str, folder: &'a [Secret]) -> (HashSet<&'a str>, &'a str) {
    let keys: HashSet<&str> = folder.iter().map(|s| s.secret_key.as_str()).collect();
    let base = match taxonomy::role(key, &keys) {
        Role::Secret { base } => base,
        _ => key,
    };
    (keys, base)
}

/// The metadata companions of `key` among a folder's secrets: suffix and
/// value (empty where the vault did not show it).
pub(super) fn companions_of(key: &str, folder: &[Secret]) -> Vec<(String, SecretString)> {
    let (keys, base) = family(key, folder);
    folder
        .iter()
        .filter_map(|s| match taxonomy::role(&s.secret_key, &keys) {
            Role::Companion { parent, suffix } if parent == base => Some((
                suffix.to_string(),
                if s.secret_value_hidden || !is_metadata_key(&s.secret_key) {
                    SecretString::default()
                } else {
                    s.secret_value.clone()
                },
            )),
            _ => None,
        })
        .collect()
}

/// The metadata companions of `key` whose value the vault did not show (a
/// read that failed or was refused): their names, for a note.
pub(super) fn unread_companions(key: &str, folder: &[Secret]) -> Vec<String> {
    let (keys, base) = family(key, folder);
    folder
        .iter()
        .filter(|s| s.secret_value_hidden && is_metadata_key(&s.secret_key))
        .filter(|s| matches!(taxonomy::role(&s.secret_key, &keys), Role::Companion { parent, .. } if parent == base))
        .map(|s| s.secret_key.clone())
        .collect()
}
