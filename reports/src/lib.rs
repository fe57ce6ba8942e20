//! zbench's result-file schema (`"schema": "zbench/1"`), comparison and regression logic,
//! and HTML report pages.
//!
//! Empty for now: it arrives with the harness and report issues. It will depend on no
//! runtime.
