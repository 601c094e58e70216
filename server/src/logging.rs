//! The log both binaries write, and its one line per request: method, path, status and latency
//! at INFO, e.g.
//!
//! ```text
//! INFO request{method=GET path=/dashboard/keys}: tollgate::logging: status=200 ms=1.420
//! ```
//!
//! Never a query string (the setup link carries `?token=`), a header (cookies, API keys) or a
//! body; and a path segment that is itself a secret — the invite token in `/invite/TOKEN` — is
//! replaced by `:token`.

use http::{Request, Response};
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier};
use tower_http::trace::{MakeSpan, OnFailure, OnResponse, TraceLayer};
use tracing::Span;

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// Installs the global subscriber: `RUST_LOG` (or [`DEFAULT_FILTER`]), lines to `writer`,
/// coloured only when `ansi` (a terminal reads them; a file or a log collector would get the
/// escape codes as text).
///
/// Lines are not written as they are logged: they gather in memory and a thread of its own
/// writes them every [`WRITE_EVERY`] (or sooner, past [`WRITE_PAST`] bytes), so a request pays
/// for formatting its line and a copy, not for a write or for waking a thread. Measured with
/// `tollgate-bench gateway` at 1,000 requests/s on 2 cores, that kept the request log within the
/// run-to-run noise (a few µs), where writing each line at once — on the request's thread, or
/// handed to a writer thread per line — added 15–30 µs at p50 and up to 70 µs at p99.
///
/// Keep the guard until the end of `main`: dropping it writes what is still gathered. A process
/// killed outright loses at most the last [`WRITE_EVERY`] of lines. When the output stops
/// taking lines (a stalled pipe), lines past [`KEEP_AT_MOST`] are dropped and counted rather
/// than making requests wait.
#[must_use = "dropping the guard stops the log writer"]
pub fn init<W: Write + Send + 'static>(writer: W, ansi: bool) -> LogGuard {
    let (batched, guard) = Batched::start(writer);
    tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| DEFAULT_FILTER.into()),
        )
        .with_writer(batched)
        .init();
    guard
}

/// How often gathered lines are written.
pub const WRITE_EVERY: Duration = Duration::from_millis(100);
/// Gathered bytes past which the writer is woken at once; past four times this, the logging
/// thread writes them itself (so memory stays bounded when the output blocks).
pub const WRITE_PAST: usize = 256 * 1024;
/// Gathered bytes past which further lines are dropped (and counted, and the count written
/// once the output takes lines again): a logger never waits for the output, so a stalled
/// standard output cannot stall the requests that log.
pub const KEEP_AT_MOST: usize = 16 * WRITE_PAST;
/// The longest path logged; a longer one is cut and its length said, so a client cannot put
/// 64 KB of its own text into the log with every request.
pub const PATH_MAX: usize = 256;

#[derive(Default)]
struct Gathered {
    lines: Vec<u8>,
    /// Lines dropped since the last write, for want of room.
    dropped: u64,
    stop: bool,
}

struct Shared {
    gathered: Mutex<Gathered>,
    wake: Condvar,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Shared {
    fn gathered(&self) -> MutexGuard<'_, Gathered> {
        self.gathered.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes out what is gathered, then how many lines were dropped since the last write.
    /// Only the writer thread (or the guard, at the end) calls this: a logger never waits for
    /// the output. The output is locked before the gathered lines are let go, so lines are
    /// written in the order they were logged.
    fn write_out(&self, mut gathered: MutexGuard<'_, Gathered>) {
        let lines = std::mem::take(&mut gathered.lines);
        let dropped = std::mem::take(&mut gathered.dropped);
        if lines.is_empty() && dropped == 0 {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        drop(gathered);
        // Nowhere to report a failed log write: like the standard writers, carry on.
        let _ = out.write_all(&lines);
        if dropped > 0 {
            let _ = writeln!(
                out,
                "tollgate: {dropped} log lines dropped: the log's output did not keep up"
            );
        }
        let _ = out.flush();
    }
}

/// The subscriber's writer: appends each line to what is gathered (or, if no writer thread
/// could be started, writes it at once).
#[derive(Clone)]
struct Batched {
    shared: Arc<Shared>,
    inline: bool,
}

impl Batched {
    fn start<W: Write + Send + 'static>(out: W) -> (Self, LogGuard) {
        let shared = Arc::new(Shared {
            gathered: Mutex::new(Gathered::default()),
            wake: Condvar::new(),
            out: Mutex::new(Box::new(out)),
        });
        let writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("tollgate-log".into())
            .spawn(move || {
                loop {
                    let mut gathered = writer.gathered();
                    if !gathered.stop && gathered.lines.len() <= WRITE_PAST {
                        gathered = writer
                            .wake
                            .wait_timeout(gathered, WRITE_EVERY)
                            .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
                    }
                    let stop = gathered.stop;
                    writer.write_out(gathered);
                    if stop {
                        return;
                    }
                }
            })
            .ok();
        let batched = Batched {
            shared: Arc::clone(&shared),
            inline: thread.is_none(),
        };
        (batched, LogGuard { shared, thread })
    }
}

impl Write for Batched {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut gathered = self.shared.gathered();
        if gathered.lines.len() + line.len() > KEEP_AT_MOST {
            gathered.dropped += 1;
            return Ok(line.len());
        }
        gathered.lines.extend_from_slice(line);
        if self.inline {
            self.shared.write_out(gathered);
        } else if gathered.lines.len() > WRITE_PAST {
            drop(gathered);
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Batched {
    type Writer = Batched;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Writes what is gathered, and stops the writer, when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.gathered().stop = true;
        self.shared.wake.notify_one();
        match self.thread.take() {
            Some(thread) => {
                let _ = thread.join();
            }
            // No writer thread could be started: write what is gathered here.
            None => self.shared.write_out(self.shared.gathered()),
        }
    }
}

/// The request log as a layer: outermost, so it sees every route and the final status.
pub type RequestLog = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    (),
    ResponseLine,
    (),
    (),
    BodyFailure,
>;

/// The layer that writes one line per request.
pub fn request_log() -> RequestLog {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(ResponseLine)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(BodyFailure)
}

/// The request's span: its method and [`loggable_path`], nothing else.
#[derive(Debug, Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %loggable_path(request.uri().path()),
        )
    }
}

/// The request's line, once the answer's head is ready (a stream's latency is that of its
/// first byte).
#[derive(Debug, Clone, Copy)]
pub struct ResponseLine;

impl<B> OnResponse<B> for ResponseLine {
    fn on_response(self, response: &Response<B>, latency: Duration, _: &Span) {
        tracing::info!(
            status = response.status().as_u16(),
            ms = %format_args!("{:.3}", latency.as_secs_f64() * 1000.0),
        );
    }
}

/// An answer whose body broke off after its line was written (a 5xx status is in the line
/// already). The error's text is left out: it can hold an upstream URL.
#[derive(Debug, Clone, Copy)]
pub struct BodyFailure;

impl OnFailure<ServerErrorsFailureClass> for BodyFailure {
    fn on_failure(&mut self, class: ServerErrorsFailureClass, latency: Duration, _: &Span) {
        if let ServerErrorsFailureClass::Error(_) = class {
            tracing::warn!(
                ms = %format_args!("{:.3}", latency.as_secs_f64() * 1000.0),
                "the answer's body broke off"
            );
        }
    }
}

/// The path as it may be logged: every segment after an `invite` segment (compared without
/// case or percent-encoding, as a router might) is a token and becomes `:token`; past
/// [`PATH_MAX`] bytes the rest is cut and the length said.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    let shown = without_tokens(path);
    if shown.len() <= PATH_MAX {
        return shown;
    }
    let mut end = PATH_MAX;
    while !shown.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &shown[..end], path.len()).into()
}

fn without_tokens(path: &str) -> std::borrow::Cow<'_, str> {
    let mut offset = 0;
    for segment in path.split('/') {
        offset += segment.len() + 1;
        if is_invite(segment) {
            if offset >= path.len() {
                break;
            }
            return format!("{}:token", &path[..offset]).into();
        }
    }
    path.into()
}

fn is_invite(segment: &str) -> bool {
    if segment.eq_ignore_ascii_case("invite") {
        return true;
    }
    if !segment.contains('%') || segment.len() > 3 * "invite".len() {
        return false;
    }
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                decoded.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    decoded.eq_ignore_ascii_case(b"invite")
}

#[cfg(test)]
mod tests {
    use super::{loggable_path, request_log};
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::Request;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;

    /// The lines written while `requests` go through a router with the request log.
    fn logged(requests: Vec<Request<Body>>) -> String {
        let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&lines);
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .finish();
        let app = Router::new()
            .route("/setup", get(|| async { "ok" }))
            .route("/invite/{token}", get(|| async { "ok" }))
            .layer(request_log());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                for request in requests {
                    app.clone().oneshot(request).await.unwrap();
                }
            });
        });
        String::from_utf8(lines.lock().unwrap().clone()).unwrap()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_line_per_request_without_query_headers_or_tokens() {
        let requests = vec![
            Request::get("/setup?token=SECRET-SETUP")
                .header("cookie", "tollgate_session=SECRET-COOKIE")
                .body(Body::empty())
                .unwrap(),
            Request::post("/invite/SECRET-INVITE?x=1")
                .header("authorization", "Bearer SECRET-KEY")
                .body(Body::from("SECRET-BODY"))
                .unwrap(),
            Request::get("/nowhere").body(Body::empty()).unwrap(),
        ];
        let log = logged(requests);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 3, "{log}");
        assert!(!log.contains("SECRET"), "{log}");
        assert!(lines[0].contains(" INFO "), "{log}");
        assert!(lines[0].contains("method=GET path=/setup}"), "{log}");
        assert!(lines[0].contains("status=200 ms="), "{log}");
        let ms = lines[0].rsplit("ms=").next().unwrap();
        assert_eq!(ms.split('.').nth(1).map(str::len), Some(3), "{log}");
        assert!(
            lines[1].contains("method=POST path=/invite/:token}"),
            "{log}"
        );
        assert!(lines[1].contains("status=405"), "{log}");
        assert!(lines[2].contains("path=/nowhere}"), "{log}");
        assert!(lines[2].contains("status=404"), "{log}");
    }

    #[test]
    fn gathered_lines_are_written_in_order_and_all_by_the_guard() {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let (writer, guard) = super::Batched::start(Sink(Arc::clone(&out)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        // 4 MB in all: past WRITE_PAST many times over, within KEEP_AT_MOST.
                        let line = format!("{t} {i} {}\n", "x".repeat(40));
                        writer.write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        for t in 0..4 {
            let mine: Vec<usize> = text
                .lines()
                .map(|l| l.split(' ').collect::<Vec<_>>())
                .filter(|l| l[0] == t.to_string())
                .map(|l| l[1].parse().unwrap())
                .collect();
            assert_eq!(mine, (0..20_000).collect::<Vec<_>>());
        }
    }

    /// An output that takes nothing until the test lets it.
    struct Stalled {
        gate: Option<std::sync::mpsc::Receiver<()>>,
        out: Arc<Mutex<Vec<u8>>>,
    }

    impl std::io::Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Some(gate) = self.gate.take() {
                let _ = gate.recv();
            }
            self.out.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_output_drops_lines_instead_of_blocking_the_loggers() {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let (release, gate) = std::sync::mpsc::channel();
        let stalled = Stalled {
            gate: Some(gate),
            out: Arc::clone(&out),
        };
        let (mut writer, guard) = super::Batched::start(stalled);
        let line = format!("{}\n", "y".repeat(99));
        let lines = 3 * super::KEEP_AT_MOST / line.len();
        let started = std::time::Instant::now();
        for _ in 0..lines {
            writer.write_all(line.as_bytes()).unwrap();
        }
        // Three times what may wait, logged while the output takes nothing: no logger waited.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        release.send(()).unwrap();
        drop(guard);
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let written = text.lines().filter(|l| l.starts_with('y')).count();
        let note = text
            .lines()
            .find(|l| l.contains("log lines dropped"))
            .expect("the drop is said in the log");
        let dropped: usize = note
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap();
        assert!(dropped > 0, "{note}");
        assert_eq!(written + dropped, lines, "{note}");
    }

    #[test]
    fn a_long_path_is_cut() {
        let long = "/a".repeat(40_000);
        let shown = loggable_path(&long);
        assert!(shown.len() <= super::PATH_MAX + 32, "{}", shown.len());
        assert!(shown.starts_with("/a/a"));
        assert!(shown.ends_with("(80000 bytes)"), "{shown}");
        let token = format!("/invite/{}", "t".repeat(1_000));
        assert_eq!(loggable_path(&token), "/invite/:token");
    }

    #[test]
    fn invite_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/invite/abc123"), "/invite/:token");
        assert_eq!(loggable_path("/invite/abc123/"), "/invite/:token");
        assert_eq!(loggable_path("/invite/a/b"), "/invite/:token");
        assert_eq!(loggable_path("//invite/abc"), "//invite/:token");
        assert_eq!(loggable_path("/INVITE/abc"), "/INVITE/:token");
        assert_eq!(loggable_path("/%69nvite/abc"), "/%69nvite/:token");
        assert_eq!(loggable_path("/pkg/invite/abc"), "/pkg/invite/:token");
    }

    #[test]
    fn other_paths_are_kept() {
        assert_eq!(loggable_path("/"), "/");
        assert_eq!(loggable_path(""), "");
        assert_eq!(loggable_path("/invite"), "/invite");
        assert_eq!(loggable_path("/invite/"), "/invite/");
        assert_eq!(loggable_path("/dashboard/keys"), "/dashboard/keys");
        assert_eq!(
            loggable_path("/v1/chat/completions"),
            "/v1/chat/completions"
        );
        assert_eq!(loggable_path("/invites/x"), "/invites/x");
    }
}
