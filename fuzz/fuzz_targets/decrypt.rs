//! Whole-file decryption with the fixtures' age identities (first byte: format).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sops_rs_fuzz::decrypt(data));
