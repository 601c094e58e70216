//! Accepting connections and serving the router over HTTP/1.1 with a read timeout, so slow or
//! silent clients cannot hold connections (and their file descriptors) open:
//! - a client has the timeout to send a request's headers, counted from the connection's
//!   opening or the end of its last answer (an idle keep-alive connection is closed after it);
//! - and the timeout again to send the whole body, counted from the end of the headers: a body
//!   read past it fails with [`ReadTimedOut`], which the gateway answers 408;
//! - and a client that stops reading its answer (a write makes no progress for the timeout) is
//!   disconnected, so it holds neither a connection nor a graceful shutdown.
//!
//! Graceful shutdown: on the signal no new connection is accepted; each open one finishes the
//! request in flight and closes, and [`serve`] returns when the last has.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::Request;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::error::Error;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower::Service;

/// Serves `app` on `listener` until `shutdown` resolves, then until every open connection has
/// finished. Requests carry the peer's address as [`ConnectInfo`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    // Connections watch `stop` for the signal; each holds a clone of `open` until it ends.
    let (stop, stopping) = watch::channel(());
    let (open, _) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are written whole; Nagle's delay would only hold their last packet back.
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut request = request.map(|body| Body::new(ReadBy::new(body, read_timeout)));
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().call(request)
        });
        let mut stopping = stopping.clone();
        let held = open.subscribe();
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout);
            let io = TokioIo::new(Stalls::new(tcp, read_timeout));
            let mut connection = pin!(builder.serve_connection(io, service));
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(held);
        });
    }
    drop(listener);
    let _ = stop.send(());
    open.closed().await;
}

/// After a failed accept: a connection that was reset before it was taken costs nothing; any
/// other failure (out of file descriptors, most often) waits a second rather than spinning.
async fn pause_after(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!("could not accept a connection: {error}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A connection whose writes fail when they make no progress for `timeout`: the client is not
/// reading (its window is full) and is not going to.
struct Stalls {
    tcp: tokio::net::TcpStream,
    timeout: Duration,
    /// Running while a write waits for the client to read.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl Stalls {
    fn new(tcp: tokio::net::TcpStream, timeout: Duration) -> Self {
        Stalls {
            tcp,
            timeout,
            stalled: None,
        }
    }

    /// A write's outcome: progress ends the wait; waiting longer than the timeout fails it.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncRead for Stalls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Stalls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.tcp).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.tcp).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

/// A request body that fails with [`ReadTimedOut`] when it is not all read by its deadline.
struct ReadBy {
    body: Incoming,
    deadline: Instant,
    /// Made on the first read, so a request whose body is never read pays no timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl ReadBy {
    fn new(body: Incoming, timeout: Duration) -> Self {
        ReadBy {
            body,
            deadline: Instant::now() + timeout,
            sleep: None,
        }
    }
}

impl http_body::Body for ReadBy {
    type Data = Bytes;
    type Error = Box<dyn Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = self.deadline;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(ReadTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The client did not send the request's body within the read timeout.
#[derive(Debug, thiserror::Error)]
#[error("the client did not send the request body in time")]
pub struct ReadTimedOut;

impl ReadTimedOut {
    /// Whether `error`, or any error it wraps, is a [`ReadTimedOut`].
    pub fn caused(error: &(dyn Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(e) = next {
            if e.is::<ReadTimedOut>() {
                return true;
            }
            next = e.source();
        }
        false
    }
}
