//! The fake reads secret paths, environments and secret names as the vault
//! does: JavaScript's `trim` (U+FEFF, U+00A0, U+2028, U+3000 and the rest of
//! its white space), then one trailing slash removed. The recordings show
//! the ASCII cases (`path-whitespace`, `path-double-trailing-slash`, replayed
//! by `conformance_recorded_current`); these are the code points Rust's
//! `trim` treats differently, on both generations.

mod support;

use infisical_fakevault::Generation;
use support::*;

/// `%EF%BB%BF` is U+FEFF, `%C2%A0` U+00A0, `%E2%80%A8` U+2028, `%E3%80%80` U+3000.
const PADDED_PATHS: &[(&str, &str)] = &[
    ("%2Fagents%2Fwarden%2F%EF%BB%BF", "/agents/warden"),
    ("%EF%BB%BF%2Fagents%2Fwarden", "/agents/warden"),
    ("%C2%A0%2Fagents%2Fwarden%2F%E2%80%A8", "/agents/warden"),
    ("%E3%80%80%2Fagents%2Fwarden%2F%2F", "/agents/warden/"),
];

#[tokio::test]
async fn white_space_javascript_trims_is_not_part_of_a_path() -> TestResult {
    for generation in [Generation::Current, Generation::Legacy] {
        let s = Session::warden(generation).await?;
        let base = s.v.base_url();
        for (raw, read) in PADDED_PATHS {
            let list = format!(
                "{base}/api/v3/secrets/raw?workspaceId={P}&environment=%EF%BB%BFdev&secretPath={raw}"
            );
            let a = get(&s.c, &list, &s.t).await?;
            assert_eq!(a.status, 200, "{generation:?} {raw}: {}", a.text);
            let body = a.json();
            assert!(
                keys(&body).contains(&"WARDEN_API_TOKEN".to_owned()),
                "{raw}: {body}"
            );
            assert_eq!(body["secrets"][0]["secretPath"], *read, "{generation:?} {raw}");

            let one = format!(
                "{base}/api/v3/secrets/raw/%E2%80%A9WARDEN_API_TOKEN%EF%BB%BF?workspaceId={P}&environment=dev&secretPath={raw}"
            );
            let a = get(&s.c, &one, &s.t).await?;
            assert_eq!(a.status, 200, "{generation:?} {raw}: {}", a.text);
            assert_eq!(a.json()["secret"]["secretKey"], "WARDEN_API_TOKEN");
        }
        s.v.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn white_space_javascript_keeps_stays_in_the_path() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    // U+200B (zero-width space) and U+0085 (NEL) are not JavaScript white
    // space: the path keeps them, and the current build refuses the segment.
    for raw in ["%2Fagents%2Fwarden%2F%E2%80%8B", "%2Fagents%2Fwarden%C2%85"] {
        let url = format!(
            "{}/api/v4/secrets?projectId={P}&environment=dev&secretPath={raw}",
            s.v.base_url()
        );
        let a = get(&s.c, &url, &s.t).await?;
        assert_current_error(
            &a,
            400,
            "BadRequest",
            "Invalid secret path. Only alphanumeric characters, dashes, and underscores are allowed.",
        );
    }
    s.v.shutdown().await;
    Ok(())
}
