//! A Kafka record set (the bytes a fetch response holds for one partition) read as aiokafka
//! reads it (`aiokafka.record.default_records`, message format v2), for the records the relay
//! writes: uncompressed batches with their CRC-32C right. Anything else is not read here
//! (`parse` gives None) and the caller hands the bytes to aiokafka, which reads or refuses them
//! as it always did: this is never a second opinion on a malformed record set.

/// A part of the record set: `start..end`.
#[derive(Clone, Copy)]
pub struct Span {
    start: usize,
    end: usize,
}

impl Span {
    pub fn of(self, blob: &[u8]) -> &[u8] {
        &blob[self.start..self.end]
    }
}

pub struct Record {
    pub offset: i64,
    pub key: Option<Span>,
    pub value: Option<Span>,
    first_header: usize,
    pub header_count: usize,
}

struct Header {
    name: Span,
    value: Option<Span>,
}

pub struct Parsed {
    pub records: Vec<Record>,
    headers: Vec<Header>,
    /// The offset after the last whole batch read (control batches included); `start` if none.
    pub next_offset: i64,
}

impl Parsed {
    /// A record's headers: (name, value), in order.
    pub fn headers_of<'a>(
        &'a self,
        record: &Record,
        blob: &'a [u8],
    ) -> impl Iterator<Item = (&'a str, Option<&'a [u8]>)> + Clone + 'a {
        self.headers[record.first_header..record.first_header + record.header_count].iter().map(
            move |header| {
                // Checked as UTF-8 when parsed.
                let name = std::str::from_utf8(header.name.of(blob)).unwrap_or_default();
                (name, header.value.map(|span| span.of(blob)))
            },
        )
    }
}

const LOG_OVERHEAD: usize = 12; // base offset (8) and batch length (4)
const BATCH_HEADER: usize = 61;
const CRC_FROM: usize = 21; // the checksum covers the batch from its attributes on
const COMPRESSION: i16 = 0x07;
const CONTROL: i16 = 0x20;

struct Cursor<'a> {
    blob: &'a [u8],
    at: usize,
    end: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<Span> {
        let end = self.at.checked_add(n)?;
        if end > self.end {
            return None;
        }
        let span = Span { start: self.at, end };
        self.at = end;
        Some(span)
    }

    fn byte(&mut self) -> Option<u8> {
        let span = self.take(1)?;
        Some(self.blob[span.start])
    }

    /// A zig-zag varint of at most 64 bits (varint and varlong alike).
    fn varint(&mut self) -> Option<i64> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        None
    }

    /// A length-prefixed part: None inside for length -1 (null).
    fn part(&mut self) -> Option<Option<Span>> {
        match self.varint()? {
            -1 => Some(None),
            n if n >= 0 => Some(Some(self.take(usize::try_from(n).ok()?)?)),
            _ => None,
        }
    }
}

fn int(bytes: &[u8]) -> i64 {
    bytes.iter().fold(0i64, |acc, &b| (acc << 8) | i64::from(b))
}

fn signed(bytes: &[u8]) -> i64 {
    // Big-endian two's complement of 2, 4 or 8 bytes.
    let bits = 64 - 8 * bytes.len() as u32;
    (int(bytes) << bits) >> bits
}

/// The records from `start` to `end` (excluded) of a record set; None if it holds anything
/// but uncompressed v2 batches with a right checksum and well-formed records. A last batch
/// cut short (a fetch stops at its size limit) is left for the next fetch, as aiokafka does.
pub fn parse(blob: &[u8], start: i64, end: i64) -> Option<Parsed> {
    let mut parsed = Parsed { records: Vec::new(), headers: Vec::new(), next_offset: start };
    let mut at = 0;
    while blob.len() - at >= LOG_OVERHEAD {
        let length = usize::try_from(signed(&blob[at + 8..at + 12])).ok()?;
        if blob.len() - at - LOG_OVERHEAD < length {
            break; // a partial batch
        }
        let batch_end = at + LOG_OVERHEAD + length;
        if length + LOG_OVERHEAD < BATCH_HEADER || blob[at + 16] != 2 {
            return None; // an older message format (or a batch too short for one): aiokafka
        }
        let batch = &blob[at..batch_end];
        let crc = u32::try_from(int(&batch[17..21])).ok()?;
        if crc32c::crc32c(&batch[CRC_FROM..]) != crc {
            return None; // aiokafka names the corrupt batch
        }
        let base_offset = signed(&batch[0..8]);
        let attributes = signed(&batch[21..23]) as i16;
        let last_offset_delta = signed(&batch[23..27]);
        let count = signed(&batch[57..61]);
        if attributes & COMPRESSION != 0 {
            return None; // compressed: aiokafka decompresses it
        }
        if attributes & CONTROL == 0 {
            let mut cursor = Cursor { blob, at: at + BATCH_HEADER, end: batch_end };
            for _ in 0..count {
                parse_record(&mut cursor, base_offset, end, &mut parsed)?;
            }
            if cursor.at != batch_end {
                return None;
            }
        }
        parsed.next_offset = base_offset + last_offset_delta + 1; // as aiokafka moves on
        at = batch_end;
    }
    Some(parsed)
}

fn parse_record(
    cursor: &mut Cursor<'_>,
    base_offset: i64,
    end: i64,
    parsed: &mut Parsed,
) -> Option<()> {
    let length = usize::try_from(cursor.varint()?).ok()?;
    let record_end = cursor.at.checked_add(length)?;
    if record_end > cursor.end {
        return None;
    }
    let batch_end = cursor.end;
    cursor.end = record_end;
    cursor.byte()?; // attributes: unused
    cursor.varint()?; // timestamp delta
    let offset = base_offset.checked_add(cursor.varint()?)?;
    let key = cursor.part()?;
    let value = cursor.part()?;
    let header_count = usize::try_from(cursor.varint()?).ok()?;
    let first_header = parsed.headers.len();
    for _ in 0..header_count {
        let name = cursor.part()??;
        std::str::from_utf8(name.of(cursor.blob)).ok()?;
        let value = cursor.part()?;
        parsed.headers.push(Header { name, value });
    }
    if cursor.at != record_end {
        return None;
    }
    cursor.end = batch_end;
    // aiokafka skips a record below the offset it is at (a fetch from inside a batch).
    if offset >= parsed.next_offset && offset < end {
        parsed.next_offset = offset + 1;
        parsed.records.push(Record { offset, key, value, first_header, header_count });
    } else {
        parsed.headers.truncate(first_header);
    }
    Some(())
}
