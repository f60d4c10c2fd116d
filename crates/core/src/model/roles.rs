//! Field roles and hit counts: what every backend reports in the same shape.

/// Which field plays which role, so charts and default columns work across schemas
/// (`status` vs `response` vs `http.response.status_code`). Also the config file's
/// `[sources.NAME.roles]` table, hence no unknown keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRoles {
    /// HTTP status code.
    pub status: Option<String>,
    /// Client IP address.
    pub client_ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Log level / severity.
    pub level: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// Request path / URL.
    pub path: Option<String>,
}

/// The one dictionary of field names per role, most specific first: ECS
/// (`http.response.status_code`), Kibana's sample web logs (`response`, `clientip`, `agent`),
/// nginx/apache and common shippers' names, then Loki's `detected_level`. Local files (JSON,
/// logfmt), Loki and Elasticsearch all guess roles with it ([`FieldRoles::guess`]); it is the
/// union of the three lists each backend had, in Elasticsearch's order (ECS first, as Kibana
/// does).
pub const ROLE_NAMES: RoleNames = RoleNames {
    status: &[
        "http.response.status_code",
        "status",
        "response",
        "status_code",
        "http_status",
        "statusCode",
        "http.status_code",
        "http.status",
    ],
    client_ip: &[
        "client.ip",
        "source.ip",
        "clientip",
        "client_ip",
        "remote_addr",
        "remote_ip",
        "client.address",
        "source.address",
        "client_address",
        "ip",
    ],
    user_agent: &["user_agent.original", "agent", "user_agent", "http_user_agent", "useragent", "userAgent", "http.user_agent"],
    level: &["log.level", "level", "severity", "loglevel", "log_level", "levelname", "lvl", "severity_text", "detected_level"],
    method: &["http.request.method", "method", "request_method", "http_method", "verb"],
    path: &["url.path", "url.original", "path", "request", "request_uri", "uri", "url"],
};

/// Candidate field names for each role, most specific first ([`ROLE_NAMES`]).
#[derive(Debug, Clone, Copy)]
pub struct RoleNames {
    /// HTTP status code.
    pub status: &'static [&'static str],
    /// Client IP address.
    pub client_ip: &'static [&'static str],
    /// User agent.
    pub user_agent: &'static [&'static str],
    /// Log level / severity.
    pub level: &'static [&'static str],
    /// HTTP method.
    pub method: &'static [&'static str],
    /// Request path / URL.
    pub path: &'static [&'static str],
}

impl FieldRoles {
    /// Guesses every role from the fields present (`has(name)`): for each role the first name
    /// of [`ROLE_NAMES`] that is present.
    pub fn guess(has: impl Fn(&str) -> bool) -> FieldRoles {
        let pick = |names: &[&str]| names.iter().find(|n| has(n)).map(|n| n.to_string());
        FieldRoles {
            status: pick(ROLE_NAMES.status),
            client_ip: pick(ROLE_NAMES.client_ip),
            user_agent: pick(ROLE_NAMES.user_agent),
            level: pick(ROLE_NAMES.level),
            method: pick(ROLE_NAMES.method),
            path: pick(ROLE_NAMES.path),
        }
    }

    /// Whether no role is set.
    pub fn is_empty(&self) -> bool {
        *self == FieldRoles::default()
    }

    /// These roles with every role set in `over` replacing the same role here.
    pub fn overridden_by(mut self, over: FieldRoles) -> FieldRoles {
        for (slot, value) in [
            (&mut self.status, over.status),
            (&mut self.client_ip, over.client_ip),
            (&mut self.user_agent, over.user_agent),
            (&mut self.level, over.level),
            (&mut self.method, over.method),
            (&mut self.path, over.path),
        ] {
            if value.is_some() {
                *slot = value;
            }
        }
        self
    }
}

/// How many events match: exact, or a lower bound when the server stopped counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum HitCount {
    /// Exactly this many.
    Exact(u64),
    /// At least this many (ES `"relation": "gte"`).
    AtLeast(u64),
}

impl std::fmt::Display for HitCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HitCount::Exact(n) => write!(f, "{n}"),
            HitCount::AtLeast(n) => write!(f, "≥ {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_guessed_from_one_dictionary_most_specific_first() {
        let names = ["status", "http.response.status_code", "clientip", "agent", "lvl", "verb", "request"];
        let roles = FieldRoles::guess(|n| names.contains(&n));
        assert_eq!(roles.status.as_deref(), Some("http.response.status_code"));
        assert_eq!(roles.client_ip.as_deref(), Some("clientip"));
        assert_eq!(roles.user_agent.as_deref(), Some("agent"));
        assert_eq!(roles.level.as_deref(), Some("lvl"));
        assert_eq!(roles.method.as_deref(), Some("verb"));
        assert_eq!(roles.path.as_deref(), Some("request"));
        assert!(FieldRoles::guess(|_| false).is_empty());
    }

    #[test]
    fn roles_set_in_the_override_win_role_by_role() {
        let base = FieldRoles { status: Some("response".into()), level: Some("lvl".into()), ..FieldRoles::default() };
        let over = FieldRoles { status: Some("http.response.status_code".into()), ..FieldRoles::default() };
        let merged = base.overridden_by(over);
        assert_eq!(merged.status.as_deref(), Some("http.response.status_code"));
        assert_eq!(merged.level.as_deref(), Some("lvl"));
        assert!(!merged.is_empty());
        assert!(FieldRoles::default().is_empty());
    }
}
