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

impl FieldRoles {
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
