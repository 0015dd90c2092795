//! Which matrix kernels tract may choose, where its own choice is measured
//! wrong.
//!
//! tract picks a kernel for each matrix product from a cost model fitted on
//! one CPU per vendor: its AMD AVX-512 model on a Ryzen 9 9950X3D, whose
//! cores run 512-bit FMAs at full width. On a core with a single 512-bit
//! FMA port (tract's own probe, `avx512_fma_units`, measures it: AMD Zen 4,
//! Intel's client AVX-512 parts), that model picks the 16-row tiles 16×12 and
//! 16×8 for products of 128 columns, and they run this model's products
//! about a fifth slower than the 32×6, 32×5, 48×4 or AVX2 16×6 tiles. On the
//! AMD EPYC these numbers come from, one thread, MiniLM-L6 with its heads
//! (`tract-profile model.onnx 2 64 64`): 2 rows of 64 wordpieces ran at
//! 2,370 wordpieces/s with tract's picks (16×12 for every product) and at
//! 2,870–2,980 with any of the others; 1 and 4 rows, where tract already
//! picks 32×6, were unchanged (2,690 and 3,000).
//!
//! So on such a core the tier registered here takes those two tiles out of
//! the choice and asks tract's own tiers to choose among the rest.
//! `TRACT_AVX512_FMA_UNITS=2` (tract's knob for its probe) turns it off.
//!
//! On a core without AVX-512 (an AVX2+FMA i3/i5), tract runs products of
//! fewer than ≈ 48 columns on the 8×8 tile and longer ones on 16×6. Each
//! tile packs the weights its own way, so the plan of a short row (16 or
//! 32 wordpieces: a service's few sentences, one short document) packed
//! every weight a second time (≈ 50 MB) where the plans of longer rows
//! share one packing. There a second tier runs every f32 product on 16×6:
//! the same speed (`tract-profile model.onnx 1 16`: 10.7 ms a run against
//! 11.4; 1×32 and 1×64, 4×64 equal within the noise of ±4 %), the same
//! values bit for bit on the UD EWT dev sentences, and one packing for
//! every plan (`--batch-docs 4` on those sentences: peak 252 MB against
//! 304).
//!
//! Both tiers are registered for the whole process (tract's tiers are a
//! global registry) and never apply on the same core.

use tract_linalg::isa::{Arch, Isa, IsaSet};
use tract_linalg::mmm::{Query, Suitable, suitable_named};
use tract_linalg::mmm_tiers::{self, MmmTier};
use tract_linalg::x86_64::fma_width::avx512_fma_units;
use tract_onnx::prelude::{DatumType, tract_linalg};
use tract_onnx::tract_core::internal::inventory;

/// The tier's name in tract's dispatch ladder (and its debug log).
const NAME: &str = "edgemine: no 16x8 or 16x12 f32 tiles with one 512-bit FMA port";

/// Above every tier tract declares for x86-64 (the highest is 8), so it is
/// asked first; below it, tract's own tiers decide as they always do.
const PRECEDENCE: u8 = 32;

/// The tiles left out on single-port cores.
const SLOW_ON_ONE_PORT: [&str; 2] = ["avx512_mmm_f32_16x8", "avx512_mmm_f32_16x12"];

/// The second tier's name.
const ONE_TILE: &str = "edgemine: every f32 product on the 16x6 tile without AVX-512";

/// The AVX2+FMA tile tract picks itself for products of 48 columns and more.
const AVX2_TILE: &str = "fma_mmm_f32_16x6";

inventory::submit! {
    MmmTier { arch: Some(Arch::X86_64), precedence: PRECEDENCE, name: NAME, applies, preferred }
}

inventory::submit! {
    MmmTier {
        arch: Some(Arch::X86_64),
        precedence: PRECEDENCE,
        name: ONE_TILE,
        applies: applies_one_tile,
        preferred: one_tile,
    }
}

/// The rule this module adds to tract's kernel choice on this CPU (under
/// `TRACT_CPU_ISA`, as tract sees it), if one applies: for the benchmarks
/// that report it (`internals`).
#[cfg(feature = "internals")]
pub fn active_rule() -> Option<&'static str> {
    let isa = tract_linalg::isa::native();
    if applies(&isa) {
        Some(NAME)
    } else if applies_one_tile(&isa) {
        Some(ONE_TILE)
    } else {
        None
    }
}

/// Cores with AVX-512 whose 512-bit FMAs issue from a single port.
fn applies(isa: &IsaSet) -> bool {
    isa.has(Isa::X86_64Avx512f) && avx512_fma_units() == 1
}

/// tract's choice among the suitable kernels less the two tiles; no opinion
/// (tract's tiers then choose among all of them) for anything but f32
/// products or when neither tile is suitable.
fn preferred(isa: &IsaSet, accumulator: DatumType, query: &Query, suitable: &[Suitable]) -> Option<&'static str> {
    if accumulator != DatumType::F32 || !suitable.iter().any(|(k, _, _)| SLOW_ON_ONE_PORT.contains(&k.name())) {
        return None;
    }
    let rest: Vec<Suitable> =
        suitable.iter().filter(|(k, _, _)| !SLOW_ON_ONE_PORT.contains(&k.name())).cloned().collect();
    mmm_tiers::for_isa(isa).into_iter().filter(|tier| tier.name != NAME).find_map(|tier| {
        let name = (tier.preferred)(isa, accumulator, query, &rest)?;
        suitable_named(&rest, name).map(|_| name)
    })
}

/// Cores whose best f32 tiles are the AVX2+FMA ones.
fn applies_one_tile(isa: &IsaSet) -> bool {
    isa.has(Isa::X86_64Fma) && !isa.has(Isa::X86_64Avx512f)
}

/// The 16×6 tile for every f32 product it can run; no opinion otherwise.
fn one_tile(_isa: &IsaSet, accumulator: DatumType, _query: &Query, suitable: &[Suitable]) -> Option<&'static str> {
    (accumulator == DatumType::F32 && suitable_named(suitable, AVX2_TILE).is_some()).then_some(AVX2_TILE)
}

#[cfg(test)]
mod tests {
    use tract_linalg::MmmDispatch;

    use super::*;

    /// The kernel the process runs for a product of `m`×`k` by `k`×`n`.
    fn chosen(m: usize, k: usize, n: usize) -> String {
        let kernel = MmmDispatch::native().preferred_kernel(DatumType::F32, Some(m), Some(k), Some(n));
        kernel.map(|k| k.name().to_string()).unwrap_or_default()
    }

    #[test]
    fn single_port_avx512_cores_never_run_the_wide_16_row_tiles() {
        let one_port = applies(&tract_linalg::isa::native());
        // The model's products (feed-forward, projections, attention) at the
        // batch widths the engine plans: 64, 128, 256 wordpieces.
        for (m, k) in [(1536, 384), (384, 1536), (384, 384), (64, 32)] {
            for n in [64, 128, 256] {
                let kernel = chosen(m, k, n);
                assert!(!kernel.is_empty(), "a kernel for {m}x{k}x{n}");
                if one_port {
                    assert!(!SLOW_ON_ONE_PORT.contains(&kernel.as_str()), "{kernel} chosen for {m}x{k}x{n}");
                }
            }
        }
    }

    #[test]
    fn without_avx512_every_row_length_runs_one_tile() {
        if !applies_one_tile(&tract_linalg::isa::native()) {
            return;
        }
        // Rows of 16 to 256 wordpieces: tract alone runs those under 48 on 8×8.
        for (m, k) in [(1536, 384), (384, 1536), (384, 384), (6528, 128)] {
            for n in [16, 24, 32, 40, 48, 64, 256] {
                assert_eq!(chosen(m, k, n), AVX2_TILE, "{m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn the_tier_leaves_other_products_to_tract() {
        let isa = tract_linalg::isa::native();
        let query = Query::plain(DatumType::I32, Some(256), Some(384), Some(128));
        let suitable = MmmDispatch::native().suitable(&query);
        assert_eq!(preferred(&isa, DatumType::I32, &query, &suitable), None, "integer products are tract's");
        let query = Query::plain(DatumType::F32, Some(256), Some(384), Some(128));
        let without: Vec<Suitable> = MmmDispatch::native()
            .suitable(&query)
            .into_iter()
            .filter(|(k, _, _)| !SLOW_ON_ONE_PORT.contains(&k.name()))
            .collect();
        assert_eq!(preferred(&isa, DatumType::F32, &query, &without), None, "nothing to take out");
    }
}
