//! The `[integrations]` settings: the connected helpdesks and the outbox's retry schedule.
//! Secrets are held in [`Secret`], which never prints or serialises its value.

use std::collections::BTreeMap;
use std::time::Duration;

use kindly_core::integration::{Backoff, Provider};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// A webhook secret or API credential. Debug output and serialisation (e.g. logging the
/// settings) show `[redacted]`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: &str) -> Self {
        Self(SecretString::from(value))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrationSettings {
    /// Signed deliveries whose timestamp is further than this from now are refused (replays).
    pub replay_window_secs: u64,
    pub outbox: OutboxSettings,
    /// The connected helpdesks by name: `POST /v1/webhooks/{name}`.
    pub connections: BTreeMap<String, ConnectionSettings>,
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        Self { replay_window_secs: 300, outbox: OutboxSettings::default(), connections: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    /// Attempts before an action goes to the dead letters.
    pub max_attempts: u32,
    /// The first retry waits about this long; each next one twice as long (with jitter).
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A helpdesk call taking longer counts as a failed attempt.
    pub request_timeout_ms: u64,
    /// How often the outbox looks for due actions it was not told about.
    pub poll_interval_ms: u64,
    /// Actions sent at once.
    pub concurrency: usize,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay_ms: 2_000,
            max_delay_ms: 600_000,
            request_timeout_ms: 10_000,
            poll_interval_ms: 1_000,
            concurrency: 4,
        }
    }
}

impl OutboxSettings {
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(self.base_delay_ms),
            max: Duration::from_millis(self.max_delay_ms),
        }
    }
}

/// One connected helpdesk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    pub provider: Provider,
    /// Verifies webhooks: the signing secret (Zendesk, Intercom's client secret, Zammad,
    /// Chatwoot, generic), or for Freshdesk the token its webhook sends in `X-Kindly-Token`.
    pub secret: Secret,
    /// The helpdesk's API root (e.g. `https://acme.zendesk.com`); for `generic`, the callback URL.
    pub base_url: String,
    /// Zendesk: the email of the agent the API token belongs to.
    #[serde(default)]
    pub api_user: Option<String>,
    /// The API token (Zendesk, Intercom, Zammad, Chatwoot) or API key (Freshdesk).
    #[serde(default)]
    pub api_token: Option<Secret>,
    /// Chatwoot: the account id in its API paths.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Intercom: the admin who authors Kindly's replies and notes.
    #[serde(default)]
    pub admin_id: Option<String>,
    /// Where handed-off tickets go: a group id (Zendesk, Freshdesk), group name (Zammad) or team
    /// id (Intercom, Chatwoot).
    #[serde(default)]
    pub handoff_group: Option<String>,
    /// Tags added to handed-off tickets, besides one per handoff reason.
    #[serde(default = "default_tags")]
    pub handoff_tags: Vec<String>,
    /// Who the customer's acknowledgement says will help.
    #[serde(default = "default_team")]
    pub team_name: String,
}

fn default_tags() -> Vec<String> {
    vec!["kindly-handoff".into()]
}

fn default_team() -> String {
    "our support team".into()
}

impl IntegrationSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.outbox.max_attempts == 0 || self.outbox.concurrency == 0 {
            return Err("integrations.outbox.max_attempts and concurrency must be at least 1".into());
        }
        for (name, c) in &self.connections {
            let field = |f: &str| format!("integrations.connections.{name}.{f}");
            if !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
                return Err(format!("integrations.connections.{name}: use letters, digits, - and _"));
            }
            if c.secret.expose().is_empty() {
                return Err(format!("{} must not be empty", field("secret")));
            }
            if reqwest::Url::parse(&c.base_url).is_err() {
                return Err(format!("{} is not a URL", field("base_url")));
            }
            let needs: &[(&str, bool)] = match c.provider {
                Provider::Zendesk => {
                    &[("api_user", c.api_user.is_some()), ("api_token", c.api_token.is_some())]
                }
                Provider::Freshdesk | Provider::Zammad => &[("api_token", c.api_token.is_some())],
                Provider::Intercom => {
                    &[("api_token", c.api_token.is_some()), ("admin_id", c.admin_id.is_some())]
                }
                Provider::Chatwoot => {
                    &[("api_token", c.api_token.is_some()), ("account_id", c.account_id.is_some())]
                }
                Provider::Generic => &[],
            };
            if let Some((missing, _)) = needs.iter().find(|(_, present)| !present) {
                return Err(format!("{} is required for {}", field(missing), c.provider.as_str()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c: ConnectionSettings = toml::from_str(
            "provider = \"zendesk\"\nsecret = \"s3cr3t\"\nbase_url = \"https://acme.zendesk.com\"\n\
             api_user = \"bot@acme.example\"\napi_token = \"t0k3n\"\n",
        )
        .unwrap();
        let shown = format!("{c:?} {}", serde_json::to_string(&c).unwrap());
        assert!(!shown.contains("s3cr3t") && !shown.contains("t0k3n"), "{shown}");
        assert_eq!(c.api_token.unwrap().expose(), "t0k3n");
    }

    #[test]
    fn missing_credentials_are_named() {
        let mut s = IntegrationSettings::default();
        let c: ConnectionSettings =
            toml::from_str("provider = \"chatwoot\"\nsecret = \"x\"\nbase_url = \"https://app.chatwoot.com\"\napi_token = \"t\"\n")
                .unwrap();
        s.connections.insert("cw".into(), c);
        assert!(s.validate().unwrap_err().contains("integrations.connections.cw.account_id"));
    }
}
