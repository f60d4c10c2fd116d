//! A watch as the rule Loki's ruler would run itself: a rule group (YAML) whose `expr` is the
//! LogQL metric expression of the watch, built on the log queries the Loki source makes from
//! the KQL ([`crate::loki::LokiSource::log_query`]), so a watch proven in the terminal becomes
//! a permanent alert.
//!
//! Counts are `sum(count_over_time(<log query> [WINDOW]))`, `or vector(0)` so that a window
//! without any line is 0 rather than no sample at all (else an absence rule could never fire).

use crate::loki::logql::duration;

use super::rule::number_text;
use super::{Measure, Watch};

/// The metric count of a log query over `window`, 0 when nothing matched.
fn count(log_query: &str, window: i64) -> String {
    format!("(sum(count_over_time({log_query} [{}])) or vector(0))", duration(window))
}

/// The ruler's `expr` for a watch: `log_query` is the LogQL of the rule's KQL and `of_query`
/// that of a ratio's denominator.
pub fn expression(watch: &Watch, log_query: &str, of_query: Option<&str>) -> String {
    let r = &watch.rule;
    let value = match &r.measure {
        Measure::Count => count(log_query, r.window),
        Measure::Rate { unit } => {
            format!("{} * {} / {}", count(log_query, r.window), number_text(*unit as f64 / 1e9), number_text(r.window as f64 / 1e9))
        }
        Measure::Ratio { .. } => {
            // A denominator of 0 gives no sample (division by an empty vector), as the
            // terminal's watch gives no value.
            format!("100 * {} / sum(count_over_time({} [{}]))", count(log_query, r.window), of_query.unwrap_or(log_query), duration(r.window))
        }
    };
    format!("{value} {} {}", r.op.symbol(), number_text(r.threshold))
}

/// A YAML double-quoted scalar (JSON strings are valid ones).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// One rule group of the Loki ruler (`/loki/api/v1/rules/<namespace>` takes it as is):
/// `rules` are `(watch, expr, command)`.
pub fn rule_group(group: &str, rules: &[(Watch, String, String)]) -> String {
    let mut out = format!("groups:\n  - name: {}\n    rules:\n", q(group));
    for (w, expr, command) in rules {
        out.push_str(&format!("      - alert: {}\n        expr: {}\n", q(&w.rule.name), q(expr)));
        if w.rule.hold > 0 {
            out.push_str(&format!("        for: {}\n", logsleuth_core::time::format_duration(w.rule.hold)));
        }
        out.push_str("        labels:\n");
        out.push_str(&format!("          severity: {}\n", q(&w.severity)));
        for (k, v) in &w.labels {
            if k != "severity" && k != "alertname" {
                out.push_str(&format!("          {}: {}\n", q(k), q(v)));
            }
        }
        out.push_str("        annotations:\n");
        out.push_str(&format!("          summary: {}\n", q(&format!("{} ({{{{ $value }}}})", w.rule.text()))));
        out.push_str(&format!("          kql: {}\n", q(&w.rule.kql)));
        out.push_str(&format!("          command: {}\n", q(command)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::parse_rule;

    const NGINX: &str = r#"{job="nginx"} | pattern `<remote_addr> - <_> [<_>] "<method> <path> <_>" <status> <_>` | status >= 500"#;

    #[test]
    fn expressions_per_kind() {
        let w = Watch::new(parse_rule("errors: status >= 500 > 10 per 1m").unwrap());
        assert_eq!(expression(&w, NGINX, None), format!("(sum(count_over_time({NGINX} [60s])) or vector(0)) > 10"));
        let w = Watch::new(parse_rule("flood: * > 100/s per 1m").unwrap());
        assert_eq!(expression(&w, "{job=\"nginx\"}", None), "(sum(count_over_time({job=\"nginx\"} [60s])) or vector(0)) * 1 / 60 > 100");
        let w = Watch::new(parse_rule("ratio: status >= 500 > 5% of * per 5m").unwrap());
        assert_eq!(
            expression(&w, NGINX, Some("{job=\"nginx\"}")),
            format!("100 * (sum(count_over_time({NGINX} [300s])) or vector(0)) / sum(count_over_time({{job=\"nginx\"}} [300s])) > 5")
        );
        let w = Watch::new(parse_rule("silent: * < 1 per 10m").unwrap());
        assert_eq!(expression(&w, "{job=\"nginx\"}", None), "(sum(count_over_time({job=\"nginx\"} [600s])) or vector(0)) < 1");
    }

    #[test]
    fn a_rule_group_is_yaml_with_quoted_scalars() {
        let mut w = Watch::new(parse_rule("errors: status >= 500 > 10 per 1m for 2m").unwrap());
        w.labels.insert("team".into(), "web".into());
        let expr = expression(&w, NGINX, None);
        let y = rule_group("logsleuth", &[(w, expr.clone(), "logsleuth query --loki http://loki:3100".into())]);
        assert!(y.starts_with("groups:\n  - name: \"logsleuth\"\n    rules:\n      - alert: \"errors\"\n"), "{y}");
        assert!(y.contains(&format!("        expr: {}\n", serde_json::to_string(&expr).unwrap())), "{y}");
        assert!(y.contains("        for: 2m\n") && y.contains("          \"team\": \"web\"\n"), "{y}");
        assert!(y.contains("summary: \"errors: status >= 500 > 10 per 1m for 2m ({{ $value }})\""), "{y}");
    }
}
