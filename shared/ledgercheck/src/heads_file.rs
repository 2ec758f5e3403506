//! The seal's heads file, written compiled.
//!
//! `servicekit.ledger_seal._plain_rows` is the reference: the header, then one line per stream
//! sorted by stream id, `stream_id,sequence,type,event_hash` and CRLF, when no field needs the
//! csv module's quoting. Sorting and formatting a big ledger's 400,000 heads took a replay a
//! second in Python. This answers the same text, or None (let the reference decide) for
//! anything it does not write exactly as the reference does: a field holding a comma, a quote,
//! a CR or an LF, a head that is not an exact `(int, str, str)` tuple, a string that is not
//! valid UTF-8 (a lone surrogate). A `None` is never a verdict.

use std::fmt::Write;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyTuple};

const HEADER: &str = "stream_id,sequence,type,event_hash\r\n";

/// An exact `str` as UTF-8 that the csv writer would not quote, or None.
fn plain<'a>(value: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    let text = value.downcast_exact::<PyString>().ok()?.to_str().ok()?;
    let quoted = text.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    (!quoted).then_some(text)
}

/// A string's first eight bytes, big-endian, zero-padded: ordered as the strings are, or
/// equal (then the strings decide). Padding with the lowest byte keeps a string before the
/// longer ones it begins.
fn prefix(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = text.len().min(8);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// The heads file of `heads` (stream id -> (sequence, event_hash, type_name)), or None.
#[pyfunction]
pub fn plain_heads_text(heads: &Bound<'_, PyDict>) -> Option<String> {
    // The objects first (owned, so the strings below can borrow from them), then their text.
    let mut heads_held = Vec::with_capacity(heads.len());
    for (stream, head) in heads.iter() {
        let head = head.downcast_into_exact::<PyTuple>().ok()?;
        if head.len() != 3 {
            return None;
        }
        // Only an exact int prints as its digits (a bool would print as True).
        let sequence = head.get_item(0).ok()?;
        let sequence: i64 = sequence.downcast_exact::<PyInt>().ok()?.extract().ok()?;
        let event_hash = head.get_item(1).ok()?;
        let type_name = head.get_item(2).ok()?;
        heads_held.push((stream, sequence, event_hash, type_name));
    }
    let mut lines: Vec<(u64, &str, i64, &str, &str)> = Vec::with_capacity(heads_held.len());
    for (stream, sequence, event_hash, type_name) in &heads_held {
        let stream = plain(stream)?;
        lines.push((prefix(stream), stream, *sequence, plain(type_name)?, plain(event_hash)?));
    }
    // UTF-8 bytes sort as their code points do: the order of Python's sorted(str). The
    // prefixes decide almost every comparison without reading the strings (a sort of 400,000
    // ids that reads them waits on memory most of its time).
    lines.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let size: usize = lines.iter().map(|l| l.1.len() + l.3.len() + l.4.len() + 25).sum();
    let mut text = String::with_capacity(HEADER.len() + size);
    text.push_str(HEADER);
    for (_, stream, sequence, type_name, event_hash) in lines {
        // Writing to a String cannot fail.
        let _ = write!(text, "{stream},{sequence},{type_name},{event_hash}\r\n");
    }
    Some(text)
}
