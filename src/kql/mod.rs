//! The Kibana Query Language: parse → AST → translate (Elasticsearch DSL, LogQL) or evaluate
//! in memory. This module knows nothing of sources, the network or the UI.
//!
//! SKELETON: the public API below is the contract other modules code against; the
//! implementation lands with the KQL engine.

use crate::model::{Nanos, Record};

/// A parsed KQL query.
#[derive(Debug, Clone, PartialEq)]
pub struct Ast;

/// A KQL error: syntax errors carry the position and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KqlError {
    /// Human-readable message (for syntax errors: what was expected, and the caret display).
    pub message: String,
    /// 0-based character offset of the error in the query, when it has one.
    pub offset: Option<usize>,
}

/// Parses a KQL query. An empty or all-blank query parses to "match everything".
pub fn parse(query: &str) -> Result<Ast, KqlError> {
    let _ = query;
    Err(KqlError { message: "KQL is not implemented yet".into(), offset: None })
}

/// Options for in-memory evaluation.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// "now" for date math in ranges (`now-15m`).
    pub now: Nanos,
    /// Time zone for date math rounding and zone-less dates (IANA name), UTC if none.
    pub time_zone: Option<String>,
    /// Keyword matches ignore case.
    pub case_insensitive: bool,
}

/// A compiled query for evaluation against records.
#[derive(Debug, Clone)]
pub struct Matcher;

impl Matcher {
    /// Compiles an AST for evaluation.
    pub fn new(ast: &Ast, options: &EvalOptions) -> Result<Matcher, KqlError> {
        let _ = (ast, options);
        Err(KqlError { message: "KQL is not implemented yet".into(), offset: None })
    }

    /// Whether the record matches.
    pub fn matches(&self, record: &Record) -> bool {
        let _ = record;
        true
    }
}
