//! Log-line formats: parsers for access logs, JSON lines, logfmt and syslog, and detection
//! from a sample of lines. Shared by the local source and the Loki source (which picks a LogQL
//! parser stage from the detected format).
//!
//! SKELETON: implemented with the local source.
