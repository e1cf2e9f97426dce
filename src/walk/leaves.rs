//! The walk, one leaf at a time, for readers that do not build a tree.

use super::{Action, MAC_CHUNK_CAPACITY, MacHex, MacInput, Selection, SelectionRule, Walker, Warning};
use crate::cipher::{CipherKind, ValueCipher, looks_encrypted};
use crate::error::Result;
use crate::secret::{SecretBuf, SecretBytes};
use crate::tree::{Node, ValueType};

/// [`decrypt_tree`] (or [`encrypt_tree`]) for a reader that streams a
/// file's entries in order instead of building its tree
/// (`store::yaml::one_pass`): the caller reports each mapping or sequence,
/// key and leaf as it reads it, and each leaf goes through the very code a
/// tree's leaf does, so the additional data, the selection and the MAC are
/// the same by construction. Comments come with the path of the block they
/// belong to ([`LeafWalk::comment`]); rules that select by comments, and
/// sequence elements that hold encrypted comments, are left to the tree.
pub struct LeafWalk<'a> {
    walker: Walker<'a>,
}

/// A later piece's MAC input, in the order its walk met the values
/// ([`LeafWalk::later_piece`]).
pub struct MacStream(std::sync::mpsc::Receiver<SecretBuf>);

/// What becomes of a comment ([`LeafWalk::comment`]).
pub enum CommentStep {
    /// It stays as it is (not selected, or not an envelope).
    Unchanged,
    Decrypted(SecretBytes),
    /// Its envelope, when encrypting.
    Encrypted(String),
    /// The tree's walk must handle it: it would not decrypt (the walk then
    /// warns), or the rule selects by comments, which needs the comments
    /// in the tree's order.
    NeedsTree,
}

impl<'a> LeafWalk<'a> {
    pub fn new(selection: &'a Selection, cipher: &'a ValueCipher) -> LeafWalk<'a> {
        LeafWalk { walker: Walker::new(selection, Action::Decrypt { cipher }, None) }
    }

    /// The walk of [`encrypt_tree`], leaf by leaf (`leaf` then encrypts).
    pub fn encrypting(selection: &'a Selection, cipher: &'a ValueCipher, kind: CipherKind) -> LeafWalk<'a> {
        LeafWalk { walker: Walker::new(selection, Action::Encrypt { cipher, kind }, None) }
    }

    /// A nested mapping or sequence starts (not the document's own mapping).
    pub fn enter(&mut self) -> Result<()> {
        self.walker.enter_level()
    }

    /// The collection entered last ends.
    pub fn leave(&mut self) {
        self.walker.leave_level();
    }

    /// A mapping entry's key; its value follows.
    pub fn push_key(&mut self, key: &str) {
        self.walker.push_key(key);
    }

    /// The value of the key pushed last is complete.
    pub fn pop_key(&mut self) {
        self.walker.pop_key();
        self.walker.clear_level_comments();
    }

    /// A sequence item is complete.
    pub fn end_item(&mut self) {
        self.walker.clear_level_comments();
    }

    /// True when every leaf that [`leaf`](Self::leaf) changes gets a fresh
    /// envelope (`Envelope::to_bytes`): encrypting, with no memory of
    /// earlier envelopes. Such a text is ASCII base64 and punctuation, with
    /// no space, quote, `#` or line break, so a block reader may write it
    /// as a plain scalar as it is.
    pub fn changes_leaves_to_fresh_envelopes(&self) -> bool {
        matches!(self.walker.action, Action::Encrypt { .. }) && self.walker.memory.is_none()
    }

    /// Decrypt (or encrypt) a leaf in place if it is selected
    /// (`node.changed` then says so), and hash its plaintext into the MAC.
    pub fn leaf(&mut self, node: &mut Node) -> Result<()> {
        self.walker.visit_scalar(node)
    }

    /// A comment in the container whose path is the first `path_end` bytes
    /// of [`path`](Self::path) (an enclosing one: a reader learns where
    /// go-yaml attaches an own-line comment only at the next entry).
    pub fn comment(&self, text: &str, path_end: usize) -> CommentStep {
        let walker = &self.walker;
        if matches!(
            walker.selection.rule,
            SelectionRule::UnencryptedCommentRegex(_) | SelectionRule::EncryptedCommentRegex(_)
        ) && !walker.selection.encrypt_everything
        {
            return CommentStep::NeedsTree;
        }
        // The selection at the container: its own components only.
        let components = walker.aad_marks.iter().filter(|&&mark| mark < path_end).count();
        let any_component = walker.component_matched[..components].iter().any(|m| *m);
        let selected = match walker.selection.rule {
            SelectionRule::UnencryptedSuffix(_) | SelectionRule::UnencryptedRegex(_) => !any_component,
            _ => any_component,
        };
        if text.is_empty() || !(selected || walker.selection.encrypt_everything) {
            return CommentStep::Unchanged;
        }
        match walker.action {
            Action::Decrypt { .. } if !looks_encrypted(text) => CommentStep::Unchanged,
            Action::Decrypt { cipher } => match walker.decrypt_comment(cipher, text, path_end) {
                Some((plaintext, _)) => CommentStep::Decrypted(plaintext),
                None => CommentStep::NeedsTree,
            },
            // As `visit_comment` encrypts one, under the container's path.
            Action::Encrypt { cipher, kind } => {
                let aad = if path_end == 0 { ":" } else { &walker.aad[..path_end] };
                match cipher.encrypt(kind, text.as_bytes(), aad.as_bytes(), ValueType::Comment) {
                    Ok(envelope) => CommentStep::Encrypted(envelope.to_text()),
                    Err(_) => CommentStep::NeedsTree,
                }
            }
            Action::Hash => CommentStep::NeedsTree,
        }
    }

    /// The additional data of the current path (`a:b:`), which is also the
    /// path part of a style-memory place.
    pub fn path(&self) -> &str {
        &self.walker.aad
    }

    /// A fresh walk with the same selection and action for a later piece
    /// of a file read in pieces side by side, each starting at a top-level
    /// key (where a walk's state is that of a fresh one). Its MAC input is
    /// sent on in chunks, on the stream returned with it, for the first
    /// piece's walk to hash in order ([`hash_stream`](Self::hash_stream));
    /// [`end_piece`](Self::end_piece) ends the stream.
    pub fn later_piece(&self) -> (LeafWalk<'a>, MacStream) {
        let mut walker = Walker::new(self.walker.selection, self.walker.action, None);
        let (to, from) = std::sync::mpsc::channel();
        walker.mac = MacInput::Sending { chunk: SecretBuf::with_capacity(MAC_CHUNK_CAPACITY), to };
        (LeafWalk { walker }, MacStream(from))
    }

    /// A later piece's walk has read its piece: the rest of its MAC input
    /// is sent and its stream ends. Nothing for the first piece's walk.
    pub fn end_piece(&mut self) {
        self.walker.mac.end_stream();
    }

    /// Hash a later piece's MAC input after everything so far, chunk by
    /// chunk as it is sent, until its walk ends the stream (or is dropped,
    /// when the piece was not read; the MAC is then not used).
    pub fn hash_stream(&mut self, stream: MacStream) {
        for chunk in stream.0 {
            self.walker.mac.update(chunk.as_slice());
        }
    }

    /// Take in a later piece's walk, whose stream has been hashed: its
    /// warnings follow those so far.
    pub fn absorb(&mut self, later: LeafWalk<'a>) {
        match &later.walker.mac {
            MacInput::Keeping(kept) => debug_assert!(kept.as_slice().is_empty(), "hashed as a stream"),
            _ => unreachable!("only a later piece's walk, its stream ended, is absorbed"),
        }
        self.walker.warnings.extend(later.walker.warnings);
    }

    pub fn finish(self) -> (MacHex, Vec<Warning>) {
        self.walker.finish()
    }
}
