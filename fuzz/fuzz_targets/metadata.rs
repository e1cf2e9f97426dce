//! Metadata loading from YAML, JSON and the flattened dotenv/INI form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sops_rs_fuzz::metadata(data));
