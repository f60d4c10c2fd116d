//! `logsleuth config check [--config PATH]`: validates a configuration file, prints every
//! finding on stderr (`file:line:col: error: key: message`) and, when the file is usable, a
//! summary of it on stdout without any secret. Exit 0 when valid (warnings allowed), 2 when
//! not. Secret commands are not run by the check (they may prompt or have side effects).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::check::{CheckReport, check_file};
use super::secrets::AuthPlan;
use super::{Config, SourceType};
use crate::cli::CliError;
use crate::sources::http::HttpConfig;

/// Runs `config check`.
pub fn run(explicit: Option<&Path>) -> Result<(), CliError> {
    let path: PathBuf = match explicit {
        Some(p) => p.to_path_buf(),
        None => super::default_path().ok_or_else(|| CliError::usage("no configuration directory is known; give --config PATH"))?,
    };
    if explicit.is_none() && !path.exists() {
        return Err(CliError::usage(format!("no configuration file at {} (give --config PATH)", path.display())));
    }
    let report = check_file(&path);
    let mut err = std::io::stderr().lock();
    for d in &report.diagnostics {
        let _ = writeln!(err, "{}", d.render(&path));
    }
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = report.diagnostics.len() - errors;
    if errors > 0 {
        let plural = |n: usize, w: &str| {
            if n == 1 { format!("1 {w}") } else { format!("{n} {w}s") }
        };
        return Err(CliError::usage(format!(
            "{} is invalid: {}{}",
            path.display(),
            plural(errors, "error"),
            if warnings > 0 { format!(", {}", plural(warnings, "warning")) } else { String::new() }
        )));
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(summary(&path, &report, warnings).as_bytes());
    Ok(())
}

/// The summary of a valid file: the defaults and one line per source, never a secret.
pub fn summary(path: &Path, report: &CheckReport, warnings: usize) -> String {
    let Some(config) = &report.config else {
        return String::new();
    };
    let mut s = format!("{}: valid", path.display());
    if warnings > 0 {
        s.push_str(&format!(" ({warnings} warning{})", if warnings == 1 { "" } else { "s" }));
    }
    s.push('\n');
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    s.push_str(&format!("default source: {}\n", or_none(&config.default_source)));
    s.push_str(&format!("theme: {}\n", config.theme.clone().unwrap_or_else(|| "(default)".into())));
    s.push_str(&format!("default range: {}\n", config.default_range.clone().unwrap_or_else(|| "(default)".into())));
    s.push_str(&format!(
        "key overrides: {} (parsed and checked; not yet applied by the UI)\n",
        if config.keys.is_empty() {
            "none".to_string()
        } else {
            config.keys.iter().map(|(a, k)| format!("{a}={k}")).collect::<Vec<_>>().join(", ")
        }
    ));
    s.push_str(&format!("saved searches: {}\n", config.saved_searches.len()));
    s.push_str(&format!("sources: {}\n", config.sources.len()));
    s.push_str(&sources_table(config));
    s
}

fn sources_table(config: &Config) -> String {
    let mut out = String::new();
    let width = config.sources.keys().map(|n| n.chars().count()).max().unwrap_or(0);
    for (name, src) in &config.sources {
        let mut parts = vec![format!("{:<13}", src.kind.name())];
        match src.kind {
            SourceType::Local => parts.push(src.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" ")),
            SourceType::CloudWatch => {
                parts.push(src.groups.join(" "));
                if let Some(r) = &src.region {
                    parts.push(format!("region {r}"));
                }
            }
            _ => {
                // Never the URL as written: it may carry user:password.
                if let Some(url) = src.url.as_deref().and_then(|u| HttpConfig::new(u).ok()) {
                    parts.push(url.display());
                }
            }
        }
        if let Some(sel) = &src.selector {
            parts.push(format!("selector {sel}"));
        }
        if let Some(index) = &src.index {
            parts.push(format!("index {index}"));
        }
        if let Some(t) = &src.tenant {
            parts.push(format!("tenant {t}"));
        }
        if let Ok(plan) = AuthPlan::of(src)
            && plan != AuthPlan::None
        {
            parts.push(format!("auth: {}", plan.describe()));
        }
        if src.insecure {
            parts.push("TLS NOT VERIFIED".into());
        }
        let marker = if config.default_source.as_deref() == Some(name) { "*" } else { " " };
        out.push_str(&format!(" {marker}{name:<width$}  {}\n", crate::text::sanitize(&parts.join("  "))));
    }
    out
}
