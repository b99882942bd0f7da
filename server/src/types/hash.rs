//! The hash type's data structure (work in progress: its commands come with it).

use super::packed::Packed;

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Small hashs: a packed sequence.
    Packed(Packed),
}

impl Hash {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Hash::Packed(p) => p.len(),
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
        }
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Packed(p) => p.heap_size(),
        }
    }
}
