//! Loki's parser stages run on the client, so a page whose query filters on no parsed field
//! can be fetched as raw lines (Loki then reads them without parsing each one) and still show
//! the fields Loki's stage would have given. Each stage here follows Loki's own rules, so the
//! fields are the same either way:
//!
//! - `| pattern` (the access-log layouts): [`logsleuth_formats::pattern`], Loki's matcher.
//! - `| json`: nested keys joined with `_`, arrays and nulls skipped, numbers as written,
//!   booleans as `true`/`false`; a line that is not a JSON object gives no fields.
//! - `| logfmt`: Loki's decoder (go-logfmt's), which stops at the first syntax error and
//!   keeps the pairs before it.
//! - `| regexp`: the named groups of the first match.
//!
//! As in Loki, names are sanitized (characters outside `[A-Za-z0-9_]` become `_`, a leading
//! digit gets a `_`), a name that is also a stream label gets `_extracted`, empty values are
//! no label, and the labels come sorted by name (as Loki sends `parsed`). Values are typed as
//! the answer's parsed labels are ([`super::decode::parsed_value`]).

use std::collections::BTreeMap;

use logsleuth_core::model::{Fields, Value};
use logsleuth_formats::pattern::Pattern;

use super::logql::LogqlParser;

/// A parser stage compiled for the client.
#[derive(Debug, Clone)]
pub struct ClientStage {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Pattern(Pattern),
    Json,
    Logfmt,
    Regexp(regex::Regex),
}

/// Loki's `sanitizeLabelKey`: trimmed, `_` before a leading digit, other characters outside
/// `[A-Za-z0-9_]` as `_`.
fn sanitize(key: &str) -> String {
    let key = key.trim();
    let mut out = String::with_capacity(key.len() + 1);
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }));
    out
}

impl ClientStage {
    /// The client-side twin of a parser stage (`None` if it cannot be compiled, which Loki
    /// would refuse as well).
    pub fn new(parser: &LogqlParser) -> Option<ClientStage> {
        let kind = match parser {
            LogqlParser::Json => Kind::Json,
            LogqlParser::Logfmt => Kind::Logfmt,
            LogqlParser::Nginx => Kind::Pattern(Pattern::new(logsleuth_kql::NGINX_COMBINED_PATTERN).ok()?),
            LogqlParser::Apache => Kind::Pattern(Pattern::new(logsleuth_kql::APACHE_COMBINED_PATTERN).ok()?),
            LogqlParser::Common => Kind::Pattern(Pattern::new(logsleuth_kql::COMMON_PATTERN).ok()?),
            LogqlParser::Regexp(re) => Kind::Regexp(regex::Regex::new(re).ok()?),
        };
        Some(ClientStage { kind })
    }

    /// The fields Loki's stage gives `line` in a stream with labels `stream`.
    pub fn parse(&self, line: &str, stream: &Fields) -> Fields {
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        // Loki's LabelsBuilder.Set: a later value for a name replaces an earlier one.
        let mut set = |name: String, value: String| {
            if name.is_empty() {
                return;
            }
            let name = if stream.get(&name).is_some() { format!("{name}_extracted") } else { name };
            labels.insert(name, value);
        };
        match &self.kind {
            Kind::Pattern(p) => {
                for (name, value) in p.captures(line) {
                    set(name.to_string(), value.to_string());
                }
            }
            Kind::Json => json_labels(line, "", &mut set),
            Kind::Logfmt => logfmt_labels(line, &mut set),
            Kind::Regexp(re) => {
                if let Some(caps) = re.captures(line) {
                    for name in re.capture_names().flatten() {
                        if let Some(m) = caps.name(name) {
                            set(sanitize(name), m.as_str().to_string());
                        }
                    }
                }
            }
        }
        Fields(
            labels
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| {
                    let value = super::decode::parsed_value(&v);
                    (k, value)
                })
                .collect::<Vec<(String, Value)>>(),
        )
    }
}

/// A JSON value as Loki's `| json` writes it, `None` for what it skips (arrays, nulls).
/// Strings holding U+FFFD (Loki's sign of invalid UTF-8) become empty, as in Loki.
fn json_scalar(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw.as_bytes().first()? {
        b'"' => {
            let s: String = serde_json::from_str(raw).ok()?;
            Some(if s.contains('\u{FFFD}') { String::new() } else { s })
        }
        b'[' | b'n' | b'{' => None,
        b't' => Some("true".into()),
        b'f' => Some("false".into()),
        // A number, exactly as written (`1.50` stays `1.50`).
        _ => Some(raw.to_string()),
    }
}

/// The labels of a JSON object, nested keys under `prefix`.
fn json_labels(text: &str, prefix: &str, set: &mut impl FnMut(String, String)) {
    // Duplicate keys: the last one stands, as Loki sets each in turn.
    let Ok(indexed::Pairs(object)) = serde_json::from_str::<indexed::Pairs<'_>>(text) else { return };
    for (key, value) in object {
        let key = sanitize(&key);
        let name = match (prefix.is_empty(), key.is_empty()) {
            (true, _) => key,
            (false, true) => prefix.to_string(),
            (false, false) => format!("{prefix}_{key}"),
        };
        if value.get().trim_start().starts_with('{') {
            json_labels(value.get(), &name, set);
        } else if let Some(v) = json_scalar(value.get()) {
            set(name, v);
        }
    }
}

/// An object read as its key/value pairs in order, values left as raw JSON text.
mod indexed {
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde_json::value::RawValue;
    use std::fmt;

    /// The pairs of a JSON object.
    pub struct Pairs<'a>(pub Vec<(String, &'a RawValue)>);

    impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<'a>(std::marker::PhantomData<&'a ()>);
            impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                type Value = Pairs<'a>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Pairs<'a>, M::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                        out.push((k, v));
                    }
                    Ok(Pairs(out))
                }
            }
            d.deserialize_map(V(std::marker::PhantomData))
        }
    }
}

/// The pairs Loki's logfmt decoder reads, up to its first syntax error.
fn logfmt_labels(line: &str, set: &mut impl FnMut(String, String)) {
    let b = line.as_bytes();
    let mut pos = 0;
    loop {
        while pos < b.len() && b[pos] <= b' ' {
            pos += 1;
        }
        if pos >= b.len() {
            return;
        }
        let start = pos;
        while pos < b.len() && b[pos] != b'=' && b[pos] > b' ' {
            if b[pos] == b'"' {
                return;
            }
            pos += 1;
        }
        let key = &line[start..pos];
        if pos >= b.len() || b[pos] != b'=' {
            // A key alone: an empty value, which is no label.
            continue;
        }
        if key.is_empty() {
            return;
        }
        pos += 1;
        let value = if pos >= b.len() || b[pos] <= b' ' {
            String::new()
        } else if b[pos] == b'"' {
            let open = pos;
            let mut escaped = false;
            let mut close = None;
            for (i, &c) in b.iter().enumerate().skip(open + 1) {
                match c {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => {
                        close = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(close) = close else { return };
            pos = close + 1;
            match serde_json::from_str::<String>(&line[open..pos]) {
                Ok(v) => v,
                Err(_) => return,
            }
        } else {
            let start = pos;
            while pos < b.len() && b[pos] > b' ' {
                if b[pos] == b'=' || b[pos] == b'"' {
                    return;
                }
                pos += 1;
            }
            line[start..pos].to_string()
        };
        let value = if value.contains('\u{FFFD}') { String::new() } else { value };
        set(sanitize(key), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(fields: &Fields) -> Vec<(String, String)> {
        fields.iter().map(|(k, v)| (k.to_string(), v.as_text())).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn json_flattens_like_loki() {
        let stage = ClientStage::new(&LogqlParser::Json).unwrap();
        let stream = Fields(vec![("host".into(), Value::Str("api-2".into()))]);
        let line = r#"{"a":{"b":{"c":"x"}},"n":1.50,"t":true,"f":false,"z":null,"arr":[1,2],"host":"h","1st":"d","e":"","k-y":"v","a":{"b":"later"}}"#;
        assert_eq!(
            texts(&stage.parse(line, &stream)),
            pairs(&[("_1st", "d"), ("a_b", "later"), ("a_b_c", "x"), ("f", "false"), ("host_extracted", "h"), ("k_y", "v"), ("n", "1.50"), ("t", "true")])
        );
        assert!(stage.parse("not json", &stream).is_empty());
        assert!(stage.parse("[1,2]", &stream).is_empty());
        assert_eq!(stage.parse(r#"{"status":504}"#, &stream).get("status"), Some(&Value::Int(504)));
    }

    #[test]
    fn logfmt_stops_at_the_first_syntax_error() {
        let stage = ClientStage::new(&LogqlParser::Logfmt).unwrap();
        let none = Fields::new();
        let line = r#"ts=2026-11-22T06:49:40Z level=info msg="a \"quoted\" b" bare empty= path=/x"#;
        assert_eq!(
            texts(&stage.parse(line, &none)),
            pairs(&[("level", "info"), ("msg", "a \"quoted\" b"), ("path", "/x"), ("ts", "2026-11-22T06:49:40Z")])
        );
        assert_eq!(texts(&stage.parse("a=1 b=x=y c=3", &none)), pairs(&[("a", "1")]));
        assert_eq!(texts(&stage.parse(r#"a=1 "b"=2"#, &none)), pairs(&[("a", "1")]));
        assert_eq!(texts(&stage.parse("http.code=200", &none)), pairs(&[("http_code", "200")]));
    }

    #[test]
    fn regexp_takes_named_groups_of_the_first_match() {
        let stage = ClientStage::new(&LogqlParser::Regexp(r#"" (?P<status>\d{3}) (?P<size>\d+)?"#.into())).unwrap();
        let line = r#"1.2.3.4 - - [x] "GET / HTTP/1.1" 404 - "-" "curl""#;
        assert_eq!(texts(&stage.parse(line, &Fields::new())), pairs(&[("status", "404")]));
    }
}
