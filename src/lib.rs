//! sops-rs: encrypt the values of structured files, compatible with sops 3.x.
#![forbid(unsafe_code)]

pub mod audit;
pub mod cipher;
pub mod cli;
pub mod config;
pub mod env;
pub mod error;
pub mod exec;
pub mod fsio;
pub mod gofmt;
pub mod keys;
pub mod metadata;
pub mod ops;
pub mod secret;
pub mod shell_words;
pub mod store;
pub mod style;
pub mod timestamp;
pub mod tree;
pub mod treepath;
pub mod walk;
