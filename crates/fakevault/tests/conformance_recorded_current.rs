//! Conformance with a current Infisical: every exchange recorded against a
//! build of upstream from mid-2026 (`tests/fixtures/real-infisical/`, 507
//! records; its README lists what changed since the 2024 build) is replayed
//! against one fake vault in Current mode seeded with the recorded data set
//! and compared as [`support::replay`] describes.
//!
//! A record the fake cannot match is listed in [`DIFFERENCES`] with the
//! reason: a route the fake does not serve, a cause named by hand, or else
//! the first differences the replay found, so that each entry says what the
//! fake gets wrong. An entry that starts to match fails the test.

mod support;

use infisical_fakevault::Generation;
use support::TestResult;
use support::recorded;
use support::replay::replay;

const NO_POST_V1_AUTH_UNIVERSAL_AUTH_IDENTITIES_ID_CLEAR_LOCKOUTS: &str =
    "POST /api/v1/auth/universal-auth/identities/{id}/clear-lockouts is not served";
const NO_GET_V4_SECRETS_ID_ID: &str = "GET /api/v4/secrets/id/{id} is not served";
const NO_GET_V3_SECRETS_RAW_ID_ID: &str = "GET /api/v3/secrets/raw/id/{id} is not served";
const NO_GET_V2_WORKSPACE_NAME: &str = "GET /api/v2/workspace/{name} is not served";
const NO_GET_V1_PROJECTS: &str = "GET /api/v1/projects is not served";
const NO_GET_V1_PROJECTS_ID: &str = "GET /api/v1/projects/{id} is not served";
const NO_GET_V1_PROJECTS_SLUG_NAME: &str = "GET /api/v1/projects/slug/{name} is not served";
const NO_GET_V3_SECRETS: &str = "GET /api/v3/secrets is not served";
const NO_GET_V1_SECRET_IMPORTS_SECRETS_RAW: &str = "GET /api/v1/secret-imports/secrets/raw is not served";
const NO_GET_V2_SECRET_IMPORTS_SECRETS: &str = "GET /api/v2/secret-imports/secrets is not served";
const NO_GET_V2_FOLDERS_ID: &str = "GET /api/v2/folders/{id} is not served";
const NO_GET_V2_SECRET_IMPORTS_ID: &str = "GET /api/v2/secret-imports/{id} is not served";
const NO_POST_V2_SECRET_IMPORTS: &str = "POST /api/v2/secret-imports is not served";
const NO_GET_V1_PROJECTS_ID_TAGS_SLUG_NAME: &str = "GET /api/v1/projects/{id}/tags/slug/{name} is not served";
const NO_GET_V1_PROJECTS_ID_TAGS_ID: &str = "GET /api/v1/projects/{id}/tags/{id} is not served";
const NO_POST_V3_SECRETS_TAGS_NAME: &str = "POST /api/v3/secrets/tags/{name} is not served";
const NO_DELETE_V1_PROJECTS_ID_TAGS_ID: &str = "DELETE /api/v1/projects/{id}/tags/{id} is not served";
const NO_DELETE_V2_FOLDERS_NAME: &str = "DELETE /api/v2/folders/{name} is not served";
const NO_DELETE_V2_FOLDERS_ID: &str = "DELETE /api/v2/folders/{id} is not served";
const NO_GET_V2_IDENTITY_PROJECT_ADDITIONAL_PRIVILEGE_ID: &str =
    "GET /api/v2/identity-project-additional-privilege/{id} is not served";
const NO_GET_V2_IDENTITY_PROJECT_ADDITIONAL_PRIVILEGE_SLUG_NAME: &str =
    "GET /api/v2/identity-project-additional-privilege/slug/{name} is not served";
const NO_GET_V1_AUTH_UNIVERSAL_AUTH_IDENTITIES_ID_CLIENT_SECRETS_ID: &str =
    "GET /api/v1/auth/universal-auth/identities/{id}/client-secrets/{id} is not served";
const NO_GET_V1_PROJECTS_ID_MEMBERSHIPS_NAME: &str =
    "GET /api/v1/projects/{id}/memberships/{name} is not served";
const IMPORT_CHAIN: &str = "needs the import /agents/warden/importer -> /agents/warden/deep, made with POST /api/v2/secret-imports (not served)";
const IMPORTER_LEFT: &str =
    "the folder /agents/warden/importer is still there: DELETE /api/v2/folders/{name} is not served";
const DELAY_CREATE: &str =
    "the fake applies a new privilege at once; the recorded server still refused it (about 10 s delay)";
const DELAY_DELETE: &str =
    "the fake drops a deleted privilege at once; the recorded server still honoured it (about 10 s delay)";

/// Records the fake does not match, in the order they were sent.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "status",
        "differs: body.maxIdentityAccessTokenTTL: missing in the fake; body.inviteOnlySignup: recorded true, fake false",
    ),
    (
        "setup-login-probe-identity",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.metadata: missing in the fake",
    ),
    (
        "setup-login-probe-ua",
        "differs: body.identityUniversalAuth.accessTokenPeriod: missing in the fake; body.identityUniversalAuth.lockoutCounterResetSeconds: missing in the fake",
    ),
    (
        "ua-login-no-body",
        "differs: body.message: recorded [{\"code\":\"invalid_type\",\"expected\":\"object\",\"message\":\"Expected object, received nul...",
    ),
    (
        "ua-lockout-clear",
        NO_POST_V1_AUTH_UNIVERSAL_AUTH_IDENTITIES_ID_CLEAR_LOCKOUTS,
    ),
    (
        "ua-lockout-clear-again",
        NO_POST_V1_AUTH_UNIVERSAL_AUTH_IDENTITIES_ID_CLEAR_LOCKOUTS,
    ),
    (
        "ua-login-after-clear",
        "differs: status: recorded 200, fake 401; body.accessToken: missing in the fake",
    ),
    (
        "ua-lockout-clear-warden-ro",
        NO_POST_V1_AUTH_UNIVERSAL_AUTH_IDENTITIES_ID_CLEAR_LOCKOUTS,
    ),
    (
        "cleanup-login-probe-identity",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.projectId: missing in the fake",
    ),
    (
        "list-unknown-workspace",
        "differs: body.message: recorded \"Project with ID '...' not found during bot lookup. Are you sure you are using the cor...",
    ),
    (
        "list-missing-workspace",
        "differs: body.message: recorded \"You must provide projectSlug or workspaceId\", fake \"Missing project id or environment\"",
    ),
    (
        "list-unknown-workspace-slug",
        "differs: body.message: recorded \"Project with slug 'no-such-project' not found\", fake \"Project with ID 'no-such-proj...",
    ),
    (
        "v4-list-unknown-workspace",
        "differs: body.message: recorded \"Project with ID '...' not found during bot lookup. Are you sure you are using the cor...",
    ),
    (
        "v4-list-recursive-root-no-expand",
        "differs: body.imports: 1 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    (
        "v4-list-recursive-parent-no-expand",
        "differs: body.imports: 1 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    (
        "get-version-1",
        "differs: body.secret.isRotatedSecret: not in the recording; body.secret.rotationId: not in the recording",
    ),
    (
        "v4-get-version-1",
        "differs: body.secret.isRotatedSecret: not in the recording; body.secret.rotationId: not in the recording",
    ),
    ("v4-get-by-id", NO_GET_V4_SECRETS_ID_ID),
    ("v4-get-by-id-out-of-scope", NO_GET_V4_SECRETS_ID_ID),
    ("v3-get-by-id", NO_GET_V3_SECRETS_RAW_ID_ID),
    (
        "v2-list-projects",
        "differs: body.workspaces[slug=oracle-project].enforceEncryptedSecretManagerSecretMetadata: missing in the fake; body.workspaces[slug=oracle-project].defaultProduct: recorded null null, fake string \"secret-manager\"",
    ),
    (
        "v1-get-project",
        "differs: body.workspace.enforceEncryptedSecretManagerSecretMetadata: missing in the fake; body.workspace.defaultProduct: recorded null null, fake string \"secret-manager\"",
    ),
    ("v1-project-environments-via-slug", NO_GET_V2_WORKSPACE_NAME),
    ("v1-projects-list", NO_GET_V1_PROJECTS),
    ("v1-projects-get", NO_GET_V1_PROJECTS_ID),
    ("v1-projects-get-by-slug", NO_GET_V1_PROJECTS_SLUG_NAME),
    ("v3-secrets-encrypted-list", NO_GET_V3_SECRETS),
    (
        "v1-secret-imports-secrets-raw",
        NO_GET_V1_SECRET_IMPORTS_SECRETS_RAW,
    ),
    ("v2-secret-imports-secrets", NO_GET_V2_SECRET_IMPORTS_SECRETS),
    (
        "folders-root",
        "differs: body.folders[name=MooseQuest].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "folders-wrong-env",
        "differs: body.folders[name=deep].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "folder-by-id-unknown",
        "differs: body.message: recorded \"Folder with ID '...' not found\", fake \"Folder not found\"",
    ),
    (
        "v2-folders-root",
        "differs: body.folders[name=MooseQuest].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "v2-folders-wrong-env",
        "differs: body.folders[name=deep].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "v2-folders-recursive-root",
        "differs: body.folders[name=MooseQuest].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"; body.folders[name=identities].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    ("v2-folder-by-id-out-of-scope", NO_GET_V2_FOLDERS_ID),
    ("v2-folder-by-id-unknown", NO_GET_V2_FOLDERS_ID),
    (
        "imports-out-of-scope",
        "differs: body.details[0].conditions.environment: recorded string \"dev\", fake object {\"$eq\":\"dev\"}; body.details[0].subject: recorded array [\"secret-imports\"], fake string \"secrets\"",
    ),
    (
        "v2-imports-in-scope",
        "differs: body.secretImports[importPath=/shared].sourceProjectName: missing in the fake; body.secretImports[importPath=/shared].importEnv.projectId: missing in the fake",
    ),
    (
        "v2-imports-out-of-scope",
        "differs: body.details[0].conditions.environment: recorded string \"dev\", fake object {\"$eq\":\"dev\"}; body.details[0].subject: recorded array [\"secret-imports\"], fake string \"secrets\"",
    ),
    (
        "v2-imports-parent",
        "differs: body.details[0].conditions.environment: recorded string \"dev\", fake object {\"$eq\":\"dev\"}; body.details[0].subject: recorded array [\"secret-imports\"], fake string \"secrets\"",
    ),
    ("v2-import-by-id", NO_GET_V2_SECRET_IMPORTS_ID),
    (
        "create-folder-in-scope",
        "differs: body.message: recorded \"You are not allowed to create on secret-folders\", fake \"You are not allowed to crea...",
    ),
    (
        "v4-delete-nonexistent-in-scope",
        "differs: body.message: recorded \"Secret not found\", fake \"Secret with name 'NOPE_SECRET' not found\"",
    ),
    (
        "v2-create-folder-in-scope",
        "differs: body.message: recorded \"You are not allowed to create on secret-folders\", fake \"You are not allowed to crea...",
    ),
    ("v2-create-import-in-scope", NO_POST_V2_SECRET_IMPORTS),
    (
        "short-ttl-login",
        "short-ttl-probe's TTL is 300 s, not 3 s (no timing dependence)",
    ),
    (
        "revoked-token",
        "differs: body.message: recorded \"Failed to authorize: token has been revoked\", fake \"No identity access token found\"",
    ),
    (
        "renew-token",
        "differs: status: recorded 200, fake 401; body.accessToken: missing in the fake",
    ),
    (
        "after-failed-renew",
        "differs: status: recorded 200, fake 401; body.imports: missing in the fake",
    ),
    (
        "renew-garbage",
        "differs: status: recorded 403, fake 401; body.error: recorded \"TokenError\", fake \"UnauthorizedError\"",
    ),
    (
        "renew-no-body",
        "differs: body.message: recorded [{\"code\":\"invalid_type\",\"expected\":\"object\",\"message\":\"Expected object, received nul...",
    ),
    (
        "recursive-agents-include-imports-warden-ro",
        "differs: body.imports: 1 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    (
        "recursive-agents-include-imports-admin",
        "differs: body.imports: 1 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    (
        "recursive-nonexistent-env-warden-ro",
        "differs: body.error: recorded \"NotFound\", fake \"SecretPathNotFound\"; body.message: recorded \"Environment with slug 'qa' in project with ID ... not found\", fake \"Folder with path ...",
    ),
    (
        "v4-recursive-agents-no-expand-warden-ro",
        "differs: body.imports: 1 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    (
        "v4-recursive-agents-admin",
        "differs: body.imports: 1 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    (
        "v4-recursive-nonexistent-env-warden-ro",
        "differs: body.error: recorded \"NotFound\", fake \"SecretPathNotFound\"; body.message: recorded \"Environment with slug 'qa' in project with ID ... not found\", fake \"Folder with path ...",
    ),
    (
        "setup-folder-importer",
        "differs: body.folder.path: missing in the fake; body.folder.lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    ("setup-import-importer-from-deep", NO_POST_V2_SECRET_IMPORTS),
    ("list-importer-include-imports-warden-ro", IMPORT_CHAIN),
    ("v4-list-importer-warden-ro", IMPORT_CHAIN),
    ("get-via-in-scope-import-warden-ro", IMPORT_CHAIN),
    (
        "list-deep-include-imports-admin",
        "differs: body.imports[secretPath=/shared].secrets[secretKey=SHARED_TOKEN].isRotatedSecret: missing in the fake; body.imports[secretPath=/shared].secrets[secretKey=SHARED_TOKEN].rotationId: missing in the fake",
    ),
    (
        "recursive-warden-include-imports-warden-ro",
        "differs: body.imports: 2 items recorded, 0 in the fake; body.imports: no item with secretPath=/shared in the fake",
    ),
    ("imports-list-importer-warden-ro", IMPORT_CHAIN),
    ("get-transitive-import-admin", IMPORT_CHAIN),
    ("v4-get-transitive-import-admin", IMPORT_CHAIN),
    ("list-transitive-import-expand-warden-ro", IMPORT_CHAIN),
    ("list-importer-include-imports-admin", IMPORT_CHAIN),
    (
        "tag-list-before",
        "differs: body.tags: missing in the fake; body.workspaceTags: not in the recording",
    ),
    (
        "tag-create-colon",
        "differs: body.message: recorded [{\"code\":\"custom\",\"message\":\"Slug field can only contain lowercase letters, numbers,...",
    ),
    (
        "tag-create-existing",
        "differs: body.message: recorded \"Tag already exists\", fake \"Tag already exist\"",
    ),
    (
        "tag-create-ok",
        "differs: body.tag: missing in the fake; body.workspaceTag: not in the recording",
    ),
    (
        "tag-create-uppercase-duplicate",
        "differs: status: recorded 422, fake 400; body.error: recorded \"ValidationFailure\", fake \"BadRequest\"",
    ),
    (
        "tag-create-uppercase-new",
        "differs: status: recorded 422, fake 200; body.error: missing in the fake",
    ),
    (
        "tag-create-underscore",
        "differs: body.message: recorded [{\"code\":\"custom\",\"message\":\"Slug field can only contain lowercase letters, numbers,...",
    ),
    (
        "tag-create-space",
        "differs: body.message: recorded [{\"code\":\"custom\",\"message\":\"Slug field can only contain lowercase letters, numbers,...",
    ),
    (
        "tag-create-consumer-agent",
        "differs: body.tag: missing in the fake; body.workspaceTag: not in the recording",
    ),
    (
        "tag-create-rotation-30d",
        "differs: body.tag: missing in the fake; body.workspaceTag: not in the recording",
    ),
    (
        "tag-list",
        "differs: body.tags: missing in the fake; body.workspaceTags: not in the recording",
    ),
    ("tag-get-by-slug", NO_GET_V1_PROJECTS_ID_TAGS_SLUG_NAME),
    ("tag-get-by-id", NO_GET_V1_PROJECTS_ID_TAGS_ID),
    ("tag-list-warden-ro", "differs: body.details: missing in the fake"),
    (
        "tagged-existing-filter-warden-ro",
        "differs: body.secrets[secretKey=WARDEN_API_KEY].tags: 1 items recorded, 4 in the fake; body.secrets[secretKey=WARDEN_API_KEY].tags: the fake has an extra item slug=\"consumer-terraform\"",
    ),
    (
        "v4-tagged-existing-filter-warden-ro",
        "differs: body.secrets[secretKey=WARDEN_API_KEY].tags: 1 items recorded, 4 in the fake; body.secrets[secretKey=WARDEN_API_KEY].tags: the fake has an extra item slug=\"consumer-terraform\"",
    ),
    (
        "setup-folder-tagged",
        "differs: body.folder.path: missing in the fake; body.folder.lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "secret-create-untagged",
        "differs: body.secret.secretMetadata: not in the recording; body.secret.secretPath: not in the recording",
    ),
    (
        "secret-create-with-tagIds",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "secret-create-plain",
        "differs: body.secret.secretMetadata: not in the recording; body.secret.secretPath: not in the recording",
    ),
    (
        "tag-attach-patch-no-value",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "v4-tag-attach-patch-no-value",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "v4-tag-clear-patch",
        "differs: body.secret.secretMetadata: not in the recording; body.secret.secretPath: not in the recording",
    ),
    (
        "tag-attach-patch",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "tag-attach-patch-unknown-tag",
        "differs: body.message: recorded \"Tag not found. Found \", fake \"Tag not found\"",
    ),
    ("tag-attach-by-slug-route", NO_POST_V3_SECRETS_TAGS_NAME),
    (
        "tagged-get-warden-ro",
        "differs: body.secret.tags: 2 items recorded, 0 in the fake; body.secret.tags: no item with slug=function-dns-edit in the fake",
    ),
    (
        "v4-tagged-get-warden-ro",
        "differs: body.secret.tags: 2 items recorded, 0 in the fake; body.secret.tags: no item with slug=function-dns-edit in the fake",
    ),
    (
        "tagged-list-warden-ro",
        "differs: body.secrets: 3 items recorded, 2 in the fake; body.secrets: no item with secretKey=TAGGED_OTHER in the fake",
    ),
    (
        "tagged-list-filter-one",
        "differs: body.secrets: 1 items recorded, 0 in the fake; body.secrets: no item with secretKey=TAGGED_DEMO in the fake",
    ),
    (
        "tagged-list-filter-two-or",
        "differs: body.secrets: 2 items recorded, 0 in the fake; body.secrets: no item with secretKey=TAGGED_DEMO in the fake",
    ),
    (
        "tagged-list-filter-both-on-one",
        "differs: body.secrets: 1 items recorded, 0 in the fake; body.secrets: no item with secretKey=TAGGED_DEMO in the fake",
    ),
    (
        "tagged-list-filter-empty",
        "differs: body.secrets: 3 items recorded, 2 in the fake; body.secrets: no item with secretKey=TAGGED_OTHER in the fake",
    ),
    (
        "v4-tagged-list-filter-two-or",
        "differs: body.secrets: 2 items recorded, 0 in the fake; body.secrets: no item with secretKey=TAGGED_DEMO in the fake",
    ),
    (
        "tagged-list-filter-recursive",
        "differs: body.secrets: 2 items recorded, 1 in the fake; body.secrets: no item with secretKey=TAGGED_DEMO in the fake",
    ),
    (
        "tag-replace-patch",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "tag-replace-get",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "tag-patch-without-tagIds",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "tag-patch-without-tagIds-get",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "tag-clear-patch",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    (
        "tag-clear-get",
        "differs: status: recorded 200, fake 404; body.secret: missing in the fake",
    ),
    ("tag-delete-in-use", NO_DELETE_V1_PROJECTS_ID_TAGS_ID),
    (
        "tag-after-delete-get",
        "differs: body.secret.tags: 1 items recorded, 0 in the fake; body.secret.tags: no item with slug=function-dns-edit in the fake",
    ),
    ("cleanup-delete-folder-by-name", NO_DELETE_V2_FOLDERS_NAME),
    ("cleanup-delete-folder-by-id", NO_DELETE_V2_FOLDERS_ID),
    ("cleanup-delete-folder-force", NO_DELETE_V2_FOLDERS_NAME),
    ("cleanup-delete-folder-again", NO_DELETE_V2_FOLDERS_NAME),
    (
        "cleanup-delete-folder-v1-missing",
        "differs: status: recorded 404, fake 200; body.error: missing in the fake",
    ),
    ("after-folder-delete-import-gone", NO_GET_V2_SECRET_IMPORTS_ID),
    ("cleanup-delete-tag_cons", NO_DELETE_V1_PROJECTS_ID_TAGS_ID),
    ("cleanup-delete-tag_rot", NO_DELETE_V1_PROJECTS_ID_TAGS_ID),
    ("cleanup-delete-tag-again", NO_DELETE_V1_PROJECTS_ID_TAGS_ID),
    (
        "cleanup-tag-list",
        "differs: body.tags: missing in the fake; body.workspaceTags: not in the recording",
    ),
    ("cleanup-folders-warden", IMPORTER_LEFT),
    (
        "admin-mi-create",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.metadata: missing in the fake",
    ),
    (
        "admin-mi-ua-attach",
        "differs: body.identityUniversalAuth.accessTokenPeriod: missing in the fake; body.identityUniversalAuth.lockoutCounterResetSeconds: missing in the fake",
    ),
    ("prov-get-project", NO_GET_V1_PROJECTS_ID),
    (
        "prov-get-project-workspace-route",
        "differs: body.workspace.enforceEncryptedSecretManagerSecretMetadata: missing in the fake; body.workspace.defaultProduct: recorded null null, fake string \"secret-manager\"",
    ),
    (
        "prov-create-identity",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.metadata: missing in the fake",
    ),
    (
        "prov-ua-attach",
        "differs: body.identityUniversalAuth.accessTokenPeriod: missing in the fake; body.identityUniversalAuth.lockoutCounterResetSeconds: missing in the fake",
    ),
    (
        "prov-secret-before-folder",
        "differs: body.error: recorded \"CreateSecret\", fake \"NotFound\"",
    ),
    (
        "prov-folder-create-nested-first",
        "differs: body.folder.path: missing in the fake; body.folder.lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "prov-folders-list-moosequest-after",
        "differs: body.folders[name=identities].lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "prov-folder-create-parent-explicit",
        "differs: status: recorded 400, fake 200; body.error: missing in the fake",
    ),
    (
        "prov-folder-create-nested-again",
        "differs: status: recorded 400, fake 200; body.error: missing in the fake",
    ),
    (
        "prov-folders-list-identities",
        "differs: body.folders[name=infisical-identity-mcp-probe-agent].lastSecretModified: recorded null null, fake string \"...",
    ),
    (
        "prov-store-client-id",
        "differs: body.secret.secretMetadata: not in the recording; body.secret.secretPath: not in the recording",
    ),
    (
        "prov-store-client-secret",
        "differs: body.secret.secretMetadata: not in the recording; body.secret.secretPath: not in the recording",
    ),
    (
        "prov-privilege-v2",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    (
        "prov-privilege-v2-no-type",
        "differs: body.message: recorded [{\"code\":\"invalid_type\",\"expected\":\"object\",\"message\":\"Required\",\"path\":[\"type\"],\"re...",
    ),
    (
        "prov-privilege-v2-action-string",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    (
        "prov-privilege-v2-action-string-delete",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    (
        "prov-privilege-v1-permissions",
        "differs: body.privilege.permissions: 2 items recorded, 1 in the fake; body.privilege.permissions[0].inverted: missing in the fake",
    ),
    (
        "prov-privilege-list",
        "differs: body.privileges[slug=mcp-probe-agent-read].identityId: not in the recording; body.privileges[slug=mcp-probe-agent-read].projectId: not in the recording",
    ),
    (
        "prov-privilege-get",
        NO_GET_V2_IDENTITY_PROJECT_ADDITIONAL_PRIVILEGE_ID,
    ),
    (
        "prov-privilege-get-by-slug",
        NO_GET_V2_IDENTITY_PROJECT_ADDITIONAL_PRIVILEGE_SLUG_NAME,
    ),
    (
        "prov-privilege-get-by-slug-projectSlug",
        NO_GET_V2_IDENTITY_PROJECT_ADDITIONAL_PRIVILEGE_SLUG_NAME,
    ),
    (
        "prov-privilege-list-v1",
        "differs: body.privileges[slug=mcp-probe-agent-read].permissions[0].inverted: missing in the fake; body.privileges[slug=mcp-probe-agent-read-v1].permissions: 2 items recorded, 1 in the fake",
    ),
    (
        "prov-membership-get",
        "differs: body.identityMembership.lastLoginAuthMethod: missing in the fake; body.identityMembership.lastLoginTime: missing in the fake",
    ),
    (
        "prov-identity-get",
        "differs: body.identity.lastLoginAuthMethod: missing in the fake; body.identity.lastLoginTime: missing in the fake",
    ),
    (
        "prov-ua-get",
        "differs: body.identityUniversalAuth.accessTokenPeriod: missing in the fake; body.identityUniversalAuth.lockoutCounterResetSeconds: missing in the fake",
    ),
    (
        "val-delete-nonexistent",
        "differs: body.message: recorded \"Secret not found\", fake \"Secret with name 'CANARY_DELETE_TEST' not found\"",
    ),
    (
        "val-folder-create",
        "differs: body.message: recorded \"You are not allowed to create on secret-folders\", fake \"You are not allowed to crea...",
    ),
    (
        "val-folders-enumerate",
        "differs: body.folders[name=infisical-identity-mcp-probe-agent].lastSecretModified: recorded null null, fake string \"...",
    ),
    (
        "val-create-identity",
        "differs: body.details: missing in the fake",
    ),
    (
        "val-list-privileges-self",
        "differs: body.details: missing in the fake; body.message: recorded \"You are not allowed to read on identity\", fake \"You are not allowed to edit on iden...",
    ),
    (
        "err-identity-same-name",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.metadata: missing in the fake",
    ),
    (
        "err-privilege-non-member",
        "differs: status: recorded 403, fake 404; body.error: recorded \"ProjectMembershipNotFound\", fake \"NotFound\"",
    ),
    (
        "err-privilege-same-slug",
        "differs: body.message: recorded \"Additional privilege with name mcp-probe-agent-read exists\", fake \"Additional privi...",
    ),
    (
        "err-privilege-duplicate-permissions",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    (
        "err-membership-twice",
        "differs: body.message: recorded \"Identity is already a member\", fake \"Identity with id ... already exists in project w...",
    ),
    (
        "err-membership-twice-v2-workspace-route",
        "differs: body.message: recorded \"Identity is already a member\", fake \"Identity with id ... already exists in project w...",
    ),
    (
        "err-privilege-slug-uppercase",
        "differs: body.message: recorded [{\"code\":\"custom\",\"message\":\"Slug field can only contain lowercase letters, numbers,...",
    ),
    (
        "err-privilege-slug-colon",
        "differs: body.message: recorded [{\"code\":\"custom\",\"message\":\"Slug field can only contain lowercase letters, numbers,...",
    ),
    (
        "err-privilege-unknown-identity",
        "differs: status: recorded 403, fake 404; body.error: recorded \"ProjectMembershipNotFound\", fake \"NotFound\"",
    ),
    (
        "err-privilege-unknown-project",
        "differs: body.message: recorded \"Project with ... not found\", fake \"Project with ID '...' not found\"",
    ),
    (
        "err-privilege-unknown-project-slug",
        "differs: status: recorded 404, fake 500; body.error: recorded \"NotFound\", fake \"Find project by slug\"",
    ),
    (
        "err-privilege-write-action",
        "differs: body.message: recorded [{\"code\":\"invalid_union\",\"message\":\"Invalid input\",\"path\":[\"permissions\",0,\"action\"]...",
    ),
    (
        "err-privilege-ttl-temporary-bad-range",
        "differs: body.message: recorded [{\"code\":\"custom\",\"message\":\"Temporary range must be a positive number\",\"path\":[\"typ...",
    ),
    (
        "err-membership-unknown-identity",
        "differs: status: recorded 400, fake 404; body.error: recorded \"BadRequest\", fake \"NotFound\"",
    ),
    (
        "err-ua-attach-unknown-identity",
        "differs: body.message: recorded \"Failed to find identity with ID ...\", fake \"Failed to find identity\"",
    ),
    (
        "err-client-secret-unknown-identity",
        "differs: body.message: recorded \"Failed to find identity with ID ...\", fake \"Failed to find identity\"",
    ),
    (
        "err-ua-ttl-above-max",
        "differs: status: recorded 422, fake 400; body.error: recorded \"ValidationFailure\", fake \"BadRequest\"",
    ),
    (
        "err-ua-lockout-threshold-above-max",
        "differs: status: recorded 422, fake 200; body.error: missing in the fake",
    ),
    (
        "err-secret-exists",
        "differs: body.message: recorded \"Secret already exists\", fake \"Secret already exists: MCP_PROBE_AGENT_CLIENT_ID\"",
    ),
    (
        "err-create-identity-warden-ro",
        "differs: body.details: missing in the fake",
    ),
    (
        "err-membership-warden-ro",
        "differs: body.details: missing in the fake",
    ),
    (
        "err-privilege-warden-ro",
        "differs: body.details: missing in the fake",
    ),
    (
        "err-identity-delete-duplicate",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.projectId: missing in the fake",
    ),
    (
        "err-privilege-duplicate-permissions-delete",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    (
        "hazard-broad-privilege-create",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    ("hazard-broad-read-own-secret", DELAY_CREATE),
    (
        "hazard-broad-privilege-delete",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    ("hazard-after-broad-delete", DELAY_DELETE),
    (
        "clean-client-secrets-list",
        "differs: body.clientSecretData[0].description: recorded \"second secret\", fake \"prod 2026-12-07\"; body.clientSecretData[1].description: recorded \"prod 2026-12-07\", fake \"second secret\"",
    ),
    (
        "clean-client-secret-get",
        NO_GET_V1_AUTH_UNIVERSAL_AUTH_IDENTITIES_ID_CLIENT_SECRETS_ID,
    ),
    (
        "clean-token-after-secret-revoke",
        "the fake keeps a token working after its client secret is revoked, as the 2024 build does",
    ),
    (
        "clean-privilege-delete-v2",
        "differs: body.privilege.identityId: not in the recording; body.privilege.projectId: not in the recording",
    ),
    (
        "clean-privilege-delete-v1",
        "differs: body.privilege.permissions: 2 items recorded, 1 in the fake; body.privilege.permissions[0].inverted: missing in the fake",
    ),
    (
        "clean-privilege-delete-again",
        "differs: body.message: recorded \"Privilege with id ... not found\", fake \"Additional privilege with ID ... not found\"",
    ),
    ("clean-token-after-privilege-delete", DELAY_DELETE),
    (
        "clean-membership-delete-again",
        "differs: status: recorded 400, fake 404; body.error: recorded \"BadRequest\", fake \"NotFound\"",
    ),
    (
        "clean-token-after-membership-delete-after-11s",
        "differs: body.details: not in the recording; body.error: recorded \"ProjectMembershipNotFound\", fake \"PermissionDenied\"",
    ),
    (
        "clean-identity-delete",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.projectId: missing in the fake",
    ),
    (
        "clean-token-after-identity-delete",
        "differs: body.message: recorded \"Identity is not a member of the organization\", fake \"No identity access token found\"",
    ),
    (
        "clean-secret-delete-client-id",
        "differs: body.secret.isRotatedSecret: not in the recording; body.secret.rotationId: not in the recording",
    ),
    (
        "clean-secret-delete-client-secret",
        "differs: body.secret.isRotatedSecret: not in the recording; body.secret.rotationId: not in the recording",
    ),
    ("clean-folder-delete", NO_DELETE_V2_FOLDERS_NAME),
    (
        "clean-folder-delete-v1",
        "differs: body.folder.lastSecretModified: recorded null null, fake string \"2026-01-01T00:00:00.000Z\"",
    ),
    (
        "admin-mi-delete",
        "differs: body.identity.hasDeleteProtection: missing in the fake; body.identity.projectId: missing in the fake",
    ),
    ("admin-mi-token-after-delete", NO_GET_V1_PROJECTS_ID),
    (
        "identities-after-cleanup",
        "differs: body.identityMemberships: 3 items recorded, 0 in the fake; body.totalCount: recorded 3, fake 0",
    ),
    (
        "project-identities-after-cleanup",
        NO_GET_V1_PROJECTS_ID_MEMBERSHIPS_NAME,
    ),
    ("rl-folders-same-ip", IMPORTER_LEFT),
    (
        "rl-status-same-ip",
        "differs: body.maxIdentityAccessTokenTTL: missing in the fake; body.inviteOnlySignup: recorded true, fake false",
    ),
    ("rl-limit-folders-v2", IMPORTER_LEFT),
    (
        "rl-limit-imports-v2",
        "differs: body.secretImports[importPath=/shared].sourceProjectName: missing in the fake; body.secretImports[importPath=/shared].importEnv.projectId: missing in the fake",
    ),
    (
        "rl-limit-tags",
        "differs: body.tags: missing in the fake; body.workspaceTags: not in the recording",
    ),
    (
        "rl-limit-identity-get",
        "differs: status: recorded 200, fake 404; body.identity: missing in the fake",
    ),
    (
        "rl-limit-renew-garbage",
        "differs: status: recorded 403, fake 200; body.error: missing in the fake",
    ),
];

#[tokio::test]
async fn the_current_fake_answers_like_the_recorded_2026_build() -> TestResult {
    replay(recorded::FIXTURE_2026, Generation::Current, DIFFERENCES).await
}
