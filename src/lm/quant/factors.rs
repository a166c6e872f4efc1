//! Per-block factors (the scales and offsets of the repacked layouts) in
//! as few bytes as keep every value exact.
//!
//! Every weight byte is read once per token and held for the whole run, so
//! bytes saved here are memory and memory traffic saved (the kernels
//! themselves are bound more by their instructions than by memory, so the
//! speed gained is small). GGUF's Q4_0, Q4_1, Q5_0 and Q8_0 store their
//! factors as f16, so a matrix whose factors are all exact f16 values keeps
//! them in 2 bytes, and the kernels widen them to f32 (exactly) as they go.
//! The k-quants' factors are products `d·sc` that f16 cannot hold, so they
//! are kept as the file keeps them: a small integer per factor and an f16
//! pair per super-block of 256 weights, multiplied (exactly) as the kernels
//! load them; 1.1 bytes per block where f32 took 8. Any other factors f16
//! cannot hold stay f32. The kernels compute with the same f32 values
//! whichever way they are kept, so the choice never changes a result.

use half::f16;

use super::stored::Stored;

/// Zeros after a matrix's last factor: a kernel loads eight factors at once
/// from any of a row's (the rest of the eight cut off), so no load runs
/// past the end.
pub(super) const PADDING: usize = 7;

/// Factors per super-block of [`Factors::Scaled`]: a k-quant's 256
/// weights are eight blocks of two factors each.
pub(super) const PER_SUPER: usize = 16;

/// A matrix's per-block factors, followed by [`PADDING`] zeros.
#[derive(Clone)]
pub(super) enum Factors {
    /// Every factor is exactly an f16.
    Half(Stored<f16>),
    Single(Stored<f32>),
    /// Factor `i` is `supers[2 s + i % 2] · multipliers[i]`, where
    /// `s = i / PER_SUPER` is its super-block: a Q4_K block's 6-bit scale
    /// and min times the super-block's `d` and `−dmin`, a Q6_K block's two
    /// 8-bit scales times `d` (kept twice). Each product has at most 11 + 8
    /// significant bits, so it is exact in f32. Rows start on a super-block.
    Scaled {
        multipliers: Stored<i8>,
        supers: Stored<f16>,
    },
}

/// One row's slice of [`Factors`]: the row's factors and the [`PADDING`]
/// after them (the next row's first, or zeros at the end).
#[derive(Clone, Copy)]
pub(super) enum FactorRow<'a> {
    Half(&'a [f16]),
    Single(&'a [f32]),
    /// The row's multipliers (and padding) and its super-blocks' pairs.
    Scaled {
        multipliers: &'a [i8],
        supers: &'a [f16],
    },
}

impl Factors {
    /// The mapped bytes the factors view, if they view a memory map.
    pub(super) fn mapped_bytes(&self) -> Vec<(usize, usize)> {
        match self {
            Factors::Half(values) => values.mapped_bytes().into_iter().collect(),
            Factors::Single(values) => values.mapped_bytes().into_iter().collect(),
            Factors::Scaled {
                multipliers,
                supers,
            } => multipliers
                .mapped_bytes()
                .into_iter()
                .chain(supers.mapped_bytes())
                .collect(),
        }
    }

    /// A k-quant matrix's factors (see [`Factors::Scaled`]): `multipliers`,
    /// one per factor, and `supers`, two per [`PER_SUPER`] factors.
    pub(super) fn scaled(mut multipliers: Vec<i8>, supers: Vec<f16>) -> Self {
        assert_eq!(supers.len(), 2 * multipliers.len().div_ceil(PER_SUPER));
        multipliers.resize(multipliers.len() + PADDING, 0);
        Factors::Scaled {
            multipliers: multipliers.into(),
            supers: supers.into(),
        }
    }

    /// Stores `values` as f16 when every one of them converts back exactly.
    pub(super) fn new(mut values: Vec<f32>) -> Self {
        let exact = values.iter().all(|&v| {
            let h = f16::from_f32(v);
            h.to_f32().to_bits() == v.to_bits()
        });
        values.resize(values.len() + PADDING, 0.0);
        if exact {
            let halves: Vec<f16> = values.iter().map(|&v| f16::from_f32(v)).collect();
            Factors::Half(halves.into())
        } else {
            Factors::Single(values.into())
        }
    }

    pub(super) fn size_in_bytes(&self) -> usize {
        match self {
            Factors::Half(values) => 2 * values.len(),
            Factors::Single(values) => 4 * values.len(),
            Factors::Scaled {
                multipliers,
                supers,
            } => multipliers.len() + 2 * supers.len(),
        }
    }

    /// Every factor (and the zeros at the end), to cut rows from with
    /// [`FactorRow::slice`].
    pub(super) fn whole(&self) -> FactorRow<'_> {
        match self {
            Factors::Half(values) => FactorRow::Half(values),
            Factors::Single(values) => FactorRow::Single(values),
            Factors::Scaled {
                multipliers,
                supers,
            } => FactorRow::Scaled {
                multipliers,
                supers,
            },
        }
    }

    #[cfg(test)]
    pub(super) fn is_half(&self) -> bool {
        matches!(self, Factors::Half(_))
    }
}

impl FactorRow<'_> {
    /// Factor `i` as f32 (exact either way).
    pub(super) fn get(self, i: usize) -> f32 {
        assert!(i < self.len());
        match self {
            FactorRow::Half(values) => values[i].to_f32(),
            FactorRow::Single(values) => values[i],
            FactorRow::Scaled {
                multipliers,
                supers,
            } => supers[2 * (i / PER_SUPER) + i % 2].to_f32() * multipliers[i] as f32,
        }
    }

    /// Factors `range` of these (and the [`PADDING`] after them).
    pub(super) fn slice(self, range: std::ops::Range<usize>) -> Self {
        let padded = range.start..range.end + PADDING;
        match self {
            FactorRow::Half(values) => FactorRow::Half(&values[padded]),
            FactorRow::Single(values) => FactorRow::Single(&values[padded]),
            FactorRow::Scaled {
                multipliers,
                supers,
            } => {
                assert!(
                    range.start.is_multiple_of(PER_SUPER),
                    "rows start on a super-block"
                );
                FactorRow::Scaled {
                    multipliers: &multipliers[padded],
                    supers: &supers[2 * (range.start / PER_SUPER)..],
                }
            }
        }
    }

    /// Factors in the row.
    pub(super) fn len(self) -> usize {
        match self {
            FactorRow::Half(values) => values.len() - PADDING,
            FactorRow::Single(values) => values.len() - PADDING,
            FactorRow::Scaled { multipliers, .. } => multipliers.len() - PADDING,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_halves_are_kept_in_two_bytes_and_widen_to_the_same_values() {
        let values = [0.5, -0.000_123_4_f32, 3.0, 65504.0];
        let exact: Vec<f32> = values.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
        let factors = Factors::new(exact.clone());
        assert!(factors.is_half());
        assert_eq!(
            factors.size_in_bytes(),
            22,
            "four f16 and the seven zeros after them"
        );
        let row = factors.whole().slice(1..4);
        assert_eq!((0..3).map(|i| row.get(i)).collect::<Vec<_>>(), &exact[1..4]);
    }

    #[test]
    fn values_f16_cannot_hold_stay_f32() {
        let factors = Factors::new(vec![0.5, 0.1]);
        assert!(!factors.is_half());
        assert_eq!(
            [
                factors.whole().slice(0..2).get(0),
                factors.whole().slice(0..2).get(1)
            ],
            [0.5, 0.1]
        );
    }
}
