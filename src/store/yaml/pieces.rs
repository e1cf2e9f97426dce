//! Where a block-style YAML file can be cut into pieces that are read side
//! by side.
//!
//! Once a file is read in one pass (`one_pass`), what is left of a large
//! file's time is per-value work, decryption and rendering, all on one
//! core. Yet a value's new text depends only on the value, its path and
//! where it sits, and at the start of a top-level key's line a reader is
//! in the same state as at the start of a file: no collection open but the
//! document's, nothing pending. So the file is cut at such lines, each
//! piece is read by its own reader on its own thread as if it were a file
//! of its own, and the outputs are joined in order (the MAC takes each
//! piece's values after the previous piece's: a later piece's walk sends
//! them on in chunks, which the first piece's walk hashes as they come once
//! its own piece is read; `walk::LeafWalk::later_piece`).
//!
//! A cut must fall where the whole file's reading has a top-level key and
//! nowhere else. A line that starts, after exactly the top-level keys'
//! indentation, with a letter, digit or underscore is one, unless it is
//! inside a construct that spans lines:
//!
//! - a block scalar's lines are indented deeper than its key, so such a
//!   line ends it;
//! - a plain scalar continues only on deeper lines, for the same reason;
//! - a quoted scalar or a flow collection left open at the cut leaves the
//!   piece before it unfinished, which its reader refuses (and the whole
//!   file goes to the general path);
//! - a document marker (`---`, `...`) or a directive (`%`) at the start of a
//!   line could make the line after it a second document's, which a piece
//!   would read as its first: such a file is not cut at all.
//!
//! Each piece's reader also checks that its first key is on its first line
//! at the first piece's column, and the caller that the top-level keys of
//! all pieces are distinct. Tests and the fuzzer cut files into pieces of a
//! few bytes and hold the result to the general path's.

/// How many pieces a file may be cut into, and how small one may be.
#[derive(Clone, Copy, Debug)]
pub struct Pieces {
    pub count: usize,
    pub min_len: usize,
}

/// Threads beyond this many gain little: joining the pieces, and hashing
/// the later ones' values for the MAC, is done on one.
const MAX_PIECES: usize = 8;

/// A piece smaller than this is not worth a thread: starting and joining
/// one costs about as much as reading 10 KB, and typical secrets files,
/// far smaller, stay on one.
const MIN_PIECE_BYTES: usize = 128 * 1024;

impl Pieces {
    /// For a body of `len` bytes: as many pieces as the process may run
    /// threads at once (the scheduler's affinity and cgroup quota
    /// included), each at least 128 KiB. A body too small for two pieces
    /// does not ask (on Linux the answer reads the cgroup's files), so
    /// small files pay nothing. The fuzzer cuts even its small inputs.
    pub fn for_this_machine(len: usize) -> Pieces {
        if cfg!(fuzzing) {
            return Pieces { count: 3, min_len: 1 };
        }
        if len < 2 * MIN_PIECE_BYTES {
            return Pieces::one();
        }
        let count = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_PIECES);
        Pieces { count, min_len: MIN_PIECE_BYTES }
    }

    /// The whole file as one piece.
    pub fn one() -> Pieces {
        Pieces { count: 1, min_len: usize::MAX }
    }
}

/// Where the pieces of `text` start (the first at 0), cutting only before
/// `body_end` (where the `sops` entry starts, or the end when encrypting).
/// One piece when the file is small, or when no safe cut is found.
pub fn cuts(text: &str, body_end: usize, pieces: Pieces) -> Vec<usize> {
    let mut starts = vec![0];
    let body_end = body_end.min(text.len());
    let count = pieces.count.min(body_end / pieces.min_len.max(1));
    if count <= 1 {
        return starts;
    }
    let bytes = text.as_bytes();
    let Some((first_line_end, column)) = first_entry(bytes, body_end) else { return starts };
    // From the first line's newline, so that markers on the next line are found.
    let body = &bytes[first_line_end - 1..body_end];
    if has_line_marker(body) {
        return starts;
    }
    // The first piece is read on the thread that then joins the others,
    // hashes their values for the MAC and wipes the input and output, so
    // it is smaller: in sixteenths, the first piece has 16 - 2 (count - 1)
    // (at least 8) to every other piece's 16. Measured on the 1 MB
    // benchmark file with two pieces: that tail is about an eighth of a
    // piece (13 of 108 million instructions).
    let first_share = 16 - 2 * (count - 1).min(4);
    let sixteenths = first_share + 16 * (count - 1);
    for i in 1..count {
        let target = (body_end * (first_share + 16 * (i - 1)) / sixteenths).max(first_line_end);
        let from = (*starts.last().expect("starts with 0") + 1).max(target);
        match next_key_line(bytes, from, body_end, column) {
            Some(at) => starts.push(at),
            None => break,
        }
    }
    starts
}

/// The end of the line holding the first top-level key, and its column:
/// the first line that is not blank, a comment, a document start or a
/// directive. `None` when that line does not start with a key character
/// (or the text starts with a byte-order mark).
fn first_entry(bytes: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut at = 0;
    while at < end {
        let line_end = memchr::memchr(b'\n', &bytes[at..end]).map_or(end, |p| at + p + 1);
        let line = &bytes[at..line_end];
        let column = line.iter().take_while(|&&b| b == b' ').count();
        match line.get(column) {
            None | Some(b'\n' | b'\r' | b'#' | b'%') => {}
            Some(b'-') if is_document_start(line) => {}
            Some(&first) if starts_key(first) => return Some((line_end, column)),
            Some(_) => return None,
        }
        at = line_end;
    }
    None
}

/// Whether a line after the first of `body` starts with `---`, `...` or
/// `%`. One scan for the three bytes, each hit checked where it is: three
/// substring searches over the 4 MB of an encrypted 1 MB file were 1.5% of
/// its decryption, before the pieces could start.
fn has_line_marker(body: &[u8]) -> bool {
    memchr::memchr3_iter(b'-', b'.', b'%', body).any(|at| {
        at > 0
            && body[at - 1] == b'\n'
            && match body[at] {
                b'%' => true,
                b'-' => body[at..].starts_with(b"---"),
                _ => body[at..].starts_with(b"..."),
            }
    })
}

/// `---` alone on its line (or before a comment).
fn is_document_start(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"---") else { return false };
    let rest = rest.trim_ascii();
    rest.is_empty() || rest.starts_with(b"#")
}

fn starts_key(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The start of the first line at or after `from` (a line start, or the
/// next one) and before `end` that holds a key at `column`.
fn next_key_line(bytes: &[u8], from: usize, end: usize, column: usize) -> Option<usize> {
    let mut at = if from == 0 || bytes.get(from - 1) == Some(&b'\n') {
        from
    } else {
        from + memchr::memchr(b'\n', bytes.get(from..end)?)? + 1
    };
    while at < end {
        let line = &bytes[at..end];
        let indented = line.iter().take(column).all(|&b| b == b' ');
        if indented && line.len() > column && starts_key(line[column]) {
            return Some(at);
        }
        at += memchr::memchr(b'\n', line)? + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{Pieces, cuts};

    fn cut_small(text: &str, count: usize) -> Vec<usize> {
        cuts(text, text.len(), Pieces { count, min_len: 1 })
    }

    #[test]
    fn cuts_at_top_level_key_lines() {
        let text = "a: 1\nb:\n    c: 2\n    d: 3\ne: |\n    x\n    y\nf: 4\n";
        let starts = cut_small(text, 3);
        assert_eq!(starts[0], 0);
        assert!(starts.len() == 3, "{starts:?}");
        for &at in &starts[1..] {
            assert!(text[at..].starts_with(['b', 'e', 'f']), "cut inside an entry at {at}");
        }
    }

    #[test]
    fn cuts_an_indented_document_at_its_own_column() {
        let text = "  a: 1\n  b:\n    c: 2\n  d: 3\n";
        for at in &cut_small(text, 4)[1..] {
            assert!(text[*at..].starts_with("  b") || text[*at..].starts_with("  d"), "{at}");
        }
    }

    #[test]
    fn does_not_cut_a_file_with_document_markers_or_directives() {
        for text in ["a: 1\n...\nb: 2\nc: 3\n", "a: 1\n---\nb: 2\nc: 3\n", "a: 1\n%YAML 1.2\nb: 2\nc: 3\n"] {
            assert_eq!(cut_small(text, 4), vec![0], "{text}");
        }
        // A document start before the first key is no second document.
        assert!(cut_small("# c\n---\na: 1\nb: 2\nc: 3\n", 3).len() > 1);
    }

    #[test]
    fn markers_count_only_at_the_start_of_a_line() {
        use super::has_line_marker;
        for body in ["\n---", "\n...\n", "x\n%TAG", "a: 1\n----\n", "\n-\n\n---"] {
            assert!(has_line_marker(body.as_bytes()), "{body:?}");
        }
        for body in ["---", "\n--", "\n..", "a: -1.5\n  - x\n  ---\nb: 5%\n c: ...\n", "\n- - -\n-.%"] {
            assert!(!has_line_marker(body.as_bytes()), "{body:?}");
        }
    }

    #[test]
    fn does_not_cut_what_does_not_start_with_a_key() {
        for text in ["- a\n- b\n- c\n", "\u{feff}a: 1\nb: 2\n", "\"a\": 1\nb: 2\n", "--- |\n  x\n"] {
            assert_eq!(cut_small(text, 4), vec![0], "{text}");
        }
    }

    #[test]
    fn small_files_are_one_piece() {
        let one = Pieces::for_this_machine(2 * super::MIN_PIECE_BYTES - 1);
        assert_eq!((one.count, one.min_len), (1, usize::MAX));
        let text = "a: 1\nb: 2\n";
        assert_eq!(cuts(text, text.len(), Pieces { count: 8, min_len: 1024 }), vec![0]);
        assert_eq!(cuts(text, text.len(), Pieces::one()), vec![0]);
    }

    #[test]
    fn cuts_only_before_the_body_end() {
        let text = "a: 1\nb: 2\nsops:\n    x: 1\n";
        let body_end = text.find("sops:").unwrap();
        for at in cuts(text, body_end, Pieces { count: 8, min_len: 1 }) {
            assert!(at < body_end);
        }
    }
}
