//! One description of a source: what the command line's flags, a configuration entry and a
//! workspace file become, and what [`crate`] opens. It never holds credentials, only the
//! names of the environment variables that do.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How to open a pane's source: the non-secret part of the command line's source flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A named source of the configuration file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The bundled demo data (with its generator of live lines).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// Log files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PathBuf>,
    /// Forced log format (`nginx`, `json`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Loki base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loki: Option<String>,
    /// Loki stream selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Loki tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Loki parser stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parser: Option<String>,
    /// Elasticsearch base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<String>,
    /// Elasticsearch index pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Elasticsearch time field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_field: Option<String>,
    /// Field roles, `ROLE=FIELD`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Basic-auth user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Environment variable holding the bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Environment variable holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification (as `--insecure`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

impl SourceSpec {
    /// The bundled demo.
    pub fn demo() -> SourceSpec {
        SourceSpec { demo: true, ..SourceSpec::default() }
    }

    /// Parses what a user types in the pane source picker: `loki URL [SELECTOR]`,
    /// `es URL [INDEX]`, or file paths separated by spaces.
    pub fn parse_typed(text: &str) -> Result<SourceSpec, String> {
        let text = text.trim();
        let mut words = text.splitn(3, char::is_whitespace);
        let first = words.next().unwrap_or("");
        match first {
            "loki" => {
                let url = words.next().ok_or("loki needs a URL: loki URL {selector}")?;
                let selector = words.next().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                Ok(SourceSpec { loki: Some(url.to_string()), selector, ..SourceSpec::default() })
            }
            "es" | "elasticsearch" | "opensearch" => {
                let url = words.next().ok_or("es needs a URL: es URL [index]")?;
                let index = words.next().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                Ok(SourceSpec { es: Some(url.to_string()), index, ..SourceSpec::default() })
            }
            "" => Err("type a file path, loki URL {selector} or es URL [index]".into()),
            _ => Ok(SourceSpec { files: text.split_whitespace().map(PathBuf::from).collect(), ..SourceSpec::default() }),
        }
    }

    /// A short description for titles and reports (never credentials).
    pub fn label(&self) -> String {
        if let Some(name) = &self.source {
            return name.clone();
        }
        if self.demo {
            return "demo".into();
        }
        if let Some(url) = &self.loki {
            return format!("loki {} {}", strip_userinfo(url), self.selector.as_deref().unwrap_or(""))
                .trim_end()
                .to_string();
        }
        if let Some(url) = &self.es {
            return format!("es {} {}", strip_userinfo(url), self.index.as_deref().unwrap_or("")).trim_end().to_string();
        }
        self.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" ")
    }
}

/// The URL without `user:password@`: a workspace never stores credentials (a source that
/// needs them is opened by its configuration name).
pub fn strip_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => crate::http::redact_url_text(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_sources_parse_like_the_flags() {
        let s = SourceSpec::parse_typed("loki http://localhost:3100 {job=\"nginx\", env=\"prod\"}").unwrap();
        assert_eq!(s.loki.as_deref(), Some("http://localhost:3100"));
        assert_eq!(s.selector.as_deref(), Some("{job=\"nginx\", env=\"prod\"}"));
        let s = SourceSpec::parse_typed("es https://es:9200 logs-*").unwrap();
        assert_eq!((s.es.as_deref(), s.index.as_deref()), (Some("https://es:9200"), Some("logs-*")));
        let s = SourceSpec::parse_typed("/var/log/nginx/access.log /var/log/nginx/error.log").unwrap();
        assert_eq!(s.files.len(), 2);
        assert!(SourceSpec::parse_typed("  ").is_err());
        assert!(SourceSpec::parse_typed("loki").is_err());
    }
}
