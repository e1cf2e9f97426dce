//! An encrypted file as the consecutive parts it was made in.
//!
//! A YAML file encrypted in pieces side by side (`store::yaml::pieces`) ends
//! up as one output buffer per piece. Joining them means copying every
//! later piece's output once more into memory the process has never
//! touched, and on the virtual machines CI and developers run on, first
//! touching a page costs more than filling it: for a 10 MB file that was a
//! 21 MB copy and about a twentieth of the run. The parts are therefore
//! kept apart and written one after the other, which is all a file or a
//! pipe needs; [`Output::into_vec`] joins them for callers that want one
//! buffer.
//!
//! What the parts hold is what goes to disk (envelopes, metadata, values
//! left in clear), so they are not wiped.

/// The bytes of an encrypted file, in order, in one or more parts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    parts: Vec<Vec<u8>>,
}

impl Output {
    /// An output made of `parts`, in order.
    pub fn from_parts(parts: Vec<Vec<u8>>) -> Output {
        Output { parts }
    }

    /// The parts, in order; their concatenation is the file.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(Vec::as_slice)
    }

    /// The file's length in bytes.
    pub fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file in one buffer. A single part is handed over without a copy.
    pub fn into_vec(mut self) -> Vec<u8> {
        if self.parts.len() == 1 {
            return self.parts.pop().unwrap_or_default();
        }
        let mut joined = Vec::with_capacity(self.len());
        for part in &self.parts {
            joined.extend_from_slice(part);
        }
        joined
    }
}

impl From<Vec<u8>> for Output {
    fn from(bytes: Vec<u8>) -> Output {
        Output { parts: vec![bytes] }
    }
}

#[cfg(test)]
mod tests {
    use super::Output;

    #[test]
    fn parts_join_in_order() {
        let output = Output::from_parts(vec![b"a: 1\n".to_vec(), Vec::new(), b"b: 2\n".to_vec()]);
        assert_eq!(output.len(), 10);
        assert_eq!(output.parts().collect::<Vec<_>>(), [&b"a: 1\n"[..], b"", b"b: 2\n"]);
        assert_eq!(output.into_vec(), b"a: 1\nb: 2\n");
    }

    #[test]
    fn one_part_is_handed_over_as_it_is() {
        let bytes = b"only".to_vec();
        let pointer = bytes.as_ptr();
        let joined = Output::from(bytes).into_vec();
        assert_eq!(joined.as_ptr(), pointer);
        assert!(Output::default().is_empty());
    }
}
