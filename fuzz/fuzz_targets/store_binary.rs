//! The binary store: parse as plaintext and as an encrypted file, and check
//! that writing an unchanged tree back gives what the store promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sops_rs::store::Format;

fuzz_target!(|data: &[u8]| sops_rs_fuzz::store(Format::Binary, data));
