//! One module per subcommand.

pub(crate) mod child;
pub(crate) mod compare;
pub(crate) mod functions;
pub(crate) mod list;
pub(crate) mod load;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod serve;
