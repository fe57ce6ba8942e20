//! [`ToSocketAddrs`]: the addresses `bind`, `connect`, `send_to` and
//! [`lookup_host`](crate::net::lookup_host) take, as Tokio's trait of the same name, with
//! the same implementations.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What can be resolved to socket addresses: `SocketAddr` (and its V4 and V6 forms),
/// `(IpAddr, u16)` (and its V4 and V6 forms), `&[SocketAddr]`, `str` and `String` in
/// `"host:port"` form, `(&str, u16)`, `(String, u16)`, and a reference to any of them.
///
/// Sealed: its method is the runtime's business. A socket address, or a host that is an
/// IP literal, resolves at once; a host name is looked up with std's resolver
/// (`getaddrinfo`, which blocks) on the runtime's blocking pool, so the worker runs its
/// other tasks meanwhile. Outside a runtime (a zokio future polled by another executor)
/// the lookup runs on the calling thread.
pub trait ToSocketAddrs: sealed::Resolve {}

pub(crate) mod sealed {
    use super::Resolution;

    /// How an address resolves: at once, or by a lookup.
    pub trait Resolve {
        /// The addresses, or the lookup that finds them.
        fn resolution(&self) -> Resolution;
    }
}

/// An address resolved at once, or a host name still to look up.
#[derive(Debug)]
pub enum Resolution {
    /// The addresses (or why the input is not one).
    Ready(io::Result<Vec<SocketAddr>>),
    /// A `"host:port"` string for std's resolver.
    HostPort(String),
    /// A host name and a port for std's resolver.
    HostAndPort(String, u16),
}

impl Resolution {
    /// Runs the lookup, blocking the calling thread for a host name.
    fn look_up(self) -> io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs as _;
        match self {
            Resolution::Ready(addrs) => addrs,
            Resolution::HostPort(s) => Ok(s.as_str().to_socket_addrs()?.collect()),
            Resolution::HostAndPort(host, port) => {
                Ok((host.as_str(), port).to_socket_addrs()?.collect())
            }
        }
    }
}

fn ready(addrs: impl IntoIterator<Item = SocketAddr>) -> Resolution {
    Resolution::Ready(Ok(addrs.into_iter().collect()))
}

/// Resolves `addr`: at once, or on the blocking pool for a host name.
///
/// # Errors
/// `InvalidInput` for a malformed address or one that resolves to nothing; the resolver's
/// error for a host name it cannot resolve.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.resolution() {
        Resolution::Ready(addrs) => addrs?,
        lookup => match crate::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || lookup.look_up())
                .await
                .map_err(io::Error::from)??,
            Err(_) => lookup.look_up()?,
        },
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "address resolved to nothing",
        ));
    }
    Ok(addrs)
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

impl<T: ToSocketAddrs + ?Sized> sealed::Resolve for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}

/// Implements the trait for types std resolves without a lookup.
macro_rules! resolved_at_once {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}

        impl sealed::Resolve for $ty {
            fn resolution(&self) -> Resolution {
                ready([SocketAddr::from(*self)])
            }
        }
    )*};
}

resolved_at_once!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
);

impl ToSocketAddrs for &[SocketAddr] {}

impl sealed::Resolve for &[SocketAddr] {
    fn resolution(&self) -> Resolution {
        ready(self.iter().copied())
    }
}

impl ToSocketAddrs for str {}

impl sealed::Resolve for str {
    fn resolution(&self) -> Resolution {
        match self.parse::<SocketAddr>() {
            Ok(addr) => ready([addr]),
            Err(_) => Resolution::HostPort(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}

impl sealed::Resolve for String {
    fn resolution(&self) -> Resolution {
        self.as_str().resolution()
    }
}

impl ToSocketAddrs for (&str, u16) {}

impl sealed::Resolve for (&str, u16) {
    fn resolution(&self) -> Resolution {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => ready([SocketAddr::new(ip, port)]),
            Err(_) => Resolution::HostAndPort(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}

impl sealed::Resolve for (String, u16) {
    fn resolution(&self) -> Resolution {
        (self.0.as_str(), self.1).resolution()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::sealed::Resolve;
    use super::*;

    fn at_once(addr: &impl ToSocketAddrs) -> Option<Vec<SocketAddr>> {
        match addr.resolution() {
            Resolution::Ready(addrs) => Some(addrs.unwrap()),
            _ => None,
        }
    }

    #[test]
    fn literals_resolve_without_a_lookup_and_names_need_one() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(at_once(&v4), Some(vec![v4]));
        assert_eq!(at_once(&"127.0.0.1:80"), Some(vec![v4]));
        assert_eq!(at_once(&String::from("[::1]:80")), Some(vec![v6]));
        assert_eq!(at_once(&("::1", 80)), Some(vec![v6]));
        assert_eq!(at_once(&(Ipv4Addr::LOCALHOST, 80)), Some(vec![v4]));
        assert_eq!(at_once(&&[v4, v6][..]), Some(vec![v4, v6]));
        assert!(matches!(
            "localhost:80".resolution(),
            Resolution::HostPort(s) if s == "localhost:80"
        ));
        assert!(matches!(
            (String::from("localhost"), 80).resolution(),
            Resolution::HostAndPort(h, 80) if h == "localhost"
        ));
    }
}
