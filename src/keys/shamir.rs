//! Shamir secret sharing over GF(2^8), byte-compatible with sops (spec 7).
//!
//! With two or more key groups the data key is split so that any
//! `threshold` groups can rebuild it. Each byte of the secret is the
//! constant term of its own random polynomial; a share is the polynomials'
//! values at one x-coordinate followed by that coordinate (33 bytes for a
//! 32-byte key), with x = group index + 1 as sops 3.10+ writes it. Reading
//! takes x from the last byte, since older sops chose it at random.
//!
//! The field uses the AES polynomial x^8 + x^4 + x^3 + x + 1. Every
//! operation on secret bytes is constant time: multiplication walks all
//! eight bits with masks instead of branching, and the inverse is a fixed
//! chain of multiplications (a^254) instead of a table lookup indexed by a
//! secret.

/// Multiply in GF(2^8) without branches or tables.
fn mul(a: u8, b: u8) -> u8 {
    let mut a = a;
    let mut b = b;
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1B & carry);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse, a^254 (0 maps to 0).
fn inv(a: u8) -> u8 {
    let a2 = mul(a, a);
    let a4 = mul(a2, a2);
    let a8 = mul(a4, a4);
    let a16 = mul(a8, a8);
    let a32 = mul(a16, a16);
    let a64 = mul(a32, a32);
    let a128 = mul(a64, a64);
    // 254 = 128 + 64 + 32 + 16 + 8 + 4 + 2
    mul(mul(mul(mul(mul(mul(a128, a64), a32), a16), a8), a4), a2)
}

/// Why shares could not be made or combined. No share bytes are included.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShamirError {
    #[error("a Shamir threshold must be at least 2 (got {0})")]
    ThresholdTooSmall(usize),
    #[error("a Shamir threshold of {threshold} needs at least that many key groups, but there are {parts}")]
    TooFewParts { threshold: usize, parts: usize },
    #[error("Shamir sharing supports at most 255 key groups (got {0})")]
    TooManyParts(usize),
    #[error("at least two shares are needed to combine")]
    NotEnoughShares,
    #[error("the shares have different lengths")]
    UnequalShares,
    #[error("a share is shorter than two bytes")]
    ShareTooShort,
    #[error("two shares have the same x-coordinate")]
    DuplicateCoordinate,
    #[error("the operating system's random source failed")]
    Random,
}

/// Split `secret` into `parts` shares, any `threshold` of which rebuild it.
/// Share i has x-coordinate i + 1.
pub fn split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
) -> Result<Vec<crate::secret::SecretVec>, ShamirError> {
    if threshold < 2 {
        return Err(ShamirError::ThresholdTooSmall(threshold));
    }
    if parts < threshold {
        return Err(ShamirError::TooFewParts { threshold, parts });
    }
    if parts > 255 {
        return Err(ShamirError::TooManyParts(parts));
    }
    let mut shares: Vec<crate::secret::SecretVec> =
        (0..parts).map(|_| crate::secret::SecretVec::new(Vec::with_capacity(secret.len() + 1))).collect();
    let mut coefficients = crate::secret::SecretVec::new(vec![0u8; threshold - 1]);
    for &byte in secret {
        getrandom::getrandom(&mut coefficients).map_err(|_| ShamirError::Random)?;
        for (index, share) in shares.iter_mut().enumerate() {
            let x = (index + 1) as u8;
            // Horner's rule from the highest coefficient down to the secret.
            let mut y = 0u8;
            for &c in coefficients.iter().rev() {
                y = mul(y, x) ^ c;
            }
            y = mul(y, x) ^ byte;
            share.push(y);
        }
    }
    for (index, share) in shares.iter_mut().enumerate() {
        share.push((index + 1) as u8);
    }
    Ok(shares)
}

/// Rebuild the secret from shares (Lagrange interpolation at x = 0). Any
/// number of shares at or above the threshold gives the same result.
pub fn combine(shares: &[&[u8]]) -> Result<crate::secret::SecretVec, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::NotEnoughShares);
    }
    let len = shares[0].len();
    if len < 2 {
        return Err(ShamirError::ShareTooShort);
    }
    if shares.iter().any(|s| s.len() != len) {
        return Err(ShamirError::UnequalShares);
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, a) in xs.iter().enumerate() {
        if xs[i + 1..].contains(a) {
            return Err(ShamirError::DuplicateCoordinate);
        }
    }
    // The Lagrange basis at 0 depends only on the (public) coordinates.
    let basis: Vec<u8> = (0..xs.len())
        .map(|i| {
            let mut numerator = 1u8;
            let mut denominator = 1u8;
            for (m, &xm) in xs.iter().enumerate() {
                if m != i {
                    numerator = mul(numerator, xm);
                    denominator = mul(denominator, xs[i] ^ xm);
                }
            }
            mul(numerator, inv(denominator))
        })
        .collect();
    let mut secret = crate::secret::SecretVec::new(vec![0u8; len - 1]);
    for (j, out) in secret.iter_mut().enumerate() {
        let mut value = 0u8;
        for (share, &b) in shares.iter().zip(&basis) {
            value ^= mul(share[j], b);
        }
        *out = value;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_matches_spec() {
        assert_eq!(mul(0x57, 0x83), 0xC1);
        assert_eq!(inv(0x02), 0x8D);
        assert_eq!(inv(0x03), 0xF6);
        assert_eq!(inv(0), 0);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "inverse of {a:#x}");
        }
    }

    /// Spec 7.4's worked example: secret 0x42, c1 = 0x07.
    #[test]
    fn combines_spec_example() {
        assert_eq!(&*combine(&[&[0x45, 0x01], &[0x4B, 0x03]]).unwrap(), &[0x42]);
        assert_eq!(&*combine(&[&[0x45, 0x01], &[0x4C, 0x02], &[0x4B, 0x03]]).unwrap(), &[0x42]);
        // t = 3 with coefficients (0x07, 0x11).
        assert_eq!(&*combine(&[&[0x54, 0x01], &[0x08, 0x02], &[0x1E, 0x03]]).unwrap(), &[0x42]);
    }

    #[test]
    fn any_threshold_subset_rebuilds_the_secret() {
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 5, 3).unwrap();
        assert!(shares.iter().all(|s| s.len() == 33));
        assert_eq!(shares.iter().map(|s| s[32]).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        for subset in [[0, 1, 2], [1, 3, 4], [0, 2, 4], [4, 3, 0]] {
            let picked: Vec<&[u8]> = subset.iter().map(|&i| shares[i].as_slice()).collect();
            assert_eq!(&*combine(&picked).unwrap(), &secret[..]);
        }
        let all: Vec<&[u8]> = shares.iter().map(|s| s.as_slice()).collect();
        assert_eq!(&*combine(&all).unwrap(), &secret[..]);
        // Below the threshold the result is not the secret.
        assert_ne!(&*combine(&all[..2]).unwrap(), &secret[..]);
    }

    proptest::proptest! {
        /// Any `threshold` of `n` shares rebuild the secret; one fewer
        /// (almost never) does.
        #[test]
        fn thresholds_hold(secret in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..40),
                           n in 2usize..8, t_offset in 0usize..6, pick in proptest::prelude::any::<u64>()) {
            let t = 2 + t_offset % (n - 1);
            let shares = split(&secret, n, t).unwrap();
            // A pseudo-random subset of exactly t shares.
            let mut order: Vec<usize> = (0..n).collect();
            let mut state = pick;
            for i in (1..n).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (state >> 33) as usize % (i + 1));
            }
            let enough: Vec<&[u8]> = order[..t].iter().map(|&i| shares[i].as_slice()).collect();
            proptest::prop_assert_eq!(&*combine(&enough).unwrap(), &secret[..]);
            if t > 2 && secret.len() >= 8 {
                let too_few: Vec<&[u8]> = order[..t - 1].iter().map(|&i| shares[i].as_slice()).collect();
                proptest::prop_assert_ne!(&*combine(&too_few).unwrap(), &secret[..]);
            }
        }
    }

    #[test]
    fn rejects_bad_parameters_and_shares() {
        assert_eq!(split(b"k", 3, 1), Err(ShamirError::ThresholdTooSmall(1)));
        assert_eq!(split(b"k", 2, 3), Err(ShamirError::TooFewParts { threshold: 3, parts: 2 }));
        assert_eq!(split(b"k", 256, 2), Err(ShamirError::TooManyParts(256)));
        assert_eq!(combine(&[&[1, 1]]), Err(ShamirError::NotEnoughShares));
        assert_eq!(combine(&[&[1, 1], &[1, 2, 3]]), Err(ShamirError::UnequalShares));
        assert_eq!(combine(&[&[1, 1], &[2, 1]]), Err(ShamirError::DuplicateCoordinate));
        assert_eq!(combine(&[&[1], &[2]]), Err(ShamirError::ShareTooShort));
    }
}
