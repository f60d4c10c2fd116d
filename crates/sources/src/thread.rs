//! Following one request across sources: a value (an order id, a trace id, a client address)
//! becomes a condition in every source's query, and the matching lines of all sources are
//! merged into one time-ordered thread.
//!
//! The rule for the condition, the same for the CLI (`logsleuth thread`) and the TUI's
//! "follow in all panes":
//! - when the source has a field of the same meaning, the condition is on that field
//!   (`order_id:"ord-1"`). Same meaning is: the same name; a name of the same alias group
//!   ([`FieldAliases`], the config file's `[thread.aliases]`); or the same role
//!   ([`FieldRoles`]: the client address is `remote_addr` in nginx, `clientip` in Kibana's
//!   sample logs, `client.ip` in ECS);
//! - otherwise a free-text phrase (`"ord-1"`), which every backend runs: an ES `multi_match`
//!   phrase, a LogQL line filter, a substring on local lines.
//!
//! Nothing here does I/O: the caller asks the source for its fields and runs the queries.

use std::collections::BTreeMap;

use logsleuth_core::agg::{normalize_level, status_class};
use logsleuth_core::model::{FieldRoles, Nanos, ROLE_NAMES, Record};

/// Groups of field names that mean the same thing in different services, e.g.
/// `order_id = ["orderId", "order.id", "ctx.order"]`: the key and every name of its list are
/// one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldAliases {
    groups: Vec<Vec<String>>,
}

impl FieldAliases {
    /// Aliases from `name → other names` (the config table's shape).
    pub fn new(table: &BTreeMap<String, Vec<String>>) -> Self {
        let groups = table
            .iter()
            .map(|(name, others)| std::iter::once(name.clone()).chain(others.iter().cloned()).collect())
            .collect();
        FieldAliases { groups }
    }

    /// The names meaning what `field` means, `field` first, then its groups' names in order.
    pub fn names_for(&self, field: &str) -> Vec<String> {
        let mut out = vec![field.to_string()];
        for group in &self.groups {
            if group.iter().any(|n| n == field) {
                for n in group {
                    if !out.contains(n) {
                        out.push(n.clone());
                    }
                }
            }
        }
        out
    }
}

/// What to follow: a value, and the field it was taken from (when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    /// The value, as found on the line.
    pub value: String,
    /// The field it came from; `None` follows the value as free text everywhere.
    pub field: Option<String>,
}

/// The condition one source gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// On a field of the source: `field:"value"`.
    Field {
        /// The source's field name.
        field: String,
        /// The KQL condition.
        kql: String,
    },
    /// A free-text phrase on the whole line: `"value"`.
    Phrase {
        /// The KQL condition.
        kql: String,
    },
}

impl Condition {
    /// The KQL text of the condition.
    pub fn kql(&self) -> &str {
        match self {
            Condition::Field { kql, .. } | Condition::Phrase { kql } => kql,
        }
    }

    /// The field the condition is on, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Field { field, .. } => Some(field),
            Condition::Phrase { .. } => None,
        }
    }
}

/// The role names (one [`ROLE_NAMES`] list and the source's own role field) `field` belongs
/// to: `remote_addr` → the client address names, plus the source's `client_ip` role.
fn role_names(field: &str, roles: &FieldRoles) -> Vec<String> {
    let lists: [(&[&str], &Option<String>); 6] = [
        (ROLE_NAMES.status, &roles.status),
        (ROLE_NAMES.client_ip, &roles.client_ip),
        (ROLE_NAMES.user_agent, &roles.user_agent),
        (ROLE_NAMES.level, &roles.level),
        (ROLE_NAMES.method, &roles.method),
        (ROLE_NAMES.path, &roles.path),
    ];
    let mut out = Vec::new();
    for (names, own) in lists {
        if names.contains(&field) || own.as_deref() == Some(field) {
            // The source's own role field first: it is the one it was told or detected.
            out.extend(own.iter().cloned());
            out.extend(names.iter().map(|n| n.to_string()));
        }
    }
    out
}

/// Names that identify one request across services, in the order a row's field is chosen
/// when "follow" is asked on a table row rather than on a field: trace and span ids first
/// (OpenTelemetry, ECS, W3C), then request and correlation ids, then business ids.
pub const REQUEST_ID_NAMES: &[&str] = &[
    "trace_id",
    "traceId",
    "trace.id",
    "traceID",
    "request_id",
    "requestId",
    "req_id",
    "x_request_id",
    "http.request.id",
    "correlation_id",
    "correlationId",
    "order_id",
    "orderId",
    "session_id",
    "user_id",
    "userId",
];

/// The field of a table row to follow when no field was chosen: a name of the configured
/// alias groups (the ids the team declared), then [`REQUEST_ID_NAMES`], then the client address
/// (by the source's role or the shared role names). `None` when the row has none of them with
/// a non-empty value: the user then picks a field in the detail view.
pub fn request_field(record: &Record, aliases: &FieldAliases, roles: &FieldRoles) -> Option<(String, String)> {
    let value_of = |name: &str| {
        let v = record.get(name)?.as_text();
        (!v.is_empty()).then_some(v)
    };
    let declared = aliases.groups.iter().flatten().map(String::as_str);
    let client = roles.client_ip.iter().map(String::as_str).chain(ROLE_NAMES.client_ip.iter().copied());
    declared.chain(REQUEST_ID_NAMES.iter().copied()).chain(client).find_map(|name| Some((name.to_string(), value_of(name)?)))
}

/// The condition for one source. `known` are the source's field names (`Source::fields`),
/// `roles` its field roles (`SourceInfo::roles`).
pub fn condition(follow: &Follow, aliases: &FieldAliases, known: &[String], roles: &FieldRoles) -> Condition {
    let value = logsleuth_kql::quote_value(&follow.value);
    if let Some(field) = &follow.field {
        let mut candidates = aliases.names_for(field);
        // A role's names, for the field and for every alias of it.
        for name in candidates.clone() {
            for n in role_names(&name, roles) {
                if !candidates.contains(&n) {
                    candidates.push(n);
                }
            }
        }
        if let Some(found) = candidates.iter().find(|c| known.iter().any(|k| k == *c)) {
            return Condition::Field {
                kql: format!("{}:{value}", logsleuth_kql::quote_field(found)),
                field: found.clone(),
            };
        }
    }
    Condition::Phrase { kql: value }
}

/// `query` with `condition` added (`(query) and condition`); the rest of the query is kept.
pub fn add_condition(query: &str, condition: &str) -> String {
    let query = query.trim();
    if query.is_empty() {
        condition.to_string()
    } else if query == condition || query.ends_with(&format!(" and {condition}")) {
        // Following the same value twice does not stack it.
        query.to_string()
    } else {
        format!("({query}) and {condition}")
    }
}

/// `query` without a condition [`add_condition`] put there: the query as it was before.
/// Returns `None` when the condition is not found in the shape `add_condition` makes.
pub fn remove_condition(query: &str, condition: &str) -> Option<String> {
    let query = query.trim();
    if query == condition {
        return Some(String::new());
    }
    let inner = query.strip_suffix(&format!(" and {condition}"))?;
    let inner = inner.strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.to_string())
}

/// Level names counted as error or worse, as [`is_error`] tells them once normalized; in the
/// spellings loggers write them (an exact-match backend compares them as written).
pub const ERROR_LEVELS: &[&str] =
    &["error", "ERROR", "Error", "err", "ERR", "fatal", "FATAL", "critical", "CRITICAL", "crit", "CRIT", "alert", "emerg", "panic", "PANIC"];

/// The KQL condition that selects what [`is_error`] calls an error, for a server to count:
/// the HTTP status 5xx where the source has a status field (a failed request), else a level of
/// error or worse; `None` when the source has neither. The report's impact figures and a
/// thread's error lines follow this one rule.
pub fn failure_condition(roles: &FieldRoles) -> Option<String> {
    if let Some(status) = &roles.status {
        return Some(format!("{} >= 500", kql_field(status)));
    }
    let level = roles.level.as_ref()?;
    Some(format!("{}:({})", kql_field(level), ERROR_LEVELS.join(" or ")))
}

/// A field name as KQL writes it (quoted when it holds characters KQL would split on).
fn kql_field(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c)) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Whether a record is an error line: its level is error or worse (`error`, `fatal`,
/// `critical`, `crit`, `alert`, `emerg`, `panic`, bunyan 50/60; [`normalize_level`]) or its
/// HTTP status is 5xx ([`status_class`]). `roles` name the fields; without a role the shared
/// role dictionary is tried.
pub fn is_error(record: &Record, roles: &FieldRoles) -> bool {
    let lookup = |own: &Option<String>, names: &[&str]| {
        own.as_deref().and_then(|f| record.get(f)).or_else(|| names.iter().find_map(|n| record.get(n)))
    };
    if let Some(level) = lookup(&roles.level, ROLE_NAMES.level) {
        let level = normalize_level(&level.as_text());
        if matches!(level.as_str(), "error" | "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic") {
            return true;
        }
    }
    if let Some(status) = lookup(&roles.status, ROLE_NAMES.status) {
        return status_class(&status.as_text()).as_deref() == Some("5xx");
    }
    false
}

/// The lines one source contributes to a thread.
#[derive(Debug, Clone)]
pub struct Strand {
    /// The tag shown before each line: the pane or source name.
    pub tag: String,
    /// The source's roles (to tell error lines).
    pub roles: FieldRoles,
    /// Its matching records, in any order.
    pub records: Vec<Record>,
}

/// One line of a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadLine {
    /// Which source (index in the strands given to [`merge`]).
    pub strand: usize,
    /// That source's tag.
    pub tag: String,
    /// The record.
    pub record: Record,
    /// Time since the previous line with a time (`None` for the first, or without a time).
    pub gap: Option<Nanos>,
    /// An error line ([`is_error`]).
    pub error: bool,
    /// The first error line of the thread (the one to look at).
    pub first_error: bool,
}

/// Merges the strands into one thread, oldest first. Lines of the same instant keep their
/// source's order (strand, then position), so the result is deterministic. Lines without a
/// time go last, in source order. At most `limit` lines (the oldest) are kept.
pub fn merge(strands: Vec<Strand>, limit: usize) -> Vec<ThreadLine> {
    let mut all: Vec<(usize, usize, String, bool, Record)> = Vec::new();
    for (i, strand) in strands.into_iter().enumerate() {
        // Sources answer newest first; position only breaks ties within one instant, so use
        // the source's own oldest-first order for them.
        let mut records = strand.records;
        records.sort_by_key(|r| r.timestamp.is_none());
        let n = records.len();
        for (pos, r) in records.into_iter().enumerate() {
            let error = is_error(&r, &strand.roles);
            all.push((i, n - pos, strand.tag.clone(), error, r));
        }
    }
    all.sort_by(|a, b| {
        let key = |x: &(usize, usize, String, bool, Record)| (x.4.timestamp.is_none(), x.4.timestamp.unwrap_or(0));
        key(a).cmp(&key(b)).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1))
    });
    all.truncate(limit);
    let mut out = Vec::with_capacity(all.len());
    let mut previous: Option<Nanos> = None;
    let mut seen_error = false;
    for (strand, _, tag, error, record) in all {
        let gap = match (previous, record.timestamp) {
            (Some(p), Some(t)) => Some(t - p),
            _ => None,
        };
        if record.timestamp.is_some() {
            previous = record.timestamp;
        }
        let first_error = error && !seen_error;
        seen_error |= error;
        out.push(ThreadLine { strand, tag, record, gap, error, first_error });
    }
    out
}

/// A gap for people: `+0.412s`, `+16.5s`, `+3m05s`, `+2h10m`.
pub fn format_gap(gap: Nanos) -> String {
    const S: Nanos = 1_000_000_000;
    let sign = if gap < 0 { "-" } else { "+" };
    let g = gap.unsigned_abs() as i128;
    let s = S as i128;
    if g < 10 * s {
        format!("{sign}{}.{:03}s", g / s, (g % s) / 1_000_000)
    } else if g < 60 * s {
        format!("{sign}{}.{}s", g / s, (g % s) / 100_000_000)
    } else if g < 3600 * s {
        format!("{sign}{}m{:02}s", g / (60 * s), (g / s) % 60)
    } else {
        format!("{sign}{}h{:02}m", g / (3600 * s), (g / (60 * s)) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::{Fields, Value};

    fn follow(value: &str, field: Option<&str>) -> Follow {
        Follow { value: value.into(), field: field.map(str::to_string) }
    }

    fn aliases() -> FieldAliases {
        let mut t = BTreeMap::new();
        t.insert("order_id".to_string(), vec!["orderId".to_string(), "order.id".to_string(), "ctx.order".to_string()]);
        FieldAliases::new(&t)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn same_name_alias_and_phrase() {
        let f = follow("ord-830664", Some("order_id"));
        let none = FieldRoles::default();
        assert_eq!(
            condition(&f, &aliases(), &names(&["level", "order_id", "trace_id"]), &none),
            Condition::Field { field: "order_id".into(), kql: r#"order_id:"ord-830664""#.into() }
        );
        assert_eq!(condition(&f, &aliases(), &names(&["orderId", "msg"]), &none).kql(), r#"orderId:"ord-830664""#);
        // From an alias to the key and to another alias.
        let g = follow("ord-830664", Some("ctx.order"));
        assert_eq!(condition(&g, &aliases(), &names(&["order.id"]), &none).kql(), r#"order.id:"ord-830664""#);
        // No field of that meaning: a phrase every backend can run.
        assert_eq!(condition(&f, &aliases(), &names(&["message", "clientip"]), &none), Condition::Phrase { kql: r#""ord-830664""#.into() });
        // No field at all: a phrase.
        assert_eq!(condition(&follow("x", None), &aliases(), &names(&["x"]), &none).kql(), r#""x""#);
        // Without an alias table the other service's name is not guessed.
        assert_eq!(condition(&f, &FieldAliases::default(), &names(&["orderId"]), &none).field(), None);
    }

    #[test]
    fn roles_carry_the_client_address_across_schemas() {
        let f = follow("203.0.113.224", Some("remote_addr"));
        // Kibana's sample logs call it clientip; the source detected that role.
        let roles = FieldRoles { client_ip: Some("clientip".into()), ..FieldRoles::default() };
        assert_eq!(condition(&f, &FieldAliases::default(), &names(&["clientip", "status"]), &roles).kql(), r#"clientip:"203.0.113.224""#);
        // A role set by hand (`--role client_ip=peer`) is used although no dictionary has it.
        let roles = FieldRoles { client_ip: Some("peer".into()), ..FieldRoles::default() };
        assert_eq!(condition(&f, &FieldAliases::default(), &names(&["peer"]), &roles).kql(), r#"peer:"203.0.113.224""#);
        // And from the hand-set name back to the dictionary's names.
        let g = follow("203.0.113.224", Some("peer"));
        assert_eq!(condition(&g, &FieldAliases::default(), &names(&["client.ip"]), &roles).kql(), r#"client.ip:"203.0.113.224""#);
    }

    #[test]
    fn values_and_fields_are_quoted() {
        let f = follow(r#"a "b" \c"#, Some("weird name"));
        assert_eq!(condition(&f, &FieldAliases::default(), &names(&["weird name"]), &FieldRoles::default()).kql(), r#""weird name":"a \"b\" \\c""#);
        let kql = condition(&f, &FieldAliases::default(), &[], &FieldRoles::default());
        assert!(logsleuth_kql::parse(kql.kql()).is_ok(), "{kql:?}");
    }

    #[test]
    fn conditions_are_added_and_removed_keeping_the_query() {
        let c = r#"order_id:"ord-1""#;
        assert_eq!(add_condition("", c), c);
        let q = add_condition("status >= 500 or level:error", c);
        assert_eq!(q, r#"(status >= 500 or level:error) and order_id:"ord-1""#);
        assert!(logsleuth_kql::parse(&q).is_ok());
        assert_eq!(add_condition(&q, c), q, "not stacked twice");
        assert_eq!(remove_condition(&q, c).as_deref(), Some("status >= 500 or level:error"));
        assert_eq!(remove_condition(c, c).as_deref(), Some(""));
        assert_eq!(remove_condition("status:200", c), None);
    }

    fn rec(ts: Nanos, fields: &[(&str, Value)]) -> Record {
        let mut f = Fields::new();
        for (k, v) in fields {
            f.push(*k, v.clone());
        }
        Record { timestamp: Some(ts), message: format!("line at {ts}"), fields: f, ..Record::default() }
    }

    #[test]
    fn error_lines_by_level_or_status() {
        let none = FieldRoles::default();
        assert!(is_error(&rec(1, &[("level", Value::Str("ERROR".into()))]), &none));
        assert!(is_error(&rec(1, &[("level", Value::Int(60))]), &none), "bunyan fatal");
        assert!(is_error(&rec(1, &[("status", Value::Int(504))]), &none));
        assert!(is_error(&rec(1, &[("level", Value::Str("info".into())), ("status", Value::Str("503".into()))]), &none));
        assert!(!is_error(&rec(1, &[("level", Value::Str("warn".into())), ("status", Value::Int(404))]), &none));
        assert!(!is_error(&rec(1, &[("msg", Value::Str("error".into()))]), &none), "the word alone is not a level");
        let roles = FieldRoles { status: Some("response".into()), ..FieldRoles::default() };
        assert!(is_error(&rec(1, &[("response", Value::Str("500".into()))]), &roles));
    }

    #[test]
    fn merge_orders_tags_gaps_and_flags_the_first_error() {
        const S: Nanos = 1_000_000_000;
        let front = Strand {
            tag: "frontend".into(),
            roles: FieldRoles::default(),
            // Newest first, as sources answer.
            records: vec![rec(40 * S, &[("level", Value::Str("error".into()))]), rec(10 * S, &[("level", Value::Str("info".into()))])],
        };
        let api = Strand {
            tag: "api".into(),
            roles: FieldRoles::default(),
            records: vec![rec(25 * S, &[("status", Value::Int(502))]), rec(10 * S, &[("status", Value::Int(200))])],
        };
        let lines = merge(vec![front, api], 100);
        let order: Vec<(&str, Nanos)> = lines.iter().map(|l| (l.tag.as_str(), l.record.timestamp.unwrap() / S)).collect();
        assert_eq!(order, vec![("frontend", 10), ("api", 10), ("api", 25), ("frontend", 40)]);
        let gaps: Vec<Option<Nanos>> = lines.iter().map(|l| l.gap.map(|g| g / S)).collect();
        assert_eq!(gaps, vec![None, Some(0), Some(15), Some(15)]);
        let firsts: Vec<bool> = lines.iter().map(|l| l.first_error).collect();
        assert_eq!(firsts, vec![false, false, true, false]);
        assert!(lines[3].error);
        assert!(merge(vec![], 10).is_empty());
        // Lines without a time go last; the limit keeps the oldest.
        let mut undated = rec(0, &[]);
        undated.timestamp = None;
        let s = Strand { tag: "x".into(), roles: FieldRoles::default(), records: vec![undated, rec(5 * S, &[]), rec(3 * S, &[])] };
        let lines = merge(vec![s], 2);
        assert_eq!(lines.iter().map(|l| l.record.timestamp).collect::<Vec<_>>(), vec![Some(3 * S), Some(5 * S)]);
    }

    #[test]
    fn gaps_read_as_durations() {
        const S: Nanos = 1_000_000_000;
        assert_eq!(format_gap(412_000_000), "+0.412s");
        assert_eq!(format_gap(16 * S + 500_000_000), "+16.5s");
        assert_eq!(format_gap(185 * S), "+3m05s");
        assert_eq!(format_gap(7800 * S), "+2h10m");
        assert_eq!(format_gap(-2 * S), "-2.000s");
    }

    #[test]
    fn request_field_prefers_declared_ids_then_known_ids_then_the_client() {
        let mut fields = Fields::default();
        fields.push("orderId", Value::Str("ord-1".into()));
        fields.push("trace_id", Value::Str("abc".into()));
        fields.push("remote_addr", Value::Str("10.0.0.1".into()));
        let record = Record { fields, ..Record::default() };
        let roles = FieldRoles::default();
        // The alias group the team declared wins over a generic trace id.
        assert_eq!(request_field(&record, &aliases(), &roles), Some(("orderId".into(), "ord-1".into())));
        assert_eq!(request_field(&record, &FieldAliases::default(), &roles), Some(("trace_id".into(), "abc".into())));
        let mut fields = Fields::default();
        fields.push("remote_addr", Value::Str("10.0.0.1".into()));
        fields.push("trace_id", Value::Str(String::new()));
        let record = Record { fields, ..Record::default() };
        assert_eq!(request_field(&record, &FieldAliases::default(), &roles), Some(("remote_addr".into(), "10.0.0.1".into())));
        assert_eq!(request_field(&Record::plain("GET / 200"), &FieldAliases::default(), &roles), None);
    }
}
