//! Credentials of a named source: from the file itself, an environment variable or a command.
//! Values are [`Secret`]s from the moment they are read; no message here ever contains one,
//! nor the output of a secret command (which may hold a secret even when it fails).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::SourceConfig;
use crate::sources::http::{Auth, Secret};

/// How long a `*_command` may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Where one secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the config file.
    Literal(Secret),
    /// An environment variable.
    Env(String),
    /// A shell command whose trimmed stdout is the secret.
    Command(String),
}

impl SecretSource {
    /// Picks the one source among `<key>`, `<key>_env`, `<key>_command`; `Ok(None)` when none
    /// is given, an error naming the keys when more than one is.
    fn pick(key: &str, literal: &Option<Secret>, env: &Option<String>, command: &Option<String>) -> Result<Option<SecretSource>, String> {
        let given = [literal.is_some(), env.is_some(), command.is_some()].iter().filter(|g| **g).count();
        if given > 1 {
            return Err(format!("give only one of {key}, {key}_env and {key}_command"));
        }
        Ok(literal
            .clone()
            .map(SecretSource::Literal)
            .or_else(|| env.clone().map(SecretSource::Env))
            .or_else(|| command.clone().map(SecretSource::Command)))
    }

    /// Reads the secret: the environment variable or the command's output. `key` names the
    /// setting in messages (`password`, `token`, `api_key`).
    pub fn resolve(&self, key: &str) -> Result<Secret, String> {
        match self {
            SecretSource::Literal(s) if s.expose().is_empty() => Err(format!("{key} is empty")),
            SecretSource::Literal(s) => Ok(s.clone()),
            SecretSource::Env(var) => Secret::from_env(var).map_err(|e| format!("{key}_env: {e}")),
            SecretSource::Command(cmd) => run_secret_command(cmd, COMMAND_TIMEOUT).map_err(|e| format!("{key}_command {e}")),
        }
    }

    /// Where the secret comes from, for summaries (never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Literal(_) => "in the config file".into(),
            SecretSource::Env(var) => format!("from ${var}"),
            SecretSource::Command(_) => "from a command".into(),
        }
    }

    /// A warning about the secret that can be known without reading it: an environment
    /// variable not set (it may be set when logsleuth actually runs, hence not an error).
    pub fn warning(&self) -> Option<String> {
        match self {
            SecretSource::Env(var) => Secret::from_env(var).err(),
            _ => None,
        }
    }
}

/// The authentication a source entry asks for, with its secret not yet read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthPlan {
    /// No credentials in the entry.
    #[default]
    None,
    /// Basic auth.
    Basic {
        /// User name.
        user: String,
        /// The password's source.
        password: SecretSource,
    },
    /// A bearer token.
    Bearer(SecretSource),
    /// An Elasticsearch API key.
    ApiKey(SecretSource),
}

impl AuthPlan {
    /// The plan of a source entry. Errors for contradictory or incomplete settings.
    pub fn of(entry: &SourceConfig) -> Result<AuthPlan, String> {
        let password = SecretSource::pick("password", &entry.password, &entry.password_env, &entry.password_command)?;
        let token = SecretSource::pick("token", &entry.token, &entry.token_env, &entry.token_command)?;
        let api_key = SecretSource::pick("api_key", &entry.api_key, &entry.api_key_env, &entry.api_key_command)?;
        let kinds = [password.is_some() || entry.user.is_some(), token.is_some(), api_key.is_some()];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Err("use only one kind of credentials: user + password*, token*, or api_key*".into());
        }
        match (&entry.user, password, token, api_key) {
            (Some(user), Some(password), _, _) => Ok(AuthPlan::Basic { user: user.clone(), password }),
            (Some(_), None, _, _) => Err("user needs password, password_env or password_command".into()),
            (None, Some(_), _, _) => Err("a password needs user".into()),
            (None, None, Some(token), _) => Ok(AuthPlan::Bearer(token)),
            (None, None, None, Some(key)) => Ok(AuthPlan::ApiKey(key)),
            (None, None, None, None) => Ok(AuthPlan::None),
        }
    }

    /// Reads the secret (environment, command) and returns the [`Auth`]; `None` for no
    /// credentials.
    pub fn resolve(&self) -> Result<Option<Auth>, String> {
        Ok(Some(match self {
            AuthPlan::None => return Ok(None),
            AuthPlan::Basic { user, password } => Auth::Basic { user: user.clone(), password: password.resolve("password")? },
            AuthPlan::Bearer(token) => Auth::Bearer(token.resolve("token")?),
            AuthPlan::ApiKey(key) => Auth::ApiKey(key.resolve("api_key")?),
        }))
    }

    /// For summaries: `basic auth as bob, password from $VAR` (never the value).
    pub fn describe(&self) -> String {
        match self {
            AuthPlan::None => "none".into(),
            AuthPlan::Basic { user, password } => format!("basic auth as {user}, password {}", password.describe()),
            AuthPlan::Bearer(token) => format!("bearer token {}", token.describe()),
            AuthPlan::ApiKey(key) => format!("API key {}", key.describe()),
        }
    }

    /// The secret's source, if any.
    pub fn secret(&self) -> Option<(&'static str, &SecretSource)> {
        match self {
            AuthPlan::None => None,
            AuthPlan::Basic { password, .. } => Some(("password", password)),
            AuthPlan::Bearer(token) => Some(("token", token)),
            AuthPlan::ApiKey(key) => Some(("api_key", key)),
        }
    }
}

/// Runs `sh -c command` (stdin closed) and returns its stdout, trimmed, as a secret. Fails
/// when it cannot start, exits non-zero, prints nothing or runs longer than `timeout` (then
/// it is killed). The messages never include what the command printed, on stdout or stderr.
pub fn run_secret_command(command: &str, timeout: Duration) -> Result<Secret, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // stderr may echo the secret (set -x, a tool's debug output): never shown.
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not be started (sh: {e})"))?;
    // Read stdout on a thread so a command printing more than a pipe buffer cannot block.
    let mut stdout = child.stdout.take().ok_or_else(|| "could not be started (no stdout)".to_string())?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let result = stdout.read_to_end(&mut buf).map(|_| buf);
        let _ = tx.send(result);
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {}s and was stopped", timeout.as_secs_f64()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("could not be waited for: {e}")),
        }
    };
    if !status.success() {
        let how = status.code().map_or_else(|| "was killed by a signal".to_string(), |c| format!("exited with status {c}"));
        return Err(format!("failed: it {how} (its output is not shown, as it may hold the secret)"));
    }
    // A background process holding stdout open must not hang us past the deadline.
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let bytes = match rx.recv_timeout(left) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(format!("output could not be read: {e}")),
        Err(_) => return Err("timed out: its output was still open after it exited".into()),
    };
    let text = String::from_utf8(bytes).map_err(|_| "printed something that is not UTF-8 (not shown)".to_string())?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("printed nothing".into());
    }
    Ok(Secret::new(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(toml_text: &str) -> SourceConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn command_output_is_trimmed_and_failures_never_show_it() {
        let s = run_secret_command("printf '  hunter2\\n'", COMMAND_TIMEOUT).unwrap();
        assert_eq!(s.expose(), "hunter2");
        let err = run_secret_command("echo leaked-secret; echo leaked-err >&2; exit 3", COMMAND_TIMEOUT).unwrap_err();
        assert!(err.contains("status 3"), "{err}");
        assert!(!err.contains("leaked"), "{err}");
        assert_eq!(run_secret_command("true", COMMAND_TIMEOUT).unwrap_err(), "printed nothing");
        let started = Instant::now();
        let err = run_secret_command("echo partial-secret; sleep 5", Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("timed out") && !err.contains("partial"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn plans_pick_one_source_per_secret_and_one_kind_of_credentials() {
        let plan = AuthPlan::of(&entry("type = \"loki\"\nuser = \"bob\"\npassword_env = \"PW_VAR\"")).unwrap();
        assert_eq!(plan, AuthPlan::Basic { user: "bob".into(), password: SecretSource::Env("PW_VAR".into()) });
        assert_eq!(plan.describe(), "basic auth as bob, password from $PW_VAR");
        let plan = AuthPlan::of(&entry("type = \"loki\"\ntoken = \"t0k\"")).unwrap();
        assert_eq!(plan.describe(), "bearer token in the config file");
        assert_eq!(plan.resolve().unwrap(), Some(Auth::Bearer(Secret::new("t0k"))));
        let plan = AuthPlan::of(&entry("type = \"es\"\napi_key_command = \"echo a2V5\"")).unwrap();
        assert_eq!(plan.resolve().unwrap(), Some(Auth::ApiKey(Secret::new("a2V5"))));
        for (text, needle) in [
            ("type = \"loki\"\ntoken = \"a\"\ntoken_env = \"B\"", "only one of token, token_env"),
            ("type = \"loki\"\ntoken = \"a\"\napi_key = \"b\"", "only one kind"),
            ("type = \"loki\"\nuser = \"bob\"", "user needs password"),
            ("type = \"loki\"\npassword = \"x\"", "needs user"),
        ] {
            let err = AuthPlan::of(&entry(text)).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let plan = AuthPlan::of(&entry("type = \"loki\"\ntoken_env = \"LOGSLEUTH_TEST_SURELY_UNSET\"")).unwrap();
        assert!(plan.resolve().unwrap_err().contains("not set"));
        assert!(plan.secret().unwrap().1.warning().unwrap().contains("LOGSLEUTH_TEST_SURELY_UNSET is not set"));
    }

    #[test]
    fn debug_of_a_source_entry_redacts_secrets() {
        let e = entry("type = \"loki\"\nuser = \"bob\"\npassword = \"pa55word\"");
        let text = format!("{e:?}");
        assert!(!text.contains("pa55word"), "{text}");
        assert!(text.contains("bob"));
    }
}
