//! The replay's hash-chain step for the common event, compiled: a sound new event that links
//! to its stream's head.
//!
//! `servicekit.audit.LedgerReplay` keeps the reference, in Python: `_Claims.repeated` (is this
//! a copy of an event already read?) then `ChainVerifier.feed` (does it link to its stream's
//! head?). For an event that is the next of its stream (sequence head + 1, `prev_hash` the
//! head's hash), hashes to what it claims, is no copy and breaks no anchor, both only record
//! it; `ChainLink` records it the same way, in the same Python dicts, and answers True.
//! Anything else it answers None without touching anything, and the reference decides: a
//! `None` is never a verdict.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyInt, PyString, PyTuple};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Each byte's value as a lowercase hex digit, 0xff for a byte that is none.
const HEX: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut c = 0;
    while c < 10 {
        table[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        table[b'a' as usize + c] = 10 + c as u8; // lowercase only, as the contracts write it
        c += 1;
    }
    table
};

/// The 32 bytes of a 64-digit lowercase hex string, as `bytes.fromhex` reads it: two such
/// strings are equal exactly when their digests are.
fn digest_of(hex: &str) -> Option<[u8; 32]> {
    let text = hex.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    let mut bad = 0u8;
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let (high, low) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= high | low;
        digest[i] = high << 4 | (low & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(digest)
}

#[pyclass(frozen)]
pub struct ChainLink {
    /// `ChainVerifier.heads`: stream -> (sequence, event_hash, type_name).
    heads: Py<PyDict>,
    /// `_Claims.chains` and `.scattered` (its heads are the verifier's).
    chains: Py<PyDict>,
    scattered: Py<PyDict>,
    /// The heads an earlier audit sealed (stream -> (sequence, event_hash, ...)), if any.
    anchors: Option<Py<PyAny>>,
}

impl ChainLink {
    /// The stream's head as the verifier holds it, (0, genesis) for a new stream; None when
    /// it is not held as the reference holds it.
    fn head<'py>(
        &self,
        py: Python<'py>,
        stream: &Bound<'py, PyString>,
    ) -> PyResult<Option<(i64, Option<Bound<'py, PyAny>>)>> {
        let Some(head) = self.heads.bind(py).get_item(stream)? else {
            return Ok(Some((0, None)));
        };
        let Ok(head) = head.downcast_exact::<PyTuple>() else {
            return Ok(None);
        };
        if head.len() != 3 {
            return Ok(None);
        }
        let Ok(sequence) = head.get_item(0)?.extract::<i64>() else {
            return Ok(None);
        };
        Ok(Some((sequence, Some(head.get_item(1)?))))
    }

    /// Whether an anchor may break at this event: one sealed this very event with another
    /// hash (a break the reference names), or one this does not read as the reference does.
    fn anchor_breaks(
        &self,
        py: Python<'_>,
        stream: &Bound<'_, PyString>,
        sequence: i64,
        event_hash: &str,
    ) -> PyResult<bool> {
        let Some(anchors) = &self.anchors else {
            return Ok(false);
        };
        let anchor = anchors.bind(py).call_method1(intern!(py, "get"), (stream,))?;
        if anchor.is_none() {
            return Ok(false);
        }
        let (Ok(sealed), Ok(hash)) = (anchor.get_item(0), anchor.get_item(1)) else {
            return Ok(true);
        };
        let (Ok(sealed), Ok(hash)) = (sealed.extract::<i64>(), hash.extract::<String>()) else {
            return Ok(true);
        };
        Ok(sealed == sequence && hash != event_hash)
    }
}

#[pymethods]
impl ChainLink {
    #[new]
    #[pyo3(signature = (heads, chains, scattered, anchors=None))]
    fn new(
        heads: Py<PyDict>,
        chains: Py<PyDict>,
        scattered: Py<PyDict>,
        anchors: Option<Py<PyAny>>,
    ) -> Self {
        ChainLink { heads, chains, scattered, anchors }
    }

    /// True when the event (a `LedgerEvent`'s fields, `__dict__`, and its type name, whose
    /// content hashes to `computed_hash`) was the next sound event of its stream and is now
    /// recorded as its head; None otherwise (and nothing changed). The fields are read from
    /// the model's `__dict__`, where pydantic keeps them: its `__getattr__` makes every
    /// attribute read, from Python or from here, several times slower than a dict lookup.
    fn link<'py>(
        &self,
        py: Python<'py>,
        fields: &Bound<'py, PyDict>,
        type_name: Bound<'py, PyAny>,
        computed_hash: &Bound<'py, PyAny>,
    ) -> PyResult<Option<bool>> {
        let (Some(stream), Some(sequence_object), Some(event_hash_object), Some(prev_hash)) = (
            fields.get_item(intern!(py, "stream_id"))?,
            fields.get_item(intern!(py, "sequence"))?,
            fields.get_item(intern!(py, "event_hash"))?,
            fields.get_item(intern!(py, "prev_hash"))?,
        ) else {
            return Ok(None);
        };
        let Ok(computed) = computed_hash.downcast_exact::<PyString>() else {
            return Ok(None); // not computed by the reader: the verifier hashes it
        };
        let Ok(event_hash) = event_hash_object.downcast_exact::<PyString>() else {
            return Ok(None);
        };
        let event_hash_text = event_hash.to_str()?;
        if computed.to_str()? != event_hash_text {
            return Ok(None); // edited
        }
        let Some(digest) = digest_of(event_hash_text) else {
            return Ok(None);
        };
        let Ok(stream) = stream.downcast_into_exact::<PyString>() else {
            return Ok(None);
        };
        if !sequence_object.is_exact_instance_of::<PyInt>() {
            return Ok(None);
        }
        let Ok(sequence) = sequence_object.extract::<i64>() else {
            return Ok(None);
        };
        let Some((head_sequence, head_hash)) = self.head(py, &stream)? else {
            return Ok(None);
        };
        if head_sequence.checked_add(1) != Some(sequence) {
            return Ok(None); // a copy, a gap, out of order
        }
        let chains = self.chains.bind(py);
        let chain = match chains.get_item(&stream)? {
            None if sequence == 1 => None,
            None => return Ok(None),
            Some(chain) => match chain.downcast_into_exact::<PyByteArray>() {
                Ok(chain) if chain.len() as i64 == (sequence - 1) * 32 => Some(chain),
                _ => return Ok(None),
            },
        };
        // Linked to the head: its hash is the genesis, or the chain's last 32 bytes (the
        // claims recorded the head's hash there, as lowercase hex decodes), read in place of
        // the head's hash string, a memory read less in a big replay.
        let Ok(prev_hash) = prev_hash.downcast_exact::<PyString>() else {
            return Ok(None);
        };
        let prev_text = prev_hash.to_str()?;
        let linked = match (&chain, &head_hash) {
            (None, None) => prev_text == GENESIS,
            (Some(chain), Some(_)) => digest_of(prev_text).is_some_and(|prev| {
                // SAFETY: the GIL is held and the bytearray is not resized while read.
                let bytes = unsafe { chain.as_bytes() };
                bytes[bytes.len() - 32..] == prev
            }),
            _ => return Ok(None),
        };
        if !linked {
            return Ok(None);
        }
        let scattered = self.scattered.bind(py);
        if !scattered.is_empty()
            && scattered.contains(PyTuple::new(py, [stream.as_any(), &sequence_object])?)?
        {
            return Ok(None);
        }
        if self.anchor_breaks(py, &stream, sequence, event_hash_text)? {
            return Ok(None);
        }
        // Recorded as the reference records it: the same objects in the same dicts.
        match chain {
            None => chains.set_item(&stream, PyByteArray::new(py, &digest))?,
            Some(chain) => {
                let start = chain.len();
                chain.resize(start + 32)?;
                // SAFETY: the GIL is held and nothing else borrows the bytearray's buffer.
                unsafe { chain.as_bytes_mut()[start..].copy_from_slice(&digest) };
            }
        }
        let head = PyTuple::new(py, [sequence_object, event_hash_object, type_name])?;
        self.heads.bind(py).set_item(&stream, head)?;
        Ok(Some(true))
    }
}
