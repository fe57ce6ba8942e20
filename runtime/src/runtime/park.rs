//! Blocking a plain thread on a future: `block_on` on a thread that does not drive a
//! scheduler (the multi-thread flavor's caller thread, `Handle::block_on`).

use crate::coop;
use crate::driver::{ParkThread, UnparkThread};
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

thread_local! {
    /// One parker per thread, reused by every `block_on` on it.
    static PARKER: RefCell<Option<ParkThread>> = const { RefCell::new(None) };
}

/// Parks the current thread on its cached parker.
#[derive(Debug)]
pub(crate) struct CachedPark;

struct UnparkWaker(UnparkThread);

impl Wake for UnparkWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

fn with_parker<R>(f: impl FnOnce(&mut ParkThread) -> R) -> R {
    PARKER.with(|p| f(p.borrow_mut().get_or_insert_with(ParkThread::new)))
}

/// This thread's parker and a waker that unparks it.
pub(crate) fn current_thread_parker() -> (CachedPark, Waker) {
    let unpark = with_parker(|p| p.unparker());
    (CachedPark, Waker::from(Arc::new(UnparkWaker(unpark))))
}

impl CachedPark {
    pub(crate) fn park(&self) {
        with_parker(|p| p.park());
    }
}

/// Polls `future` on this thread, parking between polls, until it completes.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let (park, waker) = current_thread_parker();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
            return out;
        }
        park.park();
    }
}
