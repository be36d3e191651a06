//! The interface every sampler shares, and the drivers that record what samplers visit.

use super::boltzmann::pack;
use super::quality::StateHistogram;

/// A batch of independent (or, for deterministic ensembles, mutually driving) chains that each
/// hold a binary state of [`Sampler::units`] units and advance in equal time steps.
///
/// The state z_k of a neural sampler is 1 while unit k is refractory after a spike; every step's
/// state counts with the same weight (one step of [`Sampler::dt`] ms), so histograms of the
/// states are time-weighted.
pub trait Sampler {
    /// Units per chain.
    fn units(&self) -> usize;
    /// Number of chains.
    fn chains(&self) -> usize;
    /// Length of one step: ms for the LIF samplers, 1 (one update step) for the abstract ones.
    fn dt(&self) -> f64;
    /// Advances every chain by one step.
    fn step(&mut self);
    /// The state z ∈ {0,1} of chain `chain` after the last step, `[units]`.
    fn state(&self, chain: usize) -> &[u8];
}

/// Runs `burn_in` steps unrecorded, then `steps` steps, adding every chain's state after every
/// step to one time-weighted histogram (one count per chain and step). After each step number in
/// `checkpoints` (counted after the burn-in, ascending) `at_checkpoint(steps, &histogram)` is
/// called.
///
/// # Panics
/// If the sampler has more units than a histogram holds.
pub fn record<S: Sampler + ?Sized>(
    sampler: &mut S,
    burn_in: usize,
    steps: usize,
    checkpoints: &[usize],
    mut at_checkpoint: impl FnMut(usize, &StateHistogram),
) -> StateHistogram {
    for _ in 0..burn_in {
        sampler.step();
    }
    let mut hist = StateHistogram::new(sampler.units());
    let mut next = checkpoints.iter().peekable();
    for t in 1..=steps {
        sampler.step();
        for c in 0..sampler.chains() {
            hist.add(pack(sampler.state(c)), 1.0);
        }
        while next.peek().is_some_and(|&&s| s <= t) {
            let s = *next.next().expect("peeked");
            at_checkpoint(s, &hist);
        }
    }
    hist
}

/// Like [`record`] without checkpoints, but a step's states count only when `keep(sampler)` is
/// true after it (e.g. the cool phase of an oscillating background). Returns the histogram and
/// the number of steps kept.
pub fn record_where<S: Sampler + ?Sized>(
    sampler: &mut S,
    burn_in: usize,
    steps: usize,
    mut keep: impl FnMut(&S) -> bool,
) -> (StateHistogram, usize) {
    for _ in 0..burn_in {
        sampler.step();
    }
    let mut hist = StateHistogram::new(sampler.units());
    let mut kept = 0;
    for _ in 0..steps {
        sampler.step();
        if keep(sampler) {
            kept += 1;
            for c in 0..sampler.chains() {
                hist.add(pack(sampler.state(c)), 1.0);
            }
        }
    }
    (hist, kept)
}

/// D_KL(p* ‖ p̂) after each number of recorded steps in `checkpoints` (ascending), p̂ from all
/// chains together with `pseudo` counts per state. Returns `(steps, dkl)` pairs.
pub fn dkl_trace<S: Sampler + ?Sized>(
    sampler: &mut S,
    target: &[f64],
    burn_in: usize,
    checkpoints: &[usize],
    pseudo: f64,
) -> Vec<(usize, f64)> {
    let mut out = Vec::with_capacity(checkpoints.len());
    let last = checkpoints.last().copied().unwrap_or(0);
    record(sampler, burn_in, last, checkpoints, |s, h| out.push((s, h.dkl_from(target, pseudo))));
    out
}

/// Time-averaged states: the fraction of the `steps` recorded steps (after `burn_in`) each unit
/// of each chain was on, row-major `[chains, units]`.
pub fn mean_states<S: Sampler + ?Sized>(sampler: &mut S, burn_in: usize, steps: usize) -> Vec<f64> {
    for _ in 0..burn_in {
        sampler.step();
    }
    let (c, k) = (sampler.chains(), sampler.units());
    let mut m = vec![0.0; c * k];
    for _ in 0..steps {
        sampler.step();
        for chain in 0..c {
            for (acc, &z) in m[chain * k..(chain + 1) * k].iter_mut().zip(sampler.state(chain)) {
                *acc += z as f64;
            }
        }
    }
    m.iter_mut().for_each(|x| *x /= steps.max(1) as f64);
    m
}

/// `n` step counts spaced evenly on a log scale from `first` to `last` (deduplicated, ascending).
pub fn log_spaced(first: usize, last: usize, n: usize) -> Vec<usize> {
    let (a, b) = ((first.max(1) as f64).ln(), (last.max(1) as f64).ln());
    let mut v: Vec<usize> = (0..n)
        .map(|i| (a + (b - a) * i as f64 / (n.max(2) - 1) as f64).exp().round() as usize)
        .collect();
    v.dedup();
    v
}
