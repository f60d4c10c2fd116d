//! The reducer's feature slices: each holds what one feature does to the state in answer to
//! its actions (the dispatch is `update::update`, one match over `Action`). Views stay in
//! `view/` (pure: state in, cells out); layout geometry shared by views and reducers (mouse
//! hit-testing, plot widths) is `crate::layout`.

pub mod charts;
pub mod comparison;
pub mod detail;
pub mod fields;
pub mod histogram;
pub mod patterns;
pub mod query;
pub mod table;
pub mod tail;
pub mod thread;
pub mod time_picker;
pub mod watches;
