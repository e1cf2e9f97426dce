//! The walk: which leaves are encrypted, with what additional data, and the
//! MAC over all of them.
//!
//! sops defines three things by one depth-first, pre-order traversal of the
//! tree (spec 3.2): the additional data of every value (its key path joined
//! with `:` plus a trailing `:`, list indices left out), whether a value is
//! encrypted (a selection rule applied to every ancestor key, or to the
//! comments above it), and the MAC (SHA-512 over the canonical plaintext of
//! the values in walk order). All three live here, in one traversal that
//! keeps its state incrementally: the additional data is one growing string,
//! and the selection rules keep counters of matching ancestors and comments,
//! so each leaf costs O(1) bookkeeping however deep it sits.
//!
//! Encrypting and decrypting are the same walk with a different action at
//! the leaves; the MAC is fed from the plaintext side in both directions.

use std::collections::VecDeque;

use foldhash::HashMap;

use regex::Regex;
use sha2::{Digest, Sha256, Sha512};

use crate::cipher::{CipherKind, Envelope, EnvelopeError, ValueCipher, looks_encrypted};
use crate::error::{Error, Result};
use crate::secret::{SecretBuf, SecretBytes};
use crate::tree::{Comment, MapItem, Node, Scalar, SeqItem, Tree, Value, ValueType};

/// The deepest nesting the walk follows. Parsers enforce a lower limit; this
/// guards the recursion against trees built by other means.
pub const MAX_DEPTH: usize = 1000;

/// One of sops's six selection rules (spec 3.4).
#[derive(Clone, Debug)]
pub enum SelectionRule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

impl SelectionRule {
    /// The metadata field name of the rule.
    pub fn field_name(&self) -> &'static str {
        match self {
            SelectionRule::UnencryptedSuffix(_) => "unencrypted_suffix",
            SelectionRule::EncryptedSuffix(_) => "encrypted_suffix",
            SelectionRule::UnencryptedRegex(_) => "unencrypted_regex",
            SelectionRule::EncryptedRegex(_) => "encrypted_regex",
            SelectionRule::UnencryptedCommentRegex(_) => "unencrypted_comment_regex",
            SelectionRule::EncryptedCommentRegex(_) => "encrypted_comment_regex",
        }
    }

    /// The rule's suffix or pattern as written.
    pub fn value(&self) -> &str {
        match self {
            SelectionRule::UnencryptedSuffix(s) | SelectionRule::EncryptedSuffix(s) => s,
            SelectionRule::UnencryptedRegex(r)
            | SelectionRule::EncryptedRegex(r)
            | SelectionRule::UnencryptedCommentRegex(r)
            | SelectionRule::EncryptedCommentRegex(r) => r.as_str(),
        }
    }

    /// Build a rule from its metadata field name and value.
    pub fn from_field(field: &str, value: &str) -> std::result::Result<SelectionRule, String> {
        let regex =
            || Regex::new(value).map_err(|e| format!("invalid {field} {value:?}: {}", regex_problem(&e)));
        Ok(match field {
            "unencrypted_suffix" => SelectionRule::UnencryptedSuffix(value.to_owned()),
            "encrypted_suffix" => SelectionRule::EncryptedSuffix(value.to_owned()),
            "unencrypted_regex" => SelectionRule::UnencryptedRegex(regex()?),
            "encrypted_regex" => SelectionRule::EncryptedRegex(regex()?),
            "unencrypted_comment_regex" => SelectionRule::UnencryptedCommentRegex(regex()?),
            "encrypted_comment_regex" => SelectionRule::EncryptedCommentRegex(regex()?),
            _ => return Err(format!("unknown selection rule {field}")),
        })
    }

    pub const FIELDS: [&'static str; 6] = [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ];
}

impl Default for SelectionRule {
    /// A file without a rule is read as `unencrypted_suffix: _unencrypted`.
    fn default() -> Self {
        SelectionRule::UnencryptedSuffix("_unencrypted".to_owned())
    }
}

/// A selection rule plus the MAC mode, which together decide what the walk
/// does at each leaf.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub rule: SelectionRule,
    /// Only encrypted values enter the MAC, after a fixed prefix.
    pub mac_only_encrypted: bool,
    /// The binary store ignores every rule: its one value is always encrypted.
    pub encrypt_everything: bool,
}

/// The MAC as sops stores it: 128 uppercase hex digits of a SHA-512.
#[derive(Clone, PartialEq, Eq)]
pub struct MacHex(pub String);

impl std::fmt::Debug for MacHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacHex(..)")
    }
}

/// Something the user should know that did not stop the walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning(pub String);

/// The envelopes of a decrypted file, by what they hold (the value's path,
/// type and plaintext, as a SHA-256 digest so no plaintext is kept).
/// Re-encrypting under the same data key takes an unchanged value's old
/// envelope instead of making a new one, so an edit changes only the lines
/// of the values that changed (DESIGN.md, "Stable ciphertexts"). Equal
/// values at one path (list items) reuse their envelopes in order. A nonce
/// is never reused with a different plaintext: a reused envelope holds the
/// very same plaintext under the same key and additional data.
#[derive(Default)]
pub struct EnvelopeMemory {
    by_content: HashMap<[u8; 32], VecDeque<String>>,
    /// Envelopes taken from memory by the last encryption.
    pub reused: usize,
    /// Envelopes made fresh by the last encryption.
    pub fresh: usize,
}

impl EnvelopeMemory {
    fn content_key(aad: &[u8], value_type: ValueType, plaintext: &[u8]) -> [u8; 32] {
        let mut hash = Sha256::new();
        for field in [aad, value_type.as_str().as_bytes(), plaintext] {
            hash.update((field.len() as u64).to_be_bytes());
            hash.update(field);
        }
        hash.finalize().into()
    }

    fn remember(&mut self, aad: &[u8], value_type: ValueType, plaintext: &[u8], envelope: &str) {
        let key = Self::content_key(aad, value_type, plaintext);
        self.by_content.entry(key).or_default().push_back(envelope.to_owned());
    }

    fn take(&mut self, aad: &[u8], value_type: ValueType, plaintext: &[u8]) -> Option<String> {
        let key = Self::content_key(aad, value_type, plaintext);
        let envelope = self.by_content.get_mut(&key)?.pop_front();
        if envelope.is_some() {
            self.reused += 1;
        }
        envelope
    }

    /// Nothing was encrypted afresh since the counters were reset.
    pub fn all_reused(&self) -> bool {
        self.fresh == 0
    }
}

/// What the MAC is fed.
enum MacInput {
    /// Hashed as it comes.
    Hashing(Sha512),
    /// Kept to be hashed later (what is left of a stream once it ends).
    Keeping(SecretBuf),
    /// Sent on in chunks as it comes: the walk of a later piece of a file
    /// read in pieces side by side (`LeafWalk::later_piece`), whose values
    /// the MAC takes only after those of the pieces before it. The first
    /// piece's walk hashes the chunks as they arrive once it has read its
    /// own piece, so hashing a later piece overlaps reading it; kept whole
    /// and hashed after the join, it was 7% of decrypting a 1 MB file, all
    /// of it on one thread while the other had nothing left to do.
    Sending { chunk: SecretBuf, to: std::sync::mpsc::Sender<SecretBuf> },
}

/// How much MAC input a later piece gathers before sending it on: large
/// enough that sending is rare, small enough that the last chunk, hashed
/// after the piece ends, is short. Tests and fuzzing, whose files are
/// small, send every few values, so that many chunks are sent.
const MAC_CHUNK: usize = if cfg!(any(test, fuzzing)) { 64 } else { 64 << 10 };

/// A chunk's buffer: a little over a chunk, so that the value that fills
/// it rarely makes it grow.
const MAC_CHUNK_CAPACITY: usize = MAC_CHUNK + 4096;

impl MacInput {
    #[inline]
    fn update(&mut self, bytes: &[u8]) {
        match self {
            MacInput::Hashing(hash) => hash.update(bytes),
            MacInput::Keeping(kept) => kept.extend(bytes),
            MacInput::Sending { chunk, to } => {
                chunk.extend(bytes);
                if chunk.as_slice().len() >= MAC_CHUNK {
                    let full = std::mem::replace(chunk, SecretBuf::with_capacity(MAC_CHUNK_CAPACITY));
                    // No receiver: the first piece's walk gave up, and this
                    // MAC is never finished. The chunk is wiped as it drops.
                    let _ = to.send(full);
                }
            }
        }
    }

    /// A stream's end: the last chunk sent and the sender dropped, which
    /// ends the receiver's iteration.
    fn end_stream(&mut self) {
        if let MacInput::Sending { chunk, to } = self {
            let _ = to.send(std::mem::replace(chunk, SecretBuf::with_capacity(0)));
            *self = MacInput::Keeping(SecretBuf::with_capacity(0));
        }
    }
}

/// The additional data of a value at `path` (`a:b:`); an empty path is
/// sealed with `:`.
fn aad_of(path: &str) -> &[u8] {
    if path.is_empty() { b":" } else { path.as_bytes() }
}

/// What the walk does at each leaf.
#[derive(Clone, Copy)]
enum Action<'a> {
    Encrypt {
        cipher: &'a ValueCipher,
        kind: CipherKind,
    },
    Decrypt {
        cipher: &'a ValueCipher,
    },
    /// Only hash (the tree holds plaintext).
    Hash,
}

struct Walker<'a> {
    selection: &'a Selection,
    action: Action<'a>,
    /// Envelopes to reuse when encrypting, or to record when decrypting.
    memory: Option<&'a mut EnvelopeMemory>,
    mac: MacInput,
    /// Additional data of the current container: `a:b:` (empty at the top).
    aad: String,
    /// Length of `aad` before each component was pushed.
    aad_marks: Vec<usize>,
    /// How many path components match a suffix/regex rule.
    matching_components: usize,
    /// Whether each pushed component matched.
    component_matched: Vec<bool>,
    /// Matching comments seen at each level since its last non-comment
    /// entry; their sum is the active comment stack's match count.
    level_comment_matches: Vec<usize>,
    active_comment_matches: usize,
    warnings: Vec<Warning>,
    depth: usize,
}

impl<'a> Walker<'a> {
    fn new(
        selection: &'a Selection,
        action: Action<'a>,
        memory: Option<&'a mut EnvelopeMemory>,
    ) -> Walker<'a> {
        let mut mac = Sha512::new();
        if selection.mac_only_encrypted {
            mac.update(Sha256::digest(b"sops"));
        }
        let mac = MacInput::Hashing(mac);
        Walker {
            selection,
            action,
            memory,
            mac,
            aad: String::with_capacity(128),
            aad_marks: Vec::new(),
            matching_components: 0,
            component_matched: Vec::new(),
            level_comment_matches: vec![0],
            active_comment_matches: 0,
            warnings: Vec::new(),
            depth: 0,
        }
    }

    fn component_matches(&self, key: &str) -> bool {
        match &self.selection.rule {
            SelectionRule::UnencryptedSuffix(s) | SelectionRule::EncryptedSuffix(s) => {
                key.ends_with(s.as_str())
            }
            SelectionRule::UnencryptedRegex(r) | SelectionRule::EncryptedRegex(r) => r.is_match(key),
            _ => false,
        }
    }

    fn comment_matches(&self, text: &SecretBytes) -> bool {
        let regex = match &self.selection.rule {
            SelectionRule::UnencryptedCommentRegex(r) | SelectionRule::EncryptedCommentRegex(r) => r,
            _ => return false,
        };
        text.as_str().is_some_and(|t| regex.is_match(t))
    }

    /// The additional data at the current path. The empty path (a top-level
    /// comment) is `:`, the join of no components plus the trailing colon.
    fn current_aad(&self) -> &[u8] {
        aad_of(&self.aad)
    }

    fn push_key(&mut self, key: &str) {
        self.aad_marks.push(self.aad.len());
        self.aad.push_str(key);
        self.aad.push(':');
        let matched = self.component_matches(key);
        self.matching_components += usize::from(matched);
        self.component_matched.push(matched);
    }

    fn pop_key(&mut self) {
        let mark = self.aad_marks.pop().expect("pop_key after push_key");
        self.aad.truncate(mark);
        if self.component_matched.pop() == Some(true) {
            self.matching_components -= 1;
        }
    }

    fn enter_level(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::LimitExceeded {
                format: "tree",
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        self.level_comment_matches.push(0);
        Ok(())
    }

    fn leave_level(&mut self) {
        self.depth -= 1;
        let count = self.level_comment_matches.pop().unwrap_or(0);
        self.active_comment_matches -= count;
    }

    /// A non-comment entry at the current level ends that level's comment
    /// list.
    fn clear_level_comments(&mut self) {
        if let Some(count) = self.level_comment_matches.last_mut() {
            self.active_comment_matches -= *count;
            *count = 0;
        }
    }

    /// Is a leaf at the current path encrypted? `own_comment_match` is set
    /// when the leaf is a comment that itself matched the comment regex.
    fn is_encrypted(&self, own_comment_match: bool) -> bool {
        if self.selection.encrypt_everything {
            return true;
        }
        let any_component = self.matching_components > 0;
        match &self.selection.rule {
            SelectionRule::UnencryptedSuffix(_) | SelectionRule::UnencryptedRegex(_) => !any_component,
            SelectionRule::EncryptedSuffix(_) | SelectionRule::EncryptedRegex(_) => any_component,
            SelectionRule::UnencryptedCommentRegex(_) => self.active_comment_matches == 0,
            SelectionRule::EncryptedCommentRegex(_) => {
                self.active_comment_matches - usize::from(own_comment_match) > 0
            }
        }
    }

    fn walk_tree(&mut self, tree: &mut Tree) -> Result<()> {
        for document in &mut tree.documents {
            self.walk_map(&mut document.items)?;
            // Each document starts with a fresh comment stack.
            self.clear_level_comments();
        }
        Ok(())
    }

    fn walk_map(&mut self, items: &mut [MapItem]) -> Result<()> {
        for item in items {
            match item {
                MapItem::Comment(comment) => self.visit_comment(comment)?,
                MapItem::Pair(pair) => {
                    if !pair.key.is_string && matches!(self.action, Action::Encrypt { .. }) {
                        return Err(Error::EncryptTree(format!(
                            "Tree contains a non-string key ({}) at {}; sops can only encrypt string keys",
                            pair.key.name,
                            self.path_for_message()
                        )));
                    }
                    self.push_key(&pair.key.name);
                    let result = self.visit_node(&mut pair.value);
                    self.pop_key();
                    result?;
                    self.clear_level_comments();
                }
            }
        }
        Ok(())
    }

    fn walk_seq(&mut self, items: &mut [SeqItem]) -> Result<()> {
        for item in items.iter_mut() {
            match item {
                SeqItem::Comment(comment) => self.visit_comment(comment)?,
                SeqItem::Value(node) => {
                    if let Some(comment) = self.seq_comment_envelope(node)? {
                        *item = SeqItem::Comment(comment);
                        continue;
                    }
                    self.visit_node(node)?;
                    self.clear_level_comments();
                }
            }
        }
        Ok(())
    }

    /// sops writes an encrypted comment inside a sequence as a sequence
    /// element (spec 3.5.3). When decrypting, such an element turns back into
    /// a comment.
    fn seq_comment_envelope(&mut self, node: &Node) -> Result<Option<Comment>> {
        let Action::Decrypt { cipher } = self.action else {
            return Ok(None);
        };
        let Value::Scalar(Scalar::Str(text)) = &node.value else {
            return Ok(None);
        };
        let Some(text) = text.as_str() else {
            return Ok(None);
        };
        if !text.ends_with(",type:comment]") || !looks_encrypted(text) || !self.is_encrypted(false) {
            return Ok(None);
        }
        let envelope = Envelope::parse(text).map_err(|reason| self.decrypt_error(reason))?;
        let plaintext =
            cipher.decrypt(&envelope, self.current_aad()).map_err(|reason| self.decrypt_error(reason))?;
        Ok(Some(Comment { text: plaintext, src: node.src, changed: true }))
    }

    fn visit_node(&mut self, node: &mut Node) -> Result<()> {
        match &mut node.value {
            Value::Map(items) => {
                self.enter_level()?;
                let result = self.walk_map(items);
                self.leave_level();
                result
            }
            Value::Seq(items) => {
                self.enter_level()?;
                let result = self.walk_seq(items);
                self.leave_level();
                result
            }
            Value::Scalar(_) => self.visit_scalar(node),
        }
    }

    fn visit_scalar(&mut self, node: &mut Node) -> Result<()> {
        let Value::Scalar(scalar) = &node.value else { unreachable!("visit_scalar on a collection") };
        if scalar.is_null() {
            return Ok(());
        }
        let encrypted = self.is_encrypted(false);
        match self.action {
            Action::Hash => self.hash(scalar, encrypted),
            Action::Encrypt { cipher, kind } => {
                if !encrypted || matches!(scalar, Scalar::Str(s) if s.is_empty()) {
                    self.hash(scalar, encrypted);
                    return Ok(());
                }
                let value_type = scalar.value_type().expect("null was skipped above");
                // The plaintext is spelled once, for the MAC and the
                // envelope both: a string is its own (not copied), and
                // other values but big integers hash their plaintext.
                // Spelling each twice (a float's go-yaml form costs about
                // 900 instructions) and copying each string was 3% of
                // encrypting.
                let text = match scalar {
                    Scalar::Str(bytes) => {
                        self.hash(scalar, true);
                        self.envelope_for(cipher, kind, bytes, value_type)?
                    }
                    Scalar::BigInt(_) => {
                        self.hash(scalar, true);
                        self.envelope_for(cipher, kind, &scalar.plaintext(), value_type)?
                    }
                    other => {
                        let plaintext = other.plaintext();
                        debug_assert!(plaintext == other.mac_bytes(), "plaintext is the MAC input");
                        self.mac.update(plaintext.as_bytes());
                        self.envelope_for(cipher, kind, &plaintext, value_type)?
                    }
                };
                node.value = Value::Scalar(Scalar::Str(text));
                node.changed = true;
            }
            Action::Decrypt { cipher } => {
                if !encrypted {
                    self.hash(scalar, false);
                    return Ok(());
                }
                let text = match scalar {
                    Scalar::Str(bytes) if bytes.is_empty() => return Ok(()),
                    Scalar::Str(bytes) => bytes,
                    other => {
                        return Err(Error::NotEncrypted {
                            path: self.path_for_message(),
                            found: scalar_kind(other),
                        });
                    }
                };
                if self.memory.is_none() {
                    // Nothing keeps the envelope: decrypt it where it lies.
                    let Value::Scalar(Scalar::Str(bytes)) = &mut node.value else {
                        unreachable!("matched above")
                    };
                    let text = std::mem::take(bytes);
                    let (value_type, plaintext) = cipher
                        .decrypt_value_in_place(text, self.aad.as_bytes())
                        .map_err(|reason| self.decrypt_error(reason))?;
                    return self.decrypted(node, value_type, plaintext);
                }
                let text = text.as_str().unwrap_or("");
                let envelope = Envelope::parse(text).map_err(|reason| self.decrypt_error(reason))?;
                if envelope.value_type == ValueType::Comment {
                    return Err(self.decrypt_error(EnvelopeError::BadPlaintext("value (it is a comment)")));
                }
                let value_type = envelope.value_type;
                let plaintext = cipher
                    .decrypt_owned(envelope, self.aad.as_bytes())
                    .map_err(|reason| self.decrypt_error(reason))?;
                if let Some(memory) = self.memory.as_deref_mut() {
                    memory.remember(self.aad.as_bytes(), value_type, plaintext.as_bytes(), text);
                }
                return self.decrypted(node, value_type, plaintext);
            }
        }
        Ok(())
    }

    /// A value decrypted: typed, hashed, and put in place of its envelope.
    fn decrypted(&mut self, node: &mut Node, value_type: ValueType, plaintext: SecretBytes) -> Result<()> {
        let value = Scalar::from_plaintext(value_type, plaintext)
            .map_err(|bad| self.decrypt_error(EnvelopeError::BadPlaintext(bad.0.as_str())))?;
        self.hash(&value, true);
        node.value = Value::Scalar(value);
        node.changed = true;
        Ok(())
    }

    /// The envelope for a plaintext at the current path: the remembered one
    /// when the same value was here before, a fresh one otherwise.
    fn envelope_for(
        &mut self,
        cipher: &ValueCipher,
        kind: CipherKind,
        plaintext: &SecretBytes,
        value_type: ValueType,
    ) -> Result<SecretBytes> {
        // The path is borrowed as a field, not through `current_aad`, so
        // the memory can be borrowed beside it: a copy of the path for
        // every value was 1% of encrypting.
        let aad = aad_of(&self.aad);
        if let Some(memory) = self.memory.as_deref_mut() {
            if let Some(envelope) = memory.take(aad, value_type, plaintext.as_bytes()) {
                return Ok(SecretBytes::from(envelope));
            }
            memory.fresh += 1;
        }
        let envelope = cipher
            .encrypt(kind, plaintext.as_bytes(), aad, value_type)
            .map_err(|e| Error::Random(e.to_string()))?;
        Ok(SecretBytes::from(envelope.to_bytes()))
    }

    fn hash(&mut self, scalar: &Scalar, encrypted: bool) {
        if self.selection.mac_only_encrypted && !encrypted {
            return;
        }
        match scalar {
            // A string is its own canonical form: hash it where it lies
            // rather than through a copy.
            Scalar::Str(bytes) => self.mac.update(bytes.as_bytes()),
            other => self.mac.update(other.mac_bytes().as_bytes()),
        }
    }

    fn visit_comment(&mut self, comment: &mut Comment) -> Result<()> {
        let matched = self.comment_matches(&comment.text);
        if matched {
            *self.level_comment_matches.last_mut().expect("a level is always open") += 1;
            self.active_comment_matches += 1;
        }
        if comment.text.is_empty() || !self.is_encrypted(matched) {
            return Ok(());
        }
        match self.action {
            Action::Hash => {}
            Action::Encrypt { cipher, kind } => {
                let text = self.envelope_for(cipher, kind, &comment.text, ValueType::Comment)?;
                if let SelectionRule::UnencryptedCommentRegex(r) = &self.selection.rule
                    && r.is_match(text.as_str().unwrap_or_default())
                {
                    return Err(Error::EncryptTree(format!(
                        "an encrypted comment at {} matches unencrypted_comment_regex {:?}; choose a stricter pattern",
                        self.path_for_message(),
                        r.as_str()
                    )));
                }
                comment.text = text;
                comment.changed = true;
            }
            Action::Decrypt { cipher } => {
                let Some(text) = comment.text.as_str().filter(|t| looks_encrypted(t)) else {
                    return Ok(());
                };
                match self.decrypt_comment(cipher, text, self.aad.len()) {
                    Some((plaintext, aad)) => {
                        if let Some(memory) = self.memory.as_deref_mut() {
                            memory.remember(aad.as_bytes(), ValueType::Comment, plaintext.as_bytes(), text);
                        }
                        comment.text = plaintext;
                        comment.changed = true;
                    }
                    None => self.warnings.push(Warning(format!(
                        "a comment at {} could not be decrypted and is kept as it is (possibly unencrypted)",
                        self.path_for_message()
                    ))),
                }
            }
        }
        Ok(())
    }

    /// A comment's additional data is the path of the container go-yaml
    /// attached it to, which depends on indentation; try the innermost
    /// container first, then each ancestor (spec 3.5.4).
    /// `path_end` is where the container's path ends in `aad` (all of it,
    /// but for a reader that streams: see [`LeafWalk::comment`]).
    fn decrypt_comment(
        &self,
        cipher: &ValueCipher,
        text: &str,
        path_end: usize,
    ) -> Option<(SecretBytes, String)> {
        let envelope = Envelope::parse(text).ok()?;
        if envelope.value_type != ValueType::Comment {
            return None;
        }
        let mut end = path_end;
        let mut marks = self.aad_marks.iter().rev().filter(|&&mark| mark < path_end);
        loop {
            let aad = if end == 0 { ":" } else { &self.aad[..end] };
            if let Ok(plaintext) = cipher.decrypt(&envelope, aad.as_bytes()) {
                return Some((plaintext, aad.to_owned()));
            }
            if end == 0 {
                return None;
            }
            end = *marks.next().unwrap_or(&0);
        }
    }

    fn decrypt_error(&self, reason: EnvelopeError) -> Error {
        Error::DecryptValue { path: self.path_for_message(), reason }
    }

    /// The current path for messages: `["a"]["b"]`, or `the top level`.
    fn path_for_message(&self) -> String {
        let mut out = String::new();
        let mut start = 0;
        for &end in self.aad_marks.iter().skip(1).chain(std::iter::once(&self.aad.len())) {
            if end > start {
                out.push_str(&format!("[{:?}]", &self.aad[start..end - 1]));
            }
            start = end;
        }
        if out.is_empty() { "the top level".to_owned() } else { out }
    }

    fn finish(self) -> (MacHex, Vec<Warning>) {
        let MacInput::Hashing(mac) = self.mac else {
            unreachable!("a later piece's walk is absorbed by the first piece's, not finished")
        };
        let digest = mac.finalize();
        let mut hex = String::with_capacity(128);
        for byte in digest {
            hex.push_str(&format!("{byte:02X}"));
        }
        (MacHex(hex), self.warnings)
    }
}

/// What is wrong with a pattern, on one line. The regex crate draws the
/// pattern with a caret under the fault over several lines; an error message
/// here is one line, and its last line names the fault.
pub(crate) fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    last.trim().trim_start_matches("error: ").to_owned()
}

fn scalar_kind(scalar: &Scalar) -> &'static str {
    match scalar {
        Scalar::Null => "null",
        Scalar::Bool(_) => "a boolean",
        Scalar::Int(_) | Scalar::BigInt(_) => "an integer",
        Scalar::Float(_) => "a number",
        Scalar::Str(_) => "plain text",
        Scalar::Time(_) => "a timestamp",
    }
}

/// Encrypt every selected leaf and comment in place; returns the MAC of the
/// plaintext values. With `memory`, unchanged values keep their envelopes.
pub fn encrypt_tree(
    tree: &mut Tree,
    selection: &Selection,
    cipher: &ValueCipher,
    kind: CipherKind,
    memory: Option<&mut EnvelopeMemory>,
) -> Result<MacHex> {
    let mut walker = Walker::new(selection, Action::Encrypt { cipher, kind }, memory);
    walker.walk_tree(tree)?;
    Ok(walker.finish().0)
}

/// Decrypt every selected leaf and comment in place; returns the MAC of the
/// decrypted values and warnings about comments that stayed encrypted. With
/// `memory`, every envelope is remembered for a later re-encryption.
pub fn decrypt_tree(
    tree: &mut Tree,
    selection: &Selection,
    cipher: &ValueCipher,
    memory: Option<&mut EnvelopeMemory>,
) -> Result<(MacHex, Vec<Warning>)> {
    let mut walker = Walker::new(selection, Action::Decrypt { cipher }, memory);
    walker.walk_tree(tree)?;
    Ok(walker.finish())
}

/// The MAC of a plaintext tree, without changing it.
pub fn mac_of_plaintext(tree: &Tree, selection: &Selection) -> Result<MacHex> {
    let mut copy = tree.clone();
    let mut walker = Walker::new(selection, Action::Hash, None);
    walker.walk_tree(&mut copy)?;
    Ok(walker.finish().0)
}

mod leaves;
pub use leaves::{CommentStep, LeafWalk, MacStream};

#[cfg(test)]
mod tests;
