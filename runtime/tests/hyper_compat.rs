//! hyper 1.x serving on zokio: 10,000 requests over 64 keep-alive connections from a hyper
//! client running on Tokio, every response checked. Loopback only; stops by itself.

#![cfg(not(loom))]

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use zokio::compat::hyper::{HyperIo, ZokioExecutor, ZokioTimer};
use zokio::runtime::IoDriver;

mod support;

const CONNECTIONS: usize = 64;
const REQUESTS: usize = 10_000;

async fn handle(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Echo the path so the client can check it got the answer to its own request.
    let body = format!("hello {}", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Starts the server on a zokio runtime on its own thread; returns its address and the
/// runtime (dropping it stops the server).
fn start_server(driver: IoDriver) -> (SocketAddr, zokio::runtime::Runtime) {
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .io_driver(driver)
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tx.send(listener.local_addr().unwrap()).unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            zokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(ZokioTimer)
                    .serve_connection(HyperIo::new(stream), hyper::service::service_fn(handle))
                    .await;
            });
        }
    });
    (rx.recv().unwrap(), rt)
}

#[test]
fn hyper_serves_10k_requests_over_64_keep_alive_connections() {
    for driver in support::drivers() {
        serve_10k(driver);
    }
}

fn serve_10k(driver: IoDriver) {
    let (addr, server_rt) = start_server(driver);
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let served = client_rt.block_on(async move {
        let per = REQUESTS / CONNECTIONS + 1;
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                tokio::spawn(async move {
                    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let (mut sender, conn) =
                        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
                            .await
                            .unwrap();
                    tokio::spawn(conn);
                    let mut ok = 0;
                    for i in (0..per).filter(|i| i * CONNECTIONS + c < REQUESTS) {
                        let path = format!("/{c}/{i}");
                        let req = Request::get(&path).body(Empty::new()).unwrap();
                        sender.ready().await.unwrap();
                        let resp = sender.send_request(req).await.unwrap();
                        assert_eq!(resp.status(), 200);
                        let body = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(body, format!("hello {path}").as_bytes());
                        ok += 1;
                    }
                    ok
                })
            })
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await.unwrap();
        }
        total
    });
    assert_eq!(served, REQUESTS, "on {}", driver.name());
    drop(server_rt);
}

#[test]
fn executor_and_timer_run_on_zokio() {
    use hyper::rt::{Executor, Timer};
    let rt = zokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (tx, rx) = zokio::sync::oneshot::channel();
        ZokioExecutor.execute(async move {
            tx.send(7).unwrap();
        });
        assert_eq!(rx.await, Ok(7));
        let start = std::time::Instant::now();
        ZokioTimer.sleep(std::time::Duration::from_millis(2)).await;
        assert!(
            start.elapsed() >= std::time::Duration::from_millis(2),
            "never early"
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1);
        ZokioTimer.sleep_until(deadline).await;
        assert!(std::time::Instant::now() >= deadline);
    });
}
