//! Walks and metadata reads built on the client's reads: the folders a
//! scope allows (walked by name, only where the scope leads), and a
//! folder's secrets with their metadata companions but no other value.

use super::error::VaultError;
use super::reads::ReadValue;
use super::{
    ListOptions, Location, ReadOptions, Secret, SecretList, Served, VaultClient, is_metadata_key, reuse,
};
use crate::scope::SecretPath;

impl VaultClient {
    /// The folders at or below `at` that `scope` allows, found by walking
    /// folder names (which Infisical does not guard) only where the scope
    /// leads, so no folder outside it is ever listed for secrets. Stops
    /// after `max_listings` folder listings; the flag says it stopped early.
    pub async fn scoped_folders(
        &self,
        at: &Location,
        scope: &crate::scope::Scope,
        max_listings: usize,
    ) -> Result<(Vec<SecretPath>, bool), VaultError> {
        let mut allowed = Vec::new();
        let mut queue = std::collections::VecDeque::from([at.path.clone()]);
        let mut listings = 0;
        while let Some(dir) = queue.pop_front() {
            if scope.allows(&at.environment, &dir) {
                allowed.push(dir.clone());
            }
            if listings == max_listings {
                return Ok((allowed, true));
            }
            listings += 1;
            let here = Location {
                path: dir.clone(),
                ..at.clone()
            };
            for folder in self.read_folders(&here, false).await?.value {
                if let Ok(path) = dir.join(&folder.name)
                    && scope.leads_into(&at.environment, &path)
                {
                    queue.push_back(path);
                }
            }
        }
        Ok((allowed, false))
    }

    /// A folder's secrets with only their metadata: names, tags, comments,
    /// versions, and the values of the metadata companions
    /// ([`is_metadata_key`]). No other value is requested where the vault can
    /// hide them; where it cannot, they are wiped on arrival. A build that
    /// hides values also hides the companions', so those are then read one
    /// by one (by name, in the same folder) — unless the last read of this
    /// folder, under a minute old, holds the same version.
    ///
    /// `fresh` lists the folder again whatever the last read; without it a
    /// read under a minute old is reused as it is (get-secret's metadata,
    /// which must not cost a second request per call).
    pub async fn read_metadata(&self, at: &Location, fresh: bool) -> Result<Served<SecretList>, VaultError> {
        let previous = match self.metadata.get(at) {
            reuse::Lookup::Fresh(ReadValue::Secrets(list), _) => Some(list),
            _ => None,
        };
        if let (false, Some(list)) = (fresh, &previous) {
            return Ok(Served {
                value: list.clone(),
                cached_age: None,
            });
        }
        let mut served = self.read_secrets(at, ListOptions::names_only(false)).await?;
        let known = |secret: &Secret| {
            previous.as_ref().and_then(|list| {
                list.secrets
                    .iter()
                    .find(|p| {
                        p.secret_key == secret.secret_key
                            && p.version == secret.version
                            && !p.secret_value_hidden
                    })
                    .map(|p| p.secret_value.clone())
            })
        };
        let mut hidden = Vec::new();
        for (i, secret) in served.value.secrets.iter_mut().enumerate() {
            if !(secret.secret_value_hidden && is_metadata_key(&secret.secret_key)) {
                continue;
            }
            match known(secret) {
                Some(value) => {
                    secret.secret_value = value;
                    secret.secret_value_hidden = false;
                }
                None => hidden.push(i),
            }
        }
        let reads = hidden.iter().map(|&i| {
            let name = served.value.secrets[i].secret_key.clone();
            async move { (i, self.read_secret(at, &name, ReadOptions::RAW).await) }
        });
        let mut all_read = true;
        for (i, read) in futures_util::future::join_all(reads).await {
            all_read &= read.is_ok();
            match read {
                Ok(companion) => {
                    let secret = &mut served.value.secrets[i];
                    secret.secret_value = companion.value.secret_value;
                    secret.secret_value_hidden = companion.value.secret_value_hidden;
                }
                // Metadata is best effort: a companion that vanished or is
                // refused stays hidden, and the secret shows no expiry.
                Err(e) => tracing::debug!(kind = e.kind(), "metadata companion not read"),
            }
        }
        // A companion that failed is asked again next time, not kept hidden
        // for a minute.
        if all_read {
            self.metadata
                .put(at.clone(), ReadValue::Secrets(served.value.clone()));
        }
        Ok(served)
    }
}
