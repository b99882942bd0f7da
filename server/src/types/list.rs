//! The list type's data structure (work in progress: its commands come with it).

use super::packed::Packed;

/// A list value.
#[derive(Debug, Clone)]
pub enum List {
    /// Small lists: a packed sequence.
    Packed(Packed),
}

impl List {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            List::Packed(p) => p.len(),
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            List::Packed(_) => "listpack",
        }
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            List::Packed(p) => p.heap_size(),
        }
    }
}
