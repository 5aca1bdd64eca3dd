//! The listening socket and its connections, with the hooks connection faults need.
//!
//! In: a bound TCP listener. Out: an axum [`Listener`] whose connections can be reset on
//! demand (a killed connection closes with `SO_LINGER` 0, so the peer gets a TCP RST), and
//! which can go down — close the listening socket, so connections are refused — and come
//! back on the same port. Accepted connections get `TCP_NODELAY`: tokens must not wait for
//! Nagle's algorithm. Reads note when the kernel received the bytes ([`received`]), the
//! arrival a request's ground truth counts from.
//!
//! The port listens with a deep accept queue ([`BACKLOG`]): thousands of clients connecting
//! at once (a rate-`inf` run of 10,000 streams) would overflow a short one (the standard
//! library's is 128), and the kernel then drops their handshakes, so they retry a second or
//! more later (time in TTFT) or, with SYN cookies, sometimes fail. For the same reason each
//! accept drains every connection already waiting ([`DRAIN`] at most), so the queue empties
//! whenever the accepting task gets its turn among thousands of busy connections.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;

use super::received;

/// Accept-queue length asked for; the kernel caps it at `net.core.somaxconn` (4096 by
/// default since Linux 5.4).
pub const BACKLOG: u32 = 65_535;

/// Most waiting connections taken at once after an accept.
const DRAIN: usize = 1024;

/// Listen on `addr` with [`BACKLOG`] (`SO_REUSEADDR` set, as the standard library does).
/// Call inside a tokio runtime.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    // Accepted sockets inherit it; where it fails the server records no receipt times.
    received::keep_stamping();
    let _ = received::enable(&socket);
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Control of one connection.
#[derive(Debug, Default)]
pub struct ConnCtl {
    killed: AtomicBool,
    waker: Mutex<Option<Waker>>,
    /// When the kernel received the last bytes read, nanoseconds of wall-clock time (0:
    /// not known).
    received_ns: AtomicU64,
}

impl ConnCtl {
    /// When the kernel received the last bytes read from this connection (a request's last
    /// bytes, once its body has been read), on the monotonic clock.
    pub fn received(&self) -> Option<Instant> {
        match self.received_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(received::monotonic(
                SystemTime::UNIX_EPOCH + Duration::from_nanos(ns),
            )),
        }
    }

    /// Reset the connection at its next read or write (and wake a pending read).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().expect("waker lock").take() {
            w.wake();
        }
    }
}

/// Every open connection, and the switch that takes the port down.
#[derive(Debug)]
pub struct Conns {
    open: Mutex<Vec<Weak<ConnCtl>>>,
    /// Live entries of `open` after its last sweep of closed ones.
    swept: std::sync::atomic::AtomicUsize,
    down: mpsc::UnboundedSender<Duration>,
    accepted: std::sync::atomic::AtomicU64,
}

impl Conns {
    /// Reset every open connection and stop listening for `for_`.
    pub fn go_down(&self, for_: Duration) {
        let _ = self.down.send(for_);
        for c in self.open.lock().expect("conns lock").drain(..) {
            if let Some(c) = c.upgrade() {
                c.kill();
            }
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    fn register(&self) -> Arc<ConnCtl> {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        let ctl = Arc::new(ConnCtl::default());
        let mut open = self.open.lock().expect("conns lock");
        // Sweep closed connections when the list has doubled since the last sweep: linear
        // time over all accepts, where sweeping at each accept is quadratic.
        if open.len() >= 2 * self.swept.load(Ordering::Relaxed).max(64) {
            open.retain(|w| w.strong_count() > 0);
            self.swept.store(open.len(), Ordering::Relaxed);
        }
        open.push(Arc::downgrade(&ctl));
        ctl
    }
}

/// The server's listener.
pub struct FaultListener {
    inner: Option<TcpListener>,
    addr: SocketAddr,
    conns: Arc<Conns>,
    down: mpsc::UnboundedReceiver<Duration>,
    /// Connections accepted but not yet handed to the server.
    ready: VecDeque<(TcpStream, SocketAddr)>,
}

impl FaultListener {
    /// Wrap a bound listener; also returns the handle that controls its connections.
    pub fn new(inner: TcpListener) -> io::Result<(FaultListener, Arc<Conns>)> {
        let addr = inner.local_addr()?;
        let (tx, down) = mpsc::unbounded_channel();
        let conns = Arc::new(Conns {
            open: Mutex::new(Vec::new()),
            swept: Default::default(),
            down: tx,
            accepted: Default::default(),
        });
        let l = FaultListener {
            inner: Some(inner),
            addr,
            conns: conns.clone(),
            down,
            ready: VecDeque::new(),
        };
        Ok((l, conns))
    }
}

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (FaultIo, SocketAddr) {
        loop {
            if let Some((stream, peer)) = self.ready.pop_front() {
                let _ = stream.set_nodelay(true);
                let ctl = self.conns.register();
                return (FaultIo { stream, ctl }, peer);
            }
            let Some(inner) = &self.inner else {
                match listen(self.addr) {
                    Ok(l) => self.inner = Some(l),
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
                continue;
            };
            tokio::select! {
                d = self.down.recv() => {
                    self.inner = None;
                    for (stream, _) in self.ready.drain(..) {
                        let _ = stream.set_zero_linger();
                    }
                    tokio::time::sleep(d.unwrap_or_default()).await;
                    while self.down.try_recv().is_ok() {}
                }
                r = inner.accept() => match r {
                    Ok(first) => {
                        self.ready.push_back(first);
                        // Without waiting: Pending once the queue is empty.
                        let mut cx = Context::from_waker(Waker::noop());
                        while self.ready.len() < DRAIN {
                            match inner.poll_accept(&mut cx) {
                                Poll::Ready(Ok(next)) => self.ready.push_back(next),
                                _ => break,
                            }
                        }
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                },
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// A connection that fails with a reset once killed.
pub struct FaultIo {
    stream: TcpStream,
    ctl: Arc<ConnCtl>,
}

impl FaultIo {
    fn reset(&self) -> Poll<io::Result<()>> {
        let _ = self.stream.set_zero_linger();
        Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
    }

    fn killed(&self) -> bool {
        self.ctl.killed.load(Ordering::SeqCst)
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        *this.ctl.waker.lock().expect("waker lock") = Some(cx.waker().clone());
        if this.killed() {
            return this.reset();
        }
        let before = buf.filled().len();
        let at = ready!(received::poll_read(&this.stream, cx, buf))?;
        if buf.filled().len() > before {
            // Bytes without a stamp make the receipt unknown (0), never the previous one's.
            let ns = at
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as u64);
            this.ctl.received_ns.store(ns, Ordering::Relaxed);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.killed() {
            return this.reset().map_ok(|()| 0);
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.killed() {
            return this.reset().map_ok(|()| 0);
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed() {
            return this.reset();
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// What a handler learns about its connection: the handle that resets it.
#[derive(Clone)]
pub struct ConnInfo(pub Arc<ConnCtl>);

impl Connected<IncomingStream<'_, FaultListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        ConnInfo(stream.io().ctl.clone())
    }
}
