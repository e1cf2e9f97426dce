//! Containers for secret material.
//!
//! Everything that was a secret at some point (decrypted values, data keys,
//! Shamir shares) lives in a type from this module. Each one wipes its memory
//! when dropped and never prints its contents through `Debug`, so a stray
//! `{:?}` in an error path cannot leak a value.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};
use zeroize::{Zeroize, Zeroizing};

/// Bytes that may hold a secret (a decrypted value or comment). Usually
/// UTF-8 text, but the binary store and legacy `type:bytes` values can hold
/// anything.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(SecretVec);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(SecretVec::new(bytes))
    }

    pub fn from_text(text: &str) -> Self {
        SecretBytes::new(text.as_bytes().to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, when it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Mutable access for in-place decryption; the buffer stays zeroizing.
    pub(crate) fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<String> for SecretBytes {
    fn from(text: String) -> Self {
        SecretBytes::new(text.into_bytes())
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        SecretBytes::new(bytes)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} secret bytes>", self.0.len())
    }
}

/// Bytes handed over to be read as text, as a wiping string when they are
/// UTF-8; otherwise the bytes (still wiping) and the offset where UTF-8
/// stops, for the reader to name the place its own way.
pub fn into_text(mut bytes: SecretVec) -> Result<Zeroizing<String>, (SecretVec, usize)> {
    String::from_utf8(std::mem::take(&mut *bytes)).map(Zeroizing::new).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        (SecretVec::new(e.into_bytes()), offset)
    })
}

/// The original text of value tokens by their position: what the style
/// memory hands between a file's layout and its metadata so a value keeps
/// its quoting. The texts are values as written, plaintext, so each is
/// wiped when dropped.
pub type TokenTexts = foldhash::HashMap<crate::tree::Src, Zeroizing<String>>;

/// A growing output buffer for plaintext (the stores' writers). A `Vec`
/// that grows frees its old allocation without wiping it; this one copies
/// into a bigger buffer itself and wipes the old one, and wipes its bytes
/// when dropped.
///
/// Only the bytes written are wiped, not the whole capacity: the buffer
/// never shrinks, so nothing was ever written past its length, and wiping
/// the spare capacity touched pages that were never used, each a page fault.
/// So a generous capacity costs address space, not memory.
pub(crate) struct SecretBuf(Vec<u8>);

impl Drop for SecretBuf {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl SecretBuf {
    pub fn with_capacity(capacity: usize) -> SecretBuf {
        SecretBuf(Vec::with_capacity(capacity))
    }

    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        if self.0.capacity() - self.0.len() < additional {
            self.grow(additional);
        }
    }

    #[cold]
    fn grow(&mut self, additional: usize) {
        let needed = self.0.len() + additional;
        let mut bigger = Vec::with_capacity(needed.max(self.0.capacity() * 2).max(64));
        bigger.extend_from_slice(&self.0);
        let mut old = std::mem::replace(&mut self.0, bigger);
        old.as_mut_slice().zeroize();
    }

    #[inline]
    pub fn push(&mut self, byte: u8) {
        self.reserve(1);
        self.0.push(byte);
    }

    #[inline]
    pub fn extend(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.0.extend_from_slice(bytes);
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn last(&self) -> Option<u8> {
        self.0.last().copied()
    }

    /// The bytes, handed to the caller (who now owns the plaintext).
    ///
    /// Callers keep them in a `SecretVec`, which wipes the whole
    /// capacity. When much of it was never written (a decryption's output is
    /// about a quarter of the capacity reserved for it), the bytes move to an
    /// exact-size vector and this buffer wipes its own, so that wipe does not
    /// touch pages nothing ever used: for the 10 MB file, 32 MB of them,
    /// which made the end of a decryption its peak.
    pub fn into_vec(mut self) -> Vec<u8> {
        let spare = self.0.capacity() - self.0.len();
        if spare > self.0.len() / 4 + 4096 {
            return self.0.as_slice().to_vec();
        }
        std::mem::take(&mut self.0)
    }

    /// The bytes of a buffer that holds no secret after all, handed over
    /// as they are, neither copied nor wiped: an encryption's output, which
    /// is envelopes, keys, comments and the values the file leaves in
    /// clear, what goes to disk. Wiping a later piece's output was a 25 MB
    /// memset after the threads joined, when encrypting 10 MB.
    pub fn into_public(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// The 32-byte key that encrypts every value of one file.
pub struct DataKey(SecretBox<[u8; 32]>);

impl DataKey {
    pub const LEN: usize = 32;

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<DataKey, getrandom::Error> {
        let mut result = Ok(());
        let key = SecretBox::init_with_mut(|bytes: &mut [u8; 32]| {
            result = getrandom::getrandom(bytes);
        });
        result.map(|()| DataKey(key))
    }

    /// A key recovered from a master key or from Shamir shares. Fails unless
    /// there are exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<DataKey> {
        if bytes.len() != Self::LEN {
            return None;
        }
        Some(DataKey(SecretBox::init_with_mut(|key: &mut [u8; 32]| key.copy_from_slice(bytes))))
    }

    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl Clone for DataKey {
    fn clone(&self) -> Self {
        DataKey::from_slice(self.expose()).expect("a data key is always 32 bytes")
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Bytes that are wiped when dropped: a file as read, an output, an
/// unwrapped key before it is checked.
///
/// `SecretVec` would do, but it wipes a vector one byte at a time
/// (zeroize's `Vec` impl zeroizes each element, and a byte's zeroize is a
/// volatile store), which for a decryption's 4 MB input and 1 MB output was
/// 6 million instructions, 2% of the work and all of it after the threads
/// had joined. This wipes the slice whole (one fill behind an optimisation
/// barrier: zeroize's slice impl), then the spare capacity.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretVec(Vec<u8>);

impl SecretVec {
    pub fn new(bytes: Vec<u8>) -> SecretVec {
        SecretVec(bytes)
    }

    /// The bytes, known to hold no secret after all, given up unwiped:
    /// an encrypted file as read, once the one pass has decrypted it
    /// without writing into it (its values' plaintexts are built in
    /// buffers of their own). Wiping the 42 MB read for the 10 MB file
    /// took place after the threads joined.
    pub fn into_public(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for SecretVec {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for SecretVec {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for SecretVec {
    fn from(bytes: Vec<u8>) -> SecretVec {
        SecretVec(bytes)
    }
}

impl Zeroize for SecretVec {
    fn zeroize(&mut self) {
        wipe_bytes(&mut self.0);
    }
}

impl Drop for SecretVec {
    fn drop(&mut self) {
        wipe_bytes(&mut self.0);
    }
}

impl fmt::Debug for SecretVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} secret bytes>", self.0.len())
    }
}

/// Wipe a vector's bytes and its spare capacity, then empty it: what
/// zeroize does for a `Vec`, with the bytes wiped as one slice.
pub fn wipe_bytes(bytes: &mut Vec<u8>) {
    bytes.spare_capacity_mut().zeroize();
    bytes.as_mut_slice().zeroize();
    bytes.clear();
}

/// Wipe a `String` in place (used for plaintext output buffers), the same
/// way.
pub fn wipe_string(text: &mut String) {
    let mut bytes = std::mem::take(text).into_bytes();
    wipe_bytes(&mut bytes);
    *text = String::from_utf8(bytes).expect("an empty vector is UTF-8");
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroize;

    use super::{SecretBuf, SecretVec, wipe_bytes, wipe_string};

    #[test]
    fn wiping_empties_in_place() {
        let mut bytes = b"plaintext".to_vec();
        let (at, capacity) = (bytes.as_ptr(), bytes.capacity());
        wipe_bytes(&mut bytes);
        assert!(bytes.is_empty());
        assert_eq!((bytes.as_ptr(), bytes.capacity()), (at, capacity), "wiped where it lies, not moved");
        let mut text = String::from("plaintext");
        let at = text.as_ptr();
        wipe_string(&mut text);
        assert!(text.is_empty());
        assert_eq!(text.as_ptr(), at);
    }

    #[test]
    fn a_secret_vec_shows_only_its_length() {
        let mut bytes = SecretVec::new(b"hunter2".to_vec());
        assert_eq!(format!("{bytes:?}"), "<7 secret bytes>");
        bytes.zeroize();
        assert!(bytes.is_empty());
    }

    #[test]
    fn a_mostly_unused_buffer_is_handed_over_at_its_size() {
        let mut buf = SecretBuf::with_capacity(1 << 20);
        buf.extend(b"plaintext");
        let bytes = buf.into_vec();
        assert_eq!(bytes, b"plaintext");
        assert_eq!(bytes.capacity(), bytes.len(), "the receiver's wipe touches only these bytes");
    }

    #[test]
    fn a_mostly_used_buffer_is_handed_over_as_it_is() {
        let mut buf = SecretBuf::with_capacity(10_000);
        buf.extend(&[7; 9_000]);
        let at = buf.as_slice().as_ptr();
        let bytes = buf.into_vec();
        assert_eq!(bytes.as_ptr(), at, "no copy");
        assert_eq!(bytes.len(), 9_000);
    }
}
