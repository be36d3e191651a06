//! Spike-based alignment learning (SAL; Gierlich, Baumbach, Kungl, Max & Petrovici, arXiv
//! 2503.02642): an antisymmetric, reversed STDP window on the noise-driven spikes of
//! stochastic neural-sampling neurons, which drives `W_ij − W_ji` to zero — a feedback weight
//! learns the transpose of its forward weight, at the right scale, from spike timing alone.
//!
//! # The neurons
//! Discrete time, step 1, as the authors' code: neuron `k` is "on" (`z_k = 1`) for `τ_ref`
//! steps after each spike and cannot spike again while on; its drive is
//! `u_k = b_k + Σ_j W_kj z_j` (a rectangular PSP of length `τ_ref`), and while off it spikes
//! with probability `σ(u_k − ln τ_ref)`. The escape noise is what SAL reads. Units are updated
//! one after another in a fresh random order every step (random scan, the exact order of
//! [`super::neural`]): with all units updated at once from the previous step's state, the
//! rule's fixed point is biased — in the 50 → 20 test below, `B` started at `W` drifts to 17°
//! and a slope of 1.11 within 100 000 steps, against 5.5° and 1.00 with random scan.
//!
//! # The rule
//! For `W_ij` (pre `j` → post `i`) and every spike pair with lag `s > 0`: a **causal** pair
//! (`j` then `i`) depresses, `ΔW_ij −= κ(s)`; an **acausal** pair (`i` then `j`) potentiates,
//! `ΔW_ij += κ(s)`, with `κ(s) = e^{−(s−1)/τ_S}` for a lag of `s ≥ 1` steps (what the online
//! form below gives; same-step spikes make no pair). Online, with a trace per neuron
//! `x_k ← x_k e^{−1/τ_S} + s_k(t)`, every step adds `D_ij −= s_i(t) x_j(t−1)` and
//! `D_ij += x_i(t−1) s_j(t)`: each pair counts once for `W_ij` and once, with the opposite
//! sign, for `W_ji` (exactly: `D = −Dᵀ`), so `W_ij + W_ji` is conserved. Every `T` steps the
//! plastic weights move by `η_S · D · τ_ref / (T · copies)`, summed over independent noisy
//! copies of the network (`../shared/design/sal.md` §2, §6).
//!
//! Why it aligns (sal.md §3): common input is lag-symmetric and cancels in the antisymmetric
//! window, and the causal effect of `j` on `i` is `∝ W_ij`, so
//! `E[ΔW_ij] ∝ r_i r_j (W_ji − W_ij)`: with `W_ji` frozen, `W_ij → W_ji`.

use crate::util::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The most noisy copies a sleep phase may run.
pub const MAX_COPIES: usize = 4096;

/// The settings of the plasticity and its sleep phases (the deep-network setting of the paper
/// by default: `τ_ref = τ_S = 10`, 32 noisy copies, updates every 2000 steps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct SalConfig {
    /// τ_ref, the refractory time and PSP length, in steps.
    pub tau_ref: usize,
    /// τ_S, the time constant of the exponential STDP window, in steps.
    pub tau_stdp: f64,
    /// η_S, the learning rate (the update is `η_S · D · τ_ref / (T · copies)`).
    pub eta: f64,
    /// T, steps between weight updates.
    pub steps_per_update: usize,
    /// Updates per sleep phase.
    pub updates: usize,
    /// Independent noisy copies of the network, run in parallel and summed.
    pub copies: usize,
}

impl Default for SalConfig {
    fn default() -> Self {
        Self {
            tau_ref: 10,
            tau_stdp: 10.0,
            eta: 3.0,
            steps_per_update: 2000,
            updates: 5,
            copies: 32,
        }
    }
}

impl SalConfig {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key (prefixed by `section`).
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(format!("{section}.{m}")));
        if self.tau_ref == 0 || self.tau_ref > 10_000 {
            return bad(format!("tau-ref must be 1..=10000 steps, got {}", self.tau_ref));
        }
        if !(self.tau_stdp.is_finite() && self.tau_stdp > 0.0) {
            return bad(format!("tau-stdp must be positive and finite, got {}", self.tau_stdp));
        }
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return bad(format!("eta must be positive and finite, got {}", self.eta));
        }
        if self.steps_per_update == 0 || self.updates == 0 || self.copies == 0 {
            return bad("steps-per-update, updates and copies must be ≥ 1".into());
        }
        if self.copies > MAX_COPIES {
            return bad(format!(
                "copies must be at most {MAX_COPIES} (each holds a network's state), got {}",
                self.copies
            ));
        }
        let work = (self.steps_per_update as u128) * (self.updates as u128) * (self.copies as u128);
        if work > 1_000_000_000_000 {
            return bad(format!(
                "steps-per-update × updates × copies = {work} copy-steps per sleep phase is more \
                 than 10^12; lower one of them"
            ));
        }
        Ok(())
    }
}

/// The antisymmetric window's accumulator `D` of a spike raster (`raster[t][k]`: neuron `k`
/// spiked at step `t`), computed online with traces as the sampler does; row-major `[n, n]`,
/// `D[i·n + j]` for `W_ij` (pre `j` → post `i`).
pub fn stdp_accumulator(raster: &[Vec<bool>], tau_stdp: f64) -> Vec<f64> {
    let n = raster.first().map_or(0, Vec::len);
    let decay = (-1.0 / tau_stdp).exp();
    let mut trace = vec![0.0; n];
    let mut d = vec![0.0; n * n];
    for spikes in raster {
        accumulate(&mut d, &trace, spikes, n, &|_, _| true);
        for (x, &s) in trace.iter_mut().zip(spikes) {
            *x = *x * decay + f64::from(u8::from(s));
        }
    }
    d
}

/// `D_ij −= s_i x_j; D_ij += x_i s_j` for the plastic pairs, `x` the traces before this step.
fn accumulate(
    d: &mut [f64],
    trace: &[f64],
    spikes: &[bool],
    n: usize,
    plastic: &dyn Fn(usize, usize) -> bool,
) {
    for k in (0..n).filter(|&k| spikes[k]) {
        for j in 0..n {
            // k is post (row k): causal pairs with earlier pre j depress W_kj.
            if trace[j] != 0.0 && plastic(k, j) {
                d[k * n + j] -= trace[j];
            }
            // k is pre (column k): earlier post j, acausal for W_jk, potentiates.
            if trace[j] != 0.0 && plastic(j, k) {
                d[j * n + k] += trace[j];
            }
        }
    }
}

/// A network of discrete-time neural-sampling neurons with arbitrary (asymmetric) weights,
/// some of them plastic under SAL.
#[derive(Debug, Clone)]
pub struct SalNetwork {
    /// Number of neurons.
    pub n: usize,
    /// Weights, row-major `[n, n]`: `w[i·n + j]` = `W_ij`, pre `j` → post `i` (diagonal unused).
    pub w: Vec<f64>,
    /// Biases `b_k`.
    pub b: Vec<f64>,
    /// Which weights SAL moves, row-major `[n, n]`.
    pub plastic: Vec<bool>,
}

/// One noisy copy's state.
struct Copy {
    /// Step of each neuron's last spike (`i64::MIN / 2` = never).
    last: Vec<i64>,
    /// Drive `u_k` (bias plus on neurons' weights).
    u: Vec<f64>,
    /// STDP traces.
    trace: Vec<f64>,
    rng: StdRng,
}

impl SalNetwork {
    /// A network of `n` neurons; `w` row-major `[n, n]` (`W_ij`: pre `j` → post `i`).
    ///
    /// # Panics
    /// On lengths that do not fit `n`.
    pub fn new(w: Vec<f64>, b: Vec<f64>, plastic: Vec<bool>) -> Self {
        let n = b.len();
        assert_eq!(w.len(), n * n, "weights must be [n, n]");
        assert_eq!(plastic.len(), n * n, "plasticity mask must be [n, n]");
        Self { n, w, b, plastic }
    }

    /// A layer pair as one network: `n_lower` neurons, then `n_upper`; the forward weights
    /// `forward[i·n_upper + j]` (lower `i` → upper `j`, the crate's `[n_in, n_out]` layout,
    /// frozen) and the feedback weights `feedback` in the same layout (upper `j` → lower `i`,
    /// plastic). Biases 0. SAL drives `feedback → forward`.
    pub fn layer_pair(forward: &[f64], feedback: &[f64], n_lower: usize, n_upper: usize) -> Self {
        let n = n_lower + n_upper;
        let (mut w, mut plastic) = (vec![0.0; n * n], vec![false; n * n]);
        for i in 0..n_lower {
            for j in 0..n_upper {
                w[(n_lower + j) * n + i] = forward[i * n_upper + j];
                w[i * n + n_lower + j] = feedback[i * n_upper + j];
                plastic[i * n + n_lower + j] = true;
            }
        }
        Self::new(w, vec![0.0; n], plastic)
    }

    /// Sets every bias so that a neuron's mean drive is zero while all neurons sit at the
    /// zero-drive on-fraction `p̄ = τ_ref / (2τ_ref + 1)` (off for `τ_ref + 1` steps on
    /// average at `σ(−ln τ_ref)`, then on for `τ_ref`): `b_i = −p̄ Σ_j W_ij`. Returns `self`.
    ///
    /// SAL's fixed point `B = Wᵀ` holds for any biases (sal.md §3), but its signal is
    /// `∝ g_i g_j`: a neuron driven into saturation by many same-sign weights has no gain, and
    /// the rule then pulls its feedback towards zero instead of `W`. Trained forward weights
    /// have a clear mean (a 120-hidden Yin-Yang network's output layer: RMS 3.1, mean 1.2), so
    /// with zero biases the output neurons of the sleep network saturate: B sat at 73° from W
    /// after 20 sleeps, against 6.5° and slope 1.02 with centred biases (BENCHMARKS.md).
    #[must_use]
    pub fn centred(mut self, tau_ref: usize) -> Self {
        let p = tau_ref as f64 / (2.0 * tau_ref as f64 + 1.0);
        let n = self.n;
        for i in 0..n {
            let incoming: f64 = (0..n).filter(|&j| j != i).map(|j| self.w[i * n + j]).sum();
            self.b[i] = -p * incoming;
        }
        self
    }

    /// The feedback block of a [`layer_pair`](Self::layer_pair) network, `[n_lower, n_upper]`.
    pub fn feedback_block(&self, n_lower: usize) -> Vec<f64> {
        let n_upper = self.n - n_lower;
        let mut out = vec![0.0; n_lower * n_upper];
        for i in 0..n_lower {
            for j in 0..n_upper {
                out[i * n_upper + j] = self.w[i * self.n + n_lower + j];
            }
        }
        out
    }

    fn new_copy(&self, seed: u64) -> Copy {
        Copy {
            last: vec![i64::MIN / 2; self.n],
            u: self.b.clone(),
            trace: vec![0.0; self.n],
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Recompute a copy's drive from its on neurons at step `t` (after a weight update).
    fn refresh(&self, c: &mut Copy, t: i64, tau: i64) {
        c.u.clone_from(&self.b);
        for j in (0..self.n).filter(|&j| t - c.last[j] < tau) {
            for i in 0..self.n {
                c.u[i] += self.w[i * self.n + j];
            }
        }
    }

    /// Runs `steps` steps of one copy from step `t0`, accumulating into `d` (and, with `obs`,
    /// the states after every step); returns the number of spikes.
    fn run_copy(
        &self,
        c: &mut Copy,
        t0: i64,
        steps: usize,
        cfg: &SalConfig,
        d: &mut [f64],
        mut obs: Option<&mut Observed>,
    ) -> u64 {
        let n = self.n;
        let tau = cfg.tau_ref as i64;
        let log_tau = (cfg.tau_ref as f64).ln();
        let decay = (-1.0 / cfg.tau_stdp).exp();
        let plastic = |i: usize, j: usize| self.plastic[i * n + j];
        let mut spikes = vec![false; n];
        let mut order: Vec<usize> = (0..n).collect();
        let mut count = 0;
        for t in t0..t0 + steps as i64 {
            // Units one after another, in a fresh random order per step; each sees the states
            // its predecessors in this step left (the exact order of neural sampling).
            order.shuffle(&mut c.rng);
            for &k in order.iter() {
                let ends = t - c.last[k] == tau; // on until the last step, off from now on
                let fires = t - c.last[k] >= tau && {
                    let p = logistic(c.u[k] - log_tau);
                    c.rng.random::<f64>() < p
                };
                spikes[k] = fires;
                if fires != ends {
                    let sign = if fires { 1.0 } else { -1.0 };
                    for i in 0..n {
                        c.u[i] += sign * self.w[i * n + k];
                    }
                }
                if fires {
                    c.last[k] = t;
                    count += 1;
                }
            }
            accumulate(d, &c.trace, &spikes, n, &plastic);
            for (x, &s) in c.trace.iter_mut().zip(&spikes) {
                *x = *x * decay + f64::from(u8::from(s));
            }
            if let Some(o) = obs.as_deref_mut() {
                o.add(&c.last, t, tau);
            }
        }
        count
    }

    /// `copies` independent noisy copies of this network, all neurons off, seeded from
    /// `seed` (copy `c` from `seed · φ + c`, as [`sleep`](Self::sleep) seeds them).
    pub fn chains(&self, copies: usize, seed: u64) -> Chains {
        let copies = (0..copies)
            .map(|c| self.new_copy(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(c as u64)))
            .collect();
        Chains { copies, t: 0 }
    }

    /// Runs every chain `steps` steps further (in parallel; results summed in a fixed order),
    /// without moving any weight: the antisymmetric window's accumulator `D` and, with
    /// `observe`, the sampled states (time-weighted over every step and chain).
    pub fn run(&self, chains: &mut Chains, steps: usize, cfg: &SalConfig, observe: bool) -> Period {
        let n = self.n;
        let (t0, tau) = (chains.t, cfg.tau_ref as i64);
        let parts: Vec<(Vec<f64>, u64, Option<Observed>)> = chains
            .copies
            .par_iter_mut()
            .map(|c| {
                self.refresh(c, t0 - 1, tau);
                let mut d = vec![0.0; n * n];
                let mut obs = observe.then(|| Observed::new(n));
                let s = self.run_copy(c, t0, steps, cfg, &mut d, obs.as_mut());
                (d, s, obs)
            })
            .collect();
        chains.t += steps as i64;
        let mut period = Period {
            d: vec![0.0; n * n],
            spikes: 0,
            steps,
            copies: chains.copies.len(),
            observed: observe.then(|| Observed::new(n)),
        };
        for (part, s, obs) in parts {
            period.d.iter_mut().zip(part).for_each(|(a, b)| *a += b);
            period.spikes += s;
            if let (Some(total), Some(o)) = (period.observed.as_mut(), obs) {
                total.merge(&o);
            }
        }
        period
    }

    /// Moves the plastic weights by SAL's update for `period`:
    /// `η_S · D · τ_ref / (steps · copies)`.
    pub fn apply(&mut self, period: &Period, cfg: &SalConfig) {
        let scale = cfg.eta * cfg.tau_ref as f64 / (period.steps * period.copies) as f64;
        for (k, dk) in period.d.iter().enumerate().filter(|(k, _)| self.plastic[*k]) {
            self.w[k] += scale * dk;
        }
    }

    /// Runs `cfg.updates` update periods of `cfg.steps_per_update` steps over `cfg.copies`
    /// independent copies (in parallel, summed in a fixed order, so the result does not depend
    /// on the threads), moving the plastic weights after each period. The copies keep their
    /// states across periods; `seed` fixes every draw. Returns the mean rate (spikes per
    /// neuron and step).
    pub fn sleep(&mut self, cfg: &SalConfig, seed: u64) -> f64 {
        let mut chains = self.chains(cfg.copies, seed);
        let mut spikes = 0;
        for _ in 0..cfg.updates {
            let period = self.run(&mut chains, cfg.steps_per_update, cfg, false);
            spikes += period.spikes;
            self.apply(&period, cfg);
        }
        spikes as f64 / (self.n * cfg.copies * cfg.steps_per_update * cfg.updates) as f64
    }
}

/// Persistent noisy copies of a [`SalNetwork`] (their states and the step they are at).
pub struct Chains {
    copies: Vec<Copy>,
    t: i64,
}

/// What one [`SalNetwork::run`] saw.
#[derive(Debug, Clone)]
pub struct Period {
    /// The antisymmetric window's accumulator, summed over copies, row-major `[n, n]`.
    pub d: Vec<f64>,
    /// Spikes of all neurons and copies.
    pub spikes: u64,
    /// Steps per copy.
    pub steps: usize,
    /// Copies.
    pub copies: usize,
    /// The states, if observed.
    pub observed: Option<Observed>,
}

/// Sampled states, counted after every step of every copy: `z_k = 1` while neuron `k` is on
/// (for `τ_ref` steps from its spike).
#[derive(Debug, Clone)]
pub struct Observed {
    /// Samples counted.
    pub samples: f64,
    /// `Σ z_k`.
    pub sum: Vec<f64>,
    /// `Σ z_i z_j`, row-major `[n, n]`.
    pub sum2: Vec<f64>,
    /// Counts of every joint state (packed as [`super::boltzmann::pack`], unit 0 the
    /// least-significant bit); only for `n ≤ 16`, else empty.
    pub histogram: Vec<f64>,
}

impl Observed {
    fn new(n: usize) -> Self {
        let states = if n <= 16 { 1usize << n } else { 0 };
        Self {
            samples: 0.0,
            sum: vec![0.0; n],
            sum2: vec![0.0; n * n],
            histogram: vec![0.0; states],
        }
    }

    fn add(&mut self, last: &[i64], t: i64, tau: i64) {
        let n = last.len();
        self.samples += 1.0;
        let mut state = 0usize;
        for i in (0..n).filter(|&i| t - last[i] < tau) {
            self.sum[i] += 1.0;
            state |= 1 << i.min(63);
            for j in (0..n).filter(|&j| t - last[j] < tau) {
                self.sum2[i * n + j] += 1.0;
            }
        }
        if let Some(h) = self.histogram.get_mut(state) {
            *h += 1.0;
        }
    }

    fn merge(&mut self, o: &Observed) {
        self.samples += o.samples;
        let add = |a: &mut [f64], b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.sum, &o.sum);
        add(&mut self.sum2, &o.sum2);
        add(&mut self.histogram, &o.histogram);
    }

    /// `⟨z_k⟩`.
    pub fn means(&self) -> Vec<f64> {
        self.sum.iter().map(|x| x / self.samples.max(1.0)).collect()
    }

    /// `⟨z_i z_j⟩`, row-major `[n, n]`.
    pub fn second_moments(&self) -> Vec<f64> {
        self.sum2.iter().map(|x| x / self.samples.max(1.0)).collect()
    }

    /// The sampled distribution over joint states (empty for `n > 16`).
    pub fn distribution(&self) -> Vec<f64> {
        self.histogram.iter().map(|x| x / self.samples.max(1.0)).collect()
    }
}

/// σ(x) without overflow.
fn logistic(x: f64) -> f64 {
    if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) }
}

/// Angle in degrees between two equally long vectors (90° if either is zero).
pub fn angle_degrees(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return 90.0;
    }
    (dot / (na * nb)).clamp(-1.0, 1.0).acos().to_degrees()
}

/// Least-squares slope of `y` on `x` through the origin: the scale at which `y` follows `x`.
pub fn slope_through_origin(x: &[f64], y: &[f64]) -> f64 {
    let xy: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let xx: f64 = x.iter().map(|a| a * a).sum();
    xy / xx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test 1 of sal.md §6: any raster gives an exactly antisymmetric accumulator, and a
    /// hand-checked pair: neuron 1 at step 0, neuron 0 at step 3 (τ_S = 2): a causal pair for
    /// W_01 (1 then 0: depress by κ(3) = e^{−(3−1)/2}), acausal for W_10 (potentiate by the
    /// same).
    #[test]
    fn fixed_raster_gives_antisymmetric_updates() {
        let mut raster = vec![vec![false; 2]; 5];
        raster[0][1] = true;
        raster[3][0] = true;
        let d = stdp_accumulator(&raster, 2.0);
        let k = (-1.0f64).exp();
        assert!((d[1] + k).abs() < 1e-15 && (d[2] - k).abs() < 1e-15, "{d:?}");
        assert_eq!(d[0], 0.0);
        let mut rng = StdRng::seed_from_u64(7);
        let n = 6;
        let raster: Vec<Vec<bool>> =
            (0..400).map(|_| (0..n).map(|_| rng.random::<f64>() < 0.1).collect()).collect();
        let d = stdp_accumulator(&raster, 10.0);
        for i in 0..n {
            for j in 0..n {
                assert_eq!(d[i * n + j], -d[j * n + i], "D[{i},{j}]");
            }
        }
        assert!(d.iter().any(|v| v.abs() > 1.0), "the raster must make pairs");
    }
}
