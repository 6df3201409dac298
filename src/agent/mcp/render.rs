//! The human-readable text block of each result. Agents read it first, so it
//! leads with what was found and ends with what to do next: the `note`
//! sentences of the structured result, verbatim (see `guidance`).

use super::tools::{FolderListOutput, Metadata, SecretListOutput, SecretOutput};
use crate::taxonomy::ExpiryStatus;

/// "expires 2026-12-31T00:00:00Z (expiring)", or nothing when unknown.
fn expiry_fact(m: &Metadata) -> Option<String> {
    let status = match m.expiry_status {
        ExpiryStatus::Ok => "ok",
        ExpiryStatus::Expiring => "EXPIRING SOON",
        ExpiryStatus::Expired => "EXPIRED",
        ExpiryStatus::Unknown => "unparseable",
    };
    m.expires_at.as_ref().map(|at| format!("expires {at} ({status})"))
}

fn cache_line(age_seconds: u64) -> String {
    format!("(served from this server's cache, {age_seconds} s old)\n")
}

pub fn secret(out: &SecretOutput) -> String {
    let mut text = format!(
        "{} in {}:{} (version {})\n",
        out.secret_key, out.environment, out.secret_path, out.version
    );
    if !out.tags.is_empty() {
        text.push_str(&format!("tags: {}\n", out.tags.join(", ")));
    }
    if !out.comment.is_empty() {
        text.push_str(&format!("comment: {}\n", out.comment));
    }
    if let Some(expiry) = expiry_fact(&out.metadata) {
        text.push_str(&expiry);
        text.push('\n');
    }
    if let Some(scopes) = &out.metadata.scopes {
        text.push_str(&format!("scopes: {scopes}\n"));
    }
    if let Some(client_id) = &out.metadata.client_id {
        text.push_str(&format!("client id: {client_id}\n"));
    }
    if out.import_chain.len() > 1 {
        text.push_str(&format!("imported through: {}\n", out.import_chain.join(" → ")));
    }
    for note in &out.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    if let Some(age) = out.cached_age_seconds {
        text.push_str(&cache_line(age));
    }
    // The value goes last and verbatim, so a multi-line PEM stays intact.
    text.push_str("value:\n");
    text.push_str(&out.secret_value);
    text
}

pub fn secret_list(out: &SecretListOutput) -> String {
    let place = format!("{}:{}", out.environment, out.secret_path);
    let mut text = if out.total == 0 {
        format!(
            "No secrets in scope at {place}{}.\n",
            if out.recursive { " (recursive)" } else { "" }
        )
    } else {
        format!(
            "{} secret{} at {place}{} (showing {}–{}){}:\n",
            out.total,
            if out.total == 1 { "" } else { "s" },
            if out.recursive { " and below" } else { "" },
            out.offset + usize::from(!out.secrets.is_empty()),
            out.offset + out.secrets.len(),
            if out.values_included { "" } else { ", names only" },
        )
    };
    for s in &out.secrets {
        let mut line = format!("- {}", s.secret_key);
        if out.recursive || s.imported_from.is_some() {
            line.push_str(&format!("  [{}:{}]", s.environment, s.secret_path));
        }
        let mut facts = vec![format!("v{}", s.version)];
        if let Some(from) = &s.imported_from {
            facts.push(format!("imported from {from}"));
        }
        facts.extend(expiry_fact(&s.metadata));
        if let Some(scopes) = &s.metadata.scopes {
            facts.push(format!("scopes: {scopes}"));
        }
        if !s.tags.is_empty() {
            facts.push(format!("tags: {}", s.tags.join(", ")));
        }
        line.push_str(&format!("  ({})", facts.join("; ")));
        if !s.comment.is_empty() {
            line.push_str(&format!(" — {}", s.comment));
        }
        if let Some(v) = &s.secret_value {
            line.push_str(&format!("\n    = {v}"));
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!("{}\n{}\n", out.note, out.scope_note));
    for note in &out.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    if let Some(age) = out.cached_age_seconds {
        text.push_str(&cache_line(age));
    }
    text.trim_end().to_string()
}

pub fn folder_list(out: &FolderListOutput) -> String {
    let place = format!("{}:{}", out.environment, out.path);
    let mut text = if out.folders.is_empty() {
        format!("No folders in scope under {place}.\n")
    } else {
        format!(
            "{} folder{} under {place}:\n",
            out.folders.len(),
            if out.folders.len() == 1 { "" } else { "s" }
        )
    };
    for f in &out.folders {
        let mark = if f.readable { "" } else { "  (leads into scope)" };
        text.push_str(&format!("- {}{mark}\n", f.path));
    }
    if let Some(age) = out.cached_age_seconds {
        text.push_str(&cache_line(age));
    }
    text.push_str(&out.note);
    text.trim_end().to_string()
}
