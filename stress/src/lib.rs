//! zbench's stress and network-stress workloads: sustained task and I/O load with success
//! accounting, the load generator, and the servers under test (echo, HTTP, file transfer).
//!
//! Empty for now: these workloads need zokio's I/O driver and arrive with the stress issue.
