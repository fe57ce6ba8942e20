//! An accept loop that runs out of file descriptors (`EMFILE`) neither spins a core nor
//! dies when it follows the pattern of `examples/echo_server.rs` (on `EMFILE`/`ENFILE`,
//! wait a little and accept again), and serves the waiting connection once descriptors
//! free up. On both I/O drivers, both scheduler flavors. Alone in its test binary: it
//! lowers the process's `RLIMIT_NOFILE` and fills the descriptor table.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zokio::net::{TcpListener, TcpStream};

mod support;

/// How long the loop waits after running out of descriptors (the example's figure).
const BACKOFF: Duration = Duration::from_millis(50);

/// The example's accept loop, recording what it accepted and how often it ran out.
async fn accept_loop(
    listener: TcpListener,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
    exhausted: Arc<AtomicUsize>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => accepted.lock().unwrap().push(stream),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                exhausted.fetch_add(1, SeqCst);
                zokio::time::sleep(BACKOFF).await;
            }
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

fn nofile() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: writes one rlimit into a live struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

fn set_nofile(lim: libc::rlimit) {
    // SAFETY: reads one rlimit from a live struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

/// Waits (at most 30 s, a bound on a hang, not a speed) until `n` connections are accepted.
async fn until_accepted(accepted: &Mutex<Vec<TcpStream>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < n {
        assert!(Instant::now() < deadline, "connection {n} never accepted");
        zokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn an_accept_loop_out_of_descriptors_waits_and_serves_again() {
    let original = nofile();
    for driver in support::drivers() {
        for workers in [None, Some(2)] {
            let rt = match workers {
                None => zokio::runtime::Builder::new_current_thread(),
                Some(n) => {
                    let mut b = zokio::runtime::Builder::new_multi_thread();
                    b.worker_threads(n);
                    b
                }
            }
            .io_driver(driver)
            .build()
            .unwrap();
            let case = format!("{driver:?}, workers {workers:?}");
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let accepted = Arc::new(Mutex::new(Vec::new()));
                let exhausted = Arc::new(AtomicUsize::new(0));
                zokio::spawn(accept_loop(listener, accepted.clone(), exhausted.clone()));
                // One connection served first, so every ring the runtime sets up on
                // demand exists before descriptors run out.
                let _first = TcpStream::connect(addr).await.unwrap();
                until_accepted(&accepted, 1).await;

                // Fill the table under a lowered limit, keeping one descriptor for the
                // client's socket: the server's accept then has none.
                set_nofile(libc::rlimit {
                    rlim_cur: open_fds() + 16,
                    ..original
                });
                let mut hog = Vec::new();
                loop {
                    match std::fs::File::open("/dev/null") {
                        Ok(f) => hog.push(f),
                        Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                        Err(e) => panic!("{case}: {e}"),
                    }
                }
                drop(hog.pop());
                // Completes from the listener's backlog, accepted or not.
                let _second = std::net::TcpStream::connect(addr).unwrap();
                zokio::time::sleep(Duration::from_millis(500)).await;
                let failures = exhausted.load(SeqCst);
                assert!(failures >= 1, "{case}: the accept never ran out");
                // About 500 ms / 50 ms = 10; a loop retrying at once makes hundreds of
                // thousands of attempts in that time.
                assert!(
                    failures < 100,
                    "{case}: {failures} attempts: the loop spins"
                );
                assert_eq!(accepted.lock().unwrap().len(), 1, "{case}");

                drop(hog);
                until_accepted(&accepted, 2).await;
                set_nofile(original);
            });
        }
    }
}
