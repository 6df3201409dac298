//! Which name each aliased setting was read from, and the aliases that lose.

use super::EnvSource;

/// Where a setting read under several names came from, and the other names
/// set to something else (ignored: the first name listed wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VarSources {
    /// (setting, the variable or flag it was read from).
    pub used: Vec<(&'static str, String)>,
    /// One sentence per ignored, conflicting alias. Credentials are named,
    /// never shown.
    pub ignored: Vec<String>,
}

impl VarSources {
    /// Records where one setting came from. `flag` is the flag's value
    /// (clap also fills it from the primary variable, so a value equal to
    /// that variable's is reported as the variable); `secret` keeps values
    /// out of the sentences.
    pub fn note(
        &mut self,
        setting: &'static str,
        flag: Option<(&str, &String)>,
        names: &[&str],
        env: &dyn EnvSource,
        secret: bool,
    ) {
        let set: Vec<(&str, String)> = names
            .iter()
            .filter_map(|n| env.var(n).map(|v| (*n, v.trim().to_string())))
            .collect();
        let chosen = match flag.filter(|(_, v)| !v.trim().is_empty()) {
            Some((_, value))
                if set
                    .first()
                    .is_some_and(|(n, v)| *n == names[0] && v == value.trim()) =>
            {
                Some((names[0].to_string(), value.trim().to_string()))
            }
            Some((flag_name, value)) => Some((flag_name.to_string(), value.trim().to_string())),
            None => set.first().map(|(n, v)| (n.to_string(), v.clone())),
        };
        let Some((from, value)) = chosen else {
            return;
        };
        for (name, other) in &set {
            if *name != from && *other != value {
                self.ignored.push(if secret {
                    format!("{name} is ignored: {from} is set too and differs, and wins")
                } else {
                    format!(
                        "{name}={} is ignored: {from} ({}) wins",
                        other.escape_default(),
                        value.escape_default()
                    )
                });
            }
        }
        self.used.push((setting, from));
    }

    /// "vault URL from INFISICAL_HOST, …" for a report line.
    pub fn describe(&self) -> String {
        self.used
            .iter()
            .map(|(setting, from)| format!("{setting} from {from}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
