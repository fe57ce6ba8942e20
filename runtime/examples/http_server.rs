//! An HTTP/1.1 server with keep-alive: hyper 1.x on zokio through `zokio::compat::hyper`.
//!
//! ```sh
//! cargo run --release -p zokio --features hyper --example http_server -- 127.0.0.1:8080
//! curl http://127.0.0.1:8080/          # Hello, World!
//! curl http://127.0.0.1:8080/4k        # a 4 KiB body
//! ```
//!
//! Listens on the address given (default `127.0.0.1:8080`) until the process is stopped.
//! Each connection is served by its own task; hyper keeps connections alive between
//! requests. Out of file descriptors, the accept loop waits and tries again, as
//! `examples/echo_server.rs` explains.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use std::convert::Infallible;
use zokio::compat::hyper::{HyperIo, ZokioTimer};
use zokio::net::TcpListener;

async fn handle(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match req.uri().path() {
        "/4k" => Bytes::from(vec![b'x'; 4096]),
        _ => Bytes::from_static(b"Hello, World!"),
    };
    Ok(Response::new(Full::new(body)))
}

#[zokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("http server listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                eprintln!("accept: {e}; waiting for descriptors to free up");
                zokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
            Err(e) => return Err(e),
        };
        if let Err(e) = stream.set_nodelay(true) {
            // The peer may be gone already: that connection, not the server, ends.
            eprintln!("set_nodelay: {e}");
            continue;
        }
        zokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(ZokioTimer)
                .keep_alive(true)
                .serve_connection(HyperIo::new(stream), hyper::service::service_fn(handle))
                .await;
            if let Err(e) = served {
                eprintln!("connection error: {e}");
            }
        });
    }
}
