//! The terminal UI: a state machine (input → action → state update → render).
//!
//! SKELETON: implemented with the explorer issue.
