//! The Kibana Query Language: parse → AST → translate (Elasticsearch DSL, LogQL) or evaluate
//! in memory. This module knows nothing of sources, the network or the UI.
//!
//! - [`parse`] follows Kibana's grammar (kbn-es-query `grammar.peggy`) exactly, including its
//!   escapes, keyword rules and error messages (with line, column and a caret).
//! - [`to_es`] builds the query DSL Kibana builds for the same query and field list.
//! - [`to_logql`] builds a LogQL query for Loki, or says which part LogQL cannot express.
//! - [`Matcher`] evaluates a query against [`Record`](logsleuth_core::model::Record)s in memory (the local source).
//! - [`completion_context`], [`quote_value`] and [`quote_field`] serve the UI's query bar.
//!
//! See `docs/kql.md` for the language and the translation of each construct.

mod ast;
mod cloudwatch;
mod complete;
mod es;
mod eval;
mod field_caps;
mod logql;
mod parser;

pub use ast::{Ast, FieldRef, Literal, RangeOp, quote_field, quote_value, wildcard_match};
pub use cloudwatch::{CloudWatchFilter, CloudWatchLayout, JsonKind, to_cloudwatch, to_insights_filter};
pub use complete::{Completion, CompletionKind, completion_context};
pub use es::{EsOptions, to_es};
pub use eval::{LineFields, LineValue, Matcher};
pub use field_caps::{FieldCaps, FieldInfo, kbn_type_of};
pub use logql::{
    APACHE_COMBINED_PATTERN, COMMON_PATTERN, LogqlOptions, LogqlParser, NGINX_COMBINED_PATTERN, go_quote, label_name as logql_label_name,
    to_logql,
};
pub use parser::{LEADING_WILDCARD_MESSAGE, ParseOptions, parse_with};

use logsleuth_core::model::Nanos;

/// A KQL error: syntax errors carry the position and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KqlError {
    /// Human-readable message (for syntax errors: what was expected, and the caret display).
    pub message: String,
    /// 0-based character offset of the error in the query, when it has one.
    pub offset: Option<usize>,
}

/// Parses a KQL query. An empty or all-blank query parses to "match everything" (`*:*`).
pub fn parse(query: &str) -> Result<Ast, KqlError> {
    parser::parse_with(query, ParseOptions::default())
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
