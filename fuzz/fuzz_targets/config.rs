//! The config loader and creation-rule matching.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sops_rs_fuzz::config(data));
