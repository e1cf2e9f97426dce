//! Decrypting and encrypting a block-style YAML file in one pass, without
//! a tree.
//!
//! The general path parses the whole file into a tree and a layout, walks
//! the tree decrypting (or encrypting) each value, then walks it again
//! splicing the changed values into the original bytes. For a large file
//! that is three passes over a structure about as big as the file, and the
//! tree and layout were most of a 10 MB file's time and peak memory. Yet
//! either direction changes nothing but leaves (and the metadata), and
//! every leaf's new text depends only on the leaf, its path and where it
//! sits. So this module reads the events of the block subset
//! (`block_scan`), keeps only the open collections, hands each value to
//! the walk's own leaf code (`walk::LeafWalk`, the same selection,
//! additional data and MAC as the tree's walk), renders each changed one
//! with the splicer's own code (`splice::leaf_text`; when encrypting,
//! `splice::styled_token` says what the style memory keeps), and writes the
//! output as it goes.
//!
//! It is a shortcut, never a second opinion: anything it does not handle
//! exactly as the general path would (anchors, tags, flow collections,
//! several documents; a `sops` entry that is not the last top-level one,
//! or any when encrypting; comments under a comment rule; a duplicate key;
//! any error at all) makes it decline, and the
//! caller runs the general path, which then gives the canonical result or
//! error. Differential tests hold the two to the same bytes
//! (`one_pass_decrypt_tests`, `one_pass_encrypt_tests`).

use std::hash::BuildHasher;

use foldhash::HashSet;
use granit_parser::{Event, Placement, Span, StructureStyle};

use super::layout::{ScalarPos, TokenStyle};
use super::parse::{column_of, dash_before, resolve_scalar, token_end, token_start};
use super::pieces::Pieces;
use super::splice::{LeafSite, leaf_text, styled_token};
use crate::secret::SecretBuf;
use crate::store::StoreOptions;
use crate::style::StyleMemory;
use crate::tree::{Node, Scalar};
use crate::walk::{CommentStep, LeafWalk, MacHex, Warning};

/// Where the file's top-level `sops` entry starts: the last line that begins
/// with `sops:` (sops writes the metadata last). `None` when there is none
/// written that way, and the file is left to the general path.
pub fn metadata_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let is_entry = |at: usize| matches!(bytes.get(at + 5), None | Some(b' ' | b'\n'));
    let mut end = bytes.len();
    while let Some(at) = memchr::memmem::rfind(&bytes[..end], b"\nsops:") {
        if is_entry(at + 1) {
            return Some(at + 1);
        }
        end = at;
    }
    (bytes.starts_with(b"sops:") && is_entry(0)).then_some(0)
}

/// The decrypted file as the general path would write it, with the MAC of
/// its values (not yet checked against the metadata).
pub struct StreamDecrypted {
    pub output: Vec<u8>,
    pub mac: MacHex,
    pub warnings: Vec<Warning>,
}

/// Decrypt `text`, whose `sops` entry starts at `sops_start` (from
/// [`metadata_start`]), with `leaves` (the file's selection and data key)
/// and the file's style memory, in as many pieces side by side as this
/// machine runs threads (`pieces`). `None`: outside what this path
/// handles; use the general one.
pub fn decrypt(
    text: &str,
    sops_start: usize,
    leaves: LeafWalk<'_>,
    styles: Option<&StyleMemory>,
    options: &StoreOptions,
) -> Option<StreamDecrypted> {
    decrypt_in(text, sops_start, leaves, styles, options, Pieces::for_this_machine(sops_start))
}

/// [`decrypt`], cut into at most `pieces`.
pub(crate) fn decrypt_in(
    text: &str,
    sops_start: usize,
    leaves: LeafWalk<'_>,
    styles: Option<&StyleMemory>,
    options: &StoreOptions,
    pieces: Pieces,
) -> Option<StreamDecrypted> {
    let styles = styles.filter(|memory| !memory.is_empty());
    let wanted = styles.map(StyleMemory::paths).unwrap_or_default();
    let starts = super::pieces::cuts(text, sops_start, pieces);
    let readers = read_pieces(text, &starts, leaves, |piece, offset, leaves, last| {
        let styles = styles.map(|memory| Styles {
            memory,
            wanted: &wanted,
            ordinals: Ordinals::default(),
            place: String::new(),
        });
        // Only the last piece holds the `sops` entry; a `sops` key in
        // another is a second one, which the general path reports.
        let sops = if last { Sops::Before { start: sops_start - offset } } else { Sops::Absent };
        let capacity = if offset == 0 { sops_start } else { piece.len() } + 4096;
        Reader::new(piece, options, leaves, Styling::Restore(styles), sops, capacity)
    })?;
    let mut readers = readers.into_iter();
    let Reader { mut out, at, mut leaves, text: first, .. } = readers.next()?;
    out.extend(&first.as_bytes()[at..]);
    for later in readers {
        out.extend(later.out.as_slice());
        out.extend(&later.text.as_bytes()[later.at..]);
        leaves.absorb(later.leaves);
    }
    let (mac, warnings) = leaves.finish();
    Some(StreamDecrypted { output: out.into_vec(), mac, warnings })
}

/// A file encrypted in one pass, before its metadata is written.
pub struct StreamEncrypted {
    /// The MAC of the plaintext values.
    pub mac: MacHex,
    /// How values were written where their default rendering differs.
    pub style_memory: StyleMemory,
}

/// Encrypt the plaintext `text` with `leaves` (made by
/// [`LeafWalk::encrypting`]), then append the metadata that `metadata`
/// builds from the MAC and style memory (the key groups are wrapped there,
/// only once the file is known to be taken). `None`: outside what this
/// path handles; use the general one.
pub fn encrypt(
    text: &str,
    leaves: LeafWalk<'_>,
    options: &StoreOptions,
    metadata: impl FnOnce(StreamEncrypted) -> crate::error::Result<crate::tree::Node>,
) -> Option<crate::error::Result<Vec<Vec<u8>>>> {
    encrypt_in(text, leaves, options, metadata, Pieces::for_this_machine(text.len()))
}

/// [`encrypt`], cut into at most `pieces`. The file comes back in one part
/// per piece, each piece's output as its reader wrote it: joining them
/// would copy every later piece's output again (see `ops::Output`).
pub(crate) fn encrypt_in(
    text: &str,
    leaves: LeafWalk<'_>,
    options: &StoreOptions,
    metadata: impl FnOnce(StreamEncrypted) -> crate::error::Result<crate::tree::Node>,
    pieces: Pieces,
) -> Option<crate::error::Result<Vec<Vec<u8>>>> {
    let starts = super::pieces::cuts(text, text.len(), pieces);
    let readers = read_pieces(text, &starts, leaves, |piece, _, leaves, last| {
        // An encryption's output is up to about four and a half times its
        // source (see `splice::emit_spliced`); the last piece's buffer also
        // takes the metadata.
        let capacity = piece.len() * 5 + if last { 4096 } else { 64 };
        let styling = Styling::Remember { ordinals: Ordinals::default(), memory: StyleMemory::default() };
        Reader::new(piece, options, leaves, styling, Sops::Absent, capacity)
    })?;
    let mut readers = readers.into_iter();
    let Reader { mut out, mut at, mut leaves, styling, mut document_end, top_column, mut text, .. } =
        readers.next()?;
    let Styling::Remember { mut memory, .. } = styling else { unreachable!("made above") };
    let mut parts = Vec::with_capacity(starts.len());
    for later in readers {
        // What is left of the piece after its last value ends its part.
        out.extend(&text.as_bytes()[at..]);
        parts.push(std::mem::replace(&mut out, later.out).into_public());
        (text, at, document_end) = (later.text, later.at, later.document_end);
        leaves.absorb(later.leaves);
        let Styling::Remember { memory: later_memory, .. } = later.styling else {
            unreachable!("made above")
        };
        memory.absorb(later_memory);
    }
    let (mac, _) = leaves.finish();
    let node = match metadata(StreamEncrypted { mac, style_memory: memory }) {
        Ok(node) => node,
        Err(error) => return Some(Err(error)),
    };
    // The last piece's text: new metadata goes where its document ends.
    let bytes = text.as_bytes();
    let insert_at = document_end.unwrap_or(bytes.len()).max(at);
    out.extend(&bytes[at..insert_at]);
    if insert_at > 0 && bytes[insert_at - 1] != b'\n' {
        out.push(b'\n');
    }
    out.extend(super::splice::metadata_block(&node, top_column, "\n", options).as_bytes());
    out.extend(&bytes[insert_at..]);
    parts.push(out.into_public());
    Some(Ok(parts))
}

/// Read `text` in the pieces that start at `starts` side by side: the
/// first on this thread, each other on a thread of its own. `reader` makes
/// the reader of a piece from its text, its offset in `text`, its walk and
/// whether it is the last. `None` when any piece declines, or when the
/// pieces do not fit together as the whole file reads (see `pieces`).
fn read_pieces<'t, 'w, 'm>(
    text: &'t str,
    starts: &[usize],
    leaves: LeafWalk<'w>,
    reader: impl Fn(&'t str, usize, LeafWalk<'w>, bool) -> Reader<'t, 'w, 'm> + Sync,
) -> Option<Vec<Reader<'t, 'w, 'm>>> {
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    let ranges: Vec<_> = starts.iter().copied().zip(ends).map(|(start, end)| start..end).collect();
    let last = ranges.len() - 1;
    let read = |index: usize, leaves: LeafWalk<'w>| {
        let range = ranges[index].clone();
        let mut piece = reader(&text[range.clone()], range.start, leaves, index == last);
        let read = piece.read();
        // Ended whatever the outcome, so the first piece's walk stops
        // waiting for this one's MAC input.
        piece.leaves.end_piece();
        piece.free_reading_state();
        read.map(|()| piece)
    };
    let (later_walks, mut streams): (Vec<_>, Vec<_>) =
        (1..ranges.len()).map(|_| leaves.later_piece()).unzip();
    let readers = std::thread::scope(|scope| {
        let read = &read;
        let mut threads = Vec::new();
        let mut here = Vec::new();
        for (index, walk) in (1..).zip(later_walks) {
            // Were no thread to be had, the piece is read on this one.
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || read(index, walk));
            match spawned {
                Ok(thread) => threads.push((index, thread)),
                Err(_) => here.push(index),
            }
        }
        let mut first = read(0, leaves)?;
        let mut readers: Vec<Option<Reader<'t, 'w, 'm>>> = (0..ranges.len()).map(|_| None).collect();
        for index in here {
            let (walk, stream) = first.leaves.later_piece();
            streams[index - 1] = stream;
            readers[index] = Some(read(index, walk)?);
        }
        // The later pieces' values, hashed in order while they are read.
        for stream in streams {
            first.leaves.hash_stream(stream);
        }
        readers[0] = Some(first);
        let mut all_read = true;
        for (index, thread) in threads {
            match thread.join() {
                Ok(piece) => {
                    all_read &= piece.is_some();
                    readers[index] = piece;
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all_read.then(|| readers.into_iter().collect::<Option<Vec<_>>>())?
    })?;
    fits_together(&readers).then_some(readers)
}

/// Whether pieces read apart read as the whole file would: each later one
/// starts with a top-level key on its first line at the first piece's
/// column, and no top-level key is in two pieces.
fn fits_together(readers: &[Reader<'_, '_, '_>]) -> bool {
    let [first, later @ ..] = readers else { return false };
    if later.is_empty() {
        return true;
    }
    let column = first.top_column;
    let starts_well =
        |piece: &Reader<'_, '_, '_>| piece.top_column == column && piece.first_key_at == Some(column);
    if !later.iter().all(starts_well) {
        return false;
    }
    let count = readers.iter().map(|piece| piece.top_keys.len()).sum();
    let mut keys = KeySet::with_capacity_and_hasher(count, Default::default());
    readers.iter().flat_map(|piece| &piece.top_keys).all(|&key| keys.insert(key))
}

/// How many values each path has had so far: a value's place in the style
/// memory is `path#n`. Only paths inside a sequence are counted: keys hold
/// no colon (`Reader::key`) and are unique in their mapping, so any other
/// path is one value's, `#0`.
#[derive(Default)]
struct Ordinals(foldhash::HashMap<String, usize>);

impl Ordinals {
    /// The place number of the next value at `path`; `in_sequence`: a
    /// sequence holds it (otherwise it is the path's only value, `0`).
    fn next(&mut self, path: &str, in_sequence: bool) -> usize {
        if !in_sequence {
            return 0;
        }
        let count = match self.0.get_mut(path) {
            Some(count) => count,
            None => self.0.entry(path.to_owned()).or_insert(0),
        };
        *count += 1;
        *count - 1
    }
}

/// What the reader does about how values are written.
enum Styling<'m> {
    /// Decrypting: the file's style memory restores values' spellings.
    Restore(Option<Styles<'m>>),
    /// Encrypting: spellings that differ from the default rendering are
    /// remembered by place.
    Remember { ordinals: Ordinals, memory: StyleMemory },
}

/// Hashes of keys, stored as they are: hashing them again (a set's own
/// hasher) was a third of the cost of each key.
type KeySet = std::collections::HashSet<u64, std::hash::BuildHasherDefault<AlreadyHashed>>;

#[derive(Default)]
struct AlreadyHashed(u64);

impl std::hash::Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else is folded in all the same.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// Why reading stopped: always "use the general path".
struct Decline;

type Step = Result<(), Decline>;

/// One open mapping or sequence.
struct Frame {
    is_map: bool,
    /// Where its path (`a:b:`) ends in the walk's path: the additional
    /// data of the comments attached to it.
    path_end: usize,
    /// A mapping's key awaiting its value: the key's column and offset.
    pending_key: Option<(usize, usize)>,
    /// Column of a sequence's dashes.
    indent: usize,
    /// Tells this mapping's keys from other mappings' in `Reader::keys`.
    id: u64,
}

/// Where the reader is relative to the top-level `sops` entry.
enum Sops {
    /// Encrypting: the file must have none.
    Absent,
    /// Not reached; it starts at `start`.
    Before { start: usize },
    /// Inside its value, `depth` collections deep; `end` is the furthest
    /// content byte so far (where the general path's entry ends).
    Inside { start: usize, depth: usize, end: usize },
    /// Passed: nothing but the end of the document may follow.
    After,
}

/// The style memory and the counts of values per path that its places
/// need (`path:#n`).
struct Styles<'m> {
    memory: &'m StyleMemory,
    wanted: &'m HashSet<&'m str>,
    ordinals: Ordinals,
    /// Scratch for spelling a place.
    place: String,
}

impl<'m> Styles<'m> {
    /// The remembered text of the next value at `path`, if any.
    fn next_at(&mut self, path: &str, in_sequence: bool) -> Option<&'m str> {
        if !self.wanted.contains(path) {
            return None;
        }
        let ordinal = self.ordinals.next(path, in_sequence);
        self.place.clear();
        self.place.push_str(path);
        self.place.push('#');
        self.place.push_str(&ordinal.to_string());
        self.memory.text_at(&self.place)
    }
}

struct Reader<'t, 'w, 'm> {
    text: &'t str,
    options: &'t StoreOptions,
    leaves: LeafWalk<'w>,
    styling: Styling<'m>,
    frames: Vec<Frame>,
    /// Every key so far, hashed with its mapping's id: a key seen twice in
    /// one mapping is an error the general path reports.
    keys: KeySet,
    key_hasher: foldhash::fast::FixedState,
    next_frame: u64,
    out: SecretBuf,
    /// The source is written out up to here.
    at: usize,
    sops: Sops,
    /// The document's mapping ended.
    finished: bool,
    /// Own-line comments (span and column) waiting for the next entry,
    /// which decides the block they belong to.
    held_comments: Vec<(std::ops::Range<usize>, usize)>,
    /// Where the document's text ends (new metadata goes there).
    document_end: Option<usize>,
    /// The column of the top-level keys (new metadata's column).
    top_column: usize,
    /// Where the first top-level key starts.
    first_key_at: Option<usize>,
    /// The top-level keys' hashes, for the pieces of a file read side by
    /// side to be checked against each other (`fits_together`).
    top_keys: Vec<u64>,
}

impl<'t, 'w, 'm> Reader<'t, 'w, 'm> {
    /// Free what only reading needed (the key set, the counts of values per
    /// path), on the thread that read the piece: freed on the joining
    /// thread, memory another thread allocated takes mimalloc's slower
    /// path one block at a time, which was 3-4 ms after the join when
    /// encrypting 10 MB (the counts hold a string per path).
    fn free_reading_state(&mut self) {
        self.keys = KeySet::default();
        self.frames = Vec::new();
        match &mut self.styling {
            Styling::Remember { ordinals, .. } | Styling::Restore(Some(Styles { ordinals, .. })) => {
                *ordinals = Ordinals::default();
            }
            Styling::Restore(None) => {}
        }
    }

    fn new(
        text: &'t str,
        options: &'t StoreOptions,
        leaves: LeafWalk<'w>,
        styling: Styling<'m>,
        sops: Sops,
        capacity: usize,
    ) -> Self {
        Reader {
            text,
            options,
            leaves,
            styling,
            frames: Vec::new(),
            keys: KeySet::with_capacity_and_hasher(1024, Default::default()),
            key_hasher: foldhash::fast::FixedState::default(),
            next_frame: 0,
            out: SecretBuf::with_capacity(capacity),
            at: 0,
            sops,
            finished: false,
            held_comments: Vec::new(),
            document_end: None,
            top_column: 0,
            first_key_at: None,
            top_keys: Vec::new(),
        }
    }

    /// Read the whole text; `None` when it must be left to the general path.
    fn read(&mut self) -> Option<()> {
        let text = self.text;
        match super::block_scan::scan(text, |event, span| self.event(event, span)) {
            super::block_scan::Scan::Done(Ok(())) if self.finished => {}
            _ => return None,
        }
        // Comments after the last entry belong to the document's mapping.
        for (range, _) in std::mem::take(&mut self.held_comments) {
            self.comment(range, 0).ok()?;
        }
        Some(())
    }

    fn encrypting(&self) -> bool {
        matches!(self.styling, Styling::Remember { .. })
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Step {
        let range = span.byte_range().unwrap_or(0..0);
        if let Sops::Inside { start, depth, end } = &mut self.sops {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    *depth += 1;
                    *end = (*end).max(range.end);
                }
                Event::MappingEnd | Event::SequenceEnd if *depth > 1 => *depth -= 1,
                Event::MappingEnd | Event::SequenceEnd => {
                    let (start, end) = (*start, *end);
                    self.sops = Sops::After;
                    return self.end_sops(start, end);
                }
                Event::Scalar(..) if *depth > 0 => *end = (*end).max(range.end),
                _ => return Err(Decline),
            }
            return Ok(());
        }
        match event {
            Event::StreamStart | Event::DocumentStart(..) | Event::StreamEnd => Ok(()),
            Event::DocumentEnd => {
                self.document_end = Some(range.start);
                Ok(())
            }
            Event::Comment(_, placement) => {
                match (self.frames.last(), placement) {
                    // An end-of-line comment belongs to the block its line is in.
                    (Some(frame), Placement::Right) => self.comment(range, frame.path_end)?,
                    (None, Placement::Right) => self.held_comments.push((range, 0)),
                    _ => self.held_comments.push((range, span.start.col())),
                }
                Ok(())
            }
            Event::MappingStart(style, anchor, ref tag) | Event::SequenceStart(style, anchor, ref tag) => {
                if style == StructureStyle::Flow || anchor != 0 || tag.is_some() || self.finished {
                    return Err(Decline);
                }
                let is_map = matches!(event, Event::MappingStart(..));
                match self.frames.last() {
                    // The document is a mapping, or the general path says
                    // what is wrong with it.
                    None if !is_map => return Err(Decline),
                    None => {}
                    Some(frame) if frame.is_map && frame.pending_key.is_none() => return Err(Decline),
                    Some(_) => self.leaves.enter().map_err(|_| Decline)?,
                }
                let indent = if is_map {
                    span.start.col()
                } else {
                    column_of(self.text, dash_before(self.text, range.start).unwrap_or(range.start))
                };
                if self.frames.is_empty() {
                    self.top_column = indent;
                }
                self.next_frame += 1;
                let path_end = self.leaves.path().len();
                self.frames.push(Frame { is_map, path_end, pending_key: None, indent, id: self.next_frame });
                self.place_held_comments()
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.place_held_comments()?;
                self.frames.pop().ok_or(Decline)?;
                if self.frames.is_empty() {
                    if !matches!(self.sops, Sops::After | Sops::Absent) {
                        return Err(Decline);
                    }
                    self.finished = true;
                    return Ok(());
                }
                self.leaves.leave();
                self.value_done();
                Ok(())
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(Decline);
                }
                self.place_held_comments()?;
                let frame = self.frames.last().ok_or(Decline)?;
                if frame.is_map && frame.pending_key.is_none() {
                    return self.key(&value, span.start.col(), range);
                }
                let (owner_column, dash) = match frame.pending_key {
                    Some((key_column, _)) => (key_column, None),
                    None => {
                        // An encrypted comment written as a sequence element
                        // (spec 3.5.3) is the tree's business.
                        if value.ends_with(",type:comment]") {
                            return Err(Decline);
                        }
                        let dash = dash_before(self.text, range.start);
                        (dash.map_or(frame.indent, |d| column_of(self.text, d)), dash)
                    }
                };
                let scalar =
                    resolve_scalar(self.text, &value, style, None, range.start).map_err(|_| Decline)?;
                let token =
                    token_start(self.text, &span, style, range.start)..token_end(self.text, style, range.end);
                let pos = ScalarPos::new(token.clone(), TokenStyle::of(style), false, owner_column, dash);
                let site = LeafSite { source: self.text, line_break: "\n", pos: &pos };
                let path = self.leaves.path();
                // Only paths in sequences repeat (`Ordinals`); counting every
                // path was 4% of encrypting.
                let in_sequence = || self.frames.iter().any(|frame| !frame.is_map);
                let remembered = match &mut self.styling {
                    Styling::Restore(Some(styles)) => styles.next_at(path, in_sequence()),
                    Styling::Restore(None) => None,
                    Styling::Remember { ordinals, memory } => {
                        let ordinal = ordinals.next(path, in_sequence());
                        if let Some(text) = styled_token(&site, &scalar, self.options) {
                            memory.remember(format!("{path}#{ordinal}"), text);
                        }
                        None
                    }
                };
                let mut node = Node::scalar(scalar);
                self.leaves.leaf(&mut node).map_err(|_| Decline)?;
                if node.changed {
                    let crate::tree::Value::Scalar(scalar) = &node.value else {
                        unreachable!("a leaf stays a scalar")
                    };
                    if let Some(envelope) = self.fresh_envelope(scalar, remembered) {
                        // Written as it is, where `leaf_text` would check it
                        // for UTF-8 and for characters that need quotes
                        // and copy it (8% of encrypting). A block scalar's
                        // token ends with its line break, which stays.
                        debug_assert!(super::splice::is_envelope_text(
                            std::str::from_utf8(envelope).unwrap_or("")
                        ));
                        let keeps_line_break = matches!(pos.style, TokenStyle::Literal | TokenStyle::Folded)
                            && self.text.as_bytes()[token.end - 1] == b'\n';
                        self.replace(token.start..token.end - usize::from(keeps_line_break), envelope)?;
                        self.value_done();
                        return Ok(());
                    }
                    let mut new_text = leaf_text(&site, scalar, self.options, remembered);
                    let written = self.replace(token, new_text.as_bytes());
                    crate::secret::wipe_string(&mut new_text);
                    written?;
                }
                self.value_done();
                Ok(())
            }
            // Aliases and anything else.
            _ => Err(Decline),
        }
    }

    /// A mapping key: its path component pushed, or the `sops` entry begun.
    fn key(&mut self, name: &str, column: usize, range: std::ops::Range<usize>) -> Step {
        let top_level = self.frames.len() == 1;
        if top_level && self.first_key_at.is_none() {
            self.first_key_at = Some(range.start);
        }
        // Encrypting: a `sops` entry (already encrypted) and keys that are
        // not strings are errors the general path reports.
        if self.encrypting() && ((top_level && name == "sops") || !super::resolve::resolves_to_string(name)) {
            return Err(Decline);
        }
        // A colon would let two values spell one path (`a:b` and `a` then
        // `b`), which the style memory's places (`Ordinals`) rule out. The
        // block reader takes no such key; this keeps that a rule here.
        if memchr::memchr(b':', name.as_bytes()).is_some() {
            return Err(Decline);
        }
        if top_level && name == "sops" {
            let Sops::Before { start } = self.sops else { return Err(Decline) };
            if range.start != start {
                return Err(Decline);
            }
            self.sops = Sops::Inside { start, depth: 0, end: range.end };
            return Ok(());
        }
        if top_level && matches!(self.sops, Sops::After) {
            return Err(Decline);
        }
        let frame = self.frames.last_mut().ok_or(Decline)?;
        let hash = self.key_hasher.hash_one((frame.id, name));
        if !self.keys.insert(hash) {
            // A duplicate, or two keys whose hashes meet: either way the
            // general path decides.
            return Err(Decline);
        }
        if top_level {
            self.top_keys.push(hash);
        }
        frame.pending_key = Some((column, range.start));
        self.leaves.push_key(name);
        Ok(())
    }

    /// Held own-line comments go to the innermost open block indented no
    /// deeper than they are (as the tree's builder places them).
    fn place_held_comments(&mut self) -> Step {
        if self.held_comments.is_empty() || self.frames.is_empty() {
            return Ok(());
        }
        for (range, column) in std::mem::take(&mut self.held_comments) {
            let target =
                self.frames.iter().rev().find(|frame| frame.indent <= column).unwrap_or(&self.frames[0]);
            self.comment(range, target.path_end)?;
        }
        Ok(())
    }

    /// A comment of the block whose path ends at `path_end`: decrypted in
    /// place when it is an envelope the file's rule selects.
    fn comment(&mut self, range: std::ops::Range<usize>, path_end: usize) -> Step {
        let text = self.text.get(range.start + 1..range.end).ok_or(Decline)?;
        let plaintext = match self.leaves.comment(text, path_end) {
            CommentStep::Unchanged => return Ok(()),
            CommentStep::Decrypted(plaintext) => plaintext,
            CommentStep::Encrypted(envelope) => {
                return self.replace(range, format!("#{envelope}").as_bytes());
            }
            CommentStep::NeedsTree => return Err(Decline),
        };
        // Not UTF-8: the tree's writer replaces what is not.
        let plaintext = plaintext.as_str().ok_or(Decline)?;
        let mut line = Vec::with_capacity(plaintext.len() + 1);
        line.push(b'#');
        line.extend_from_slice(plaintext.as_bytes());
        let written = self.replace(range, &line);
        crate::secret::wipe_bytes(&mut line);
        written
    }

    /// The value of the current entry is complete.
    fn value_done(&mut self) {
        let Some(frame) = self.frames.last_mut() else { return };
        if frame.pending_key.take().is_some() {
            self.leaves.pop_key();
        } else {
            self.leaves.end_item();
        }
    }

    /// The `sops` entry, from its key's line to the end of the line where
    /// its value ends, is dropped (as `splice` drops it).
    fn end_sops(&mut self, start: usize, end: usize) -> Step {
        let bytes = self.text.as_bytes();
        let mut line_end = end.min(bytes.len());
        if line_end > 0 && bytes[line_end - 1] != b'\n' {
            line_end = memchr::memchr(b'\n', &bytes[line_end..]).map_or(bytes.len(), |p| line_end + p + 1);
        }
        self.replace(start..line_end, b"")
    }

    /// A changed leaf's text when it is a fresh envelope, which needs no
    /// rendering (`LeafWalk::changes_leaves_to_fresh_envelopes`).
    fn fresh_envelope<'s>(&self, scalar: &'s Scalar, remembered: Option<&str>) -> Option<&'s [u8]> {
        match scalar {
            Scalar::Str(text) if remembered.is_none() && self.leaves.changes_leaves_to_fresh_envelopes() => {
                Some(text.as_bytes())
            }
            _ => None,
        }
    }

    /// Write the source up to `range`, then `text` in its place.
    fn replace(&mut self, range: std::ops::Range<usize>, text: &[u8]) -> Step {
        if range.start < self.at {
            return Err(Decline);
        }
        self.out.extend(&self.text.as_bytes()[self.at..range.start]);
        self.out.extend(text);
        self.at = range.end;
        Ok(())
    }
}

#[cfg(test)]
#[path = "one_pass_decrypt_tests.rs"]
mod decrypt_tests;

#[cfg(test)]
#[path = "one_pass_encrypt_tests.rs"]
mod encrypt_tests;
