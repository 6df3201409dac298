//! The demo dataset and demo credentials: one project laid out like the
//! operator's vault (docs/taxonomy.md: `<VENDOR>_<FUNCTION>_<SCOPE>` names,
//! `__EXPIRES_AT` / `__SCOPES` companions, four tag dimensions), with the
//! awkward cases a client must survive — a multi-line PEM, unicode, an empty
//! value, an expired and an expiring credential, references and imports —
//! and at least one secret for each `lint` finding (their comments say which).
//! Every value is fake and says so.

use std::time::Duration;

use super::data::{SecretEntry, VaultData};
use super::gate::CfGate;
use super::permissions::{Identity, PermissionRule};

pub const DEMO_PROJECT_ID: &str = "5f0c3a9e-8d4b-4c2e-9a61-2b7d8e4f1c03";
pub const DEMO_PROJECT_SLUG: &str = "raxx-secrets";
/// Universal-auth client id of [`demo_identity`].
pub const DEMO_CLIENT_ID: &str = "d3m0f4ke-c1d0-4c1d-9a11-00000000demo";
/// Universal-auth client secret of [`demo_identity`]. Not a real secret.
pub const DEMO_CLIENT_SECRET: &str = "demo-FAKE-client-secret-not-a-real-credential-0001";
/// Cloudflare Access service-token id for [`demo_gate`].
pub const DEMO_CF_CLIENT_ID: &str = "d3m0f4ke0000cf00acce55000000demo.access";
/// Cloudflare Access service-token secret for [`demo_gate`]. Not a real secret.
pub const DEMO_CF_CLIENT_SECRET: &str = "demo-FAKE-cf-access-secret-not-a-real-credential-0001";

const PROD: &str = "prod";
const STAGING: &str = "staging";
const DEV: &str = "dev";

/// A read-only identity scoped to `dev:/agents/warden/**` and
/// `prod:/MooseQuest/**`; tokens live an hour, renewable for a day.
pub fn demo_identity() -> Identity {
    Identity::new(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        vec![
            PermissionRule::read(DEV, "/agents/warden/**"),
            PermissionRule::read(PROD, "/MooseQuest/**"),
        ],
    )
    .ttl(Duration::from_secs(3600), Duration::from_secs(86_400))
}

/// The demo's audit identity (`demo --lint`): reads every environment, as
/// the taxonomy's auditor would; never the identity an agent gets.
pub const DEMO_AUDITOR_CLIENT_ID: &str = "d3m0f4ke-a0d1-4a0d-9a11-0000000audit";
/// Fake; safe to print.
pub const DEMO_AUDITOR_CLIENT_SECRET: &str = "demo-FAKE-auditor-secret-not-a-real-credential-0001";

pub fn demo_auditor() -> Identity {
    Identity::new(
        DEMO_AUDITOR_CLIENT_ID,
        DEMO_AUDITOR_CLIENT_SECRET,
        [DEV, STAGING, PROD]
            .into_iter()
            .map(|e| PermissionRule::read(e, "/**"))
            .collect(),
    )
}

/// A Service-Auth-only Access gate that accepts the demo service token.
pub fn demo_gate() -> CfGate {
    CfGate::ServiceAuthOnly {
        client_id: DEMO_CF_CLIENT_ID.to_owned(),
        client_secret: DEMO_CF_CLIENT_SECRET.to_owned(),
    }
}

/// Held in prod and, against Rule 2, copied unchanged into staging.
const CF_DNS_EDIT_VALUE: &str = "cf-FAKE-dns-edit-raxx-app-7Qm2Lx9Pz4";

const FAKE_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEFAKEAAKCAQEAdemoONLYnotAREALkeyTHISisFAKEdataFORtests0000000
FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE
raxxDEVbotDEMOkeyMATERIALdoNOTuseANYWHEREitISnotAkey00000000000
-----END RSA PRIVATE KEY-----
";

fn tagged(key: &str, value: &str, tags: [&str; 4]) -> SecretEntry {
    SecretEntry::new(key, value).tags(&tags)
}

impl VaultData {
    /// The demo vault (project "raxx-secrets", environments dev/staging/prod).
    pub fn sample() -> VaultData {
        let p = DEMO_PROJECT_ID;
        let expiring = expiry_in_days(5);
        let cf = "/MooseQuest/cloudflare";
        let bot = "/MooseQuest/github/raxx-dev-bot";
        let cf_dns = [
            "function-dns-edit",
            "sensitivity-high",
            "consumer-terraform",
            "rotation-90d",
        ];
        let cf_waf = [
            "function-waf-edit",
            "sensitivity-high",
            "consumer-ci",
            "rotation-90d",
        ];
        let cf_svc = [
            "function-access-bypass",
            "sensitivity-high",
            "consumer-agent",
            "rotation-90d",
        ];
        let hk_full = [
            "function-platform-api",
            "sensitivity-critical",
            "consumer-ci",
            "rotation-90d",
        ];
        let aws_boot = [
            "function-platform-api",
            "sensitivity-high",
            "consumer-operator",
            "rotation-30d",
        ];
        let gh_app = [
            "function-agent-identity",
            "sensitivity-high",
            "consumer-agent",
            "rotation-annual",
        ];
        let warden = [
            "function-vault-read",
            "sensitivity-low",
            "consumer-agent",
            "rotation-90d",
        ];
        VaultData::new()
            .project(p, "raxx-secrets", DEMO_PROJECT_SLUG)
            .environment(p, DEV, "Development")
            .environment(p, STAGING, "Staging")
            .environment(p, PROD, "Production")
            // prod: Cloudflare account-wide tokens (Rule 2: prod only).
            .add_secret(
                p,
                PROD,
                cf,
                tagged("CF_DNS_EDIT_RAXX_APP", CF_DNS_EDIT_VALUE, cf_dns)
                    .comment("Zone DNS edit for raxx.app; consumers: terraform, CI"),
            )
            .add_secret(
                p,
                PROD,
                cf,
                tagged("CF_DNS_EDIT_RAXX_APP__EXPIRES_AT", &expiring, cf_dns),
            )
            .add_secret(
                p,
                PROD,
                cf,
                tagged(
                    "CF_DNS_EDIT_RAXX_APP__SCOPES",
                    "Zone:DNS:Edit Zone:Zone:Read",
                    cf_dns,
                ),
            )
            .add_secret(
                p,
                PROD,
                cf,
                tagged(
                    "CF_WAF_EDIT_RAXX_APP",
                    "cf-FAKE-waf-edit-raxx-app-Vb81Ck0Ws3",
                    cf_waf,
                ),
            )
            .add_secret(
                p,
                PROD,
                cf,
                tagged("CF_WAF_EDIT_RAXX_APP__EXPIRES_AT", "2025-11-30T00:00:00Z", cf_waf)
                    .comment("expired: rotate (#747)"),
            )
            .add_secret(
                p,
                PROD,
                cf,
                tagged(
                    "CF_ACCESS_SVC_VAULT",
                    "cf-FAKE-access-svc-vault-secret-Hh5Tq2",
                    cf_svc,
                ),
            )
            .add_secret(
                p,
                PROD,
                cf,
                tagged("CF_ACCESS_SVC_VAULT__CLIENT_ID", "f4ke0000vault.access", cf_svc),
            )
            // prod: GitHub.
            .add_secret(
                p,
                PROD,
                "/MooseQuest/github",
                tagged(
                    "GH_READONLY",
                    "ghp_FAKEreadonly000000000000000000000000",
                    [
                        "function-repo-read",
                        "sensitivity-low",
                        "consumer-agent",
                        "rotation-90d",
                    ],
                ),
            )
            .add_secret(
                p,
                PROD,
                bot,
                tagged("APP_ID", "3501352", gh_app).comment("GH_APP_DEV_BOT"),
            )
            .add_secret(
                p,
                PROD,
                bot,
                tagged("INSTALLATION_ID", "61234567", gh_app).comment("GH_APP_DEV_BOT"),
            )
            .add_secret(
                p,
                PROD,
                bot,
                tagged("PRIVATE_KEY_PEM", FAKE_PEM, gh_app).comment("GH_APP_DEV_BOT"),
            )
            .import(p, PROD, bot, PROD, "/MooseQuest/github")
            // prod: a composite built from references in the same folder.
            .add_secret(
                p,
                PROD,
                "/MooseQuest/alpaca",
                tagged(
                    "ALP_PAPER_TRADING__KEY_ID",
                    "PKFAKE0000PAPER",
                    [
                        "function-trading-paper",
                        "sensitivity-medium",
                        "consumer-raptor",
                        "rotation-180d",
                    ],
                ),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/alpaca",
                tagged(
                    "ALP_PAPER_TRADING__SECRET_KEY",
                    "paper-FAKE-secret-Zx81",
                    [
                        "function-trading-paper",
                        "sensitivity-medium",
                        "consumer-raptor",
                        "rotation-180d",
                    ],
                ),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/alpaca",
                tagged(
                    "ALP_PAPER_TRADING",
                    "${ALP_PAPER_TRADING__KEY_ID}:${ALP_PAPER_TRADING__SECRET_KEY}",
                    [
                        "function-trading-paper",
                        "sensitivity-medium",
                        "consumer-raptor",
                        "rotation-180d",
                    ],
                ),
            )
            .add_secret(
                p,
                PROD,
                "/shared",
                tagged(
                    "SL_BOT_NOTIFY",
                    "xoxb-FAKE-slack-notify-0000",
                    [
                        "function-notify",
                        "sensitivity-medium",
                        "consumer-raptor",
                        "rotation-annual",
                    ],
                ),
            )
            // prod: one of each `lint` finding (see the README's table).
            .add_secret(
                p,
                PROD,
                cf,
                tagged("CF_PAGES_DEPLOY__SCOPES", "Account:Pages:Edit", cf_waf)
                    .comment("lint: companion-orphan (CF_PAGES_DEPLOY not provisioned yet)"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/heroku",
                tagged("HK_PLATFORM_FULL", "hk-FAKE-platform-prod-1111", hk_full)
                    .comment("lint: full-access; differs from staging (Rule 1)"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/heroku",
                tagged("HK_PLATFORM_FULL__EXPIRES_AT", &expiry_in_days(200), hk_full),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/heroku",
                SecretEntry::new("HEROKU_API_KEY", "hk-FAKE-legacy-api-key-2222")
                    .tags(&["function-platform-api", "sensitivity-critical"])
                    .comment("lint: unknown-vendor, tag-missing (pre-taxonomy name)"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/dreamhost",
                tagged(
                    "dh_dns_mgmt",
                    "dh-FAKE-dns-mgmt-3333",
                    [
                        "function-dns-edit",
                        "sensitivity-medium",
                        "consumer-operator",
                        "rotation-non-rotating",
                    ],
                )
                .comment("lint: name-pattern"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/postmark",
                SecretEntry::new("PM_SERVER_MAIL", "pm-FAKE-server-mail-4444")
                    .tags(&[
                        "function-mail-send",
                        "sensitivity-medium",
                        "sensitivity-high",
                        "consumer-raptor",
                        "rotation-180d",
                    ])
                    .comment("lint: tag-duplicate, expiry-unparseable"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/postmark",
                SecretEntry::new("PM_SERVER_MAIL__EXPIRES_AT", "end of Q3"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/postmark",
                tagged(
                    "PM_ACCOUNT_MGMT",
                    "pm-FAKE-account-mgmt-5555",
                    [
                        "function-mail-admin",
                        "sensitivity-high",
                        "consumer-operator",
                        "rotation-manual",
                    ],
                )
                .comment("lint: tag-unknown-value (the taxonomy says rotation-non-rotating)"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/anthropic",
                SecretEntry::new("ANT_CLAUDE_SDK", "sk-ant-FAKE-claude-sdk-6666")
                    .tags(&[
                        "function-ai-sdk",
                        "sensitivity-high",
                        "consumer-agent",
                        "consumer-raptor",
                        "rotation-90d",
                        "team-platform",
                    ])
                    .comment("lint: tag-multiple-consumers, tag-extra"),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/anthropic",
                SecretEntry::new("ANT_CLAUDE_SDK__EXPIRES_AT", &expiry_in_days(120)),
            )
            // A key pair whose base name is only the logical credential (docs/taxonomy.md, Section 1).
            .add_secret(
                p,
                PROD,
                "/MooseQuest/aws",
                tagged(
                    "AWS_INFISICAL_BOOTSTRAP__ACCESS_KEY_ID",
                    "AKIAFAKE0000BOOTSTRAP",
                    aws_boot,
                ),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/aws",
                tagged(
                    "AWS_INFISICAL_BOOTSTRAP__SECRET_ACCESS_KEY",
                    "aws-FAKE-bootstrap-secret-7777",
                    aws_boot,
                ),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/aws",
                SecretEntry::new("AWS_INFISICAL_BOOTSTRAP__EXPIRES_AT", &expiry_in_days(25)),
            )
            .add_secret(
                p,
                PROD,
                "/MooseQuest/aws",
                tagged(
                    "AWS_ACCOUNT_ID",
                    "000000000000",
                    [
                        "function-platform-api",
                        "sensitivity-low",
                        "consumer-operator",
                        "rotation-non-rotating",
                    ],
                )
                .comment("a config value, not a secret: no __EXPIRES_AT needed"),
            )
            // staging: env-specific credentials (Rule 1).
            .add_secret(
                p,
                STAGING,
                cf,
                tagged(
                    "CF_ACCESS_SVC_VAULT",
                    "cf-FAKE-access-svc-vault-staging-Pp3",
                    cf_svc,
                ),
            )
            .add_secret(
                p,
                STAGING,
                "/MooseQuest/heroku",
                tagged(
                    "HK_PLATFORM_FULL",
                    "hk-FAKE-platform-staging-0000",
                    [
                        "function-platform-api",
                        "sensitivity-critical",
                        "consumer-ci",
                        "rotation-90d",
                    ],
                ),
            )
            .add_secret(
                p,
                STAGING,
                cf,
                tagged("CF_DNS_EDIT_RAXX_APP", CF_DNS_EDIT_VALUE, cf_dns)
                    .comment("lint: rule2-duplicate (account-wide token copied from prod)"),
            )
            // dev: sandbox keys (Rule 3) and an agent's own folders.
            .add_secret(
                p,
                DEV,
                "/MooseQuest/stripe",
                tagged(
                    "STR_BILLING_WRITE",
                    "rk_test_FAKE000000000000",
                    [
                        "function-billing-write",
                        "sensitivity-critical",
                        "consumer-raptor",
                        "rotation-90d",
                    ],
                ),
            )
            .add_secret(
                p,
                DEV,
                "/agents/warden",
                tagged("WARDEN_API_TOKEN", "warden-FAKE-api-token-4Rt7", warden),
            )
            .add_secret(
                p,
                DEV,
                "/agents/warden",
                tagged("WARDEN_MOTD", "Grüße aus Zürich — 秘密の値 🔐", warden).comment("unicode on purpose"),
            )
            .add_secret(
                p,
                DEV,
                "/agents/warden",
                tagged("WARDEN_FEATURE_FLAGS", "", warden).comment("intentionally empty"),
            )
            .add_secret(
                p,
                DEV,
                "/agents/warden",
                tagged("WARDEN_DB_URL", "${dev.agents.warden.db.DB_URL}", warden),
            )
            // In a sub-folder so that expanding /agents/warden itself succeeds;
            // expanding this one shows the forbidden-reference behaviour.
            .add_secret(
                p,
                DEV,
                "/agents/warden/notify",
                tagged("WARDEN_SLACK_WEBHOOK", "${dev.shared.SLACK_WEBHOOK}", warden)
                    .comment("references a secret outside the demo identity's scope"),
            )
            .add_secret(
                p,
                DEV,
                "/agents/warden/db",
                tagged("DB_PASSWORD", "pg-FAKE-password-Qw3", warden),
            )
            .add_secret(
                p,
                DEV,
                "/agents/warden/db",
                tagged(
                    "DB_URL",
                    "postgres://warden:${DB_PASSWORD}@db.internal:5432/warden",
                    warden,
                ),
            )
            .add_secret(
                p,
                DEV,
                "/shared",
                tagged(
                    "SLACK_WEBHOOK",
                    "https://hooks.slack.example/FAKE/0000",
                    [
                        "function-notify",
                        "sensitivity-medium",
                        "consumer-agent",
                        "rotation-annual",
                    ],
                ),
            )
            .import(p, DEV, "/agents/warden", DEV, "/shared")
            .folder(p, DEV, "/agents/scribe")
            .folder(p, PROD, "/MooseQuest/github/raxx-ops-bot")
    }
}

/// An ISO-8601 UTC instant `days` from now, so "expiring soon" stays true.
fn expiry_in_days(days: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .format(&format)
        .unwrap_or_else(|_| "2099-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tag of the sample could exist in a real Infisical: its slug
    /// rule allows `a-z`, `0-9` and `-` only (no `function:x`).
    #[test]
    fn sample_tags_are_slugs_a_real_vault_accepts() {
        let data = VaultData::sample();
        let mut seen = 0;
        for project in &data.projects {
            for tag in &project.tags {
                let slug = &tag.tag.slug;
                assert!(
                    !slug.is_empty()
                        && slug
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{slug}"
                );
                seen += 1;
            }
            for env in &project.environments {
                for folder in env.folders.values() {
                    for secret in &folder.secrets {
                        for tag in &secret.tags {
                            assert!(
                                project.tags.iter().any(|t| t.tag.slug == tag.slug),
                                "{}",
                                tag.slug
                            );
                        }
                    }
                }
            }
        }
        assert!(seen > 20, "{seen} tags");
    }
}
