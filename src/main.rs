//! The `sops-rs` binary: everything lives in the library's `cli` module.
#![forbid(unsafe_code)]

/// mimalloc rather than the system allocator: far fewer page faults on large
/// files (see the `mimalloc` entry in Cargo.toml). Every plaintext buffer is
/// wiped before it is freed, whichever allocator holds it.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sops_rs::cli::main()
}
