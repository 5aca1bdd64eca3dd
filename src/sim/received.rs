//! When the kernel received a connection's bytes: the socket's receive timestamps
//! (`SO_TIMESTAMPNS`), read with each `recvmsg`. A request's ground-truth arrival is when its
//! last bytes reached this host, before the server got round to reading them, so a busy
//! server's reading lag counts as server time, not as the client's.
//!
//! In: an accepted TCP stream. Out: reads that also say when the kernel received the last
//! bytes they returned (wall-clock time, converted to the monotonic clock). Linux only:
//! elsewhere reads are plain and say nothing.
//!
//! The option is set on the listening socket, before any connection exists: accepted sockets
//! inherit it, and the kernel keeps stamping packets for as long as the listener lives. Set
//! only on each accepted socket, as it once was, a request that reached the kernel before the
//! server got round to the `setsockopt` had no stamp (seen under load), and while no such
//! socket was open the kernel stamped nothing at all. A read whose bytes carry no stamp says
//! so (`None`); the server counts such requests rather than guessing.

use std::time::{Instant, SystemTime};

#[cfg(target_os = "linux")]
pub use linux::{enable, keep_stamping, poll_read};
#[cfg(not(target_os = "linux"))]
pub use other::{enable, keep_stamping, poll_read};

/// Elsewhere: nothing to enable, and plain reads with no receive time.
#[cfg(not(target_os = "linux"))]
mod other {
    use std::io;
    use std::task::{Context, Poll};
    use std::time::SystemTime;

    use tokio::io::ReadBuf;
    use tokio::net::TcpStream;

    pub fn enable<T>(_: &T) -> io::Result<()> {
        Ok(())
    }

    pub fn keep_stamping() -> bool {
        false
    }

    pub fn poll_read(
        stream: &TcpStream,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<Option<SystemTime>>> {
        loop {
            std::task::ready!(stream.poll_read_ready(cx))?;
            match stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(None));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{self, Write};
    use std::mem::MaybeUninit;
    use std::os::fd::AsRawFd;
    use std::sync::OnceLock;
    use std::task::{Context, Poll, ready};
    use std::time::{Duration, Instant, SystemTime};

    use tokio::io::{Interest, ReadBuf};
    use tokio::net::TcpStream;

    /// Ask the kernel to timestamp what arrives on `socket` (a listener: on every socket it
    /// accepts).
    pub fn enable(socket: &impl AsRawFd) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `on`, which lives across it.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Turn the kernel's receive stamping on for the life of this process and wait until it
    /// is in effect; `false` when stamps did not arrive within a second. The kernel switches
    /// stamping on in deferred work after the first socket asks for it, so a packet arriving
    /// just after that `setsockopt` may still go unstamped, and switches it off again when the
    /// last such socket closes (between two servers of one test process). A listener kept
    /// open until the process exits, and a probe connection through it that waits for its
    /// first stamp, make both moot.
    pub fn keep_stamping() -> bool {
        static ON: OnceLock<bool> = OnceLock::new();
        *ON.get_or_init(|| probe().unwrap_or(false))
    }

    fn probe() -> io::Result<bool> {
        let keeper = std::net::TcpListener::bind("127.0.0.1:0")?;
        enable(&keeper)?;
        let addr = keeper.local_addr()?;
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut stamped = false;
        while !stamped && Instant::now() < deadline {
            let mut client = std::net::TcpStream::connect(addr)?;
            let (server, _) = keeper.accept()?;
            client.write_all(b"x")?;
            let mut byte = [MaybeUninit::uninit(); 1];
            loop {
                match recv(server.as_raw_fd(), &mut byte) {
                    Ok((_, at)) => {
                        stamped = at.is_some();
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        // Kept open on purpose: while it is, the kernel keeps stamping.
        std::mem::forget(keeper);
        Ok(stamped)
    }

    /// Read into `buf` like [`tokio::io::AsyncRead::poll_read`]; also returns when the kernel
    /// received the last bytes read, when it said.
    pub fn poll_read(
        stream: &TcpStream,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<Option<SystemTime>>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(None));
        }
        loop {
            ready!(stream.poll_read_ready(cx))?;
            // SAFETY: recvmsg only writes initialised bytes into the unfilled part, and exactly
            // `n` of them are then marked filled.
            let unfilled = unsafe { buf.unfilled_mut() };
            match stream.try_io(Interest::READABLE, || recv(stream.as_raw_fd(), unfilled)) {
                Ok((n, at)) => {
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    return Poll::Ready(Ok(at));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// One non-blocking `recvmsg` into `into`: bytes read and the `SCM_TIMESTAMPNS` it carried.
    fn recv(
        fd: libc::c_int,
        into: &mut [std::mem::MaybeUninit<u8>],
    ) -> io::Result<(usize, Option<SystemTime>)> {
        // Room for one cmsg of a timespec, aligned as cmsghdr needs.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: into.as_mut_ptr().cast(),
            iov_len: into.len(),
        };
        // SAFETY: a zeroed msghdr is valid; every pointer set in it refers to a live local buffer
        // of the stated length, and the CMSG_* walk stays within `control` as the kernel filled it.
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = std::mem::size_of_val(&control) as _;
            let n = libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT);
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut at = None;
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                    at = Some(
                        SystemTime::UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                    );
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
            Ok((n as usize, at))
        }
    }
}

/// A wall-clock instant on the monotonic clock, read against both clocks now (exact to
/// about a microsecond while the wall clock is not stepped in between).
pub fn monotonic(at: SystemTime) -> Instant {
    let (now, wall) = (Instant::now(), SystemTime::now());
    match wall.duration_since(at) {
        Ok(ago) => now.checked_sub(ago).unwrap_or(now),
        Err(ahead) => now + ahead.duration(),
    }
}
