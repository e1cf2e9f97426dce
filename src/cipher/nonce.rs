//! Where the random nonce of every encrypted value comes from.
//!
//! Encrypting a 1 MB file takes 30,000 nonces, a megabyte of random bytes.
//! Asking the kernel for each was a tenth of the run; a shared pool drawn a
//! few kilobytes at a time then left the kernel's own ChaCha20 generator
//! (its `chacha_permute` was 4-6% of the run, written without SIMD) and a
//! lock the two threads of a file read in pieces fought over.
//!
//! So each thread keeps a ChaCha20 keystream of its own, keyed from the
//! operating system's random source: the same construction as the kernel's
//! generator, run here with the vector instructions the `chacha20` crate
//! picks at run time. A key yields at most [`BYTES_PER_KEY`] bytes before a
//! fresh one is drawn, so a generator's state, were it ever read, tells
//! nothing about the nonces before or long after. Bytes leave the pool once
//! and are never handed out again. Nonces need to be unique, not secret
//! (they are written next to the ciphertext), but the key is wiped all the
//! same when it is replaced or the thread ends.
//!
//! A pool is not to be used on both sides of a `fork` (the copies would
//! hand out the same bytes); sops-rs never forks without `exec`.

use std::cell::RefCell;

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use zeroize::Zeroize;

/// Random bytes made at a time: 128 AES-GCM (32-byte) or 170 XChaCha
/// (24-byte) nonces.
const POOL_BYTES: usize = 4096;

/// Keystream taken from one key before the next is drawn.
const BYTES_PER_KEY: usize = 1 << 20;

thread_local! {
    static POOL: RefCell<NoncePool> = RefCell::new(NoncePool::new());
}

/// Fill `out` with random bytes no other call has been given.
pub(super) fn fill(out: &mut [u8]) -> Result<(), getrandom::Error> {
    if out.len() > POOL_BYTES {
        return getrandom::getrandom(out);
    }
    POOL.with(|pool| pool.borrow_mut().fill(out))
}

/// A thread's keystream and the part of it not yet handed out.
struct NoncePool {
    /// `None` until the first nonce, and after a key's share is used.
    stream: Option<ChaCha20>,
    /// Bytes made under the current key.
    made: usize,
    bytes: Box<[u8; POOL_BYTES]>,
    used: usize,
}

impl NoncePool {
    fn new() -> NoncePool {
        // Empty: the first nonce makes the first bytes.
        NoncePool { stream: None, made: 0, bytes: Box::new([0; POOL_BYTES]), used: POOL_BYTES }
    }

    fn fill(&mut self, out: &mut [u8]) -> Result<(), getrandom::Error> {
        if POOL_BYTES - self.used < out.len() {
            self.refill()?;
        }
        let end = self.used + out.len();
        out.copy_from_slice(&self.bytes[self.used..end]);
        self.used = end;
        Ok(())
    }

    fn refill(&mut self) -> Result<(), getrandom::Error> {
        if self.made >= BYTES_PER_KEY {
            self.stream = None;
        }
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                let mut key = [0u8; 32];
                getrandom::getrandom(&mut key)?;
                // Each key is used once, so a fixed stream nonce is enough.
                let stream = ChaCha20::new(&key.into(), &[0u8; 12].into());
                key.zeroize();
                self.made = 0;
                self.stream.insert(stream)
            }
        };
        // The keystream itself: XOR onto zeros.
        self.bytes.fill(0);
        stream.apply_keystream(&mut self.bytes[..]);
        self.made += POOL_BYTES;
        self.used = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{BYTES_PER_KEY, NoncePool, POOL_BYTES, fill};

    #[test]
    fn no_two_nonces_are_alike_across_refills_and_keys() {
        let mut pool = NoncePool::new();
        let mut seen = std::collections::HashSet::new();
        // Past two key changes, in nonce-sized steps that do not divide the pool.
        let count = 2 * BYTES_PER_KEY / 24 + 100;
        for _ in 0..count {
            let mut nonce = [0u8; 24];
            pool.fill(&mut nonce).unwrap();
            assert!(seen.insert(nonce), "a nonce came twice");
        }
        assert!(pool.made <= BYTES_PER_KEY, "the key was replaced");
    }

    #[test]
    fn a_new_key_starts_a_different_stream() {
        let mut first = NoncePool::new();
        let mut second = NoncePool::new();
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        first.fill(&mut a).unwrap();
        second.fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32], "bytes from the keystream, not the zeroed pool");
    }

    #[test]
    fn threads_draw_from_their_own_pools_and_never_alike() {
        let nonces: Vec<Vec<[u8; 32]>> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..POOL_BYTES)
                            .map(|_| {
                                let mut nonce = [0u8; 32];
                                fill(&mut nonce).unwrap();
                                nonce
                            })
                            .collect()
                    })
                })
                .collect();
            threads.into_iter().map(|thread| thread.join().unwrap()).collect()
        });
        let all: std::collections::HashSet<_> = nonces.iter().flatten().collect();
        assert_eq!(all.len(), 4 * POOL_BYTES);
    }

    #[test]
    fn a_request_larger_than_the_pool_is_served_whole() {
        let mut big = vec![0u8; POOL_BYTES + 1];
        fill(&mut big).unwrap();
        assert!(big.iter().any(|&byte| byte != 0));
    }
}
