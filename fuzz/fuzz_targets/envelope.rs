//! The envelope grammar: parse, to_text, parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sops_rs_fuzz::envelope(data));
