//! The repacked-weights file: a GGUF's matrices in detprob's own layouts,
//! kept in the cache beside the models and memory-mapped on later loads, so
//! loading a model does not repack (or even read) its weights again.
//!
//! One file per model in detprob's cache (`<cache>/models/NAME.gguf` has
//! `<cache>/weights/NAME.gguf.repacked`); a GGUF elsewhere is repacked at
//! every load, so files named on the command line leave nothing behind. The
//! file records what it was built from (the GGUF's path, size and
//! modification time, and [`LAYOUT_VERSION`]) and a CRC-32 of its arrays,
//! checked at every load on both cores while the pages are mapped in; a
//! file that does not match, or fails any check, is ignored and rebuilt, so
//! bytes damaged on disk are never computed with. It is written to a
//! temporary file, locked while the GGUF is read, and renamed into place
//! only when complete, so a half-written file is never used; a temporary
//! whose writer is gone (unlocked) is removed by the next write (and a
//! mapped file is never changed under a running process: a rebuild
//! replaces it with a new file).
//!
//! Layout: the arrays, each starting on a 64-byte boundary; then a JSON
//! index naming each matrix's arrays (offsets and lengths); then the index's
//! length (8 bytes, little-endian) and [`MAGIC`].

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};
use serde::{Deserialize, Serialize};

use super::factors::{Factors, PADDING, PER_SUPER};
use super::stored::{Plain, Stored};
use super::{Codes, QMatrix, BLOCK};
use crate::gguf::GgufFile;

/// The last eight bytes of every repacked-weights file.
const MAGIC: &[u8; 8] = b"DPREPACK";
/// Bump when the repacked layouts change what they store.
const LAYOUT_VERSION: u32 = 4;
/// Arrays start at multiples of this many bytes (a cache line).
const ALIGN: u64 = 64;
/// How a file being written is named until it is complete.
const TEMP_PREFIX: &str = ".repacking-";
/// A file being written is locked by its writer from the moment it is made;
/// an unlocked one older than this (the instant between making and
/// locking) was abandoned — its process was killed — and is removed.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(5);
/// The checksum is read in pieces of this many bytes.
const CHECKSUM_PIECE: usize = 8 << 20;

/// What a repacked-weights file was built from: it is used only while all
/// of this still holds.
#[derive(Serialize, Deserialize, PartialEq, Eq, Clone, Debug)]
struct Origin {
    layout: u32,
    little_endian: bool,
    gguf: PathBuf,
    gguf_bytes: u64,
    gguf_modified_ns: u128,
}

impl Origin {
    /// The origin of `gguf`'s repacked-weights file, if it is to have one.
    fn of(gguf: &Path) -> Option<Self> {
        let gguf = gguf.canonicalize().ok()?;
        let models = crate::store::models_dir().canonicalize().ok()?;
        if gguf.parent() != Some(models.as_path()) {
            return None;
        }
        let (gguf_bytes, gguf_modified_ns) = crate::store::size_and_modified(&gguf)?;
        Some(Origin {
            layout: LAYOUT_VERSION,
            little_endian: cfg!(target_endian = "little"),
            gguf,
            gguf_bytes,
            gguf_modified_ns,
        })
    }

    /// The repacked-weights file for this GGUF.
    fn cache_path(&self) -> Option<PathBuf> {
        let mut name = self.gguf.file_name()?.to_os_string();
        name.push(".repacked");
        Some(crate::store::cache_dir().join("weights").join(name))
    }
}

/// Elements of one array, starting at byte `offset` of the file.
#[derive(Serialize, Deserialize, Clone, Copy)]
struct Span {
    offset: u64,
    len: u64,
}

#[derive(Serialize, Deserialize)]
enum FactorSpan {
    Half(Span),
    Single(Span),
    Scaled { multipliers: Span, supers: Span },
}

#[derive(Serialize, Deserialize)]
enum CodeSpans {
    Nibbles {
        codes: Span,
        factors: FactorSpan,
    },
    Bytes {
        codes: Span,
        scales: FactorSpan,
        per_block: usize,
    },
    Dense(Span),
}

#[derive(Serialize, Deserialize)]
struct Entry {
    name: String,
    codes: CodeSpans,
}

#[derive(Serialize, Deserialize)]
struct Index {
    origin: Origin,
    /// CRC-32 of every byte before the index.
    checksum: u32,
    matrices: Vec<Entry>,
}

/// Where a model's matrices come from while it loads: its repacked-weights
/// file when a valid one exists, else the GGUF (and then a new
/// repacked-weights file is written alongside).
pub struct MatrixSource {
    mapped: HashMap<String, QMatrix>,
    /// Matrices asked for that the mapped file did not have.
    missed: usize,
    writer: Option<Writer>,
    path: Option<PathBuf>,
}

impl MatrixSource {
    /// Opens `gguf`'s repacked-weights file, or prepares to write one.
    pub fn new(gguf: &GgufFile) -> Self {
        let origin = Origin::of(&gguf.path);
        let path = origin.as_ref().and_then(Origin::cache_path);
        let mapped = match (&origin, &path) {
            (Some(origin), Some(path)) => read_index(path, origin, gguf).unwrap_or_default(),
            _ => HashMap::new(),
        };
        let writer = match (mapped.is_empty(), origin, &path) {
            (true, Some(origin), Some(path)) => Writer::new(path, origin),
            _ => None,
        };
        Self {
            mapped,
            missed: 0,
            writer,
            path,
        }
    }

    /// Matrix `name`: mapped from the repacked-weights file, else read and
    /// repacked from the GGUF (and added to the file being written).
    pub fn read(&mut self, gguf: &mut GgufFile, name: &str) -> candle_core::Result<QMatrix> {
        if let Some(matrix) = self.mapped.remove(name) {
            return Ok(matrix);
        }
        self.missed += 1;
        let matrix = QMatrix::read(gguf, name)?;
        if let Some(writer) = &mut self.writer {
            if writer.append(name, &matrix).is_err() {
                self.writer = None;
            }
        }
        Ok(matrix)
    }

    /// Puts the written file in place. A file that lacked some matrix is
    /// removed, so the next load rebuilds it. Failing to write only costs
    /// the next load the repacking again.
    pub fn finish(self) {
        if let Some(writer) = self.writer {
            let _ = writer.finish();
        } else if self.missed > 0 {
            if let Some(path) = &self.path {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Maps `path` and checks its index against `origin` and `gguf`'s tensors;
/// `None` if anything is off.
fn read_index(path: &Path, origin: &Origin, gguf: &GgufFile) -> Option<HashMap<String, QMatrix>> {
    let file = File::open(path).ok()?;
    // SAFETY: repacked-weights files are never written in place (see the
    // module documentation), so the mapped bytes do not change.
    let map = Arc::new(unsafe { MmapOptions::new().map(&file) }.ok()?);
    let trailer = map.len().checked_sub(16)?;
    if &map[trailer + 8..] != MAGIC {
        return None;
    }
    let index_len = u64::from_le_bytes(map[trailer..trailer + 8].try_into().ok()?) as usize;
    let index_start = trailer.checked_sub(index_len)?;
    let index: Index = serde_json::from_slice(&map[index_start..trailer]).ok()?;
    if index.origin != *origin {
        return None;
    }
    let mut matrices = HashMap::with_capacity(index.matrices.len());
    for entry in index.matrices {
        let info = gguf.content.tensor_infos.get(&entry.name)?;
        let (rows, cols) = info.shape.dims2().ok()?;
        let codes = codes_from(&map, &entry.codes, rows, cols, index_start)?;
        let matrix = QMatrix {
            rows,
            cols,
            codes,
            source: info.ggml_dtype,
        };
        matrices.insert(entry.name, matrix);
    }
    let mapped = mapped_ranges(&matrices, index_start);
    if checksum_and_populate(&file, &map, index_start, &mapped)? != index.checksum {
        return None;
    }
    Some(matrices)
}

/// CRC-32 of the first `len` bytes of the file, computed in pieces on the
/// rayon pool and combined in order; on the way, the pages of the `mapped`
/// ranges are mapped in ([`mapped_ranges`]). A piece inside them is read
/// through the map once its pages are in (the forward pass needs them
/// mapped anyway, and reading them through the map copies nothing); a
/// piece outside them (an embedding's rows) is read with `pread` into one
/// buffer per thread, kept for the next load (8 MB per thread), so its
/// pages stay out of the process's memory. Reading every piece with
/// `pread` had made the 0.5B's checksum 130-150 ms, most of it copying.
fn checksum_and_populate(
    file: &File,
    map: &Mmap,
    len: usize,
    mapped: &[Range<usize>],
) -> Option<u32> {
    use rayon::prelude::*;
    use std::cell::RefCell;
    use std::os::unix::fs::FileExt;
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    let hashes: Vec<crc32fast::Hasher> = pieces(len, mapped)
        .par_iter()
        .map(|(piece, is_mapped)| {
            let mut hasher = crc32fast::Hasher::new();
            if *is_mapped {
                populate(map, piece.clone());
                hasher.update(&map[piece.clone()]);
                return Some(hasher);
            }
            BUFFER.with_borrow_mut(|buffer| {
                buffer.resize(CHECKSUM_PIECE, 0);
                let bytes = &mut buffer[..piece.len()];
                file.read_exact_at(bytes, piece.start as u64).ok()?;
                hasher.update(bytes);
                Some(hasher)
            })
        })
        .collect::<Option<_>>()?;
    let mut whole = crc32fast::Hasher::new();
    for piece in &hashes {
        whole.combine(piece);
    }
    Some(whole.finalize())
}

/// `0..len` cut at the edges of the `mapped` ranges (sorted, apart) and
/// into pieces of at most [`CHECKSUM_PIECE`] bytes, each marked with
/// whether it lies in a mapped range.
fn pieces(len: usize, mapped: &[Range<usize>]) -> Vec<(Range<usize>, bool)> {
    let mut stretches = Vec::new();
    let mut at = 0;
    for range in mapped.iter().filter(|r| !r.is_empty()) {
        if range.start > at {
            stretches.push((at..range.start, false));
        }
        stretches.push((range.clone(), true));
        at = range.end;
    }
    if len > at {
        stretches.push((at..len, false));
    }
    stretches
        .into_iter()
        .flat_map(|(stretch, is_mapped)| {
            stretch
                .clone()
                .step_by(CHECKSUM_PIECE)
                .map(move |start| (start..(start + CHECKSUM_PIECE).min(stretch.end), is_mapped))
        })
        .collect()
}

/// The ranges of the file whose pages are mapped in at load: every matrix
/// a forward pass reads whole (they are in the page cache after their
/// first use), which moves the page faults off the first forward pass. An
/// embedding with an output matrix of its own is only looked up row by
/// row: its pages are left to be mapped as rows are read, so they do not
/// count in the process's memory (Qwen2.5-Coder 0.5B's is 145 MB, of which
/// a prompt reads a few rows). Whole pages only, sorted and apart, all
/// before `end`.
fn mapped_ranges(matrices: &HashMap<String, QMatrix>, end: usize) -> Vec<Range<usize>> {
    let mut skipped = match (
        matrices.get("token_embd.weight"),
        matrices.contains_key("output.weight"),
    ) {
        (Some(embedding), true) => embedding.mapped_bytes(),
        _ => Vec::new(),
    };
    skipped.sort_unstable();
    let mut from = 0;
    let mut ranges = Vec::new();
    for (start, len) in skipped.into_iter().chain([(end, 0)]) {
        // Whole pages only: a page shared with a populated array is read anyway.
        let page_start = start / PAGE * PAGE;
        if page_start > from {
            ranges.push(from..page_start);
        }
        from = from.max((start + len).div_ceil(PAGE) * PAGE);
    }
    ranges
}

/// Maps in the pages of `range` (whole pages) now.
fn populate(map: &Mmap, range: Range<usize>) {
    #[cfg(target_os = "linux")]
    if map
        .advise_range(memmap2::Advice::PopulateRead, range.start, range.len())
        .is_ok()
    {
        return;
    }
    // Elsewhere, and on Linux before 5.14: read ahead instead.
    let _ = map.advise_range(memmap2::Advice::WillNeed, range.start, range.len());
}

/// The page size the map's ranges are rounded to (the smallest x86-64 page).
const PAGE: usize = 4096;

/// The arrays `spans` names, checked to be the sizes a `rows × cols` matrix
/// needs and to lie before `end`.
fn codes_from(
    map: &Arc<Mmap>,
    spans: &CodeSpans,
    rows: usize,
    cols: usize,
    end: usize,
) -> Option<Codes> {
    fn array<T: Plain>(map: &Arc<Mmap>, span: Span, len: usize, end: usize) -> Option<Stored<T>> {
        let offset = usize::try_from(span.offset).ok()?;
        let bytes = len.checked_mul(size_of::<T>())?;
        if span.len != len as u64 || offset.checked_add(bytes)? > end {
            return None;
        }
        Stored::mapped(map, offset, len)
    }
    fn factors(map: &Arc<Mmap>, span: &FactorSpan, count: usize, end: usize) -> Option<Factors> {
        // `PADDING` zeros follow a matrix's own factors (see `factors`).
        Some(match *span {
            FactorSpan::Half(span) => Factors::Half(array(map, span, count + PADDING, end)?),
            FactorSpan::Single(span) => Factors::Single(array(map, span, count + PADDING, end)?),
            FactorSpan::Scaled {
                multipliers,
                supers,
            } => Factors::Scaled {
                multipliers: array(map, multipliers, count + PADDING, end)?,
                supers: array(map, supers, 2 * count.div_ceil(PER_SUPER), end)?,
            },
        })
    }
    let weights = rows.checked_mul(cols)?;
    let blocks = weights / BLOCK;
    Some(match spans {
        CodeSpans::Nibbles {
            codes,
            factors: spans,
        } => Codes::Nibbles {
            codes: array(map, *codes, weights / 2, end)?,
            factors: factors(map, spans, 2 * blocks, end)?,
        },
        CodeSpans::Bytes {
            codes,
            scales,
            per_block,
        } => {
            if !matches!(per_block, 1 | 2) {
                return None;
            }
            Codes::Bytes {
                codes: array(map, *codes, weights, end)?,
                scales: factors(map, scales, per_block * blocks, end)?,
                per_block: *per_block,
            }
        }
        CodeSpans::Dense(values) => Codes::Dense(array(map, *values, weights, end)?),
    })
}

/// A repacked-weights file being written.
struct Writer {
    out: BufWriter<tempfile::NamedTempFile>,
    written: u64,
    /// CRC-32 of everything written so far.
    hasher: crc32fast::Hasher,
    target: PathBuf,
    index: Index,
}

impl Writer {
    fn new(target: &Path, origin: Origin) -> Option<Self> {
        let dir = target.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        remove_abandoned(dir);
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .ok()?;
        // Held until the file is renamed or this process ends: an unlocked
        // temporary has no writer.
        temp.as_file().try_lock().ok()?;
        Some(Self {
            out: BufWriter::with_capacity(1 << 20, temp),
            written: 0,
            hasher: crc32fast::Hasher::new(),
            target: target.to_path_buf(),
            index: Index {
                origin,
                checksum: 0,
                matrices: Vec::new(),
            },
        })
    }

    fn array<T: Plain>(&mut self, values: &Stored<T>) -> std::io::Result<Span> {
        let padding = self.written.next_multiple_of(ALIGN) - self.written;
        let zeros = &[0; ALIGN as usize][..padding as usize];
        self.out.write_all(zeros)?;
        self.hasher.update(zeros);
        self.written += padding;
        let span = Span {
            offset: self.written,
            len: values.len() as u64,
        };
        let bytes = values.as_bytes();
        self.out.write_all(bytes)?;
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        Ok(span)
    }

    fn factors(&mut self, factors: &Factors) -> std::io::Result<FactorSpan> {
        Ok(match factors {
            Factors::Half(values) => FactorSpan::Half(self.array(values)?),
            Factors::Single(values) => FactorSpan::Single(self.array(values)?),
            Factors::Scaled {
                multipliers,
                supers,
            } => FactorSpan::Scaled {
                multipliers: self.array(multipliers)?,
                supers: self.array(supers)?,
            },
        })
    }

    fn append(&mut self, name: &str, matrix: &QMatrix) -> std::io::Result<()> {
        let codes = match &matrix.codes {
            Codes::Nibbles { codes, factors } => CodeSpans::Nibbles {
                codes: self.array(codes)?,
                factors: self.factors(factors)?,
            },
            Codes::Bytes {
                codes,
                scales,
                per_block,
            } => CodeSpans::Bytes {
                codes: self.array(codes)?,
                scales: self.factors(scales)?,
                per_block: *per_block,
            },
            Codes::Dense(values) => CodeSpans::Dense(self.array(values)?),
        };
        self.index.matrices.push(Entry {
            name: name.to_string(),
            codes,
        });
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.index.checksum = self.hasher.clone().finalize();
        let index = serde_json::to_vec(&self.index)?;
        self.out.write_all(&index)?;
        self.out.write_all(&(index.len() as u64).to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        let temp = self.out.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_data()?;
        temp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Removes files in `dir` that a write abandoned: temporaries no process
/// holds locked (their writer was killed), past the instant a writer takes
/// between making its file and locking it.
fn remove_abandoned(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let old_enough = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > ABANDONED_AFTER);
        let unlocked = File::open(entry.path()).is_ok_and(|f| f.try_lock().is_ok());
        if old_enough && unlocked {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_file_in_order_cut_at_the_mapped_ranges() {
        let piece = CHECKSUM_PIECE;
        let len = 3 * piece + 12_345;
        let mapped = [
            PAGE..piece + 2 * PAGE,
            2 * piece..2 * piece,
            2 * piece + PAGE..len - 345,
        ];
        let pieces = pieces(len, &mapped);
        let mut at = 0;
        for (range, is_mapped) in &pieces {
            assert_eq!(range.start, at, "{pieces:?}");
            assert!(!range.is_empty() && range.len() <= piece);
            let inside = mapped
                .iter()
                .any(|m| m.start <= range.start && range.end <= m.end);
            assert_eq!(*is_mapped, inside, "{range:?}");
            at = range.end;
        }
        assert_eq!(at, len);
        // 0..PAGE, then the first mapped range in two pieces, the gap up to
        // the third in one, that range in two, and the tail.
        assert_eq!(pieces.len(), 7);
    }

    #[test]
    fn the_checksum_is_the_whole_files_whichever_parts_are_mapped() {
        let len = 2 * CHECKSUM_PIECE + 3 * PAGE + 17;
        let bytes: Vec<u8> = (0..len as u64)
            .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
            .collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        // SAFETY: the temporary file is not changed while it is mapped.
        let map = unsafe { MmapOptions::new().map(&file) }.unwrap();
        let whole = crc32fast::hash(&bytes);
        let all = 0..len / PAGE * PAGE;
        let two = [
            PAGE..CHECKSUM_PIECE + PAGE,
            CHECKSUM_PIECE + 2 * PAGE..len - 17 - PAGE,
        ];
        for mapped in [&[][..], std::slice::from_ref(&all), &two] {
            let checksum = checksum_and_populate(&file, &map, len, mapped);
            assert_eq!(checksum, Some(whole), "{mapped:?}");
        }
        // A shorter file than the index says: no checksum.
        assert_eq!(checksum_and_populate(&file, &map, len + 1, &[]), None);
    }
}
