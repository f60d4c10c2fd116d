//! Command-line definitions (clap derive). The names here are a contract: scripts, docs and
//! tests rely on them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A terminal log explorer: Kibana Discover and Grafana Explore inside an SSH session.
///
/// With no subcommand, opens the TUI on the given files (`-` for stdin) or server source.
#[derive(Debug, Parser)]
#[command(name = "logsleuth", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Subcommand; none opens the TUI.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Source for the TUI.
    #[command(flatten)]
    pub source: SourceArgs,

    /// Time range for the TUI.
    #[command(flatten)]
    pub time: TimeArgs,

    /// Initial KQL query for the TUI.
    #[arg(long, value_name = "Q")]
    pub kql: Option<String>,

    /// UI options.
    #[command(flatten)]
    pub ui: UiArgs,

    /// Memory budget of files and stdin (line index, text held in memory, stdin spool): 2G,
    /// 512M, 10%. Beyond it the oldest lines are let go and the status line says so
    /// (default: max_memory in the configuration, else 10% of the machine's memory).
    #[arg(long, value_name = "SIZE", global = true, value_parser = crate::sources::local::parse_size)]
    pub max_memory: Option<u64>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the TUI on bundled sample data (a real nginx access log re-stamped to end now,
    /// with a generator appending live lines).
    Demo(DemoArgs),
    /// Translate a KQL query to Elasticsearch DSL, LogQL, or show its syntax tree.
    Kql(KqlArgs),
    /// Print matching log lines, newest first.
    Query(QueryArgs),
    /// Print the top values of a field.
    Top(TopArgs),
    /// Print events over time.
    Histogram(HistogramArgs),
    /// Follow new matching lines.
    Tail(TailArgs),
    /// Configuration file tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Evaluate alert rules every --every; print state changes, send them to Alertmanager.
    Watch(super::watch_cmd::WatchArgs),
    /// Follow one request across sources: the lines holding a value, from every source,
    /// merged on one clock.
    Thread(ThreadArgs),
    /// Print the log patterns (templates) of the matching lines, largest first.
    Patterns(super::patterns_cmd::PatternsArgs),
    /// Compare a window with a baseline: the values and patterns that changed most.
    Compare(super::compare_cmd::CompareArgs),
    /// Write the postmortem report of a saved workspace (its panes, marks and notes).
    Report(super::report_cmd::ReportArgs),
    /// AWS CloudWatch Logs tools.
    #[command(subcommand)]
    Cloudwatch(CloudwatchCommand),
}

/// `logsleuth cloudwatch …`
#[derive(Debug, Subcommand)]
pub enum CloudwatchCommand {
    /// List the log groups (name, stored bytes, retention).
    Groups(CloudwatchGroupsArgs),
}

/// `logsleuth cloudwatch groups`
#[derive(Debug, Args, Clone)]
pub struct CloudwatchGroupsArgs {
    /// Only groups whose names start with this.
    #[arg(long, value_name = "P")]
    pub prefix: Option<String>,
    /// AWS region (else AWS_REGION or the profile's).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// AWS shared-config profile.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Endpoint URL (a VPC endpoint, or an emulator such as moto).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// At most this many groups.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GroupsOutput::Text)]
    pub output: GroupsOutput,
}

/// How `cloudwatch groups` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupsOutput {
    /// A table.
    Text,
    /// One JSON object per group.
    Json,
}

/// `logsleuth config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and say precisely what is wrong.
    Check,
}

/// Where the logs come from. Files and stdin are the default; `--loki`, `--es` or `--source`
/// select a server.
#[derive(Debug, Args, Default, Clone)]
pub struct SourceArgs {
    /// Log files to read (`-` for stdin). Gzip files are read transparently.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Force the log format of local files instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<LogFormatArg>,

    /// Grafana Loki base URL, e.g. http://127.0.0.1:3100.
    #[arg(long, value_name = "URL", conflicts_with_all = ["es", "files", "cloudwatch"])]
    pub loki: Option<String>,

    /// Loki base stream selector, e.g. '{job="nginx"}'.
    #[arg(long, value_name = "SEL")]
    pub selector: Option<String>,

    /// Loki tenant (sent as X-Scope-OrgID).
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,

    /// Loki parser stage for parsed fields: json, logfmt, nginx, apache, or regexp:<RE>
    /// (detected from a sample of lines when not given).
    // The text is also the --help line, where <RE> is a placeholder, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long, value_name = "P")]
    pub parser: Option<String>,

    /// Elasticsearch / OpenSearch base URL (may carry a path prefix).
    #[arg(long, value_name = "URL", conflicts_with_all = ["loki", "files", "cloudwatch"])]
    pub es: Option<String>,

    /// Elasticsearch index pattern, e.g. 'logs-*'.
    #[arg(long, value_name = "PATTERN")]
    pub index: Option<String>,

    /// Elasticsearch time field (detected when not given: @timestamp, else the first date field).
    #[arg(long, value_name = "FIELD")]
    pub time_field: Option<String>,

    /// Which field plays a role, `ROLE=FIELD` (repeatable): status, client_ip, user_agent, level,
    /// method, path. Elasticsearch roles are otherwise found by name (ECS, Kibana sample logs,
    /// nginx names).
    #[arg(long = "role", value_name = "ROLE=FIELD")]
    pub roles: Vec<String>,

    /// A named source from the config file.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["loki", "es", "files", "cloudwatch"])]
    pub source: Option<String>,

    /// Configuration file (default: $XDG_CONFIG_HOME/logsleuth/config.toml).
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,

    /// Authentication and TLS for server sources.
    #[command(flatten)]
    pub auth: AuthArgs,

    /// AWS CloudWatch Logs group (repeatable: the groups are read as one source).
    #[arg(long = "cloudwatch", value_name = "LOG_GROUP", conflicts_with_all = ["files"])]
    pub cloudwatch: Vec<String>,

    /// CloudWatch: only log streams whose names start with this.
    #[arg(long, value_name = "P")]
    pub stream_prefix: Option<String>,

    /// CloudWatch: AWS region (else AWS_REGION or the profile's).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,

    /// CloudWatch: AWS shared-config profile (else AWS_PROFILE).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,

    /// CloudWatch: endpoint URL (a VPC endpoint, or an emulator such as moto).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// CloudWatch: never run Logs Insights queries (billed per GB scanned); charts are
    /// counted from the events.
    #[arg(long)]
    pub no_insights: bool,
}

/// Authentication and TLS. Secrets are never taken from the command line itself: only the
/// name of an environment variable holding them (or the config file / a command there).
#[derive(Debug, Args, Default, Clone)]
pub struct AuthArgs {
    /// User name for basic auth (the password comes from --password-env or the config file).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Environment variable holding the basic-auth password.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// Environment variable holding a bearer token.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,

    /// Environment variable holding an Elasticsearch API key (sent as `ApiKey …`).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,

    /// Extra request header, `Name: value` (repeatable). Do not put secrets here.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// PEM file of CA certificates to trust (in addition to the system roots).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Do not verify TLS certificates. Shown loudly; never the default.
    #[arg(long)]
    pub insecure: bool,
}

/// Local log formats for `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// nginx/apache combined or common access log.
    Access,
    /// nginx combined access log (same layout as apache combined).
    Nginx,
    /// apache combined or common access log.
    Apache,
    /// One JSON object per line.
    Json,
    /// key=value pairs.
    Logfmt,
    /// syslog, RFC 3164 or RFC 5424.
    Syslog,
    /// Plain lines (timestamp detected when possible).
    Plain,
}

impl LogFormatArg {
    /// The name as typed (`nginx`, `json`, …).
    pub fn name(self) -> String {
        self.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
    }

    /// The parser this format names.
    pub fn format(self) -> crate::formats::LogFormat {
        crate::formats::LogFormat::from_name(&self.name()).unwrap_or(crate::formats::LogFormat::Plain)
    }
}

/// The time range. Without these, local sources cover their whole span and servers the last
/// hour.
#[derive(Debug, Args, Default, Clone)]
pub struct TimeArgs {
    /// Relative range ending now: 15m, 6h, 7d.
    #[arg(long, value_name = "DUR", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,

    /// Range start: RFC 3339 or date math (now-1h).
    #[arg(long, value_name = "T")]
    pub from: Option<String>,

    /// Range end: RFC 3339 or date math (now).
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
}

/// TUI options.
#[derive(Debug, Args, Default, Clone)]
pub struct UiArgs {
    /// Colour theme: dark (default), light, high-contrast, or a themes/*.toml name.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,

    /// Open a saved workspace (pane layout, sources, queries).
    #[arg(long, value_name = "NAME")]
    pub workspace: Option<String>,

    /// Most lines a pane keeps in memory (results plus live tail; default 100000). Beyond it
    /// the oldest lines are dropped and the status line counts them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_lines: Option<u64>,

    /// A watch on the first pane, `NAME: KQL > N per DUR` (repeatable; docs/watches.md): the
    /// watches panel (`!`) shows it, a firing rings and marks the pane. Besides the
    /// configuration's `[[watches]]` on the sources shown.
    #[arg(long = "watch", value_name = "RULE")]
    pub watch: Vec<String>,

    /// How often the TUI's watches are evaluated.
    #[arg(long, value_name = "DUR", default_value = "15s")]
    pub watch_every: String,

    /// Prometheus Alertmanager base URL the TUI's watches alert (repeatable).
    #[arg(long, value_name = "URL")]
    pub alertmanager: Vec<String>,

    /// URL that gets each state change of the TUI's watches as a JSON POST (repeatable).
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,
}

/// `logsleuth demo`
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Do not append generated live lines.
    #[arg(long)]
    pub no_generator: bool,

    /// UI options.
    #[command(flatten)]
    pub ui: UiArgs,
}

/// Target of `kql --to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KqlTarget {
    /// Elasticsearch query DSL, as Kibana generates it.
    Es,
    /// A LogQL query for Loki.
    Logql,
    /// The parsed syntax tree.
    Ast,
    /// A CloudWatch Logs filter pattern (FilterLogEvents); `--format` gives the messages'
    /// layout (json, the default, or access).
    Cloudwatch,
    /// A CloudWatch Logs Insights `filter` command.
    Insights,
}

/// `logsleuth kql`
#[derive(Debug, Args, Clone)]
pub struct KqlArgs {
    /// What to translate to.
    #[arg(long, value_enum)]
    pub to: KqlTarget,

    /// A saved `_field_caps` response (GET index/_field_caps?fields=*) giving field types.
    #[arg(long, value_name = "FIELD_CAPS.json")]
    pub fields: Option<PathBuf>,

    /// LogQL base stream selector, e.g. '{job="nginx"}'.
    #[arg(long, value_name = "SEL")]
    pub selector: Option<String>,

    /// Extra stream label names (comma-separated) that go into the selector rather than a
    /// label filter.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub labels: Vec<String>,

    /// LogQL parser stage: json, logfmt, nginx, apache, or regexp:<RE>.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long, value_name = "P")]
    pub parser: Option<String>,

    /// Time zone for date ranges (Kibana's dateFormat:tz), e.g. Europe/Paris.
    #[arg(long, value_name = "TZ")]
    pub time_zone: Option<String>,

    /// Keyword term and wildcard queries ignore case.
    #[arg(long)]
    pub case_insensitive: bool,

    /// Reject a leading `*` in values (Kibana's query:allowLeadingWildcards off).
    #[arg(long)]
    pub no_leading_wildcards: bool,

    /// CloudWatch: the messages' format, for the filter pattern's shape (default json).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<LogFormatArg>,

    /// The KQL query.
    #[arg(value_name = "QUERY")]
    pub query: String,
}

/// Output formats for `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum QueryOutput {
    /// One JSON object per line.
    #[default]
    Ndjson,
    /// Aligned columns.
    Table,
    /// The raw message of each line.
    Raw,
}

/// Output formats for aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AggOutput {
    /// A table for people.
    #[default]
    Table,
    /// The JSON contract documented in README.
    Json,
}

/// Query options common to the non-interactive subcommands.
#[derive(Debug, Args, Default, Clone)]
pub struct FilterArgs {
    /// KQL filter.
    #[arg(long, value_name = "Q", conflicts_with = "logql")]
    pub kql: Option<String>,

    /// Native LogQL query for Loki sources (taken as is).
    #[arg(long, value_name = "Q")]
    pub logql: Option<String>,

    /// Native Elasticsearch query: a query DSL JSON object, or Lucene query_string text.
    #[arg(long, value_name = "Q", conflicts_with_all = ["kql", "logql"])]
    pub dsl: Option<String>,
}

/// `logsleuth query`
#[derive(Debug, Args, Clone)]
pub struct QueryArgs {
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The time range.
    #[command(flatten)]
    pub time: TimeArgs,
    /// The filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most this many lines.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    /// Read a long range as N time slices at once (each paged as one read; the same lines in
    /// the same order). 1 reads page after page.
    #[arg(long, value_name = "N", default_value_t = crate::sources::read::DEFAULT_SLICES as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryOutput::Ndjson)]
    pub output: QueryOutput,
}

/// `logsleuth top`
#[derive(Debug, Args, Clone)]
pub struct TopArgs {
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The time range.
    #[command(flatten)]
    pub time: TimeArgs,
    /// The filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Field to aggregate.
    #[arg(long, value_name = "F")]
    pub field: String,
    /// Number of values.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub size: usize,
    /// Also count the field's distinct values (Elasticsearch `cardinality`, an estimate; a Loki
    /// metric query; counted exactly in files).
    #[arg(long)]
    pub distinct: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AggOutput::Table)]
    pub output: AggOutput,
}

/// `logsleuth histogram`
#[derive(Debug, Args, Clone)]
pub struct HistogramArgs {
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The time range.
    #[command(flatten)]
    pub time: TimeArgs,
    /// The filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Bucket width (1m, 1h); chosen from the range when not given.
    #[arg(long, value_name = "DUR")]
    pub interval: Option<String>,
    /// Split each bucket by a field: `status_class`, `level`, or any field name.
    #[arg(long, value_name = "F")]
    pub split_by: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AggOutput::Table)]
    pub output: AggOutput,
}

/// Output formats for `tail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TailOutput {
    /// One JSON object per line.
    #[default]
    Ndjson,
    /// The raw message of each line.
    Raw,
}

/// `logsleuth tail`
#[derive(Debug, Args, Clone)]
pub struct TailArgs {
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TailOutput::Ndjson)]
    pub output: TailOutput,
}

/// Output formats for `thread`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ThreadOutput {
    /// One JSON object per line: the record, with `thread.source`, `thread.gap_ms`,
    /// `thread.error`, `thread.first_error`.
    #[default]
    Ndjson,
    /// Aligned columns: time, gap, source, a `!` on error lines, the line.
    Table,
}

/// `logsleuth thread`. Every source flag is repeatable and each one is its own source: each
/// FILE, each `--source NAME`, each `--loki URL` (with the `--selector` of the same rank:
/// the first selector goes with the first `--loki`), each `--es URL` (with the `--index` of
/// the same rank).
#[derive(Debug, Args, Clone)]
pub struct ThreadArgs {
    /// The value to follow (an order id, trace id, user id, client address).
    #[arg(long, value_name = "V")]
    pub value: String,
    /// The field the value comes from. Sources with a field of the same meaning (same name,
    /// an alias of `[thread.aliases]` in the config file, or the same role) are filtered on
    /// it; the others on the value as free text. Without it: free text everywhere.
    #[arg(long, value_name = "F")]
    pub field: Option<String>,
    /// Log files; each is one source.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Force the log format of the files instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<LogFormatArg>,
    /// A named source of the config file (repeatable).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// A Loki base URL (repeatable).
    #[arg(long = "loki", value_name = "URL")]
    pub loki: Vec<String>,
    /// Stream selector of the `--loki` of the same rank (repeatable).
    #[arg(long = "selector", value_name = "SEL")]
    pub selectors: Vec<String>,
    /// An Elasticsearch base URL (repeatable).
    #[arg(long = "es", value_name = "URL")]
    pub es: Vec<String>,
    /// Index pattern of the `--es` of the same rank (repeatable).
    #[arg(long = "index", value_name = "PATTERN")]
    pub indexes: Vec<String>,
    /// Authentication and TLS, for every server source given by URL.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// The time range (the same for every source).
    #[command(flatten)]
    pub time: TimeArgs,
    /// At most this many lines from each source.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ThreadOutput::Ndjson)]
    pub output: ThreadOutput,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn top_level_files_and_subcommands_parse() {
        let cli = Cli::try_parse_from(["logsleuth", "a.log", "b.log"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.source.files.len(), 2);
        let cli = Cli::try_parse_from(["logsleuth", "top", "x.log", "--field", "status", "--output", "json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Top(ref t)) if t.field == "status" && t.output == AggOutput::Json));
        assert!(Cli::try_parse_from(["logsleuth", "query", "--since", "1h", "--from", "now-2h"]).is_err());
    }
}
