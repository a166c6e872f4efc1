//! Which kernel runs (AVX-512 VNNI, AVX-VNNI, AVX2 or the portable loop,
//! chosen once from the CPU's features) and the dispatch of a matrix's rows
//! × activation rows to it: one row or two at a time for one token, a quad
//! (or with AVX-512 an octet) of tokens per row for several.

use super::activations::{QuantizedQuad, QuantizedRow};
#[cfg(target_arch = "x86_64")]
use super::avx2;
#[cfg(target_arch = "x86_64")]
use super::avx512::{self, QuantizedOctet};
use super::{portable, RowCodes};

/// A batch's activation rows as the kernels for several tokens read them:
/// four at a time, and for the AVX-512 kernel those quads two at a time.
/// Empty for a single token, and for the portable kernel.
pub(super) struct Batches<'a> {
    quads: Vec<QuantizedQuad<'a>>,
    #[cfg(target_arch = "x86_64")]
    octets: Vec<QuantizedOctet>,
}

impl<'a> Batches<'a> {
    /// `rows` interleaved for `kernel`, for matrices with two scales per
    /// block too if `halves` (Q6_K's), built in parallel with `parallel`.
    pub(super) fn new(
        kernel: Kernel,
        rows: &'a [QuantizedRow],
        halves: bool,
        parallel: bool,
    ) -> Self {
        let quads = match kernel {
            Kernel::Portable => Vec::new(),
            #[cfg(target_arch = "x86_64")]
            _ => QuantizedQuad::each(rows, parallel),
        };
        Self {
            #[cfg(target_arch = "x86_64")]
            octets: match kernel {
                Kernel::Avx512Vnni => QuantizedOctet::each(&quads, halves, parallel),
                _ => Vec::new(),
            },
            quads,
        }
    }

    fn is_empty(&self) -> bool {
        self.quads.is_empty()
    }
}

/// Rows `first..` of a matrix's codes (`all`, rows of `cols` weights) times
/// each quantized activation row, into `out` (`rows × tokens`); `batches`
/// are those rows as [`Batches::new`] built them for `kernel`. Every
/// (row, token) pair gets the same arithmetic however the kernel groups
/// them, so the grouping never changes a bit: each quad (or octet) of
/// tokens meets a row at once (the last filled up with copies), and a
/// single token alone (`batches` is then empty). A single token meets
/// two rows at a time in every SIMD kernel: two independent chains keep the
/// CPU busier, and two streams of weights in flight keep memory busier (a
/// decoded token reads every weight once). With AVX-VNNI, one row at a time
/// had decoded 6–20 % slower on all four catalogue models.
pub(super) fn dot_rows_each(
    kernel: Kernel,
    all: RowCodes,
    cols: usize,
    first: usize,
    xs: &[QuantizedRow],
    batches: &Batches,
    out: &mut [f32],
) {
    let tokens = xs.len();
    let row = |i: usize| all.row(first + i, cols);
    let mut rows_in_pairs = 0;
    #[cfg(target_arch = "x86_64")]
    if tokens == 1 && kernel != Kernel::Portable {
        // Resolved once here, not once per pair of rows.
        let single = kernel.for_one_token();
        for (i, two) in out.chunks_exact_mut(2).enumerate() {
            two.copy_from_slice(&simd_dot(single, [row(2 * i), row(2 * i + 1)], &xs[0]));
        }
        rows_in_pairs = out.len() / 2 * 2;
    }
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Portable && !batches.is_empty() {
        // The batches hold every token (the last filled up with copies).
        let rows: Vec<RowCodes> = (0..out.len() / tokens).map(row).collect();
        simd_quads(kernel, &rows, batches, out, tokens);
        return;
    }
    for (i, row_out) in out.chunks_exact_mut(tokens).enumerate().skip(rows_in_pairs) {
        let codes = row(i);
        for (x, value) in xs.iter().zip(row_out) {
            *value = dot(kernel, codes, x);
        }
    }
}

/// R weight rows times one activation row in an AVX2 kernel.
#[cfg(target_arch = "x86_64")]
pub(super) fn simd_dot<const R: usize>(
    kernel: Kernel,
    rows: [RowCodes; R],
    x: &QuantizedRow,
) -> [f32; R] {
    // SAFETY: `detect` only chooses a kernel the CPU has the features of.
    unsafe {
        match kernel.for_one_token() {
            Kernel::AvxVnni => avx2::vnni::dot_rows(rows, x),
            _ => avx2::plain::dot_rows(rows, x),
        }
    }
}

/// Weight rows times batches of activation rows in a SIMD kernel (row
/// `i`'s values at `out[i * tokens..]`).
#[cfg(target_arch = "x86_64")]
pub(super) fn simd_quads(
    kernel: Kernel,
    rows: &[RowCodes],
    batches: &Batches,
    out: &mut [f32],
    tokens: usize,
) {
    let mut scratch = Vec::new();
    let quads = &batches.quads;
    // SAFETY: `detect` only chooses a kernel the CPU has the features of.
    unsafe {
        match kernel {
            Kernel::Avx512Vnni => {
                avx512::dot_octets(rows, &mut scratch, &batches.octets, out, tokens)
            }
            Kernel::AvxVnni => avx2::vnni::dot_quads(rows, &mut scratch, quads, out, tokens),
            _ => avx2::plain::dot_quads(rows, &mut scratch, quads, out, tokens),
        }
    }
}

/// One weight row times one quantized activation row.
pub(super) fn dot(kernel: Kernel, codes: RowCodes, x: &QuantizedRow) -> f32 {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 | Kernel::AvxVnni | Kernel::Avx512Vnni => simd_dot(kernel, [codes], x)[0],
        Kernel::Portable => portable::dot(codes, x),
    }
}

/// Which implementation of the block kernels this CPU runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// 256-bit integer kernels (x86-64 with AVX2, FMA and F16C).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// The same kernels with AVX-VNNI's fused byte dot product (same bits).
    #[cfg(target_arch = "x86_64")]
    AvxVnni,
    /// For several tokens, 512-bit kernels with AVX-512 VNNI's byte dot
    /// product; for one, the AVX-VNNI kernels where the CPU has them, else
    /// the AVX2 ones (same bits).
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
    /// Plain Rust loops, for every CPU.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU supports. `DETPROB_KERNEL=portable` forces
    /// the portable one (for comparisons); `DETPROB_KERNEL=avx2` keeps to the
    /// AVX2 kernels on a CPU that has more, `DETPROB_KERNEL=avx-vnni` to the
    /// 256-bit ones.
    pub fn detect() -> Self {
        use std::sync::OnceLock;
        static CHOSEN: OnceLock<Kernel> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let forced = std::env::var("DETPROB_KERNEL").unwrap_or_default();
            let forced = |name: &str| forced.eq_ignore_ascii_case(name);
            #[cfg(target_arch = "x86_64")]
            if !forced("portable")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("f16c")
            {
                if forced("avx2") {
                    return Kernel::Avx2;
                }
                if !forced("avx-vnni")
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vnni")
                {
                    return Kernel::Avx512Vnni;
                }
                if is_x86_feature_detected!("avxvnni") {
                    return Kernel::AvxVnni;
                }
                return Kernel::Avx2;
            }
            let _ = forced;
            Kernel::Portable
        })
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kernel::AvxVnni => "avx-vnni",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => "avx512-vnni",
            Kernel::Portable => "portable",
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Kernel {
    /// The kernel a single token runs: AVX-512 brings nothing there (the
    /// weights are read once, and a row meets one activation row).
    fn for_one_token(self) -> Kernel {
        use std::sync::OnceLock;
        static AVX_VNNI: OnceLock<bool> = OnceLock::new();
        match self {
            Kernel::Avx512Vnni if *AVX_VNNI.get_or_init(|| is_x86_feature_detected!("avxvnni")) => {
                Kernel::AvxVnni
            }
            Kernel::Avx512Vnni => Kernel::Avx2,
            other => other,
        }
    }
}
