//! Nothing here: the check is `tests/console.rs`.
