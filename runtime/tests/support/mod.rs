//! Shared by the integration tests: `rt_test!` runs each test body on the current-thread
//! flavor and on the multi-thread flavor with 1 and 2 workers (after Tokio's
//! `tests/rt_common.rs`). The including file must import `Builder` and `Runtime`.

macro_rules! rt_test {
    ($($body:tt)*) => {
        mod current_thread {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_current_thread().build().unwrap()
            }
            $($body)*
        }
        mod multi_thread_1 {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_multi_thread().worker_threads(1).build().unwrap()
            }
            $($body)*
        }
        mod multi_thread_2 {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_multi_thread().worker_threads(2).build().unwrap()
            }
            $($body)*
        }
    };
}
