//! Encrypting and decrypting whole files: the data flow of DESIGN.md.
//!
//! These functions take bytes and explicit settings and return bytes; they
//! never read the environment, the config file or the file system (the
//! command line does that and passes the results in), so the library can be
//! embedded and tested without touching the process.
//!
//! Decryption checks the MAC before anything is returned, so a tampered
//! file never yields plaintext unless the caller asked for `ignore_mac`.

mod output;
pub mod rekey;
mod stream;
pub mod update;

pub use output::Output;

use subtle::ConstantTimeEq;

use crate::cipher::{CipherKind, Envelope, ValueCipher};
use crate::error::{Error, MacProblem, Result};
use crate::keys::KeyServices;
use crate::keys::group::{DecryptionOrder, unwrap_groups, wrap_groups};
use crate::metadata::{EmptyList, KeyGroup, Metadata, WRITE_VERSION};
use crate::secret::DataKey;
use crate::store::{self, Format, Parsed, Source, StoreOptions};
use crate::style::StyleMemory;
use crate::timestamp::Timestamp;
use crate::tree::{MapItem, Node, Scalar, Tree, Value, ValueType};
use crate::treepath::{self, Step};
use crate::walk::{self, EnvelopeMemory, MacHex, Selection, SelectionRule, Warning};

/// Everything `encrypt` needs besides the input.
pub struct EncryptRequest {
    pub input_format: Format,
    pub output_format: Format,
    /// Master keys to wrap the data key for (their `enc` is filled in).
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    /// The selection rule; `None` means `unencrypted_suffix: _unencrypted`.
    pub rule: Option<SelectionRule>,
    pub mac_only_encrypted: bool,
    pub cipher: CipherKind,
    pub store_options: StoreOptions,
}

/// Encrypt a plaintext file. Given by value, `input` is parsed without a
/// copy (see [`Source`]).
pub fn encrypt(input: impl Into<Source>, request: EncryptRequest, services: &KeyServices) -> Result<Vec<u8>> {
    encrypt_in_parts(input, request, services).map(Output::into_vec)
}

/// [`encrypt`], with the file in the parts it was made in: a large YAML
/// file is encrypted in pieces side by side, and writing their outputs one
/// after the other spares joining them (see [`Output`]).
pub fn encrypt_in_parts(
    input: impl Into<Source>,
    mut request: EncryptRequest,
    services: &KeyServices,
) -> Result<Output> {
    let input = input.into();
    let data_key = DataKey::generate().map_err(|e| Error::Random(e.to_string()))?;
    // The binary store ignores selection rules and writes none (spec 5.6).
    let binary = request.input_format == Format::Binary;
    let rule = request.rule.clone().unwrap_or_default();
    let sealing = Sealing {
        data_key: &data_key,
        cipher: request.cipher,
        rule: (!binary).then(|| (rule.field_name().to_owned(), rule.value().to_owned())),
        selection: Selection {
            rule,
            mac_only_encrypted: request.mac_only_encrypted,
            encrypt_everything: binary,
        },
        version: WRITE_VERSION.to_owned(),
    };
    let mut key_groups = Some(std::mem::take(&mut request.key_groups));
    if let Some(result) = stream::encrypt_yaml(&input, &request, &sealing, &mut key_groups, services) {
        return result;
    }
    let Parsed { mut tree, layout } = store::parse_plain(request.input_format, input)?;
    if tree.documents.first().is_some_and(|doc| doc.get("sops").is_some()) {
        return Err(Error::AlreadyEncrypted);
    }
    let mut key_groups = key_groups.unwrap_or_default();
    wrap_groups(&mut key_groups, &data_key, request.shamir_threshold, services)?;
    let same_format = layout.format() == request.output_format;
    let styled =
        if same_format { layout.styled_tokens(&tree, &request.store_options) } else { Default::default() };
    let metadata = sealing.seal(&mut tree, styled, key_groups, request.shamir_threshold, None)?;
    let meta_node = metadata.to_node(empty_list_style(request.output_format));
    store::emit(
        request.output_format,
        &tree,
        same_format.then_some(&layout),
        Some(&meta_node),
        &request.store_options,
    )
    .map(Output::from)
}

/// Encrypting a plaintext tree under a data key: what `encrypt` and
/// `rotate` share.
pub(crate) struct Sealing<'a> {
    pub data_key: &'a DataKey,
    pub cipher: CipherKind,
    pub selection: Selection,
    /// The rule as the metadata records it (`None` for binary files).
    pub rule: Option<(String, String)>,
    pub version: String,
}

/// What a re-encryption under the file's own data key can keep: the
/// envelopes of unchanged values, and, when nothing changed at all, the
/// old `lastmodified`, MAC and style memory, so the file's bytes stay the
/// same.
pub(crate) struct Reuse<'a> {
    pub envelopes: &'a mut EnvelopeMemory,
    pub metadata: &'a Metadata,
    /// The MAC of the file's values as decrypted.
    pub plaintext_mac: &'a MacHex,
}

impl Sealing<'_> {
    /// Encrypt every selected value in place, and build the metadata for
    /// `key_groups` (already wrapped): MAC, `lastmodified`, style memory of
    /// the values whose original texts are in `styled` (by position).
    pub fn seal(
        &self,
        tree: &mut Tree,
        styled: crate::secret::TokenTexts,
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        reuse: Option<Reuse<'_>>,
    ) -> Result<Metadata> {
        let cipher = ValueCipher::new(self.data_key);
        let (mac, reuse) = match reuse {
            Some(reuse) => {
                reuse.envelopes.fresh = 0;
                let mac = walk::encrypt_tree(
                    tree,
                    &self.selection,
                    &cipher,
                    self.cipher,
                    Some(&mut *reuse.envelopes),
                )?;
                (mac, Some(reuse))
            }
            None => (walk::encrypt_tree(tree, &self.selection, &cipher, self.cipher, None)?, None),
        };
        let memory = StyleMemory::bind(tree, styled);
        self.metadata(&cipher, mac, memory, key_groups, shamir_threshold, reuse)
    }

    /// The metadata for values already encrypted: `mac` is their
    /// plaintext MAC, `memory` how they were written.
    pub(crate) fn metadata(
        &self,
        cipher: &ValueCipher,
        mac: MacHex,
        memory: StyleMemory,
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        reuse: Option<Reuse<'_>>,
    ) -> Result<Metadata> {
        let style_memory = match &reuse {
            // The same memory as before keeps its old envelope.
            Some(r)
                if r.metadata.style_memory.as_ref().map(|s| StyleMemory::open(s, cipher))
                    == Some(memory.clone())
                    && !memory.is_empty() =>
            {
                r.metadata.style_memory.clone()
            }
            _ => memory.seal(cipher, self.cipher),
        };
        let unchanged = reuse.as_ref().is_some_and(|r| r.envelopes.all_reused() && mac == *r.plaintext_mac);
        let (last_modified, mac_text) = match &reuse {
            Some(r) if unchanged => (r.metadata.last_modified.clone(), r.metadata.mac.clone()),
            _ => {
                let last_modified = Timestamp::now_utc_seconds().to_rfc3339();
                let envelope = cipher
                    .encrypt(self.cipher, mac.0.as_bytes(), last_modified.as_bytes(), ValueType::Str)
                    .map_err(|e| Error::Random(e.to_string()))?;
                (last_modified, envelope.to_text())
            }
        };
        let shamir_threshold = match (key_groups.len(), shamir_threshold) {
            (n, 0) if n >= 2 => n,
            (_, t) => t,
        };
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            last_modified,
            mac: mac_text,
            rule: self.rule.clone(),
            mac_only_encrypted: self.selection.mac_only_encrypted,
            version: self.version.clone(),
            style_memory,
            unknown: reuse.map(|r| r.metadata.unknown.clone()).unwrap_or_default(),
        })
    }
}

/// Everything `decrypt` needs besides the input.
pub struct DecryptRequest {
    pub input_format: Format,
    pub output_format: Format,
    pub ignore_mac: bool,
    /// `--extract`: only this part of the first document.
    pub extract: Option<Vec<Step>>,
    pub decryption_order: DecryptionOrder,
    pub store_options: StoreOptions,
}

/// The plaintext, and what the user should be told about it.
pub struct Decrypted {
    pub output: crate::secret::SecretVec,
    pub warnings: Vec<Warning>,
}

/// An encrypted file opened: its plaintext tree, layout and metadata.
pub struct Opened {
    pub parsed: Parsed,
    pub metadata: Metadata,
    pub data_key: DataKey,
    pub warnings: Vec<Warning>,
    /// How values were written, restored from style memory, by position.
    pub restored_styles: crate::secret::TokenTexts,
    /// The MAC of the decrypted values.
    pub plaintext_mac: MacHex,
    /// Every envelope of the file, when opened to be changed.
    pub envelopes: EnvelopeMemory,
}

/// Why a file is opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// To read it: nothing is kept for a re-encryption.
    Read,
    /// To change it and write it back under the same data key: every
    /// envelope is remembered so unchanged values keep theirs.
    Update,
}

/// Parse an encrypted file, recover its data key, decrypt every value and
/// check the MAC.
pub fn open(
    input: impl Into<Source>,
    format: Format,
    ignore_mac: bool,
    order: &DecryptionOrder,
    services: &KeyServices,
    purpose: Purpose,
) -> Result<Opened> {
    open_knowing(input.into(), format, ignore_mac, order, services, purpose, None)
}

/// [`open`], with the data key already recovered (or not) from the `sops`
/// entry at a known place: used when that is the entry the file holds.
fn open_knowing(
    input: Source,
    format: Format,
    ignore_mac: bool,
    order: &DecryptionOrder,
    services: &KeyServices,
    purpose: Purpose,
    known: Option<stream::KnownKey>,
) -> Result<Opened> {
    let mut parsed = store::parse_encrypted(format, input)?;
    let metadata = take_metadata(&mut parsed.tree)?;
    let data_key = match known {
        Some(known) if parsed.layout.metadata_start() == Some(known.metadata_at) => known.key?,
        _ => unwrap_groups(&metadata.key_groups, metadata.shamir_threshold, services, order)?,
    };
    let cipher = ValueCipher::new(&data_key);
    let selection = metadata.selection()?;
    let mut envelopes = EnvelopeMemory::default();
    let memory = (purpose == Purpose::Update).then_some(&mut envelopes);
    let (mac, warnings) = walk::decrypt_tree(&mut parsed.tree, &selection, &cipher, memory)?;
    if !ignore_mac {
        verify_mac(&metadata, &cipher, &mac)?;
    }
    let restored_styles = match &metadata.style_memory {
        Some(sealed) => StyleMemory::open(sealed, &cipher).texts_by_src(&parsed.tree),
        None => Default::default(),
    };
    parsed.layout.set_overrides(restored_styles.clone());
    Ok(Opened { parsed, metadata, data_key, warnings, restored_styles, plaintext_mac: mac, envelopes })
}

/// Decrypt an encrypted file.
pub fn decrypt(
    input: impl Into<Source>,
    request: DecryptRequest,
    services: &KeyServices,
) -> Result<Decrypted> {
    let input = input.into();
    let known = match stream::decrypt_yaml(&input, &request, services) {
        stream::Streamed::Done(result) => {
            // The one pass only read the input, which is the file as it is
            // on disk: envelopes and what the file leaves in clear.
            input.release_encrypted();
            return result;
        }
        stream::Streamed::Declined(known) => known,
    };
    let opened = open_knowing(
        input,
        request.input_format,
        request.ignore_mac,
        &request.decryption_order,
        services,
        Purpose::Read,
        known,
    )?;
    let Parsed { tree, layout } = &opened.parsed;
    let output = match &request.extract {
        Some(steps) => extract(tree, steps, request.output_format, &request.store_options)?,
        None => {
            let same_format = layout.format() == request.output_format;
            store::emit(
                request.output_format,
                tree,
                same_format.then_some(layout),
                None,
                &request.store_options,
            )?
        }
    };
    Ok(Decrypted { output: crate::secret::SecretVec::new(output), warnings: opened.warnings })
}

/// Remove the `sops` entry from every document and read the first one.
pub fn take_metadata(tree: &mut Tree) -> Result<Metadata> {
    let mut found = None;
    for (index, document) in tree.documents.iter_mut().enumerate() {
        let position =
            document.items.iter().position(|item| matches!(item, MapItem::Pair(p) if p.key.name == "sops"));
        if let Some(position) = position {
            let MapItem::Pair(pair) = document.items.remove(position) else { unreachable!("found a pair") };
            if index == 0 {
                found = Some(pair.value);
            }
        }
    }
    let node = found.ok_or(Error::MetadataNotFound)?;
    Metadata::from_node(&node)
}

fn verify_mac(metadata: &Metadata, cipher: &ValueCipher, computed: &walk::MacHex) -> Result<()> {
    if metadata.mac.is_empty() {
        return Err(Error::Mac(MacProblem::Missing));
    }
    let aad = metadata.mac_aad()?;
    let stored = Envelope::parse(&metadata.mac)
        .ok()
        .and_then(|envelope| cipher.decrypt(&envelope, aad.as_bytes()).ok())
        .ok_or(Error::Mac(MacProblem::Undecryptable))?;
    if !bool::from(stored.as_bytes().ct_eq(computed.0.as_bytes())) {
        return Err(Error::Mac(MacProblem::Mismatch));
    }
    Ok(())
}

/// YAML prints an empty key list in a group as `[]`, JSON as `null`.
pub(crate) fn empty_list_style(format: Format) -> EmptyList {
    match format {
        Format::Yaml => EmptyList::Brackets,
        _ => EmptyList::Null,
    }
}

/// `--extract`: a string leaf is printed raw with no newline; anything else
/// is written by the output store (spec 10.2).
fn extract(tree: &Tree, steps: &[Step], format: Format, options: &StoreOptions) -> Result<Vec<u8>> {
    let document = tree.documents.first().ok_or(Error::MetadataNotFound)?;
    let node = treepath::lookup(&document.items, steps).map_err(Error::PathNotFound)?;
    match &node.value {
        Value::Scalar(Scalar::Str(bytes)) => Ok(bytes.as_bytes().to_vec()),
        Value::Map(items) => {
            let sub = Tree { documents: vec![crate::tree::Document { items: items.clone() }] };
            store::emit(format, &sub, None, None, options)
        }
        _ => store::emit_value(format, &strip_positions(node), options),
    }
}

/// A copy without source positions, for emitting on its own.
fn strip_positions(node: &Node) -> Node {
    let mut copy = node.clone();
    copy.src = crate::tree::Src::NONE;
    copy
}
