//! Field values: a small JSON-like tree with integers kept apart from floats.

use std::fmt;

/// A field value. Access-log fields are mostly `Str` and `Int`; JSON lines bring the rest.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null` or an absent value shown as `-`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (status codes, byte counts).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A list of values (multi-valued field).
    Array(Vec<Value>),
    /// A nested object.
    Object(Fields),
}

/// Ordered list of named values. Order is the order of the source (log line or JSON object),
/// which is what a user expects to see in the detail view. Lookups are linear: records have few
/// fields, and a Vec beats a map at that size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields(pub Vec<(String, Value)>);

impl Fields {
    /// An empty field list.
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    /// Appends a field (no de-duplication: the caller knows its keys are unique).
    pub fn push(&mut self, name: impl Into<String>, value: Value) {
        self.0.push((name.into(), value));
    }

    /// Sets a field, replacing an existing value of the same name.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    /// The value of a top-level field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The value at a dotted path (`user.name`), looking first for a literal key with dots
    /// (JSON logs often flatten) and then descending into nested objects.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        if let Some(v) = self.get(path) {
            return Some(v);
        }
        let mut rest = path;
        while let Some(dot) = rest.find('.') {
            // Try every split point: `a.b.c` may be `a` → `b.c` or `a.b` → `c`.
            let (head, tail) = (&path[..path.len() - rest.len() + dot], &rest[dot + 1..]);
            if let Some(Value::Object(inner)) = self.get(head)
                && let Some(v) = inner.get_path(tail)
            {
                return Some(v);
            }
            rest = tail;
        }
        None
    }

    /// Iterates over `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Number of top-level fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All leaf fields with dotted names (`geo.coordinates.lat`), depth first.
    pub fn flatten(&self) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        fn walk<'a>(prefix: &str, fields: &'a Fields, out: &mut Vec<(String, &'a Value)>) {
            for (name, value) in fields.iter() {
                let full = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
                match value {
                    Value::Object(inner) => walk(&full, inner, out),
                    _ => out.push((full, value)),
                }
            }
        }
        walk("", self, &mut out);
        out
    }
}

impl Value {
    /// The value as a string for display and for keyword matching (numbers print plainly,
    /// objects and arrays as compact JSON).
    pub fn as_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// The value as a number, parsing strings that hold one (as Elasticsearch coerces them).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// Converts to a `serde_json::Value` (for NDJSON output and the detail view's JSON).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(fields) => fields.to_json(),
        }
    }

    /// Converts from JSON, keeping integers apart from floats.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(map) => {
                Value::Object(Fields(map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()))
            }
        }
    }
}

impl Fields {
    /// Converts to a JSON object, preserving field order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Array(_) | Value::Object(_) => write!(f, "{}", self.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_path_descends_into_objects_and_prefers_literal_dotted_keys() {
        let mut inner = Fields::new();
        inner.push("first", Value::Str("Alice".into()));
        let mut f = Fields::new();
        f.push("user", Value::Object(inner));
        f.push("a.b", Value::Int(1));
        assert_eq!(f.get_path("user.first"), Some(&Value::Str("Alice".into())));
        assert_eq!(f.get_path("a.b"), Some(&Value::Int(1)));
        assert_eq!(f.get_path("user.last"), None);
    }

    #[test]
    fn json_round_trip_keeps_integers_apart_from_floats() {
        let json: serde_json::Value = serde_json::json!({"status": 200, "ratio": 0.5, "tags": ["a"]});
        let v = Value::from_json(&json);
        assert_eq!(v.to_json(), json);
        let Value::Object(f) = v else { panic!("object expected") };
        assert_eq!(f.get("status"), Some(&Value::Int(200)));
        assert_eq!(f.get("ratio"), Some(&Value::Float(0.5)));
    }
}
