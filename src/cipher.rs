//! The `ENC[...]` envelope and the two ciphers that fill it.
//!
//! An envelope is `ENC[<CIPHER>,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]`
//! with standard padded base64 (spec 2.1). sops writes `AES256_GCM` with a
//! 32-byte IV, which makes GCM derive its counter block through GHASH; the
//! usual 12-byte `Aes256Gcm` would not interoperate, so the type used here is
//! `AesGcm<Aes256, U32>` (12-byte IVs, which sops would also accept, are read
//! too). Our default for new files is `XCHACHA20_POLY1305`: the same grammar,
//! additional data and MAC rules, with a 24-byte random nonce, whose size
//! makes random nonces safe for any number of values.
//!
//! A [`ValueCipher`] is built once per file from its data key, so the key
//! schedule is computed once and not per value.

use aes_gcm::AesGcm;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::generic_array::typenum::{U12, U32};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use std::ops::Range;

use chacha20poly1305::XChaCha20Poly1305;

use crate::secret::{DataKey, SecretBytes};
use crate::tree::ValueType;

mod nonce;

/// The ciphers an envelope can name.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum CipherKind {
    /// `AES256_GCM`: what sops writes and reads.
    Aes256Gcm,
    /// `XCHACHA20_POLY1305`: ours, the default for new files.
    XChaCha20Poly1305,
}

impl CipherKind {
    /// The name inside the envelope.
    pub fn envelope_name(self) -> &'static str {
        match self {
            CipherKind::Aes256Gcm => "AES256_GCM",
            CipherKind::XChaCha20Poly1305 => "XCHACHA20_POLY1305",
        }
    }

    /// The spelling used by `--cipher`, `SOPS_RS_CIPHER` and creation rules.
    pub fn config_name(self) -> &'static str {
        match self {
            CipherKind::Aes256Gcm => "aes256_gcm",
            CipherKind::XChaCha20Poly1305 => "xchacha20_poly1305",
        }
    }

    /// Accepts the config spelling or the envelope spelling, in any case.
    pub fn parse(name: &str) -> Option<CipherKind> {
        match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "aes256_gcm" | "aes_256_gcm" | "aes256gcm" => Some(CipherKind::Aes256Gcm),
            "xchacha20_poly1305" | "xchacha20poly1305" | "xchacha" => Some(CipherKind::XChaCha20Poly1305),
            _ => None,
        }
    }

    fn from_envelope_name(name: &str) -> Option<CipherKind> {
        match name {
            "AES256_GCM" => Some(CipherKind::Aes256Gcm),
            "XCHACHA20_POLY1305" => Some(CipherKind::XChaCha20Poly1305),
            _ => None,
        }
    }

    /// How an envelope of this cipher, as sops and sops-rs write it,
    /// begins, up to its data.
    fn written_prefix(self) -> &'static [u8] {
        match self {
            CipherKind::Aes256Gcm => b"ENC[AES256_GCM,data:",
            CipherKind::XChaCha20Poly1305 => b"ENC[XCHACHA20_POLY1305,data:",
        }
    }

    /// The nonce length written for new values.
    pub fn iv_len(self) -> usize {
        match self {
            CipherKind::Aes256Gcm => 32,
            CipherKind::XChaCha20Poly1305 => 24,
        }
    }
}

/// What is wrong with an envelope. None of these carry the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the value does not match the ENC[...] envelope format")]
    Malformed,
    #[error("the envelope names an unknown cipher {0:?}")]
    UnknownCipher(String),
    #[error("the envelope names an unknown value type {0:?}")]
    UnknownType(String),
    #[error("the envelope's {0} field is not valid base64")]
    BadBase64(&'static str),
    #[error("the envelope's IV is {0} bytes, which {1} cannot use")]
    BadIvLength(usize, &'static str),
    #[error("the envelope's tag is {0} bytes; it must be 16")]
    BadTagLength(usize),
    #[error(
        "authentication failed: the value was tampered with, moved to another key, or encrypted with another data key"
    )]
    AuthFailed,
    #[error("the decrypted value is not a valid {0}")]
    BadPlaintext(&'static str),
}

/// A parsed envelope: decoded fields, not yet decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub cipher: CipherKind,
    pub data: Vec<u8>,
    pub iv: ShortBytes,
    pub tag: ShortBytes,
    pub value_type: ValueType,
}

/// A nonce or a tag. Every envelope sops-rs can open has at most 32 bytes
/// in each, so they are kept inline: two heap allocations per value were a
/// measurable part of decrypting. A longer field (a malformed file, refused
/// when decrypting with its length) is kept on the heap.
#[derive(Clone, Default)]
pub struct ShortBytes {
    len: usize,
    inline: [u8; 32],
    spill: Vec<u8>,
}

impl ShortBytes {
    pub fn from_slice(bytes: &[u8]) -> ShortBytes {
        let mut out = ShortBytes::default();
        if bytes.len() <= out.inline.len() {
            out.inline[..bytes.len()].copy_from_slice(bytes);
        } else {
            out.spill = bytes.to_vec();
        }
        out.len = bytes.len();
        out
    }
}

impl std::ops::Deref for ShortBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        if self.len <= self.inline.len() { &self.inline[..self.len] } else { &self.spill }
    }
}

impl PartialEq for ShortBytes {
    fn eq(&self, other: &ShortBytes) -> bool {
        **self == **other
    }
}

impl Eq for ShortBytes {}

impl std::hash::Hash for ShortBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl std::fmt::Debug for ShortBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// True when `text` starts like an envelope. Cheap; used to tell encrypted
/// values from plaintext ones.
pub fn looks_encrypted(text: &str) -> bool {
    text.starts_with("ENC[")
}

/// The length of every AEAD tag sops writes and reads.
const TAG_LEN: usize = 16;

/// How many base64 characters `bytes` bytes take, padding included.
const fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// An envelope's fields as `Envelope::parse` checks them, before any
/// base64 is decoded: where each encoded field lies in the text.
#[derive(Debug, PartialEq)]
struct Fields {
    cipher: CipherKind,
    data: Range<usize>,
    iv: Range<usize>,
    tag: Range<usize>,
    value_type: ValueType,
}

impl Fields {
    fn parse(text: &str) -> Result<Fields, EnvelopeError> {
        match Fields::parse_as_written(text.as_bytes()) {
            Some(fields) => Ok(fields),
            None => Fields::parse_each(text),
        }
    }

    /// [`parse`](Self::parse) of bytes: an envelope as written needs no
    /// UTF-8 check of its own (its fields are base64 by then), which was a
    /// pass over every envelope; anything else is checked, then parsed.
    fn parse_bytes(bytes: &[u8]) -> Result<Fields, EnvelopeError> {
        match Fields::parse_as_written(bytes) {
            Some(fields) => Ok(fields),
            None => Fields::parse_each(std::str::from_utf8(bytes).map_err(|_| EnvelopeError::Malformed)?),
        }
    }

    /// The fields of an envelope laid out as sops and sops-rs write them: a
    /// known cipher, the nonce and tag lengths that cipher is written with,
    /// a known type. Their places follow from the lengths, and one pass
    /// checks that no field holds what `parse_each` splits on (a comma) or
    /// refuses (a line break), so where this gives fields `parse_each` gives
    /// the same ones (a property test holds it to that). Anything else,
    /// `None`, is read field by field. Searching for each field was a fifth
    /// of decrypting a value.
    fn parse_as_written(bytes: &[u8]) -> Option<Fields> {
        let fields = Fields::place_as_written(bytes)?;
        // From the data to the type, the only commas are the two
        // `place_as_written` checked (before `iv:` and `tag:`), and there is
        // no line break: one vectorized search instead of a test per byte.
        let splits = memchr::memchr2_iter(b',', b'\n', &bytes[fields.data.start..fields.tag.end]).count();
        (splits == 2).then_some(fields)
    }

    /// Where the fields of an envelope as written would lie, without the
    /// check that they hold no comma or line break. Decoding all three as
    /// base64 makes that check (neither is in the alphabet), so a caller
    /// that decodes them all may skip it, as long as any decoding failure
    /// falls back to [`parse`](Self::parse): the check was 3% of
    /// decrypting a file whose values are long.
    fn place_as_written(bytes: &[u8]) -> Option<Fields> {
        let cipher = [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305]
            .into_iter()
            .find(|cipher| bytes.starts_with(cipher.written_prefix()))?;
        let data_start = cipher.written_prefix().len();
        let close = bytes.len() - 1;
        if bytes[close] != b']' {
            return None;
        }
        // The type is the text after the last comma, at most `comment`.
        let type_at = (close.saturating_sub(14)..close).rev().find(|&at| bytes[at] == b',')?;
        let type_name = bytes.get(type_at..close)?.strip_prefix(b",type:")?;
        let value_type = ValueType::parse_bytes(type_name)?;
        let tag_at = type_at.checked_sub(base64_len(TAG_LEN) + ",tag:".len())?;
        let iv_at = tag_at.checked_sub(base64_len(cipher.iv_len()) + ",iv:".len())?;
        if iv_at <= data_start
            || !bytes[tag_at..].starts_with(b",tag:")
            || !bytes[iv_at..].starts_with(b",iv:")
        {
            return None;
        }
        Some(Fields {
            cipher,
            data: data_start..iv_at,
            iv: iv_at + ",iv:".len()..tag_at,
            tag: tag_at + ",tag:".len()..type_at,
            value_type,
        })
    }

    /// Field by field, the way sops's regular expression reads them.
    fn parse_each(text: &str) -> Result<Fields, EnvelopeError> {
        let rest = text.strip_prefix("ENC[").ok_or(EnvelopeError::Malformed)?;
        if memchr::memchr(b'\n', rest.as_bytes()).is_some() {
            return Err(EnvelopeError::Malformed);
        }
        let (cipher_name, rest) = split_at_field(rest, "data:").ok_or(EnvelopeError::Malformed)?;
        let (data, rest) = split_at_field(rest, "iv:").ok_or(EnvelopeError::Malformed)?;
        let (iv, rest) = split_at_field(rest, "tag:").ok_or(EnvelopeError::Malformed)?;
        let (tag, rest) = split_at_field(rest, "type:").ok_or(EnvelopeError::Malformed)?;
        let close = rest.rfind(']').ok_or(EnvelopeError::Malformed)?;
        let type_name = &rest[..close];
        if cipher_name.is_empty()
            || data.is_empty()
            || iv.is_empty()
            || tag.is_empty()
            || type_name.is_empty()
        {
            return Err(EnvelopeError::Malformed);
        }
        let cipher = CipherKind::from_envelope_name(cipher_name)
            .ok_or_else(|| EnvelopeError::UnknownCipher(truncate_for_message(cipher_name)))?;
        let value_type = ValueType::parse(type_name)
            .ok_or_else(|| EnvelopeError::UnknownType(truncate_for_message(type_name)))?;
        // Each field is a slice of `text`, so its place is a subtraction.
        let place = |field: &str| {
            let start = field.as_ptr() as usize - text.as_ptr() as usize;
            start..start + field.len()
        };
        Ok(Fields { cipher, data: place(data), iv: place(iv), tag: place(tag), value_type })
    }

    /// The nonce and the tag, decoded.
    fn iv_and_tag(&self, text: &[u8]) -> Result<(ShortBytes, ShortBytes), EnvelopeError> {
        let iv = decode_short_base64(&text[self.iv.clone()]).ok_or(EnvelopeError::BadBase64("iv"))?;
        let tag = decode_short_base64(&text[self.tag.clone()]).ok_or(EnvelopeError::BadBase64("tag"))?;
        Ok((iv, tag))
    }
}

impl Envelope {
    /// Parse `ENC[...]` the way sops's regular expression does: anchored at
    /// the start, fields in fixed order, each non-empty, the type running to
    /// the last `]`.
    pub fn parse(text: &str) -> Result<Envelope, EnvelopeError> {
        let bytes = text.as_bytes();
        let decoded = |fields: Fields| {
            let data = decode_base64(&bytes[fields.data.clone()]).ok_or(EnvelopeError::BadBase64("data"))?;
            let (iv, tag) = fields.iv_and_tag(bytes)?;
            Ok(Envelope { cipher: fields.cipher, data, iv, tag, value_type: fields.value_type })
        };
        // Laid out as written and all three fields base64: what the checked
        // parse gives (see `place_as_written`). Otherwise the checked parse
        // says what is wrong.
        if let Some(fields) = Fields::place_as_written(bytes)
            && let Ok(envelope) = decoded(fields)
        {
            return Ok(envelope);
        }
        decoded(Fields::parse(text)?)
    }

    /// The envelope text.
    pub fn to_text(&self) -> String {
        String::from_utf8(self.to_bytes()).expect("an envelope is ASCII")
    }

    /// The envelope text as bytes, for a caller that keeps bytes: no UTF-8
    /// check of a text that is ASCII by construction (a check was 1.5% of
    /// encrypting a file).
    pub fn to_bytes(&self) -> Vec<u8> {
        let name = self.cipher.envelope_name();
        let type_name = self.value_type.as_str();
        let encoded = base64_len(self.data.len()) + base64_len(self.iv.len()) + base64_len(self.tag.len());
        let punctuation = "ENC[,data:,iv:,tag:,type:]".len();
        let mut out = Vec::with_capacity(punctuation + name.len() + encoded + type_name.len());
        out.extend_from_slice(b"ENC[");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b",data:");
        encode_base64_into(&self.data, &mut out);
        out.extend_from_slice(b",iv:");
        encode_base64_into(&self.iv, &mut out);
        out.extend_from_slice(b",tag:");
        encode_base64_into(&self.tag, &mut out);
        out.extend_from_slice(b",type:");
        out.extend_from_slice(type_name.as_bytes());
        out.push(b']');
        out
    }
}

/// Standard padded base64 (RFC 4648 section 4), as the `base64` crate's
/// `STANDARD` engine writes it (a property test holds the two equal).
/// Written out for the same reason as the decoder: envelope fields are
/// short, and the engine's chunked encoder cost about 1,600 instructions
/// for an envelope's three, a tenth of encrypting a value.
///
/// Each group of three bytes is two halves of twelve bits, each looked up
/// as its two characters in one table (8 KB, built at compile time): two
/// lookups a group instead of four, which were most of the cost (36
/// instructions a group; sizing the output once and writing groups in
/// place did not help).
fn encode_base64_into(bytes: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const PAIRS: [[u8; 2]; 4096] = {
        let mut table = [[0; 2]; 4096];
        let mut i = 0;
        while i < 4096 {
            table[i] = [ALPHABET[i >> 6], ALPHABET[i & 63]];
            i += 1;
        }
        table
    };
    let sextet = |word: u32, shift: u32| ALPHABET[(word >> shift) as usize & 63];
    let mut chunks = bytes.chunks_exact(3);
    for chunk in &mut chunks {
        let word = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        let [a, b] = PAIRS[(word >> 12) as usize & 0xfff];
        let [c, d] = PAIRS[word as usize & 0xfff];
        out.extend_from_slice(&[a, b, c, d]);
    }
    match *chunks.remainder() {
        [a] => {
            let word = u32::from(a) << 16;
            out.extend_from_slice(&[sextet(word, 18), sextet(word, 12), b'=', b'=']);
        }
        [a, b] => {
            let word = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend_from_slice(&[sextet(word, 18), sextet(word, 12), sextet(word, 6), b'=']);
        }
        _ => {}
    }
}

/// `text.split_once(",label")` without building a substring searcher for
/// every call: a file has one envelope per value and four fields in each,
/// and the searcher's setup cost more than the search (5% of decrypting
/// 10,000 values). Finds the first comma followed by the label, which is
/// exactly the first occurrence of `,label`.
fn split_at_field<'a>(text: &'a str, label: &str) -> Option<(&'a str, &'a str)> {
    // `,` is ASCII, so `at` and the label's end are character boundaries.
    let bytes = text.as_bytes();
    let at = memchr::memchr_iter(b',', bytes).find(|&at| bytes[at + 1..].starts_with(label.as_bytes()))?;
    Some((&text[..at], &text[at + 1 + label.len()..]))
}

/// Standard base64 with canonical padding and zero trailing bits, exactly
/// what `base64`'s `STANDARD` engine accepts (a property test holds the two
/// equal). Written out because envelope fields are short, where the
/// engine's set-up for long inputs cost more than the decoding: three
/// decodes per value were a fifth of decrypting a 10,000-key JSON file.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = text.to_vec();
    let len = decode_base64_in_place(&mut out, 0..text.len()).ok()?;
    out.truncate(len);
    Some(out)
}

/// A nonce or tag, decoded on the stack when it is short. Not in place, so
/// whole groups go from the text to the bytes through iterators, without
/// the index checks of the in-place loop (a third of decoding a nonce).
fn decode_short_base64(text: &[u8]) -> Option<ShortBytes> {
    let mut out = ShortBytes::default();
    let body = without_padding(text);
    // Ten whole groups and a tail are at most 32 bytes, what fits inline.
    if body.len() / 4 > out.inline.len() / 3 || !text.len().is_multiple_of(4) {
        return decode_base64(text).map(|bytes| ShortBytes::from_slice(&bytes));
    }
    let groups = body.chunks_exact(4);
    let tail = groups.remainder();
    let mut len = 0;
    for (chars, bytes) in groups.zip(out.inline.chunks_exact_mut(3)) {
        let word = quad(chars[0], chars[1], chars[2], chars[3]);
        if word > 0xff_ffff {
            return None;
        }
        bytes.copy_from_slice(&word.to_be_bytes()[1..]);
        len += 3;
    }
    let (last, count) = decode_tail(tail)?;
    out.inline[len..len + count].copy_from_slice(&last[..count]);
    out.len = len + count;
    Some(out)
}

/// `text` without its `=` padding (at most two).
fn without_padding(text: &[u8]) -> &[u8] {
    match text {
        [body @ .., b'=', b'='] | [body @ .., b'='] => body,
        _ => text,
    }
}

/// The bytes of the last two or three characters of a padded text (none
/// for none), or `None` when they are not base64 or their spare bits are
/// not zero.
fn decode_tail(tail: &[u8]) -> Option<([u8; 2], usize)> {
    match *tail {
        [] => Some(([0; 2], 0)),
        // Two characters are one byte and four spare bits, which must be 0.
        [a, b] => {
            let word = quad(a, b, b'A', b'A');
            (word <= 0xff_ffff && word & 0xffff == 0).then_some(([(word >> 16) as u8, 0], 1))
        }
        // Three characters are two bytes and two spare bits.
        [a, b, c] => {
            let word = quad(a, b, c, b'A');
            (word <= 0xff_ffff && word & 0xff == 0).then_some(([(word >> 16) as u8, (word >> 8) as u8], 2))
        }
        _ => None,
    }
}

/// Decode the base64 at `text` in `buf` into the start of `buf`; returns
/// how many bytes it wrote. Writing from the front while reading never
/// overtakes the reading: four characters are read before their three
/// bytes are written, and the bytes are fewer. So a value's ciphertext is
/// decoded where its envelope text was, without a buffer of its own.
///
/// On failure, `Err` says how many bytes had been written (whole groups of
/// three, each from four valid characters), so that the caller can put the
/// text back; nothing after the group that failed has been touched.
fn decode_base64_in_place(buf: &mut [u8], text: Range<usize>) -> Result<usize, usize> {
    if !text.len().is_multiple_of(4) {
        return Err(0);
    }
    let body_len = without_padding(&buf[text.clone()]).len();
    let body = text.start..text.start + body_len;
    let full = body.len() / 4 * 4;
    let mut len = 0;
    for at in (body.start..body.start + full).step_by(4) {
        let &[a, b, c, d] = &buf[at..at + 4] else { unreachable!("four characters") };
        let word = quad(a, b, c, d);
        if word > 0xff_ffff {
            return Err(len);
        }
        buf[len..len + 3].copy_from_slice(&word.to_be_bytes()[1..]);
        len += 3;
    }
    let (last, count) = decode_tail(&buf[body.start + full..body.end]).ok_or(len)?;
    buf[len..len + count].copy_from_slice(&last[..count]);
    Ok(len + count)
}

/// Undo [`decode_base64_in_place`] over an envelope as written: `written`
/// decoded bytes at the start of `buf` go back to the characters they came
/// from (the decoder takes only canonical base64, so encoding them gives
/// those characters exactly), and `prefix`, which they had overwritten,
/// goes back before them.
fn restore_decoded_data(buf: &mut [u8], prefix: &[u8], written: usize) {
    let mut characters = Vec::with_capacity(base64_len(written));
    encode_base64_into(&buf[..written], &mut characters);
    buf[prefix.len()..prefix.len() + characters.len()].copy_from_slice(&characters);
    buf[..prefix.len()].copy_from_slice(prefix);
}

/// Four base64 characters as their 24 bits, or a value above `0xff_ffff`
/// when one is outside the alphabet: one table per position, each holding
/// the character's six bits already shifted into place and every invalid
/// character as a high byte, so a group costs four loads, three ors and one
/// test instead of a test per character.
#[inline(always)]
fn quad(a: u8, b: u8, c: u8, d: u8) -> u32 {
    const fn shifted(shift: u32) -> [u32; 256] {
        let mut table = [0xff00_0000; 256];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut i = 0;
        while i < 64 {
            table[alphabet[i] as usize] = (i as u32) << shift;
            i += 1;
        }
        table
    }
    static TABLES: [[u32; 256]; 4] = [shifted(18), shifted(12), shifted(6), shifted(0)];
    TABLES[0][a as usize] | TABLES[1][b as usize] | TABLES[2][c as usize] | TABLES[3][d as usize]
}

/// Unknown names from a file are echoed in errors; keep them short.
fn truncate_for_message(text: &str) -> String {
    text.chars().take(32).collect()
}

type Aes256Gcm32 = AesGcm<Aes256, U32>;
type Aes256Gcm12 = AesGcm<Aes256, U12>;

/// Encrypts and decrypts values with one file's data key. Nonces come from
/// this thread's pool of random bytes (see `nonce`).
pub struct ValueCipher {
    aes32: Aes256Gcm32,
    aes12: Aes256Gcm12,
    xchacha: XChaCha20Poly1305,
}

impl ValueCipher {
    pub fn new(key: &DataKey) -> ValueCipher {
        let key_bytes = GenericArray::from_slice(key.expose());
        ValueCipher {
            aes32: Aes256Gcm32::new(key_bytes),
            aes12: Aes256Gcm12::new(key_bytes),
            xchacha: XChaCha20Poly1305::new(key_bytes),
        }
    }

    /// Encrypt with a fresh random nonce.
    pub fn encrypt(
        &self,
        cipher: CipherKind,
        plaintext: &[u8],
        aad: &[u8],
        value_type: ValueType,
    ) -> Result<Envelope, getrandom::Error> {
        let mut iv = vec![0u8; cipher.iv_len()];
        nonce::fill(&mut iv)?;
        Ok(self.encrypt_with_iv(cipher, plaintext, aad, value_type, iv))
    }

    /// Encrypt with a given nonce. Callers must never pass the same nonce for
    /// different plaintexts under one key; this exists for the fixed test
    /// vectors and for re-using the nonce of an unchanged value.
    pub fn encrypt_with_iv(
        &self,
        cipher: CipherKind,
        plaintext: &[u8],
        aad: &[u8],
        value_type: ValueType,
        iv: Vec<u8>,
    ) -> Envelope {
        let mut data = plaintext.to_vec();
        let tag = match cipher {
            CipherKind::Aes256Gcm if iv.len() == 32 => {
                self.aes32.encrypt_in_place_detached(GenericArray::from_slice(&iv), aad, &mut data)
            }
            CipherKind::Aes256Gcm if iv.len() == 12 => {
                self.aes12.encrypt_in_place_detached(GenericArray::from_slice(&iv), aad, &mut data)
            }
            CipherKind::XChaCha20Poly1305 if iv.len() == 24 => {
                self.xchacha.encrypt_in_place_detached(GenericArray::from_slice(&iv), aad, &mut data)
            }
            _ => panic!("encrypt_with_iv called with a nonce length the cipher does not take"),
        }
        .expect("AEAD encryption of an in-memory buffer cannot fail");
        Envelope {
            cipher,
            data,
            iv: ShortBytes::from_slice(&iv),
            tag: ShortBytes::from_slice(&tag),
            value_type,
        }
    }

    /// Decrypt an envelope's ciphertext, checking its tag against `aad`.
    pub fn decrypt(&self, envelope: &Envelope, aad: &[u8]) -> Result<SecretBytes, EnvelopeError> {
        self.decrypt_into(envelope, aad, envelope.data.clone())
    }

    /// `decrypt`, in the envelope's own buffer: no copy of the ciphertext.
    pub fn decrypt_owned(&self, mut envelope: Envelope, aad: &[u8]) -> Result<SecretBytes, EnvelopeError> {
        let data = std::mem::take(&mut envelope.data);
        self.decrypt_into(&envelope, aad, data)
    }

    fn decrypt_into(
        &self,
        envelope: &Envelope,
        aad: &[u8],
        data: Vec<u8>,
    ) -> Result<SecretBytes, EnvelopeError> {
        // Wrapped before decrypting, so the plaintext is wiped whatever
        // happens next.
        let mut buffer = SecretBytes::new(data);
        self.open(envelope.cipher, &envelope.iv, &envelope.tag, aad, buffer.bytes_mut())?;
        Ok(buffer)
    }

    /// Parse and decrypt a value's envelope `text` where it lies: the
    /// ciphertext is decoded over the start of the same buffer and
    /// decrypted there, so the plaintext ends up in the buffer that held
    /// the envelope, and no other is allocated (for 10,000 values, 3% of
    /// decrypting them). The envelope text is gone afterwards, whatever
    /// the outcome. Errors are `Envelope::parse`'s and `decrypt`'s, in the
    /// same order; a comment's envelope is refused before decrypting.
    pub fn decrypt_value_in_place(
        &self,
        mut text: SecretBytes,
        aad: &[u8],
    ) -> Result<(ValueType, SecretBytes), EnvelopeError> {
        // The fast way, as in `Envelope::parse`: fields where an envelope as
        // written has them, all three decoded. If any is not base64, the
        // data goes back as it was and the checked way says what is wrong.
        if let Some(fields) = Fields::place_as_written(text.as_bytes()) {
            let prefix = fields.cipher.written_prefix();
            let buffer = text.bytes_mut();
            match decode_base64_in_place(buffer, fields.data.clone()) {
                Ok(len) => match fields.iv_and_tag(buffer) {
                    Ok((iv, tag)) => return self.open_decoded(fields, iv, tag, aad, text, len),
                    Err(_) => restore_decoded_data(buffer, prefix, len),
                },
                Err(written) => restore_decoded_data(buffer, prefix, written),
            }
        }
        let fields = Fields::parse_bytes(text.as_bytes())?;
        let buffer = text.bytes_mut();
        let len = decode_base64_in_place(buffer, fields.data.clone())
            .map_err(|_| EnvelopeError::BadBase64("data"))?;
        let (iv, tag) = fields.iv_and_tag(buffer)?;
        self.open_decoded(fields, iv, tag, aad, text, len)
    }

    /// The end of [`decrypt_value_in_place`](Self::decrypt_value_in_place):
    /// the ciphertext, decoded into the first `len` bytes of `text`,
    /// decrypted there.
    fn open_decoded(
        &self,
        fields: Fields,
        iv: ShortBytes,
        tag: ShortBytes,
        aad: &[u8],
        mut text: SecretBytes,
        len: usize,
    ) -> Result<(ValueType, SecretBytes), EnvelopeError> {
        let buffer = text.bytes_mut();
        if fields.value_type == ValueType::Comment {
            return Err(EnvelopeError::BadPlaintext("value (it is a comment)"));
        }
        buffer.truncate(len);
        self.open(fields.cipher, &iv, &tag, aad, buffer)?;
        Ok((fields.value_type, text))
    }

    /// Check `tag` and decrypt `data` in place.
    fn open(
        &self,
        cipher: CipherKind,
        iv: &[u8],
        tag: &[u8],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<(), EnvelopeError> {
        if tag.len() != TAG_LEN {
            return Err(EnvelopeError::BadTagLength(tag.len()));
        }
        let tag = GenericArray::from_slice(tag);
        let result = match cipher {
            CipherKind::Aes256Gcm => match iv.len() {
                32 => self.aes32.decrypt_in_place_detached(GenericArray::from_slice(iv), aad, data, tag),
                12 => self.aes12.decrypt_in_place_detached(GenericArray::from_slice(iv), aad, data, tag),
                n => return Err(EnvelopeError::BadIvLength(n, "AES256_GCM")),
            },
            CipherKind::XChaCha20Poly1305 => match iv.len() {
                24 => self.xchacha.decrypt_in_place_detached(GenericArray::from_slice(iv), aad, data, tag),
                n => return Err(EnvelopeError::BadIvLength(n, "XCHACHA20_POLY1305")),
            },
        };
        result.map_err(|_| EnvelopeError::AuthFailed)
    }
}

#[cfg(test)]
mod tests;
