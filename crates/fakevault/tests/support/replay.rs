//! Replays a recording of a real Infisical against a fake vault seeded with
//! the recording's data set, in the order the requests were sent, and
//! compares each answer on status, the `x-ratelimit-limit` and
//! `retry-after` headers, and the body: keys, JSON types, list lengths and
//! scalar values, recursively (`message` whole, as a string or zod issue
//! array). Ids, timestamps and redacted values are compared by type only;
//! list items are paired by name; the server's ids inside recorded strings
//! are replaced by the fake's ids for the same objects before comparing.
//!
//! A record is either compared or listed in the caller's table with the
//! reason it cannot match. The replay fails when a record is neither
//! compared successfully nor listed, and when a listed record starts to
//! match (so the table cannot rot).

use std::collections::{HashMap, HashSet};

use infisical_fakevault::{Generation, RunningVault};
use reqwest::Method;
use serde_json::Value;

use super::recorded::{self, ADMIN_USER_CLIENT_ID, test_secret};
use super::{Res, client, start};

/// Whether a key's value is compared, not only its type: everything but
/// ids (the fake's differ for objects made during the replay) and times.
fn value_compared(key: &str) -> bool {
    let id = key == "id" || key == "_id" || key.ends_with("Id") || key == "workspace" || key == "createdBy";
    let time = key.ends_with("At") || key == "date" || key == "lastSecretModified";
    !(id || time)
}

/// Keys by which list items are paired, first present wins.
const NAME_KEYS: &[&str] = &["secretKey", "slug", "name", "secretPath", "importPath"];

const REDACTED: &str = "<redacted>";

/// The temporary identities the replay knows by actor name.
const TEMPORARY_ACTORS: &[(&str, &str)] = &[
    ("admin-mi", "oracle-admin-mi"),
    ("agent", "infisical-identity-mcp-probe-agent"),
];

/// Replays the recording in `fixture` against a fake of `generation` and
/// fails unless every record either matches or is listed in `listed`
/// (case name, reason) and still differs.
pub async fn replay(fixture: &str, generation: Generation, listed: &[(&str, &str)]) -> Res<()> {
    let recording = recorded::load(fixture)?;
    let vault = recorded::recorded_vault(&recording.dataset, generation)?;
    // The 2024 build limits every client address; the recorded current one has no limiter.
    let vault = start(vault.rate_limits(generation == Generation::Legacy)).await?;
    vault.allow_identity_management(ADMIN_USER_CLIENT_ID);
    let mut replay = Replay::new(vault, &recording.dataset)?;

    let mut records: Vec<&Value> = recording.records.iter().collect();
    // Sections are in sent order within themselves; `at` orders them overall.
    records.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));

    let listed: HashMap<&str, &str> = listed.iter().copied().collect();
    let cases: HashSet<&str> = records.iter().filter_map(|r| r["case"].as_str()).collect();
    let mut problems = Vec::new();
    for name in listed.keys() {
        if !cases.contains(name) {
            problems.push(format!("{name}: listed but not a recorded case"));
        }
    }

    let (mut compared, mut differing) = (0, 0);
    for record in records {
        let case = record["case"].as_str().unwrap_or_default();
        let diffs = replay.run(record).await?;
        match (diffs.is_empty(), listed.get(case)) {
            (true, None) => compared += 1,
            (false, Some(reason)) => {
                differing += 1;
                // CONFORMANCE_SHOW_LISTED=1 shows what a listed record still lacks.
                if std::env::var_os("CONFORMANCE_SHOW_LISTED").is_some() {
                    eprintln!("listed {case} ({reason}):\n    {}", diffs.join("\n    "));
                }
            }
            (true, Some(reason)) => problems.push(format!(
                "{case}: listed ({reason}) but now matches the recording: remove it from the table"
            )),
            (false, None) => problems.push(format!("{case}:\n    {}", diffs.join("\n    "))),
        }
    }
    eprintln!("conformance: {compared} compared, {differing} listed differences");
    replay.vault.shutdown().await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} records disagree with the recording:\n{}",
            problems.len(),
            problems.join("\n")
        )
        .into())
    }
}

/// The replay's state: the fake, who holds which token, and what the fake
/// calls the objects the recording created (its ids differ from the server's).
struct Replay {
    vault: RunningVault,
    http: reqwest::Client,
    /// Recorded id → the fake's id for the same object.
    ids: HashMap<String, String>,
    /// The data set's ids, which the fake is seeded with: never remapped.
    pinned: HashSet<String>,
    /// client id → access token, for this section.
    tokens: HashMap<String, String>,
    /// client id → the client secrets the fake handed out, oldest first, or
    /// the one the data set's identities were given.
    secrets: HashMap<String, Vec<String>>,
    /// Recorded client ids of identities made during the recording: their
    /// tokens come only from recorded logins and outlive a section.
    temporary: HashSet<String>,
    /// Actor name → recorded client id.
    actors: HashMap<String, String>,
    section: String,
    /// Tokens that outlive their section: revoked or expired on purpose.
    special: HashMap<&'static str, String>,
}

impl Replay {
    fn new(vault: RunningVault, dataset: &Value) -> Res<Self> {
        let mut actors = HashMap::new();
        let mut secrets = HashMap::new();
        for ident in dataset["identities"].as_array().into_iter().flatten() {
            let (name, id) = (ident["name"].as_str(), ident["clientId"].as_str());
            if let (Some(name), Some(id)) = (name, id) {
                actors.insert(name.to_owned(), id.to_owned());
                secrets.insert(id.to_owned(), vec![test_secret(id)]);
            }
        }
        actors.insert("admin-user".to_owned(), ADMIN_USER_CLIENT_ID.to_owned());
        secrets.insert(
            ADMIN_USER_CLIENT_ID.to_owned(),
            vec![test_secret(ADMIN_USER_CLIENT_ID)],
        );
        let made = dataset["temporaryObjects"]["identities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let temporary = made
            .iter()
            .filter_map(|i| i["clientId"].as_str().map(str::to_owned))
            .collect();
        for (actor, name) in TEMPORARY_ACTORS {
            let client_id = made
                .iter()
                .find(|i| i["name"] == *name && i["clientId"].is_string())
                .and_then(|i| i["clientId"].as_str());
            if let Some(client_id) = client_id {
                actors.insert((*actor).to_owned(), client_id.to_owned());
            }
        }
        let mut pinned = HashSet::new();
        for part in [
            "organization",
            "project",
            "folders",
            "secrets",
            "tags",
            "imports",
            "identities",
        ] {
            collect_ids(&dataset[part], &mut pinned);
        }
        Ok(Replay {
            pinned,
            vault,
            http: client()?,
            ids: HashMap::new(),
            tokens: HashMap::new(),
            secrets,
            temporary,
            actors,
            section: String::new(),
            special: HashMap::new(),
        })
    }

    /// Replays one record; the differences found, empty when it matches.
    async fn run(&mut self, record: &Value) -> Res<Vec<String>> {
        let case = record["case"].as_str().unwrap_or_default();
        let section = record["section"].as_str().unwrap_or_default();
        if section != self.section {
            // The recording logged the data set's identities in afresh for
            // each section.
            self.section = section.to_owned();
            let temporary: HashSet<String> = self.temporary.iter().map(|c| self.fake_id(c)).collect();
            self.tokens.retain(|client, _| temporary.contains(client));
        }
        self.before(case).await?;
        let fills = self.rate_limit_fill(record);
        let request = self.request(record).await?;
        for _ in 0..fills {
            self.send(&request).await?;
        }
        let (status, headers, body) = self.send(&request).await?;
        self.after(record, &request, &body);
        let mut recorded = record.clone();
        recorded["body"] = serde_json::from_str(&self.substitute(&record["body"].to_string()))?;
        Ok(compare_answer(&recorded, status, &headers, &body))
    }

    /// Events the recording produced by other means than a request.
    async fn before(&mut self, case: &str) -> Res<()> {
        if case == "expired-token" {
            // The recording waited out short-ttl-probe's 3 s TTL.
            let probe = self.client_of("short-ttl-probe");
            let token = self.tokens.get(&probe).cloned();
            self.vault.expire_tokens();
            self.tokens.clear();
            if let Some(token) = token {
                self.tokens.insert(probe, token);
            }
        }
        if case == "revoke-token" {
            // "a second warden-ro token, from a fresh login".
            let warden = self.client_of("warden-ro");
            let token = self.fresh_token(&warden).await?;
            self.special.insert("revoked", token);
        }
        Ok(())
    }

    /// Copies of the request the recording sent without recording them: a
    /// rate-limit burst's record says which request of the burst it was.
    fn rate_limit_fill(&self, record: &Value) -> usize {
        let note = record["note"].as_str().unwrap_or_default();
        let Some(n) = note
            .split("request #")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return 0;
        };
        let case = record["case"].as_str().unwrap_or_default();
        // rl-get-NN follow each other; ratelimit-hit starts a fresh window.
        let previous = match case {
            "rl-get-40" => 1,
            "rl-get-41" => 40,
            "rl-get-45" => 41,
            _ => 0,
        };
        n.saturating_sub(previous + 1)
    }

    fn client_of(&self, actor: &str) -> String {
        self.fake_id(self.actors.get(actor).map_or("", String::as_str))
    }

    /// The fake's id for a recorded id (the same when not learnt).
    fn fake_id(&self, recorded: &str) -> String {
        self.ids
            .get(recorded)
            .cloned()
            .unwrap_or_else(|| recorded.to_owned())
    }

    fn is_temporary(&self, client_id: &str) -> bool {
        self.temporary.iter().any(|c| self.fake_id(c) == client_id)
    }

    async fn login(&mut self, client_id: &str) -> Res<String> {
        let token = self.fresh_token(client_id).await?;
        self.tokens.insert(client_id.to_owned(), token.clone());
        Ok(token)
    }

    /// A login the recording made without recording it.
    async fn fresh_token(&self, client_id: &str) -> Res<String> {
        let secret = self
            .secrets
            .get(client_id)
            .and_then(|s| s.last().cloned())
            .unwrap_or_default();
        let body = serde_json::json!({"clientId": client_id, "clientSecret": secret});
        let answer = self
            .http
            .post(format!(
                "{}/api/v1/auth/universal-auth/login",
                self.vault.base_url()
            ))
            .json(&body)
            .send()
            .await?;
        let json: Value = answer.json().await?;
        Ok(json["accessToken"].as_str().unwrap_or_default().to_owned())
    }

    async fn token_of(&mut self, actor: &str) -> Res<Option<String>> {
        let client_id = self.client_of(actor);
        if let Some(token) = self.tokens.get(&client_id) {
            return Ok(Some(token.clone()));
        }
        if !self.secrets.contains_key(&client_id) || self.is_temporary(&client_id) {
            return Ok(None);
        }
        Ok(Some(self.login(&client_id).await?))
    }

    /// The recorded request with the fake's ids and live credentials.
    async fn request(&mut self, record: &Value) -> Res<Request> {
        let case = record["case"].as_str().unwrap_or_default();
        let actor = record["actor"].as_str().unwrap_or("none");
        let url = self.substitute(record["url"].as_str().unwrap_or_default());
        let recorded_auth = record["request_headers"]["authorization"].as_str();
        let authorization = match recorded_auth {
            Some(auth) if auth.contains(REDACTED) || auth.contains("<redacted:") => {
                let token = match actor {
                    "warden-ro (revoked token)" => self.special.get("revoked").cloned(),
                    "warden-ro (renewed token)" => self.special.get("renewed").cloned(),
                    "agent (2nd secret)" => self.special.get("second secret").cloned(),
                    "warden-ro (forged)" => self.token_of("warden-ro").await?.map(|t| forge(&t)),
                    "warden-ro (tampered)" => self.token_of("warden-ro").await?.map(|t| tamper(&t)),
                    _ => self.token_of(actor).await?,
                };
                token.map(|t| format!("Bearer {t}"))
            }
            other => other.map(str::to_owned),
        };
        let mut body = match &record["request_body"] {
            Value::Null => None,
            b => Some(serde_json::from_str::<Value>(&self.substitute(&b.to_string()))?),
        };
        if let Some(Value::Object(map)) = body.as_mut() {
            let client_id = map.get("clientId").and_then(Value::as_str).map(str::to_owned);
            for (key, value) in map.iter_mut() {
                if value != REDACTED {
                    continue;
                }
                *value = Value::String(match key.as_str() {
                    "clientSecret" if case.contains("wrong") => "not-the-secret".to_owned(),
                    "clientSecret" => {
                        let issued = client_id.as_ref().and_then(|c| self.secrets.get(c));
                        // The revoked one is the first the identity was given.
                        let secret = if case.contains("revoked-secret") {
                            issued.and_then(|s| s.first())
                        } else {
                            issued.and_then(|s| s.last())
                        };
                        secret
                            .cloned()
                            .unwrap_or_else(|| "unknown-client-secret".to_owned())
                    }
                    "accessToken" => match case {
                        "revoke-token" => self.special.get("revoked").cloned().unwrap_or_default(),
                        // Sections 14-18 renew and revoke the agent's token.
                        _ if section_number(&self.section) >= 14 => {
                            self.token_of("agent").await?.unwrap_or_default()
                        }
                        _ => self.token_of("warden-ro").await?.unwrap_or_default(),
                    },
                    _ => "a value the recording redacted".to_owned(),
                });
            }
        }
        let forwarded = record["request_headers"]["x-forwarded-for"]
            .as_str()
            .map(str::to_owned);
        Ok(Request {
            method: Method::from_bytes(record["method"].as_str().unwrap_or("GET").as_bytes())?,
            url: format!("{}{url}", self.vault.base_url()),
            authorization,
            forwarded,
            body,
        })
    }

    async fn send(&self, r: &Request) -> Res<(u16, reqwest::header::HeaderMap, Value)> {
        let mut req = self.http.request(r.method.clone(), &r.url);
        if let Some(auth) = &r.authorization {
            req = req.header("authorization", auth);
        }
        if let Some(xff) = &r.forwarded {
            req = req.header("x-forwarded-for", xff);
        }
        if let Some(body) = &r.body {
            req = req.json(body);
        }
        let answer = req.send().await?;
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let text = answer.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, headers, body))
    }

    /// Learns from an answer: the fake's ids for objects the recording
    /// created, client secrets handed out, tokens from logins.
    fn after(&mut self, record: &Value, request: &Request, body: &Value) {
        learn_ids(&record["body"], body, &mut self.ids);
        self.ids.retain(|recorded, _| !self.pinned.contains(recorded));
        // The client-secret route names the identity; its universal-auth
        // answer gave the client id.
        if let (Some(secret), Some(client_id)) = (
            body["clientSecret"].as_str(),
            self.client_of_identity_url(&request.url),
        ) {
            self.secrets.entry(client_id).or_default().push(secret.to_owned());
        }
        let token = body["accessToken"].as_str().map(str::to_owned);
        if request.url.ends_with("/api/v1/auth/universal-auth/login") {
            let client_id = request.body.as_ref().and_then(|b| b["clientId"].as_str());
            if let (Some(client_id), Some(token)) = (client_id, token) {
                if record["case"] == "clean-login-second-secret" {
                    self.special.insert("second secret", token);
                } else {
                    self.tokens.insert(client_id.to_owned(), token);
                }
            }
        } else if let (true, Some(token)) = (request.url.ends_with("/api/v1/auth/token/renew"), token) {
            self.special.insert("renewed", token);
        }
    }

    fn client_of_identity_url(&self, url: &str) -> Option<String> {
        let rest = url.split("/universal-auth/identities/").nth(1)?;
        let identity = rest.split('/').next()?;
        self.ids.get(&format!("ua-client-of:{identity}")).cloned()
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (recorded, fake) in &self.ids {
            if !recorded.contains(':') {
                out = out.replace(recorded.as_str(), fake);
            }
        }
        out
    }
}

fn section_number(section: &str) -> u32 {
    section
        .split('.')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

struct Request {
    method: Method,
    url: String,
    authorization: Option<String>,
    forwarded: Option<String>,
    body: Option<Value>,
}

/// The same JWT with another signature.
fn forge(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    if let Some(sig) = parts.get_mut(2) {
        *sig = sig.chars().rev().collect();
    }
    parts.join(".")
}

/// The same JWT with a changed payload and the original signature.
fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    if let Some(payload) = parts.get_mut(1) {
        payload.insert_str(4, "ZZ");
    }
    parts.join(".")
}

/// Every id-shaped string in `v`.
fn collect_ids(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) if is_uuid(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| collect_ids(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_ids(i, out)),
        _ => {}
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.bytes().filter(|b| *b == b'-').count() == 4
}

/// Pairs ids found at the same place (outside lists) of the recorded and the
/// fake answer. A universal-auth answer also ties its identity to its client.
fn learn_ids(recorded: &Value, fake: &Value, ids: &mut HashMap<String, String>) {
    if let (Value::Object(r), Value::Object(f)) = (recorded, fake) {
        for (key, rv) in r {
            let Some(fv) = f.get(key) else { continue };
            match (rv, fv) {
                (Value::String(a), Value::String(b))
                    if (key == "id" || key.ends_with("Id")) && is_uuid(a) && a != b =>
                {
                    ids.insert(a.clone(), b.clone());
                }
                (Value::Object(_), Value::Object(_)) => learn_ids(rv, fv, ids),
                _ => {}
            }
        }
        let identity = f.get("identityId").and_then(Value::as_str);
        if let (Some(identity), Some(client)) = (identity, f.get("clientId").and_then(Value::as_str)) {
            ids.insert(format!("ua-client-of:{identity}"), client.to_owned());
        }
    }
}

fn compare_answer(
    record: &Value,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let want = record["status"].as_u64().unwrap_or_default();
    if u64::from(status) != want {
        diffs.push(format!("status: recorded {want}, fake {status}"));
    }
    // Which limit counted the request (none: refused before the limiter);
    // `remaining` and `reset` depend on the recording's other traffic.
    for name in ["x-ratelimit-limit", "retry-after"] {
        let recorded = record["headers"][name].as_str();
        let fake = headers.get(name).and_then(|v| v.to_str().ok());
        let same = match name {
            "retry-after" => recorded.is_some() == fake.is_some(),
            _ => recorded == fake,
        };
        if !same {
            diffs.push(format!("header {name}: recorded {recorded:?}, fake {fake:?}"));
        }
    }
    compare("body", None, &record["body"], body, &mut diffs);
    if !diffs.is_empty() {
        diffs.push(format!("fake body: {}", truncate(&body.to_string(), 600)));
    }
    diffs
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn compare(path: &str, key: Option<&str>, recorded: &Value, fake: &Value, out: &mut Vec<String>) {
    if key == Some("message") {
        if recorded != fake {
            out.push(format!("{path}: recorded {recorded}, fake {fake}"));
        }
        return;
    }
    match (recorded, fake) {
        (Value::Object(r), Value::Object(f)) => {
            for k in r.keys().filter(|k| !f.contains_key(*k)) {
                out.push(format!("{path}.{k}: missing in the fake"));
            }
            for k in f.keys().filter(|k| !r.contains_key(*k)) {
                out.push(format!("{path}.{k}: not in the recording"));
            }
            for (k, rv) in r {
                if let Some(fv) = f.get(k) {
                    compare(&format!("{path}.{k}"), Some(k), rv, fv, out);
                }
            }
        }
        (Value::Array(r), Value::Array(f)) => {
            if r.len() != f.len() {
                out.push(format!(
                    "{path}: {} items recorded, {} in the fake",
                    r.len(),
                    f.len()
                ));
            }
            for (i, (rv, fv)) in pair(r, f, path, out) {
                compare(&format!("{path}[{i}]"), None, rv, fv, out);
            }
        }
        (Value::String(r), _) if r == REDACTED => {}
        (r, f) if type_name(r) != type_name(f) => {
            out.push(format!(
                "{path}: recorded {} {r}, fake {} {f}",
                type_name(r),
                type_name(f)
            ));
        }
        (r, f) => {
            let compared = key.is_some_and(value_compared) || (key == Some("workspace") && r == "");
            if compared && r != f {
                out.push(format!("{path}: recorded {r}, fake {f}"));
            }
        }
    }
}

/// List items paired by name when they have one, else by position.
fn pair<'a>(
    recorded: &'a [Value],
    fake: &'a [Value],
    path: &str,
    out: &mut Vec<String>,
) -> Vec<(String, (&'a Value, &'a Value))> {
    let name_key = NAME_KEYS
        .iter()
        .find(|k| recorded.iter().chain(fake).all(|v| v[**k].is_string()) && !recorded.is_empty());
    let Some(k) = name_key else {
        return recorded
            .iter()
            .zip(fake)
            .enumerate()
            .map(|(i, p)| (i.to_string(), p))
            .collect();
    };
    let mut pairs = Vec::new();
    for r in recorded {
        let name = r[*k].as_str().unwrap_or_default();
        match fake.iter().find(|f| f[*k] == r[*k]) {
            Some(f) => pairs.push((format!("{k}={name}"), (r, f))),
            None => out.push(format!("{path}: no item with {k}={name} in the fake")),
        }
    }
    for f in fake {
        if !recorded.iter().any(|r| r[*k] == f[*k]) {
            out.push(format!("{path}: the fake has an extra item {k}={}", f[*k]));
        }
    }
    pairs
}
