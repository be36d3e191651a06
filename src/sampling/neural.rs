//! Abstract neural sampling (Buesing, Bill, Nessler & Maass, PLoS Comput. Biol. 2011) and exact
//! Gibbs sampling, in discrete time, over a batch of independent chains.
//!
//! Each unit k has a refractory counter ζ_k ∈ {0, …, τ} and is on (z_k = 1) while ζ_k ≥ 1. Its
//! membrane potential is u_k = b_k + Σ_j W_kj z_j (rectangular PSPs of height W_kj lasting τ
//! steps). When unit k is updated:
//! - if ζ_k ≤ 1 it fires with probability σ(u_k − ln τ); a spike sets ζ_k ← τ,
//! - otherwise (or without a spike) ζ_k ← max(ζ_k − 1, 0).
//!
//! The −ln τ makes the time spent on vs off match the log-odds: τ steps on, on average (1 − q)/q
//! off, so P(on)/P(off) = τq/(1 − q) = e^u. With τ = 1 a unit fires, and is on, with probability
//! σ(u) at every update: this is Gibbs sampling ([`NeuralSampler::gibbs`]).
//!
//! The sampler is exact when units are updated one after another ([`UpdateOrder::RandomScan`],
//! [`UpdateOrder::Sequential`]). [`UpdateOrder::Synchronous`] updates all units from the same old
//! state: **biased** for coupled units, the more the smaller τ (measured in
//! `tests/sampling_quality.rs` and BENCHMARKS.md); it is offered for comparison with hardware that
//! updates in parallel.
//!
//! Bipartite networks (RBMs) can update a whole layer at once exactly (a layer-wise sweep).

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::boltzmann::BoltzmannMachine;
use super::sampler::Sampler;

/// The order in which a step visits the units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateOrder {
    /// Every step visits all units one after another in a fresh random order (exact).
    RandomScan,
    /// Every step visits units 0, 1, …, K − 1 one after another (exact).
    Sequential,
    /// Every step updates all units from the previous step's state (biased when units are
    /// coupled; see the module docs).
    Synchronous,
}

/// One chain: counters, states, membrane potentials and its own random stream.
#[derive(Debug, Clone)]
struct Chain {
    zeta: Vec<u32>,
    z: Vec<u8>,
    /// u_k = b_k + Σ_j W_kj z_j, kept up to date as states change.
    u: Vec<f64>,
    rng: SmallRng,
    order: Vec<usize>,
    /// Units whose state changed in a synchronous step.
    changed: Vec<usize>,
}

/// Abstract neural sampling (or, with τ = 1, Gibbs sampling) from a [`BoltzmannMachine`], with
/// one independent chain per batch entry. Create with [`NeuralSampler::new`].
#[derive(Debug, Clone)]
pub struct NeuralSampler {
    bm: BoltzmannMachine,
    tau: u32,
    log_tau: f64,
    order: UpdateOrder,
    chains: Vec<Chain>,
    steps: u64,
}

/// Steps between exact recomputations of the membrane potentials (against rounding drift of the
/// incremental updates).
const REFRESH_EVERY: u64 = 4096;

impl NeuralSampler {
    /// `chains` chains with refractory time `tau` steps, started from all units off (ζ = 0)
    /// with independent random streams derived from `seed`.
    ///
    /// # Panics
    /// If `tau` is 0 or `chains` is 0.
    pub fn new(
        bm: BoltzmannMachine,
        tau: u32,
        order: UpdateOrder,
        chains: usize,
        seed: u64,
    ) -> Self {
        assert!(tau >= 1, "the refractory time must be at least one step");
        assert!(chains >= 1, "at least one chain");
        let k = bm.units();
        let mut seeder = SmallRng::seed_from_u64(seed);
        let chains = (0..chains)
            .map(|_| Chain {
                zeta: vec![0; k],
                z: vec![0; k],
                u: bm.b.clone(),
                rng: SmallRng::seed_from_u64(seeder.random()),
                order: (0..k).collect(),
                changed: Vec::with_capacity(k),
            })
            .collect();
        Self { log_tau: (tau as f64).ln(), bm, tau, order, chains, steps: 0 }
    }

    /// The exact Gibbs sampler: τ = 1, so every update sets z_k = 1 with probability σ(u_k)
    /// (random-scan or sequential order; synchronous Gibbs is not a correct sampler).
    pub fn gibbs(bm: BoltzmannMachine, order: UpdateOrder, chains: usize, seed: u64) -> Self {
        Self::new(bm, 1, order, chains, seed)
    }

    /// The refractory time τ, steps.
    pub fn tau(&self) -> u32 {
        self.tau
    }

    /// The target machine.
    pub fn machine(&self) -> &BoltzmannMachine {
        &self.bm
    }

    /// Replaces the machine and keeps the chains' states (persistent chains for learning).
    ///
    /// # Panics
    /// If the new machine has a different number of units.
    pub fn set_machine(&mut self, bm: BoltzmannMachine) {
        assert_eq!(bm.units(), self.bm.units(), "the new machine must have the same units");
        self.bm = bm;
        let bm = &self.bm;
        self.chains.iter_mut().for_each(|c| c.refresh(bm));
    }

    /// Counters ζ of one chain (on while ≥ 1).
    pub fn counters(&self, chain: usize) -> &[u32] {
        &self.chains[chain].zeta
    }
}

/// One update of unit k: the counter rule of the module docs. Returns whether z_k changed.
#[inline]
fn update_unit(
    zeta: &mut u32,
    z: &mut u8,
    u: f64,
    tau: u32,
    log_tau: f64,
    rng: &mut SmallRng,
) -> bool {
    if *zeta <= 1 {
        let q = 1.0 / (1.0 + (log_tau - u).exp());
        if rng.random::<f64>() < q {
            *zeta = tau;
        } else {
            *zeta = 0;
        }
    } else {
        *zeta -= 1;
    }
    let new = (*zeta >= 1) as u8;
    let changed = new != *z;
    *z = new;
    changed
}

/// Adds ±column j of W to the potentials after unit j turned on (+) or off (−).
#[inline]
fn propagate(u: &mut [f64], w: &[f64], k: usize, j: usize, on: bool) {
    let row = &w[j * k..(j + 1) * k]; // W is symmetric: row j = column j
    if on {
        u.iter_mut().zip(row).for_each(|(u, w)| *u += w);
    } else {
        u.iter_mut().zip(row).for_each(|(u, w)| *u -= w);
    }
}

impl Chain {
    /// Updates unit `j` from its current potential; returns whether its state changed.
    fn update(&mut self, j: usize, tau: u32, log_tau: f64) -> bool {
        let u = self.u[j];
        update_unit(&mut self.zeta[j], &mut self.z[j], u, tau, log_tau, &mut self.rng)
    }

    fn step(&mut self, bm: &BoltzmannMachine, tau: u32, log_tau: f64, order: UpdateOrder) {
        let k = bm.units();
        if order == UpdateOrder::RandomScan {
            self.order.shuffle(&mut self.rng);
        }
        self.changed.clear();
        for idx in 0..k {
            let j = if order == UpdateOrder::RandomScan { self.order[idx] } else { idx };
            if self.update(j, tau, log_tau) {
                if order == UpdateOrder::Synchronous {
                    // Later units of this step still see the old state.
                    self.changed.push(j);
                } else {
                    propagate(&mut self.u, &bm.w, k, j, self.z[j] == 1);
                }
            }
        }
        for idx in 0..self.changed.len() {
            let j = self.changed[idx];
            propagate(&mut self.u, &bm.w, k, j, self.z[j] == 1);
        }
    }

    fn refresh(&mut self, bm: &BoltzmannMachine) {
        for (k, u) in self.u.iter_mut().enumerate() {
            *u = bm.log_odds(k, &self.z);
        }
    }
}

impl Sampler for NeuralSampler {
    fn units(&self) -> usize {
        self.bm.units()
    }

    fn chains(&self) -> usize {
        self.chains.len()
    }

    fn dt(&self) -> f64 {
        1.0
    }

    fn step(&mut self) {
        let (bm, tau, log_tau, order) = (&self.bm, self.tau, self.log_tau, self.order);
        self.steps += 1;
        let refresh = self.steps.is_multiple_of(REFRESH_EVERY);
        let work = |c: &mut Chain| {
            c.step(bm, tau, log_tau, order);
            if refresh {
                c.refresh(bm);
            }
        };
        // Threads pay off only when a step has enough work to share.
        if self.chains.len() > 1 && self.chains.len() * bm.units() >= 4096 {
            self.chains.par_iter_mut().for_each(work);
        } else {
            self.chains.iter_mut().for_each(work);
        }
    }

    fn state(&self, chain: usize) -> &[u8] {
        &self.chains[chain].z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::quality::StateHistogram;
    use crate::sampling::sampler::record;

    /// A single unit with bias b: it is on for τ steps after each spike and then fires with
    /// q = σ(b − ln τ) per step, so p(on) = τq / (τq + 1 − q) = σ(b).
    #[test]
    fn single_unit_is_on_with_probability_sigma_b() {
        for tau in [1, 5, 20] {
            let bm = BoltzmannMachine::new(vec![0.0], vec![0.7]);
            let mut s = NeuralSampler::new(bm, tau, UpdateOrder::RandomScan, 8, 1);
            let h = record(&mut s, 100, 50_000, &[], |_, _| {});
            let p = h.distribution(0.0)[1];
            let want = 1.0 / (1.0 + (-0.7f64).exp());
            assert!((p - want).abs() < 0.01, "tau {tau}: p(on) {p} vs {want}");
        }
    }

    /// The counter rule, step by step: τ = 3, a unit that always fires (u = +∞ in effect) is on
    /// for 3 steps and fires again on the step its counter is 1.
    #[test]
    fn counter_rule_by_hand() {
        let mut rng = SmallRng::seed_from_u64(0);
        let (mut zeta, mut z) = (0u32, 0u8);
        let mut trace = vec![];
        for _ in 0..6 {
            update_unit(&mut zeta, &mut z, 1e9, 3, 3f64.ln(), &mut rng);
            trace.push(zeta);
        }
        // fires at once (3), counts down 2, 1, fires again at 1 → 3.
        assert_eq!(trace, vec![3, 2, 1, 3, 2, 1]);
        // A unit that never fires: counter falls to 0 and stays.
        let (mut zeta, mut z) = (2u32, 1u8);
        update_unit(&mut zeta, &mut z, -1e9, 3, 3f64.ln(), &mut rng);
        update_unit(&mut zeta, &mut z, -1e9, 3, 3f64.ln(), &mut rng);
        assert_eq!((zeta, z), (0, 0));
    }

    /// Incremental potentials equal the exact log-odds of the current state.
    #[test]
    fn potentials_track_the_state() {
        let mut rng = SmallRng::seed_from_u64(5);
        let bm = BoltzmannMachine::random(6, 1.0, 1.0, &mut rng);
        for order in [UpdateOrder::RandomScan, UpdateOrder::Synchronous] {
            let mut s = NeuralSampler::new(bm.clone(), 4, order, 3, 2);
            for _ in 0..500 {
                s.step();
            }
            for c in &s.chains {
                for k in 0..6 {
                    assert!((c.u[k] - bm.log_odds(k, &c.z)).abs() < 1e-9);
                }
            }
        }
        let _ = StateHistogram::new(1);
    }
}
