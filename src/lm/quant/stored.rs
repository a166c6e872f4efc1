//! Where a repacked matrix's arrays live: in memory the process built, or
//! in the memory map of a repacked-weights file (see `repacked`). Kernels
//! see a plain slice either way.

use std::ops::Deref;
use std::sync::Arc;

use half::f16;
use memmap2::Mmap;

/// Element types an array may be stored as: plain numbers for which every
/// bit pattern is a valid value, so bytes from a file can be viewed as them.
///
/// # Safety
/// Implementors must have no padding, no invalid bit patterns and no
/// pointers (u8, i8, f16, f32).
pub(super) unsafe trait Plain: Copy + Send + Sync + 'static {}
// SAFETY: all four are plain numbers of 1, 2 or 4 bytes; every bit pattern
// is a value.
unsafe impl Plain for u8 {}
// SAFETY: as above.
unsafe impl Plain for i8 {}
// SAFETY: as above.
unsafe impl Plain for f16 {}
// SAFETY: as above.
unsafe impl Plain for f32 {}

/// An array of `T`, owned or viewed in a shared memory map.
#[derive(Clone)]
pub(super) enum Stored<T: Plain> {
    Owned(Vec<T>),
    Mapped {
        map: Arc<Mmap>,
        /// Byte offset of the first element (a multiple of `T`'s alignment).
        offset: usize,
        /// Elements.
        len: usize,
    },
}

impl<T: Plain> Stored<T> {
    /// Views `len` elements at byte `offset` of `map`, if they lie inside it
    /// and are aligned for `T`.
    pub(super) fn mapped(map: &Arc<Mmap>, offset: usize, len: usize) -> Option<Self> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        let aligned = (map.as_ptr() as usize + offset).is_multiple_of(align_of::<T>());
        (end <= map.len() && aligned).then(|| Stored::Mapped {
            map: map.clone(),
            offset,
            len,
        })
    }

    /// The bytes of the memory map this array views (start, length), if
    /// it views one.
    pub(super) fn mapped_bytes(&self) -> Option<(usize, usize)> {
        match self {
            Stored::Owned(_) => None,
            Stored::Mapped { offset, len, .. } => Some((*offset, len * size_of::<T>())),
        }
    }

    /// The elements as bytes (for writing them to a file).
    pub(super) fn as_bytes(&self) -> &[u8] {
        let values: &[T] = self;
        // SAFETY: `T: Plain` has no padding, so its memory is initialized
        // bytes; the length is the slice's size in bytes.
        unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), size_of_val(values)) }
    }
}

impl<T: Plain> Deref for Stored<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Stored::Owned(values) => values,
            Stored::Mapped { map, offset, len } => {
                let bytes = &map[*offset..*offset + len * size_of::<T>()];
                // SAFETY: `mapped` checked that the range lies in the map and
                // is aligned for `T`; `T: Plain` accepts any bytes. The map
                // lives as long as `self` (the Arc), and repacked-weights
                // files are only ever replaced by renaming a new file over
                // them, never written in place.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), *len) }
            }
        }
    }
}

impl<T: Plain> From<Vec<T>> for Stored<T> {
    fn from(values: Vec<T>) -> Self {
        Stored::Owned(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn mapped_arrays_read_what_was_written_and_refuse_bad_ranges() {
        let values = [1.5f32, -2.0, 3.25];
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[0; 4]).unwrap();
        file.write_all(Stored::Owned(values.to_vec()).as_bytes())
            .unwrap();
        // SAFETY: a private temporary file nobody else writes.
        let map = Arc::new(unsafe { Mmap::map(&file) }.unwrap());
        let stored = Stored::<f32>::mapped(&map, 4, 3).unwrap();
        assert_eq!(&stored[..], &values);
        assert!(Stored::<f32>::mapped(&map, 4, 4).is_none(), "past the end");
        assert!(Stored::<f32>::mapped(&map, 2, 1).is_none(), "misaligned");
        assert!(Stored::<f32>::mapped(&map, usize::MAX, 1).is_none());
    }
}
