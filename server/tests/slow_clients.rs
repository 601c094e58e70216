//! Clients that send slowly, or not at all, over a real socket: the server closes a connection
//! whose headers do not arrive in time (idle keep-alive connections included), and answers a
//! request whose body does not — so a few slow senders cannot hold every connection open.

use crate::support::TestServer;
use crate::support::gateway::{Gateway, MODEL};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_TIMEOUT: Duration = Duration::from_millis(500);
/// Long enough for the server to act on [`READ_TIMEOUT`], short next to a held connection.
const GIVE_UP: Duration = Duration::from_secs(5);

/// Sends `first`, then nothing; answers what the server sent before it closed the connection,
/// and how long that took (`None` when it kept the connection open past [`GIVE_UP`]).
async fn send_then_stall(addr: std::net::SocketAddr, first: &[u8]) -> Option<(String, Duration)> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    tcp.write_all(first).await.unwrap();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(GIVE_UP, tcp.read_to_end(&mut seen)).await;
    read.ok().map(|_| {
        (
            String::from_utf8_lossy(&seen).into_owned(),
            started.elapsed(),
        )
    })
}

#[tokio::test]
async fn a_connection_whose_headers_never_finish_is_closed() {
    let server = TestServer::empty(&[]).await;
    let addr = server.listen_reading_within(READ_TIMEOUT).await;
    let (_, took) = send_then_stall(addr, b"GET /healthz HTTP/1.1\r\nHost: tollgate\r\nX-Slow: ")
        .await
        .expect("the server closes the connection");
    assert!(took >= READ_TIMEOUT, "closed after {took:?}");
    // A connection that sends nothing at all, and one left idle after an answer, go the same way.
    assert!(send_then_stall(addr, b"").await.is_some());
    let (answered, _) = send_then_stall(addr, b"GET /healthz HTTP/1.1\r\nHost: tollgate\r\n\r\n")
        .await
        .expect("the idle connection is closed");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    server.finish().await;
}

#[tokio::test]
async fn a_body_that_never_finishes_gets_408_and_a_closed_connection() {
    let gw = Gateway::start_reading_within(READ_TIMEOUT).await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    let body = format!(r#"{{"model":"{MODEL}","messages":[{{"role":"user","content":"hi"}}]}}"#);
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len() + 10,
        body
    );
    let (answered, took) = send_then_stall(gw.addr, head.as_bytes())
        .await
        .expect("the server answers and closes the connection");
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    assert!(answered.contains("request_timeout"), "{answered}");
    assert!(took >= READ_TIMEOUT, "answered after {took:?}");
    assert_eq!(gw.stub.requests(), 0, "nothing reached the upstream");
    gw.server.finish().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_answers_is_disconnected() {
    let server = TestServer::empty(&[]).await;
    let addr = server.listen_reading_within(READ_TIMEOUT).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let (mut reader, mut writer) = socket.connect(addr).await.unwrap().into_split();
    // Far more pipelined requests than the socket buffers hold answers for (about 400 bytes
    // each, 24 MB in all), never read: the server's writes stall until it gives up on the
    // client. Read at last, what was buffered arrives and the connection ends there.
    const ASKED: usize = 60_000;
    tokio::spawn(async move {
        for _ in 0..ASKED {
            if writer
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: tollgate\r\n\r\n")
                .await
                .is_err()
            {
                break;
            }
        }
    });
    tokio::time::sleep(READ_TIMEOUT * 6).await;
    let mut seen = Vec::new();
    let read = tokio::time::timeout(GIVE_UP, reader.read_to_end(&mut seen)).await;
    let answered = String::from_utf8_lossy(&seen)
        .matches("HTTP/1.1 200")
        .count();
    assert!(
        matches!(read, Ok(Err(_) | Ok(_))) && answered < ASKED / 2,
        "the connection was still served: {answered} answers"
    );
    server.finish().await;
}
