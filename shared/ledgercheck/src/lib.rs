//! The auditor's per-message check of a sound ledger event, compiled.
//!
//! `benecomune_auditor.topic_reader.sound_check.sound_ledger_item` is the reference: a Kafka message whose
//! CloudEvents headers are the usual ones, whose key, stream and sequence agree with them and
//! whose JSON object hashes to the `event_hash` it claims. This module answers the same
//! question for the messages the relay writes, several times faster, and answers `None`
//! (let the Python reference decide) for anything it does not read exactly as the reference
//! does: header values that are not `bytes`, times in another RFC 3339 form than the relay's,
//! numbers that are not 64-bit integers, text the contracts refuse (control and bidirectional
//! formatting characters), ... A `None` is never a verdict; a tuple is the
//! reference's tuple (tested over random messages in `shared/ledgercheck/tests`).

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use serde_json::Value;
use sha2::{Digest, Sha256};

mod chain_link;
mod heads_file;
mod record_set;

const KNOWN: [&str; 11] = [
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_notificationid",
    "ce_sequence",
    "ce_correlationid",
    "ce_transactionend",
    "content-type",
];
const REQUIRED: usize = 8; // the first eight of KNOWN
const CORRELATION: usize = 8;
const TRANSACTION_END: usize = 9;
const CONTENT_TYPE: usize = 10;

/// ASCII digits without a leading zero (the envelope's decimal), as a u64 when it fits a
/// store's 64-bit signed column (the envelope's MAX_POSITION); anything larger is left to
/// the Python reader, which names it.
fn decimal(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) || (raw[0] == b'0' && raw.len() > 1)
    {
        return None;
    }
    let value: u64 = std::str::from_utf8(raw).ok()?.parse().ok()?;
    (value <= i64::MAX as u64).then_some(value)
}

fn digits(raw: &[u8]) -> Option<u32> {
    if raw.iter().all(u8::is_ascii_digit) {
        std::str::from_utf8(raw).ok()?.parse().ok()
    } else {
        None
    }
}

/// The relay's time form only, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, with a real date and time:
/// what `datetime.fromisoformat` reads and `astimezone(UTC)` keeps (years 1000-8999).
fn relay_time(raw: &[u8]) -> bool {
    let n = raw.len();
    if !(n == 20 || n == 27) || raw[n - 1] != b'Z' {
        return false;
    }
    if raw[4] != b'-' || raw[7] != b'-' || raw[10] != b'T' || raw[13] != b':' || raw[16] != b':'
    {
        return false;
    }
    if n == 27 && (raw[19] != b'.' || digits(&raw[20..26]).is_none()) {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(&raw[0..4]),
        digits(&raw[5..7]),
        digits(&raw[8..10]),
        digits(&raw[11..13]),
        digits(&raw[14..16]),
        digits(&raw[17..19]),
    ) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1000..9000).contains(&year)
        && (1..=days).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
}

/// A character the contracts refuse in text (`benecomune_contracts.text`): a control character
/// (Unicode category Cc) or a bidirectional formatting one (U+061C, U+200E, U+200F,
/// U+202A-U+202E, U+2066-U+2069). Lone surrogates (Cs) never get this far: they are not UTF-8,
/// and serde_json refuses them escaped.
fn refused_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Whether a UTF-8 payload holds, as written (not escaped), a character the contracts refuse,
/// other than the whitespace JSON allows between tokens. Byte by byte: the lead bytes looked
/// for (C2, D8, E2) are never continuation bytes.
fn raw_refused(payload: &[u8]) -> bool {
    let mut at = 0;
    while at < payload.len() {
        let refused = match payload[at] {
            b' ' | b'\t' | b'\n' | b'\r' => false,
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(payload.get(at + 1), Some(0x80..=0x9f)), // C1 controls
            0xd8 => payload.get(at + 1) == Some(&0x9c),                // U+061C
            0xe2 => matches!(
                (payload.get(at + 1), payload.get(at + 2)),
                (Some(0x80), Some(0x8e | 0x8f | 0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
            ),
            _ => false,
        };
        if refused {
            return true;
        }
        at += 1;
    }
    false
}

/// Whether a parsed value holds a string (a key or a value) with a character the contracts
/// refuse (escapes decoded).
fn strings_refused(value: &Value) -> bool {
    match value {
        Value::String(text) => text.chars().any(refused_char),
        Value::Array(items) => items.iter().any(strings_refused),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.chars().any(refused_char) || strings_refused(item)),
        _ => false,
    }
}

/// Whether every number in the value is a 64-bit integer (what orjson reads and writes as
/// Python's `json` does); floats and bigger integers are left to the reference.
fn integers_only(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.is_i64() || number.is_u64(),
        Value::Array(items) => items.iter().all(integers_only),
        Value::Object(map) => map.values().all(integers_only),
        _ => true,
    }
}

struct Envelope<'a> {
    id: &'a str,
    type_name: &'a str,
    subject: &'a str,
    notification_id: u64,
    sequence: u64,
}

/// The usual headers (ours only, each once, every value `bytes`), read as
/// `benecomune_contracts.cloudevents._usual_fields` reads them; None for anything else.
fn usual_headers<'a>(values: &[Option<&'a [u8]>; 11]) -> Option<Envelope<'a>> {
    if values[..REQUIRED].iter().any(Option::is_none) {
        return None;
    }
    let text = |i: usize| std::str::from_utf8(values[i].unwrap_or_default()).ok();
    if values[0] != Some(b"1.0".as_slice()) {
        return None;
    }
    if let Some(content_type) = values[CONTENT_TYPE] {
        if content_type != b"application/json" {
            return None;
        }
    }
    if let Some(correlation) = values[CORRELATION] {
        std::str::from_utf8(correlation).ok()?;
    }
    if let Some(end) = values[TRANSACTION_END] {
        decimal(end)?;
    }
    let time = values[4]?;
    if !relay_time(time) {
        return None;
    }
    let envelope = Envelope {
        id: text(1)?,
        type_name: text(3)?,
        subject: text(5)?,
        notification_id: decimal(values[6]?)?,
        sequence: decimal(values[7]?)?,
    };
    let source = text(2)?;
    if envelope.id.is_empty()
        || source.is_empty()
        || envelope.type_name.is_empty()
        || envelope.subject.is_empty()
    {
        return None;
    }
    Some(envelope)
}

/// The canonical JSON (sorted keys, `"type"` in, `"event_hash"` out) and the claimed hash of
/// an event whose payload is a flat object of plain values, written from the payload's own
/// bytes: keys and strings without escapes, integers as written (64-bit, no `-0`), `true`,
/// `false`, `null`. Such values are already in canonical form. None for anything else.
fn flat_canonical(payload: &[u8], envelope: &Envelope<'_>) -> Option<(Vec<u8>, String)> {
    std::str::from_utf8(payload).ok()?;
    let mut body = flat_members(payload)?;
    body.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if body.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return None; // a key twice: the general path keeps the last, as orjson does
    }
    let find = |key: &[u8]| body.iter().position(|(k, _)| *k == key);
    let stream = body[find(b"stream_id")?].1;
    if quoted(stream)? != envelope.subject.as_bytes() {
        return None;
    }
    let sequence = std::str::from_utf8(body[find(b"sequence")?].1).ok()?;
    if sequence.parse::<u64>().ok()? != envelope.sequence {
        return None;
    }
    let claimed = body.remove(find(b"event_hash")?).1;
    let claimed = std::str::from_utf8(quoted(claimed)?).ok()?.to_owned();
    let type_name = envelope.type_name;
    if type_name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return None;
    }
    let type_text = format!("\"{type_name}\"");
    match body.binary_search_by(|(k, _)| (*k).cmp(b"type".as_slice())) {
        Ok(at) => body[at].1 = type_text.as_bytes(),
        Err(at) => body.insert(at, (b"type".as_slice(), type_text.as_bytes())),
    }
    let mut canonical = Vec::with_capacity(payload.len() + 32);
    canonical.push(b'{');
    for (n, (key, value)) in body.iter().enumerate() {
        if n > 0 {
            canonical.push(b',');
        }
        canonical.push(b'"');
        canonical.extend_from_slice(key);
        canonical.extend_from_slice(b"\":");
        canonical.extend_from_slice(value);
    }
    canonical.push(b'}');
    Some((canonical, claimed))
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while at < text.len() && matches!(text[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// A string without escapes or control characters starting at `at` (a `"`): its end.
fn plain_string(text: &[u8], at: usize) -> Option<usize> {
    let mut end = at + 1;
    loop {
        match *text.get(end)? {
            b'"' => return Some(end + 1),
            b'\\' | 0..=0x1f => return None,
            _ => end += 1,
        }
    }
}

/// The members of a flat JSON object of plain values, as (key, value text) pairs; None when
/// the payload is anything else (the general path reads it).
fn flat_members(text: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut members = Vec::with_capacity(16);
    let mut at = skip_space(text, 0);
    if text.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(text, at + 1);
    if text.get(at) == Some(&b'}') {
        return (skip_space(text, at + 1) == text.len()).then_some(members);
    }
    loop {
        if text.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = plain_string(text, at)?;
        let key = &text[at + 1..key_end - 1];
        at = skip_space(text, key_end);
        if text.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(text, at + 1);
        let start = at;
        at = match *text.get(at)? {
            b'"' => plain_string(text, at)?,
            b'-' | b'0'..=b'9' => {
                let mut end = at + usize::from(text[at] == b'-');
                while end < text.len() && text[end].is_ascii_digit() {
                    end += 1;
                }
                let number = std::str::from_utf8(&text[start..end]).ok()?;
                let digits = number.trim_start_matches('-');
                if digits.is_empty()
                    || (digits.len() > 1 && digits.starts_with('0'))
                    || number == "-0"
                    || (number.parse::<i64>().is_err() && number.parse::<u64>().is_err())
                    || matches!(text.get(end), Some(b'.' | b'e' | b'E'))
                {
                    return None;
                }
                end
            }
            b't' if text[at..].starts_with(b"true") => at + 4,
            b'f' if text[at..].starts_with(b"false") => at + 5,
            b'n' if text[at..].starts_with(b"null") => at + 4,
            _ => return None, // an object, an array, or not JSON: the general path
        };
        members.push((key, &text[start..at]));
        at = skip_space(text, at);
        match text.get(at)? {
            b',' => at = skip_space(text, at + 1),
            b'}' => break,
            _ => return None,
        }
    }
    (skip_space(text, at + 1) == text.len()).then_some(members)
}

/// The text of a JSON string written without escapes.
fn quoted(value: &[u8]) -> Option<&[u8]> {
    value.strip_prefix(b"\"")?.strip_suffix(b"\"")
}

/// The same for any payload, through a parsed value (nested objects sorted too).
fn nested_canonical(payload: &[u8], envelope: &Envelope<'_>) -> Option<(Vec<u8>, String)> {
    let Value::Object(mut body) = serde_json::from_slice::<Value>(payload).ok()? else {
        return None;
    };
    if body.get("stream_id").and_then(Value::as_str) != Some(envelope.subject) {
        return None;
    }
    match body.get("sequence") {
        Some(Value::Number(n)) if n.as_u64() == Some(envelope.sequence) => {}
        _ => return None,
    }
    let Some(Value::String(claimed)) = body.remove("event_hash") else {
        return None;
    };
    body.insert("type".to_owned(), Value::String(envelope.type_name.to_owned()));
    let body = Value::Object(body);
    if !integers_only(&body) || strings_refused(&body) {
        return None;
    }
    Some((serde_json::to_vec(&body).ok()?, claimed))
}

/// What a sound ledger event's check found: the envelope read and the hash the payload claims
/// (and has).
struct Sound<'a> {
    envelope: Envelope<'a>,
    hash: String,
}

/// The headers by name: each of ours once, every value present; None for anything else
/// (another header, one twice, a header without a value).
fn known_headers<'a, I>(headers: I) -> Option<[Option<&'a [u8]>; 11]>
where
    I: IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
{
    let mut values: [Option<&[u8]>; 11] = [None; 11];
    for (name, raw) in headers {
        let slot = KNOWN.iter().position(|known| *known == name)?;
        if values[slot].is_some() {
            return None; // a header twice: the reference reads it the long way
        }
        values[slot] = Some(raw?);
    }
    Some(values)
}

fn hex_digest(canonical: &[u8]) -> String {
    let digest = Sha256::digest(canonical);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

#[pyclass(frozen)]
struct SoundLedgerCheck {
    /// Each ledger type's name, once as a Python string: every answer shares it, so a chunk of
    /// answers pickles it once.
    ledger_types: HashMap<String, Py<PyString>>,
}

impl SoundLedgerCheck {
    /// The check itself, on the message's bytes: None unless it is a sound ledger event read
    /// exactly as the reference reads it.
    fn sound<'a>(
        &self,
        key: Option<&[u8]>,
        payload: &[u8],
        values: &[Option<&'a [u8]>; 11],
    ) -> Option<Sound<'a>> {
        let envelope = usual_headers(values)?;
        if !self.ledger_types.contains_key(envelope.type_name) {
            return None;
        }
        if key.is_some_and(|key| key != envelope.subject.as_bytes()) {
            return None;
        }
        // Text the contracts refuse is never in a message the relay writes: the reference
        // reads it (and the parent's validation names it).
        if raw_refused(payload) {
            return None;
        }
        let (canonical, claimed) = flat_canonical(payload, &envelope)
            .or_else(|| nested_canonical(payload, &envelope))?;
        let hash = hex_digest(&canonical);
        (hash == claimed).then_some(Sound { envelope, hash })
    }
}

/// `(notification_id, ce_id, type, value, event_hash)`: the reference's tuple, after `prefix`.
fn sound_tuple<'py>(
    py: Python<'py>,
    check: &SoundLedgerCheck,
    prefix: &[Bound<'py, PyAny>],
    sound: &Sound<'_>,
    value: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let envelope = &sound.envelope;
    let type_name = match check.ledger_types.get(envelope.type_name) {
        Some(name) => name.bind(py).clone(),
        None => PyString::new(py, envelope.type_name),
    };
    let mut items: Vec<Bound<'py, PyAny>> = Vec::with_capacity(prefix.len() + 5);
    items.extend(prefix.iter().cloned());
    items.push(envelope.notification_id.into_pyobject(py)?.into_any());
    items.push(PyString::new(py, envelope.id).into_any());
    items.push(type_name.into_any());
    items.push(value);
    items.push(PyString::new(py, &sound.hash).into_any());
    PyTuple::new(py, items)
}

#[pymethods]
impl SoundLedgerCheck {
    /// `ledger_types`: the contract types that are ledger events.
    #[new]
    fn new(py: Python<'_>, ledger_types: Vec<String>) -> Self {
        let ledger_types = ledger_types
            .into_iter()
            .map(|name| {
                let object = PyString::new(py, &name).unbind();
                (name, object)
            })
            .collect();
        SoundLedgerCheck { ledger_types }
    }

    /// `(notification_id, ce_id, type, value, event_hash)` of a sound ledger event, or None.
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        value: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Ok(payload) = value.downcast_exact::<PyBytes>() else {
            return Ok(None);
        };
        let key = if key.is_none() {
            None
        } else {
            match key.downcast_exact::<PyBytes>() {
                Ok(key) => Some(key.as_bytes()),
                Err(_) => return Ok(None),
            }
        };
        // aiokafka's headers are a tuple of (str, bytes) pairs; anything else: the reference.
        let Ok(pairs) = headers.downcast_exact::<PyTuple>() else {
            return Ok(None);
        };
        let mut held: Vec<(Bound<'py, PyString>, Bound<'py, PyBytes>)> =
            Vec::with_capacity(pairs.len());
        for pair in pairs.iter() {
            let Ok(pair) = pair.downcast_into_exact::<PyTuple>() else {
                return Ok(None);
            };
            if pair.len() != 2 {
                return Ok(None);
            }
            let (Ok(name), Ok(raw)) = (pair.get_item(0), pair.get_item(1)) else {
                return Ok(None);
            };
            let (Ok(name), Ok(raw)) =
                (name.downcast_into_exact::<PyString>(), raw.downcast_into_exact::<PyBytes>())
            else {
                return Ok(None);
            };
            held.push((name, raw));
        }
        let mut named: Vec<(&str, Option<&[u8]>)> = Vec::with_capacity(held.len());
        for (name, raw) in &held {
            let Ok(name) = name.to_str() else {
                return Ok(None);
            };
            named.push((name, Some(raw.as_bytes())));
        }
        let Some(values) = known_headers(named) else {
            return Ok(None);
        };
        let Some(sound) = self.sound(key, payload.as_bytes(), &values) else {
            return Ok(None);
        };
        Ok(Some(sound_tuple(py, self, &[], &sound, value.clone())?))
    }

    /// The records of one partition's fetched bytes (a Kafka fetch response's record set)
    /// from offset `start` up to `end` (excluded), or None when they hold anything this does
    /// not read exactly as aiokafka does (compressed or pre-v2 batches, a bad checksum, a
    /// malformed record, a header name that is not UTF-8): the caller reads those bytes with
    /// aiokafka then.
    fn records(
        slf: &Bound<'_, Self>,
        blob: &Bound<'_, PyBytes>,
        start: i64,
        end: i64,
    ) -> Option<PartitionRecords> {
        let parsed = record_set::parse(blob.as_bytes(), start, end)?;
        Some(PartitionRecords {
            check: slf.clone().unbind(),
            blob: blob.clone().unbind(),
            parsed,
            cursor: 0,
        })
    }
}

/// One partition's fetched records, handed out in runs (see `run`).
#[pyclass]
struct PartitionRecords {
    check: Py<SoundLedgerCheck>,
    blob: Py<PyBytes>,
    parsed: record_set::Parsed,
    cursor: usize,
}

#[pymethods]
impl PartitionRecords {
    /// The offset to fetch next: past every batch read (control batches included).
    #[getter]
    fn next_offset(&self) -> i64 {
        self.parsed.next_offset
    }

    /// How many records are left to hand out.
    fn __len__(&self) -> usize {
        self.parsed.records.len() - self.cursor
    }

    /// The next run of sound ledger events as the reader's items,
    /// `(last, partition, offset, notification_id, ce_id, type, value, event_hash)` where
    /// `last` is the highest notification id so far in the partition (from `last` on), and
    /// the record that ended the run, `(offset, key, value, headers)` as aiokafka gives
    /// them, for the reference to read (None: no records left).
    #[allow(clippy::type_complexity)]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        partition: i64,
        mut last: u64,
    ) -> PyResult<(Vec<Bound<'py, PyTuple>>, Option<Bound<'py, PyTuple>>)> {
        let check = self.check.get();
        let blob = self.blob.bind(py).as_bytes();
        let partition_object = partition.into_pyobject(py)?.into_any();
        let mut items = Vec::new();
        while self.cursor < self.parsed.records.len() {
            let record = &self.parsed.records[self.cursor];
            self.cursor += 1;
            let headers = self.parsed.headers_of(record, blob);
            let key = record.key.map(|span| span.of(blob));
            let value = record.value.map(|span| span.of(blob));
            let sound = match (value, known_headers(headers.clone())) {
                (Some(payload), Some(values)) => check.sound(key, payload, &values),
                _ => None,
            };
            let Some(sound) = sound else {
                let mut pairs = Vec::with_capacity(record.header_count);
                for (name, raw) in headers {
                    let raw = match raw {
                        Some(raw) => PyBytes::new(py, raw).into_any(),
                        None => py.None().into_bound(py),
                    };
                    pairs.push(PyTuple::new(py, [PyString::new(py, name).into_any(), raw])?);
                }
                let bytes_or_none = |part: Option<&[u8]>| match part {
                    Some(part) => PyBytes::new(py, part).into_any(),
                    None => py.None().into_bound(py),
                };
                let raw = PyTuple::new(
                    py,
                    [
                        record.offset.into_pyobject(py)?.into_any(),
                        bytes_or_none(key),
                        bytes_or_none(value),
                        PyTuple::new(py, pairs)?.into_any(),
                    ],
                )?;
                return Ok((items, Some(raw)));
            };
            last = last.max(sound.envelope.notification_id);
            let prefix = [
                last.into_pyobject(py)?.into_any(),
                partition_object.clone(),
                record.offset.into_pyobject(py)?.into_any(),
            ];
            let value = PyBytes::new(py, value.unwrap_or_default()).into_any();
            items.push(sound_tuple(py, check, &prefix, &sound, value)?);
        }
        Ok((items, None))
    }
}

#[pymodule]
fn benecomune_ledgercheck(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<SoundLedgerCheck>()?;
    module.add_class::<PartitionRecords>()?;
    module.add_class::<chain_link::ChainLink>()?;
    module.add_function(wrap_pyfunction!(heads_file::plain_heads_text, module)?)?;
    Ok(())
}
