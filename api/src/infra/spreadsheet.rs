//! Tables for people who open them in Excel: CSV in UTF-8 with a byte-order
//! mark (without it Excel reads Chinese as the local code page), and XLSX
//! written in constant-memory mode. Both are written while the rows arrive in
//! batches over a bounded channel, so an export holds a few batches in memory
//! however many rows it has.

use std::io::{self, Write};

use bytes::Bytes;
use futures_util::{StreamExt, stream, stream::BoxStream};
use rust_xlsxwriter::{Format as CellFormat, Workbook};
use tokio::sync::mpsc;

use crate::domain::yuan_text;

/// Rows sent from the query to the writer, a batch at a time.
pub type Batches = mpsc::Receiver<io::Result<Vec<Vec<Cell>>>>;

/// A file's bytes as they are written, for the caller to send; an error
/// part-way ends the stream with it.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// How many batches may wait between the query and the writer.
pub const BATCHES_IN_FLIGHT: usize = 2;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// An amount in fen, shown in yuan with two decimals.
    Yuan(i64),
    Count(i64),
    Empty,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Empty, Into::into)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file as a stream that is written while it is sent. A failure after
    /// the first byte ends the body with an error, so the client sees a
    /// broken download rather than a short file.
    pub fn render(self, sheet_name: &'static str, headers: &'static [&'static str], rows: Batches) -> ByteStream {
        match self {
            Format::Csv => csv(headers, rows),
            Format::Xlsx => xlsx(sheet_name, headers, rows),
        }
    }
}

const BYTE_ORDER_MARK: &[u8] = "\u{feff}".as_bytes();

fn csv(headers: &'static [&'static str], rows: Batches) -> ByteStream {
    let header = encode_csv(BYTE_ORDER_MARK, [headers.iter().map(|h| (*h).to_owned()).collect()]);
    let body = stream::once(async move { header }).chain(stream::unfold(rows, |mut rows| async move {
        let batch = rows.recv().await?;
        let encoded = batch.and_then(|batch| encode_csv(&[], batch.into_iter().map(csv_record)));
        Some((encoded, rows))
    }));
    body.boxed()
}

fn encode_csv(prefix: &[u8], records: impl IntoIterator<Item = Vec<String>>) -> io::Result<Bytes> {
    let mut writer = ::csv::Writer::from_writer(prefix.to_vec());
    for record in records {
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|err| io::Error::other(err.to_string()))
}

fn csv_record(row: Vec<Cell>) -> Vec<String> {
    row.into_iter()
        .map(|cell| match cell {
            Cell::Text(text) => neutralise_formula(text),
            Cell::Yuan(fen) => yuan_text(fen),
            Cell::Count(count) => count.to_string(),
            Cell::Empty => String::new(),
        })
        .collect()
}

/// Excel runs a cell that starts with = + - or @ as a formula; text a worker
/// typed must never run on the computer of the official who opens the file.
fn neutralise_formula(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// XLSX is a zip archive: the rows go to the worksheet's temporary file as
/// they arrive, and the archive is streamed out once the last row is in.
fn xlsx(sheet_name: &'static str, headers: &'static [&'static str], mut rows: Batches) -> ByteStream {
    let (chunks, body) = mpsc::channel::<io::Result<Bytes>>(BATCHES_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let outcome = write_xlsx(sheet_name, headers, &mut rows, ChunkWriter::new(chunks.clone()));
        if let Err(err) = outcome {
            // The receiver is gone when the client went away; nothing to tell then.
            let _ = chunks.blocking_send(Err(err));
        }
    });
    stream::unfold(
        body,
        |mut body| async move { body.recv().await.map(|chunk| (chunk, body)) },
    )
    .boxed()
}

fn write_xlsx(sheet_name: &str, headers: &[&str], rows: &mut Batches, output: ChunkWriter) -> io::Result<()> {
    let to_io = |err: rust_xlsxwriter::XlsxError| io::Error::other(err.to_string());
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let money = CellFormat::new().set_num_format("0.00");
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(to_io)?;
    sheet.set_name(sheet_name).map_err(to_io)?;
    for (column, header) in (0u16..).zip(headers) {
        sheet.set_column_width(column, 16).map_err(to_io)?;
        sheet
            .write_string_with_format(0, column, *header, &bold)
            .map_err(to_io)?;
    }
    let mut row_number: u32 = 1;
    while let Some(batch) = rows.blocking_recv() {
        for row in batch? {
            for (column, cell) in (0u16..).zip(row) {
                match cell {
                    Cell::Text(text) => sheet.write_string(row_number, column, text),
                    Cell::Yuan(fen) => sheet.write_number_with_format(row_number, column, fen as f64 / 100.0, &money),
                    Cell::Count(count) => sheet.write_number(row_number, column, count as f64),
                    Cell::Empty => continue,
                }
                .map_err(to_io)?;
            }
            row_number += 1;
        }
    }
    workbook.save_to_writer(output).map_err(to_io)
}

/// Hands what the XLSX writer produces to the response in 64 KiB chunks.
struct ChunkWriter {
    chunks: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChunkWriter {
    fn new(chunks: mpsc::Sender<io::Result<Bytes>>) -> Self {
        Self {
            chunks,
            buffer: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for ChunkWriter {
    fn drop(&mut self) {
        // The zip writer's last bytes may still be buffered; a client that
        // went away is not an error here.
        let _ = self.send();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_excel_would_run_as_a_formula_is_quoted() {
        assert_eq!(neutralise_formula("=HYPERLINK(\"x\")".to_owned()), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_formula("@SUM(A1)".to_owned()), "'@SUM(A1)");
        assert_eq!(neutralise_formula("南京某建筑公司".to_owned()), "南京某建筑公司");
    }

    /// The whole file, or the error that broke it.
    async fn into_vec(mut body: ByteStream) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(bytes)
    }

    #[tokio::test]
    async fn csv_starts_with_a_byte_order_mark_and_quotes_commas() {
        let (sender, rows) = mpsc::channel(1);
        sender
            .send(Ok(vec![vec![
                Cell::Text("张三,李四".to_owned()),
                Cell::Yuan(150),
                Cell::Empty,
            ]]))
            .await
            .unwrap();
        drop(sender);
        let body = Format::Csv.render("表", &["姓名", "金额（元）", "备注"], rows);
        let bytes = into_vec(body).await.unwrap();
        assert!(bytes.starts_with(BYTE_ORDER_MARK));
        let text = String::from_utf8(bytes[BYTE_ORDER_MARK.len()..].to_vec()).unwrap();
        assert_eq!(text, "姓名,金额（元）,备注\n\"张三,李四\",1.50,\n");
    }

    #[tokio::test]
    async fn a_failed_query_breaks_the_download() {
        let (sender, rows) = mpsc::channel(1);
        sender.send(Err(io::Error::other("database gone"))).await.unwrap();
        drop(sender);
        let body = Format::Csv.render("表", &["姓名"], rows);
        assert!(into_vec(body).await.is_err());
    }
}
