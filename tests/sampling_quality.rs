//! D_KL(p* ‖ p̂) of the abstract samplers against exact enumeration, on random 5-unit Boltzmann
//! machines drawn as in the sbs package (W = (A + Aᵀ)/2, A_ij, b_i ~ N(0, 1)).
//!
//! Reference (design notes, sampling.md §8, an independent NumPy re-implementation; one chain,
//! median of 5 seeds): random-scan τ = 20 ≈ 8·10⁻³ after 10⁴ steps and ≈ 4.5·10⁻⁴ after
//! 2·10⁵; Gibbs ≈ 1.5·10⁻³ and ≈ 9.5·10⁻⁵; synchronous τ = 20 plateaus at ≈ 1.75·10⁻³,
//! synchronous τ = 3 at ≈ 3·10⁻².

use rand::SeedableRng;
use rand::rngs::SmallRng;
use spikeburn::sampling::{BoltzmannMachine, NeuralSampler, UpdateOrder, dkl_trace};

const CHECKPOINTS: [usize; 3] = [10_000, 50_000, 200_000];

/// D_KL at the checkpoints for seeds 0..5, then the median per checkpoint.
fn median_trace(tau: u32, order: UpdateOrder) -> [f64; 3] {
    let mut per_seed: Vec<[f64; 3]> = (0..5)
        .map(|seed| {
            let mut rng = SmallRng::seed_from_u64(1000 + seed);
            let bm = BoltzmannMachine::random(5, 1.0, 1.0, &mut rng);
            let target = bm.exact_distribution();
            let mut s = NeuralSampler::new(bm, tau, order, 1, seed);
            let t = dkl_trace(&mut s, &target, 1000, &CHECKPOINTS, 1.0);
            [t[0].1, t[1].1, t[2].1]
        })
        .collect();
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        per_seed.sort_by(|a, b| a[i].total_cmp(&b[i]));
        *o = per_seed[2][i];
    }
    println!("tau {tau} {order:?}: {:.2e} {:.2e} {:.2e}", out[0], out[1], out[2]);
    out
}

#[test]
fn exact_samplers_fall_like_one_over_t() {
    let rs20 = median_trace(20, UpdateOrder::RandomScan);
    let rs3 = median_trace(3, UpdateOrder::RandomScan);
    let gibbs = median_trace(1, UpdateOrder::RandomScan);
    for (name, t) in [("random-scan τ=20", rs20), ("random-scan τ=3", rs3), ("Gibbs", gibbs)] {
        // 20× the time: D_KL falls by about 20 (at least 8, allowing for the noise of 5 seeds).
        assert!(t[0] / t[2] > 8.0, "{name}: {t:?} does not fall like 1/T");
    }
    // Within a factor 2.5 of the reference medians at 2·10⁵ steps.
    assert!((4.5e-4 / 2.5..4.5e-4 * 2.5).contains(&rs20[2]), "τ=20: {rs20:?}");
    assert!((9.5e-5 / 2.5..9.5e-5 * 2.5).contains(&gibbs[2]), "Gibbs: {gibbs:?}");
    // Ordering: Gibbs mixes fastest, then short, then long refractory times.
    assert!(gibbs[2] < rs3[2] && rs3[2] < rs20[2]);
}

#[test]
fn synchronous_updates_are_biased() {
    let sync20 = median_trace(20, UpdateOrder::Synchronous);
    let sync3 = median_trace(3, UpdateOrder::Synchronous);
    let exact20 = median_trace(20, UpdateOrder::Sequential);
    // A plateau: the last 4× of time gains little, and it stays far above the exact sampler.
    assert!(sync3[1] / sync3[2] < 2.0, "τ=3 synchronous should plateau: {sync3:?}");
    assert!(sync3[2] > 1e-2, "τ=3 synchronous bias: {sync3:?}");
    assert!(sync20[2] > 2.0 * exact20[2], "τ=20: {sync20:?} vs exact {exact20:?}");
    assert!(sync3[2] > 5.0 * sync20[2], "bias grows as τ shrinks");
}
