//! The zset type's data structure (work in progress: its commands come with it).

use super::packed::Packed;

/// A zset value.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Small zsets: a packed sequence.
    Packed(Packed),
}

impl ZSet {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Packed(p) => p.len(),
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Packed(_) => "listpack",
        }
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Packed(p) => p.heap_size(),
        }
    }
}
