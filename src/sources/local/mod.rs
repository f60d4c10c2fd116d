//! Local files and stdin.
//!
//! SKELETON: implemented with the explorer issue.
