//! `[[watches]]` in the configuration file: alert rules `logsleuth watch` evaluates when no
//! `--rule` is given (docs/watches.md).
//!
//! ```toml
//! [[watches]]
//! name = "errors"
//! source = "web"                       # a [sources.NAME]; default: the command line's source
//! rule = "status >= 500 > 10 per 1m"   # the rule without its name
//! for = "2m"                           # optional; same as `for 2m` in the rule
//! severity = "critical"                # Alertmanager's severity label (default warning)
//! labels = { team = "web" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sources::watch::{Watch, parse_condition};

/// One `[[watches]]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// The rule's name (Alertmanager's `alertname`).
    pub name: String,
    /// The named source it watches; none: the source of the command line (or `default_source`).
    pub source: Option<String>,
    /// The condition: `KQL > N per DUR` and the other forms of docs/watches.md.
    pub rule: String,
    /// How long the condition must hold before firing (overrides the rule's `for`).
    #[serde(rename = "for")]
    pub hold: Option<String>,
    /// Alertmanager `severity` label (default `warning`).
    pub severity: Option<String>,
    /// More Alertmanager labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl WatchConfig {
    /// The watch this table describes, or what is wrong with it (the rule's error has the
    /// caret under the mistake).
    pub fn watch(&self) -> Result<Watch, String> {
        let mut rule = parse_condition(&self.name, &self.rule).map_err(|e| e.message)?;
        if let Some(hold) = &self.hold {
            rule.hold = crate::time::parse_duration(hold).map_err(|e| format!("for: {e}"))?;
        }
        let mut watch = Watch::new(rule);
        if let Some(s) = &self.severity {
            watch.severity = s.clone();
        }
        watch.labels = self.labels.clone();
        Ok(watch)
    }
}

/// Every problem of the `[[watches]]` tables: (index, key, message).
pub fn problems(watches: &[WatchConfig], sources: &dyn Fn(&str) -> bool) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, w) in watches.iter().enumerate() {
        if !seen.insert(w.name.trim().to_string()) {
            out.push((i, "name", format!("watch '{}' is defined twice", w.name)));
        }
        if let Some(src) = &w.source
            && !sources(src)
        {
            out.push((i, "source", format!("no source named '{src}'")));
        }
        if let Err(e) = w.watch() {
            let key = if e.starts_with("for:") { "for" } else if e.contains("watch name") { "name" } else { "rule" };
            out.push((i, key, e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_becomes_a_watch_and_bad_ones_say_where() {
        let w: WatchConfig = toml::from_str(
            "name = \"errors\"\nrule = \"status >= 500 > 10 per 1m\"\nfor = \"30s\"\nseverity = \"critical\"\nlabels = { team = \"web\" }\n",
        )
        .unwrap();
        let watch = w.watch().unwrap();
        assert_eq!(watch.rule.text(), "errors: status >= 500 > 10 per 1m for 30s");
        assert_eq!((watch.severity.as_str(), watch.labels["team"].as_str()), ("critical", "web"));
        let bad = WatchConfig { name: "errors".into(), rule: "status >= 500 > 10 per soon".into(), ..Default::default() };
        let twice = vec![bad.clone(), WatchConfig { source: Some("nope".into()), ..bad }];
        let p = problems(&twice, &|s| s == "web");
        assert!(p.iter().any(|(i, k, m)| (*i, *k) == (0, "rule") && m.contains("not a duration")), "{p:?}");
        assert!(p.iter().any(|(i, k, _)| (*i, *k) == (1, "name")), "{p:?}");
        assert!(p.iter().any(|(i, k, _)| (*i, *k) == (1, "source")), "{p:?}");
    }
}
