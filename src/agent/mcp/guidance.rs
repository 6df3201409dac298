//! The sentences that tell a model what to do next: paging, where the scope
//! lies, what a folder's access means. Each is written once, put in the
//! structured result as a field, and repeated verbatim in the text block, so
//! a client that shows the model only one of the two loses nothing.

use super::tools::{FolderAccess, FolderSummary};

/// Where a page of `list-secrets` sits and how to get the next one.
pub fn paging(total: usize, offset: usize, shown: usize, next_offset: Option<usize>) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match next_offset {
        _ if total == 0 => "No secrets in scope here: nothing to page through.".into(),
        Some(next) => format!(
            "Showing {}–{} of {total}. {} more: call list-secrets again with offset={next}.",
            offset + 1,
            offset + shown,
            total - next
        ),
        None if shown == 0 => format!(
            "Nothing at offset={offset}: there {} {total} secret{}. Call again with a smaller offset.",
            if total == 1 { "is" } else { "are" },
            plural(total)
        ),
        None if offset == 0 => format!(
            "All {total} secret{} shown: there is no next page.",
            plural(total)
        ),
        None => format!(
            "Showing {}–{} of {total}: the last page.",
            offset + 1,
            offset + shown
        ),
    }
}

/// Where the scope lies relative to a listed path. `entries` are the scope
/// entries that apply to the environment.
pub fn list_scope(
    environment: &str,
    path: &str,
    above_scope: bool,
    recursive: bool,
    entries: &str,
) -> String {
    if above_scope && recursive {
        format!(
            "{environment}:{path} lies above this server's scope; only secrets inside {entries} are shown, \
             from every folder below it that the scope allows."
        )
    } else if above_scope {
        format!(
            "{environment}:{path} lies above this server's scope; only secrets inside {entries} are shown. \
             List one of those folders, or pass recursive=true."
        )
    } else {
        format!(
            "{environment}:{path} is inside this server's scope ({entries}); anything outside it is left out."
        )
    }
}

/// What `list-folders` found, where the scope lies, and what the access
/// values mean for the next call.
pub fn folders(folders: &[FolderSummary], entries: &str, recursive: bool, truncated: bool) -> String {
    let mut note = format!("This server may read only inside {entries}.");
    let leading = folders
        .iter()
        .filter(|f| f.access == FolderAccess::LeadsIntoScope)
        .count();
    if folders.is_empty() {
        note.push_str(" No folder here leads into it.");
    } else if leading == 0 {
        note.push_str(" Every folder shown is readable: list-secrets works in each.");
    } else if recursive {
        // The walk already went below them: point at what it found.
        note.push_str(
            " Folders with access leads-into-scope hold nothing this server may read themselves; \
             the readable folders below them are listed too: call list-secrets on one of those.",
        );
    } else {
        note.push_str(
            " Folders with access leads-into-scope hold nothing this server may read themselves; \
             they lead to readable folders below: call list-folders on one, or list-secrets with \
             recursive=true.",
        );
    }
    if truncated {
        note.push_str(" The walk stopped early: list a narrower path to see the rest.");
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_names_the_next_offset_or_says_it_is_done() {
        assert_eq!(
            paging(251, 0, 100, Some(100)),
            "Showing 1–100 of 251. 151 more: call list-secrets again with offset=100."
        );
        assert_eq!(
            paging(251, 200, 51, None),
            "Showing 201–251 of 251: the last page."
        );
        assert_eq!(
            paging(1, 0, 1, None),
            "All 1 secret shown: there is no next page."
        );
        assert!(paging(3, 3, 0, None).contains("smaller offset"));
        assert!(paging(0, 0, 0, None).starts_with("No secrets"));
    }

    #[test]
    fn a_recursive_listing_is_not_told_to_list_recursively() {
        let note = list_scope("dev", "/", true, true, "dev:/agents/warden/**");
        assert!(!note.contains("recursive=true"), "{note}");
        assert!(list_scope("dev", "/", true, false, "dev:/agents/warden/**").contains("recursive=true"));
    }

    #[test]
    fn folder_notes_explain_leads_into_scope_only_when_it_occurs() {
        let folder = |access| FolderSummary {
            name: "a".into(),
            path: "/a".into(),
            readable: access == FolderAccess::Readable,
            access,
        };
        let leading = folders(
            &[folder(FolderAccess::LeadsIntoScope)],
            "dev:/a/b/**",
            false,
            false,
        );
        assert!(leading.contains("dev:/a/b/**") && leading.contains("leads-into-scope"));
        let walked = folders(
            &[folder(FolderAccess::LeadsIntoScope)],
            "dev:/a/b/**",
            true,
            false,
        );
        assert!(
            !walked.contains("call list-folders") && !walked.contains("recursive=true"),
            "{walked}"
        );
        let readable = folders(&[folder(FolderAccess::Readable)], "dev:/a/**", false, true);
        assert!(!readable.contains("leads-into-scope") && readable.contains("narrower path"));
    }
}
