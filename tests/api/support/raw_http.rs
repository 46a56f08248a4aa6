//! Requests written by hand on a TCP connection, for bodies an HTTP client
//! library would not send: a huge chunked body streamed from a generator (the
//! test never holds it), written until the server answers.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpStream, tcp::OwnedWriteHalf},
};

/// What the server answered, and how much of the body it had been sent by then.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub content_type: String,
    pub body: serde_json::Value,
    /// Body bytes written to the connection when the answer came.
    pub sent_before_answer: u64,
}

/// Sends `head` (request line and headers, without the framing header or the
/// blank line) and a chunked body of `prefix`, then `filler` bytes of `a`,
/// then `suffix`; reads the answer while the body is still being written.
pub async fn send_chunked(addr: SocketAddr, head: &str, prefix: &[u8], filler: u64, suffix: &[u8]) -> RawAnswer {
    let stream = TcpStream::connect(addr).await.expect("the server accepts a connection");
    let (mut reader, mut writer) = stream.into_split();
    let sent = Arc::new(AtomicU64::new(0));
    let head = format!("{head}Host: {addr}\r\nTransfer-Encoding: chunked\r\n\r\n");
    let (prefix, suffix) = (prefix.to_vec(), suffix.to_vec());
    let counter = sent.clone();
    let sender = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        write_chunk(&mut writer, &prefix, &counter).await?;
        let block = vec![b'a'; 64 * 1024];
        let mut left = filler;
        while left > 0 {
            let size = left.min(block.len() as u64);
            write_chunk(&mut writer, &block[..size as usize], &counter).await?;
            left -= size;
        }
        write_chunk(&mut writer, &suffix, &counter).await?;
        writer.write_all(b"0\r\n\r\n").await
    });

    let mut received = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let (status, content_type, body) = loop {
        if let Some(answer) = parse_answer(&received) {
            break answer;
        }
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => panic!(
                "the connection ended without a whole answer ({} bytes received)",
                received.len()
            ),
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    };
    let sent_before_answer = sent.load(Ordering::SeqCst);
    sender.abort();
    RawAnswer {
        status,
        content_type,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        sent_before_answer,
    }
}

async fn write_chunk(writer: &mut OwnedWriteHalf, piece: &[u8], counter: &AtomicU64) -> std::io::Result<()> {
    if piece.is_empty() {
        return Ok(());
    }
    writer.write_all(format!("{:x}\r\n", piece.len()).as_bytes()).await?;
    writer.write_all(piece).await?;
    writer.write_all(b"\r\n").await?;
    counter.fetch_add(piece.len() as u64, Ordering::SeqCst);
    Ok(())
}

/// Status, content type and body of a complete HTTP/1.1 answer with a
/// `Content-Length`, or `None` while more is to come.
fn parse_answer(received: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let end = received.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&received[..end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut length = 0;
    let mut content_type = String::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "content-type" => content_type = value.trim().to_owned(),
            _ => {}
        }
    }
    let body = received.get(end + 4..end + 4 + length)?;
    Some((status, content_type, body.to_vec()))
}

/// The routes an unauthenticated or barely authenticated client can send a
/// body to, each with one field made huge.
#[derive(Debug, Clone, Copy)]
pub enum Oversized {
    /// `POST /api/v1/oauth/token`, a form with a huge `client_id`.
    TokenForm,
    /// `POST /api/v1/staff/auth/login`, JSON with a huge `username`.
    StaffLogin,
    /// `POST /api/v1/uploads`, a huge file.
    UploadFile,
    /// `POST /api/v1/uploads`, a huge `purpose` field.
    UploadPurpose,
}

const BOUNDARY: &str = "shiminhua-test-boundary";

impl Oversized {
    pub const ALL: [Oversized; 4] = [
        Oversized::TokenForm,
        Oversized::StaffLogin,
        Oversized::UploadFile,
        Oversized::UploadPurpose,
    ];

    /// Sends it with `filler` bytes in the huge field; `worker_token` signs
    /// the uploads in.
    pub async fn send(self, addr: SocketAddr, worker_token: &str, filler: u64) -> RawAnswer {
        let upload_head = format!(
            "POST /api/v1/uploads HTTP/1.1\r\nAuthorization: Bearer {worker_token}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        );
        let purpose_part =
            |value: &str| format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{value}");
        let file_part = format!(
            "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        );
        let end = format!("\r\n--{BOUNDARY}--\r\n");
        let (head, prefix, suffix) = match self {
            Oversized::TokenForm => (
                "POST /api/v1/oauth/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n".to_owned(),
                "grant_type=client_credentials&client_id=".to_owned(),
                "&client_secret=wrong".to_owned(),
            ),
            Oversized::StaffLogin => (
                "POST /api/v1/staff/auth/login HTTP/1.1\r\nContent-Type: application/json\r\n".to_owned(),
                "{\"username\": \"".to_owned(),
                "\", \"password\": \"wrong-password-1\"}".to_owned(),
            ),
            Oversized::UploadFile => (upload_head, purpose_part("id_card") + &file_part, end),
            Oversized::UploadPurpose => (upload_head, purpose_part(""), file_part + &end),
        };
        send_chunked(addr, &head, prefix.as_bytes(), filler, suffix.as_bytes()).await
    }
}
