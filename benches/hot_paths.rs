//! Micro-benchmarks of the paths every encrypt and decrypt goes through:
//! parsing, the per-value walk, the cipher and envelope text, base64, and
//! writing the output. `bench/compare.sh` times whole commands against other
//! tools; these say which stage a change moved.
//!
//!     cargo bench --bench hot_paths             # all
//!     cargo bench --bench hot_paths -- parse    # names containing "parse"
//!
//! Inputs are generated here with a fixed seed (the same shapes as
//! `bench/gen.py`), so the numbers compare across runs and machines.
//! Nothing here touches the network: the age identity is a fixture.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use sops_rs::cipher::{CipherKind, Envelope, ValueCipher};
use sops_rs::env::Environment;
use sops_rs::keys::group::DecryptionOrder;
use sops_rs::keys::{KeyServices, MasterKey, age::AgeKey};
use sops_rs::metadata::EmptyList;
use sops_rs::ops::{self, DecryptRequest, EncryptRequest, Purpose};
use sops_rs::secret::DataKey;
use sops_rs::store::{self, Format, Layout, StoreOptions};
use sops_rs::tree::{Tree, ValueType};
use sops_rs::walk::{self, Selection};

fn main() {
    divan::main();
}

const IDENTITY: &str = include_str!("../fixtures/sops-3.11/keys/age1.txt");

fn services() -> KeyServices {
    KeyServices::new(Environment::empty().with("SOPS_AGE_KEY", IDENTITY))
}

fn recipient() -> String {
    IDENTITY.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().trim().to_owned()
}

// --- inputs ------------------------------------------------------------------

/// A small deterministic generator (64-bit LCG); the benchmarks need
/// repeatable bytes, not good randomness.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A secret-like value: letters and digits, which no format quotes.
    fn token(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..24).map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char).collect()
    }

    fn word(&mut self) -> &'static str {
        const WORDS: &[&str] = &["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa"];
        WORDS[self.below(WORDS.len() as u64) as usize]
    }

    fn sentence(&mut self) -> String {
        let n = 4 + self.below(7);
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

const TINY_YAML: &str = "db_user: app\ndb_password: hunter2-correct-horse\n\
    api_key: 8f14e45fceea167a5a36dedd4bea2543\ndebug: false\nport: 8080\n";

fn flat_yaml(n: usize) -> String {
    let mut rng = Lcg(2);
    (0..n).map(|i| format!("key_{i:06}: {}\n", rng.token())).collect()
}

fn flat_json(n: usize) -> String {
    let mut rng = Lcg(4);
    let body: Vec<String> = (0..n).map(|i| format!("    \"key_{i:06}\": \"{}\"", rng.token())).collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

/// Services with maps, lists of maps and of scalars, numbers, bools and `|`
/// block strings, to about `target` bytes.
fn nested_yaml(target: usize) -> String {
    let mut rng = Lcg(5);
    let mut out = String::with_capacity(target + 1024);
    let mut i = 0;
    while out.len() < target {
        out += &format!(
            "service_{i:06}:\n    name: svc-{i:06}\n    enabled: {}\n    replicas: {}\n    ratio: 0.{}\n    tags:\n",
            rng.below(2) == 0,
            1 + rng.below(12),
            rng.below(1000)
        );
        for _ in 0..1 + rng.below(4) {
            out += &format!("        - {}\n", rng.word());
        }
        out += "    ports:\n";
        for p in 0..1 + rng.below(3) {
            out += &format!("        - name: p{p}\n          port: {}\n", 1024 + rng.below(64000));
        }
        out += "    config: |\n";
        for _ in 0..2 + rng.below(4) {
            out += &format!("        {}\n", rng.sentence());
        }
        out += &format!(
            "    env:\n        LOG_LEVEL: info\n        SECRET: {}\n        TIMEOUT_MS: {}\n",
            rng.token(),
            100 + rng.below(30000)
        );
        i += 1;
    }
    out
}

/// The shapes of `nested_yaml` as TOML tables, arrays of tables and
/// multi-line strings.
fn nested_toml(target: usize) -> String {
    let mut rng = Lcg(8);
    let mut out = String::with_capacity(target + 1024);
    let mut i = 0;
    while out.len() < target {
        let tags: Vec<String> = (0..1 + rng.below(4)).map(|_| format!("\"{}\"", rng.word())).collect();
        out += &format!(
            "[service_{i:06}]\nname = \"svc-{i:06}\"\nenabled = {}\nreplicas = {}\nratio = 0.{}\ntags = [{}]\nconfig = \"\"\"\n",
            rng.below(2) == 0,
            1 + rng.below(12),
            rng.below(1000),
            tags.join(", ")
        );
        for _ in 0..2 + rng.below(4) {
            out += &rng.sentence();
            out.push('\n');
        }
        out += &format!(
            "\"\"\"\n\n[service_{i:06}.env]\nLOG_LEVEL = \"info\"\nSECRET = \"{}\"\nTIMEOUT_MS = {}\n\n",
            rng.token(),
            100 + rng.below(30000)
        );
        for p in 0..1 + rng.below(3) {
            out +=
                &format!("[[service_{i:06}.ports]]\nname = \"p{p}\"\nport = {}\n\n", 1024 + rng.below(64000));
        }
        i += 1;
    }
    out
}

const MB: usize = 1_000_000;

static FLAT_YAML_10K: LazyLock<String> = LazyLock::new(|| flat_yaml(10_000));
static FLAT_JSON_10K: LazyLock<String> = LazyLock::new(|| flat_json(10_000));
static NESTED_YAML_1MB: LazyLock<String> = LazyLock::new(|| nested_yaml(MB));
static NESTED_TOML_1MB: LazyLock<String> = LazyLock::new(|| nested_toml(MB));

fn encrypt_file(input: &str, format: Format) -> Vec<u8> {
    ops::encrypt(input.as_bytes(), encrypt_request(format), &services()).expect("encrypts")
}

fn encrypt_request(format: Format) -> EncryptRequest {
    EncryptRequest {
        input_format: format,
        output_format: format,
        key_groups: vec![vec![MasterKey::Age(AgeKey::new(&recipient()).unwrap())]],
        shamir_threshold: 0,
        rule: None,
        mac_only_encrypted: false,
        // The cipher sops writes, as bench/compare.sh uses.
        cipher: CipherKind::Aes256Gcm,
        store_options: StoreOptions::default(),
    }
}

fn decrypt_request(format: Format) -> DecryptRequest {
    DecryptRequest {
        input_format: format,
        output_format: format,
        ignore_mac: false,
        extract: None,
        decryption_order: DecryptionOrder::default(),
        store_options: StoreOptions::default(),
    }
}

static ENC_TINY_YAML: LazyLock<Vec<u8>> = LazyLock::new(|| encrypt_file(TINY_YAML, Format::Yaml));
static ENC_FLAT_YAML_10K: LazyLock<Vec<u8>> = LazyLock::new(|| encrypt_file(&FLAT_YAML_10K, Format::Yaml));
static ENC_FLAT_JSON_10K: LazyLock<Vec<u8>> = LazyLock::new(|| encrypt_file(&FLAT_JSON_10K, Format::Json));
static ENC_NESTED_YAML_1MB: LazyLock<Vec<u8>> =
    LazyLock::new(|| encrypt_file(&NESTED_YAML_1MB, Format::Yaml));
static ENC_NESTED_TOML_1MB: LazyLock<Vec<u8>> =
    LazyLock::new(|| encrypt_file(&NESTED_TOML_1MB, Format::Toml));

/// An encrypted file taken apart as the decrypt path has it before the walk:
/// the tree of envelopes (metadata removed), its selection, and the cipher
/// of its data key.
struct EncryptedParts {
    tree: Tree,
    selection: Selection,
    cipher: ValueCipher,
}

fn encrypted_parts(encrypted: &[u8], format: Format) -> EncryptedParts {
    let opened = ops::open(encrypted, format, false, &DecryptionOrder::default(), &services(), Purpose::Read)
        .expect("opens");
    let mut parsed = store::parse_encrypted(format, encrypted).expect("parses");
    let metadata = ops::take_metadata(&mut parsed.tree).expect("has metadata");
    EncryptedParts {
        tree: parsed.tree,
        selection: metadata.selection().expect("valid rule"),
        cipher: ValueCipher::new(&opened.data_key),
    }
}

fn count_bytes<'a, 'b>(bencher: Bencher<'a, 'b>, input: &[u8]) -> Bencher<'a, 'b> {
    bencher.counter(BytesCount::of_slice(input))
}

// --- parsing -----------------------------------------------------------------

mod parse {
    use super::*;

    fn bench(bencher: Bencher, format: Format, input: &[u8], encrypted: bool) {
        count_bytes(bencher, input).bench_local(|| {
            let input = black_box(input);
            if encrypted { store::parse_encrypted(format, input) } else { store::parse_plain(format, input) }
                .expect("parses")
        });
    }

    #[divan::bench]
    fn yaml_plain_flat_10k(bencher: Bencher) {
        bench(bencher, Format::Yaml, FLAT_YAML_10K.as_bytes(), false);
    }

    #[divan::bench]
    fn yaml_encrypted_flat_10k(bencher: Bencher) {
        bench(bencher, Format::Yaml, &ENC_FLAT_YAML_10K, true);
    }

    #[divan::bench(sample_count = 30)]
    fn yaml_plain_nested_1mb(bencher: Bencher) {
        bench(bencher, Format::Yaml, NESTED_YAML_1MB.as_bytes(), false);
    }

    #[divan::bench(sample_count = 30)]
    fn yaml_encrypted_nested_1mb(bencher: Bencher) {
        bench(bencher, Format::Yaml, &ENC_NESTED_YAML_1MB, true);
    }

    #[divan::bench]
    fn json_plain_flat_10k(bencher: Bencher) {
        bench(bencher, Format::Json, FLAT_JSON_10K.as_bytes(), false);
    }

    #[divan::bench]
    fn json_encrypted_flat_10k(bencher: Bencher) {
        bench(bencher, Format::Json, &ENC_FLAT_JSON_10K, true);
    }

    #[divan::bench(sample_count = 30)]
    fn toml_plain_nested_1mb(bencher: Bencher) {
        bench(bencher, Format::Toml, NESTED_TOML_1MB.as_bytes(), false);
    }

    #[divan::bench(sample_count = 30)]
    fn toml_encrypted_nested_1mb(bencher: Bencher) {
        bench(bencher, Format::Toml, &ENC_NESTED_TOML_1MB, true);
    }
}

// --- the walk: one cipher call per value, plus the MAC -------------------------

mod walk_tree {
    use super::*;

    /// Encrypt a fresh copy of the plaintext tree per iteration; the copy is
    /// made outside the timing.
    fn encrypt(bencher: Bencher, format: Format, input: &str, kind: CipherKind) {
        let tree = store::parse_plain(format, input.as_bytes()).expect("parses").tree;
        let cipher = ValueCipher::new(&DataKey::generate().expect("random"));
        let selection = Selection::default();
        bencher.with_inputs(|| tree.clone()).bench_local_refs(|tree| {
            walk::encrypt_tree(tree, &selection, &cipher, kind, None).expect("encrypts")
        });
    }

    fn decrypt(bencher: Bencher, format: Format, encrypted: &[u8]) {
        let parts = encrypted_parts(encrypted, format);
        bencher.with_inputs(|| parts.tree.clone()).bench_local_refs(|tree| {
            walk::decrypt_tree(tree, &parts.selection, &parts.cipher, None).expect("decrypts")
        });
    }

    #[divan::bench]
    fn encrypt_aes_gcm_flat_10k(bencher: Bencher) {
        encrypt(
            bencher.counter(ItemsCount::new(10_000usize)),
            Format::Yaml,
            &FLAT_YAML_10K,
            CipherKind::Aes256Gcm,
        );
    }

    #[divan::bench]
    fn encrypt_xchacha_flat_10k(bencher: Bencher) {
        encrypt(
            bencher.counter(ItemsCount::new(10_000usize)),
            Format::Yaml,
            &FLAT_YAML_10K,
            CipherKind::XChaCha20Poly1305,
        );
    }

    #[divan::bench]
    fn decrypt_aes_gcm_flat_10k(bencher: Bencher) {
        decrypt(bencher.counter(ItemsCount::new(10_000usize)), Format::Yaml, &ENC_FLAT_YAML_10K);
    }

    #[divan::bench(sample_count = 30)]
    fn encrypt_aes_gcm_nested_1mb(bencher: Bencher) {
        encrypt(bencher, Format::Yaml, &NESTED_YAML_1MB, CipherKind::Aes256Gcm);
    }

    #[divan::bench(sample_count = 30)]
    fn decrypt_aes_gcm_nested_1mb(bencher: Bencher) {
        decrypt(bencher, Format::Yaml, &ENC_NESTED_YAML_1MB);
    }
}

// --- one value: cipher, envelope text, base64 -----------------------------------

mod value {
    use super::*;

    const PLAINTEXT: &[u8] = b"hunter2-correct-horse-ba";
    const AAD: &[u8] = b"database:password:";

    static CIPHER: LazyLock<ValueCipher> =
        LazyLock::new(|| ValueCipher::new(&DataKey::from_slice(&[7u8; 32]).unwrap()));
    static ENVELOPE: LazyLock<Envelope> = LazyLock::new(|| {
        CIPHER.encrypt(CipherKind::Aes256Gcm, PLAINTEXT, AAD, ValueType::Str).expect("random")
    });
    static ENVELOPE_TEXT: LazyLock<String> = LazyLock::new(|| ENVELOPE.to_text());

    /// With a fresh random nonce from the OS, as every encryption does.
    #[divan::bench]
    fn encrypt_aes_gcm() -> Envelope {
        CIPHER.encrypt(CipherKind::Aes256Gcm, black_box(PLAINTEXT), AAD, ValueType::Str).expect("random")
    }

    #[divan::bench]
    fn encrypt_xchacha() -> Envelope {
        CIPHER
            .encrypt(CipherKind::XChaCha20Poly1305, black_box(PLAINTEXT), AAD, ValueType::Str)
            .expect("random")
    }

    /// The nonce from the OS alone, to see its share of `encrypt_*`.
    #[divan::bench]
    fn os_random_32_bytes() -> [u8; 32] {
        let mut iv = [0u8; 32];
        getrandom::getrandom(&mut iv).expect("random");
        iv
    }

    #[divan::bench]
    fn decrypt_aes_gcm() -> usize {
        CIPHER.decrypt(black_box(&ENVELOPE), AAD).expect("decrypts").len()
    }

    #[divan::bench]
    fn envelope_parse() -> Envelope {
        Envelope::parse(black_box(&ENVELOPE_TEXT)).expect("parses")
    }

    #[divan::bench]
    fn envelope_to_text() -> String {
        black_box(&*ENVELOPE).to_text()
    }

    #[divan::bench]
    fn base64_encode_32_bytes() -> String {
        B64.encode(black_box([0x5au8; 32]))
    }

    #[divan::bench]
    fn base64_decode_44_chars() -> Vec<u8> {
        B64.decode(black_box("WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=")).expect("valid")
    }
}

// --- writing the output --------------------------------------------------------

mod emit {
    use super::*;

    /// The decrypt path's output: the decrypted tree spliced into the
    /// original bytes (no metadata).
    fn decrypted(bencher: Bencher, format: Format, encrypted: &[u8]) {
        let opened =
            ops::open(encrypted, format, false, &DecryptionOrder::default(), &services(), Purpose::Read)
                .expect("opens");
        let (tree, layout) = (&opened.parsed.tree, &opened.parsed.layout);
        let options = StoreOptions::default();
        bencher.bench_local(|| store::emit(format, tree, Some(layout), None, &options).expect("emits"));
    }

    /// The encrypt path's output: the tree of envelopes spliced into the
    /// plaintext's bytes, plus the metadata block.
    fn encrypted(bencher: Bencher, format: Format, plain: &str, spliced: bool) {
        let mut parsed = store::parse_plain(format, plain.as_bytes()).expect("parses");
        let cipher = ValueCipher::new(&DataKey::generate().expect("random"));
        walk::encrypt_tree(&mut parsed.tree, &Selection::default(), &cipher, CipherKind::Aes256Gcm, None)
            .expect("encrypts");
        // The metadata block of a real file of this format.
        let mut reparsed = store::parse_encrypted(format, encrypt_file(plain, format)).expect("parses");
        let metadata = ops::take_metadata(&mut reparsed.tree).expect("metadata");
        let empty_list = if format == Format::Yaml { EmptyList::Brackets } else { EmptyList::Null };
        let meta_node = metadata.to_node(empty_list);
        let layout: Option<&Layout> = spliced.then_some(&parsed.layout);
        let options = StoreOptions::default();
        bencher.bench_local(|| {
            store::emit(format, &parsed.tree, layout, Some(&meta_node), &options).expect("emits")
        });
    }

    #[divan::bench]
    fn yaml_decrypted_spliced_flat_10k(bencher: Bencher) {
        decrypted(bencher, Format::Yaml, &ENC_FLAT_YAML_10K);
    }

    #[divan::bench]
    fn yaml_encrypted_spliced_flat_10k(bencher: Bencher) {
        encrypted(bencher, Format::Yaml, &FLAT_YAML_10K, true);
    }

    #[divan::bench]
    fn yaml_encrypted_fresh_flat_10k(bencher: Bencher) {
        encrypted(bencher, Format::Yaml, &FLAT_YAML_10K, false);
    }

    #[divan::bench]
    fn json_decrypted_spliced_flat_10k(bencher: Bencher) {
        decrypted(bencher, Format::Json, &ENC_FLAT_JSON_10K);
    }

    #[divan::bench]
    fn json_encrypted_spliced_flat_10k(bencher: Bencher) {
        encrypted(bencher, Format::Json, &FLAT_JSON_10K, true);
    }

    #[divan::bench(sample_count = 30)]
    fn yaml_decrypted_spliced_nested_1mb(bencher: Bencher) {
        decrypted(bencher, Format::Yaml, &ENC_NESTED_YAML_1MB);
    }

    #[divan::bench(sample_count = 30)]
    fn toml_decrypted_spliced_nested_1mb(bencher: Bencher) {
        decrypted(bencher, Format::Toml, &ENC_NESTED_TOML_1MB);
    }
}

// --- whole operations, in memory (no process start, no file I/O) -------------

mod whole {
    use super::*;

    fn encrypt(bencher: Bencher, format: Format, input: &str) {
        let services = services();
        count_bytes(bencher, input.as_bytes()).bench_local(|| {
            ops::encrypt(black_box(input.as_bytes()), encrypt_request(format), &services).expect("encrypts")
        });
    }

    fn decrypt(bencher: Bencher, format: Format, encrypted: &[u8]) {
        let services = services();
        count_bytes(bencher, encrypted).bench_local(|| {
            ops::decrypt(black_box(encrypted), decrypt_request(format), &services)
                .expect("decrypts")
                .output
                .len()
        });
    }

    #[divan::bench]
    fn encrypt_yaml_tiny(bencher: Bencher) {
        encrypt(bencher, Format::Yaml, TINY_YAML);
    }

    #[divan::bench]
    fn decrypt_yaml_tiny(bencher: Bencher) {
        decrypt(bencher, Format::Yaml, &ENC_TINY_YAML);
    }

    #[divan::bench]
    fn encrypt_yaml_flat_10k(bencher: Bencher) {
        encrypt(bencher, Format::Yaml, &FLAT_YAML_10K);
    }

    #[divan::bench]
    fn decrypt_yaml_flat_10k(bencher: Bencher) {
        decrypt(bencher, Format::Yaml, &ENC_FLAT_YAML_10K);
    }

    #[divan::bench]
    fn encrypt_json_flat_10k(bencher: Bencher) {
        encrypt(bencher, Format::Json, &FLAT_JSON_10K);
    }

    #[divan::bench]
    fn decrypt_json_flat_10k(bencher: Bencher) {
        decrypt(bencher, Format::Json, &ENC_FLAT_JSON_10K);
    }

    #[divan::bench(sample_count = 20)]
    fn encrypt_yaml_nested_1mb(bencher: Bencher) {
        encrypt(bencher, Format::Yaml, &NESTED_YAML_1MB);
    }

    #[divan::bench(sample_count = 20)]
    fn decrypt_yaml_nested_1mb(bencher: Bencher) {
        decrypt(bencher, Format::Yaml, &ENC_NESTED_YAML_1MB);
    }

    #[divan::bench(sample_count = 20)]
    fn decrypt_toml_nested_1mb(bencher: Bencher) {
        decrypt(bencher, Format::Toml, &ENC_NESTED_TOML_1MB);
    }
}
