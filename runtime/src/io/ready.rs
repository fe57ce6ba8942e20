//! Readiness, Tokio's names: [`Interest`] (what a task waits for) and [`Ready`] (what a
//! socket is ready for), for `TcpStream::ready`, `readable`, `try_read` and the like.

use std::fmt;
use std::ops;

/// What to wait for: readable, writable, error, or a union (`Interest::READABLE |
/// Interest::WRITABLE`). Same constants and methods as Tokio's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

const R: u8 = 0b0001;
const W: u8 = 0b0010;
const E: u8 = 0b0100;
const P: u8 = 0b1000;

impl Interest {
    /// Readable: data to read, or the peer closed its write side.
    pub const READABLE: Interest = Interest(R);
    /// Writable: room to write, or the connection closed.
    pub const WRITABLE: Interest = Interest(W);
    /// An error is pending on the socket.
    pub const ERROR: Interest = Interest(E);
    /// Priority data (`POLLPRI`: TCP urgent data, an exceptional condition on a file).
    pub const PRIORITY: Interest = Interest(P);

    /// Whether it includes [`READABLE`](Self::READABLE).
    pub const fn is_readable(self) -> bool {
        self.0 & R != 0
    }

    /// Whether it includes [`WRITABLE`](Self::WRITABLE).
    pub const fn is_writable(self) -> bool {
        self.0 & W != 0
    }

    /// Whether it includes [`ERROR`](Self::ERROR).
    pub const fn is_error(self) -> bool {
        self.0 & E != 0
    }

    /// Whether it includes [`PRIORITY`](Self::PRIORITY).
    pub const fn is_priority(self) -> bool {
        self.0 & P != 0
    }

    /// The union of both.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`; `None` if nothing is left.
    #[must_use]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }

    /// The readiness that satisfies this interest.
    pub(crate) fn mask(self) -> Ready {
        let mut r = Ready::EMPTY;
        if self.is_readable() {
            r |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if self.is_writable() {
            r |= Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        if self.is_error() {
            r |= Ready::ERROR;
        }
        if self.is_priority() {
            r |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        r
    }
}

impl From<Interest> for crate::driver::io::ReadyMask {
    fn from(interest: Interest) -> Self {
        crate::driver::io::ReadyMask(interest.mask().to_driver_bits())
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (R, "READABLE"),
            (W, "WRITABLE"),
            (E, "ERROR"),
            (P, "PRIORITY"),
        ];
        let mut sep = "";
        for (bit, name) in names {
            if self.0 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = " | ";
            }
        }
        Ok(())
    }
}

/// What a socket was found ready for. Same constants and methods as Tokio's.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ready(u8);

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Data to read.
    pub const READABLE: Ready = Ready(0b00_0001);
    /// Room to write.
    pub const WRITABLE: Ready = Ready(0b00_0010);
    /// The peer closed its write side (reads return what is left, then end of stream).
    pub const READ_CLOSED: Ready = Ready(0b00_0100);
    /// The connection is closed for writing.
    pub const WRITE_CLOSED: Ready = Ready(0b00_1000);
    /// Priority data (`POLLPRI`).
    pub const PRIORITY: Ready = Ready(0b01_0000);
    /// An error is pending.
    pub const ERROR: Ready = Ready(0b10_0000);
    /// Every kind of readiness.
    pub const ALL: Ready = Ready(0b11_1111);

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Readable or read-closed.
    pub fn is_readable(self) -> bool {
        self.0 & (Ready::READABLE.0 | Ready::READ_CLOSED.0) != 0
    }

    /// Writable or write-closed.
    pub fn is_writable(self) -> bool {
        self.0 & (Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0) != 0
    }

    /// Read-closed.
    pub fn is_read_closed(self) -> bool {
        self.0 & Ready::READ_CLOSED.0 != 0
    }

    /// Write-closed.
    pub fn is_write_closed(self) -> bool {
        self.0 & Ready::WRITE_CLOSED.0 != 0
    }

    /// Priority data.
    pub fn is_priority(self) -> bool {
        self.0 & Ready::PRIORITY.0 != 0
    }

    /// An error is pending.
    pub fn is_error(self) -> bool {
        self.0 & Ready::ERROR.0 != 0
    }

    /// From the driver's readiness bits (`driver::io::scheduled_io`).
    pub(crate) fn from_driver_bits(bits: usize) -> Ready {
        use crate::driver::io::scheduled_io as s;
        let mut r = Ready::EMPTY;
        for (bit, ready) in [
            (s::READABLE, Ready::READABLE),
            (s::WRITABLE, Ready::WRITABLE),
            (s::READ_CLOSED, Ready::READ_CLOSED),
            (s::WRITE_CLOSED, Ready::WRITE_CLOSED),
            (s::ERROR, Ready::ERROR),
            (s::PRIORITY, Ready::PRIORITY),
        ] {
            if bits & bit != 0 {
                r |= ready;
            }
        }
        r
    }

    /// The driver's readiness bits for this readiness.
    pub(crate) fn to_driver_bits(self) -> usize {
        use crate::driver::io::scheduled_io as s;
        [
            (Ready::READABLE, s::READABLE),
            (Ready::WRITABLE, s::WRITABLE),
            (Ready::READ_CLOSED, s::READ_CLOSED),
            (Ready::WRITE_CLOSED, s::WRITE_CLOSED),
            (Ready::ERROR, s::ERROR),
            (Ready::PRIORITY, s::PRIORITY),
        ]
        .into_iter()
        .filter(|(r, _)| self.0 & r.0 != 0)
        .fold(0, |acc, (_, bit)| acc | bit)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error())
            .field("is_priority", &self.is_priority())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_and_ready_combine_as_tokios() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable() && !both.is_error());
        assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
        let r = Ready::READ_CLOSED | Ready::WRITABLE;
        assert!(r.is_readable() && r.is_read_closed() && r.is_writable());
        assert!(!r.is_write_closed() && !r.is_error() && !r.is_empty());
        assert_eq!(r - Ready::WRITABLE, Ready::READ_CLOSED);
        assert_eq!(r & Ready::WRITABLE, Ready::WRITABLE);
        // Round trip through the driver's bits (priority has none).
        let all = Ready::ALL - Ready::PRIORITY;
        assert_eq!(Ready::from_driver_bits(all.to_driver_bits()), all);
        assert_eq!(
            Interest::READABLE.mask(),
            Ready::READABLE | Ready::READ_CLOSED
        );
    }
}
