//! Wake–sleep learning of a fully visible Boltzmann target by a neural-sampling network whose
//! weights start **asymmetric**, with and without spike-based alignment learning on the sleep
//! spikes (`../shared/design/sal.md` §4a, §6 tests 4–5).
//!
//! A network with `W_ij ≠ W_ji` samples from no Boltzmann distribution. Hebbian wake–sleep,
//! `ΔW_ij = η(⟨z_i z_j⟩* − ⟨z_i z_j⟩)`, moves `W_ij` and `W_ji` by the same amount, so it
//! never removes the asymmetry `W − Wᵀ` (test 4): D_KL stalls above the noise-free run. SAL on
//! the same sleep spikes decays `W − Wᵀ` (sal.md §3), and D_KL returns to the noise-free level.
//!
//! Per iteration: `chains` persistent chains run `steps` steps of [`SalNetwork`] (random-scan
//! neural sampling, `τ_ref`, every off-diagonal weight plastic under SAL when it is on); the
//! model moments are the time-weighted on-states of those steps, the data moments are exact
//! (enumerated `p*`); `W` and `b` take the wake–sleep step, plus SAL's `η_S · D · τ_ref /
//! (steps · chains)`, and are clipped to `±clip`. Every `validate_every` iterations D_KL(p* ‖ p̂)
//! is measured on a fresh, longer run of the network as it is (weights frozen).

use crate::util::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::boltzmann::{BoltzmannMachine, marginals, second_moments};
use super::quality::StateHistogram;
use super::sal::{SalConfig, SalNetwork};

/// The protocol's settings (defaults: sal.md §6 test 5, validation as §4a with a shorter
/// validation run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct AsymmetricWakeSleep {
    /// τ_ref (and τ_S), in steps.
    pub tau_ref: usize,
    /// Persistent chains.
    pub chains: usize,
    /// Steps per chain and iteration.
    pub steps: usize,
    /// Iterations.
    pub iterations: usize,
    /// η of wake–sleep (weights and biases).
    pub eta: f64,
    /// η_S of SAL (used only when SAL is on).
    pub sal_eta: f64,
    /// Weights and biases are clipped to `±clip`.
    pub clip: f64,
    /// The initial weights' symmetric part: `sym(N(0, sym_init))`.
    pub sym_init: f64,
    /// Iterations between D_KL measurements (and one at the end).
    pub validate_every: usize,
    /// Chains × steps of each validation run.
    pub validation_chains: usize,
    /// Steps per chain of each validation run.
    pub validation_steps: usize,
}

impl Default for AsymmetricWakeSleep {
    fn default() -> Self {
        Self {
            tau_ref: 10,
            chains: 64,
            steps: 300,
            iterations: 3000,
            eta: 0.05,
            sal_eta: 0.05,
            clip: 2.0,
            sym_init: 0.2,
            validate_every: 250,
            validation_chains: 64,
            validation_steps: 20_000,
        }
    }
}

/// One run's course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trajectory {
    /// Iterations after which D_KL was measured.
    pub iterations: Vec<usize>,
    /// D_KL(p* ‖ p̂) in nats (½ pseudo-count per state).
    pub dkl: Vec<f64>,
    /// `Var_{i<j}(W_ij − W_ji)` at the same points.
    pub asymmetry: Vec<f64>,
}

/// `Var_{i<j}(W_ij − W_ji)` of a row-major `[n, n]` matrix.
pub fn asymmetry_variance(w: &[f64], n: usize) -> f64 {
    let d: Vec<f64> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| w[i * n + j] - w[j * n + i])
        .collect();
    let mean = d.iter().sum::<f64>() / d.len().max(1) as f64;
    d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d.len().max(1) as f64
}

/// The initial weights: `sym(N(0, sym_init)) + N(0, sigma_init)` off the diagonal, the noise
/// drawn independently for `W_ij` and `W_ji`; biases 0.
pub fn initial_weights(n: usize, sym_init: f64, sigma_init: f64, rng: &mut StdRng) -> Vec<f64> {
    let mut normal = || -> f64 { StandardNormal.sample(rng) };
    let mut w = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s = sym_init * normal();
            w[i * n + j] = s;
            w[j * n + i] = s;
        }
    }
    for i in 0..n {
        for j in (0..n).filter(|&j| j != i) {
            w[i * n + j] += sigma_init * normal();
        }
    }
    w
}

impl AsymmetricWakeSleep {
    fn sal_config(&self, eta: f64) -> SalConfig {
        SalConfig {
            tau_ref: self.tau_ref,
            tau_stdp: self.tau_ref as f64,
            eta,
            steps_per_update: self.steps,
            updates: 1,
            copies: self.chains,
        }
    }

    /// D_KL(p* ‖ p̂) of `net` as it is, from a fresh run seeded by `seed`.
    pub fn validate(&self, net: &SalNetwork, target: &[f64], seed: u64) -> f64 {
        let cfg = SalConfig {
            steps_per_update: self.validation_steps,
            copies: self.validation_chains,
            ..self.sal_config(0.0)
        };
        let mut chains = net.chains(cfg.copies, seed);
        // Burn-in of one τ_ref-scale stretch, then the counted run.
        net.run(&mut chains, 50 * self.tau_ref, &cfg, false);
        let period = net.run(&mut chains, cfg.steps_per_update, &cfg, true);
        let observed = period.observed.expect("observed run");
        let histogram = StateHistogram { counts: observed.histogram, units: net.n };
        histogram.dkl_from(target, 0.5)
    }

    /// Learns `target` from weights `sym(N(0, sym_init)) + N(0, sigma_init)` and zero biases,
    /// with SAL on the sleep spikes if `sal`; `seed` fixes every draw (the initial noise and
    /// all sampling), so the runs with and without SAL start from the same weights.
    pub fn run(
        &self,
        target: &BoltzmannMachine,
        sigma_init: f64,
        sal: bool,
        seed: u64,
    ) -> Trajectory {
        let n = target.units();
        let p_star = target.exact_distribution();
        let (m_star, c_star) = (marginals(&p_star, n), second_moments(&p_star, n));
        let mut rng = StdRng::seed_from_u64(seed);
        let w = initial_weights(n, self.sym_init, sigma_init, &mut rng);
        // Without SAL nothing is plastic: the sleep then accumulates no STDP window at all.
        let plastic: Vec<bool> = (0..n * n).map(|k| sal && k / n != k % n).collect();
        let mut net = SalNetwork::new(w, vec![0.0; n], plastic);
        let cfg = self.sal_config(self.sal_eta);
        let mut chains = net.chains(self.chains, seed ^ 0x5A1);
        let mut out = Trajectory { iterations: Vec::new(), dkl: Vec::new(), asymmetry: Vec::new() };
        let record = |it: usize, net: &SalNetwork, out: &mut Trajectory| {
            out.iterations.push(it);
            out.dkl.push(self.validate(net, &p_star, seed ^ ((it as u64 + 1) << 24)));
            out.asymmetry.push(asymmetry_variance(&net.w, n));
        };
        record(0, &net, &mut out);
        for it in 1..=self.iterations {
            let period = net.run(&mut chains, self.steps, &cfg, true);
            let observed = period.observed.as_ref().expect("observed run");
            let (m, c) = (observed.means(), observed.second_moments());
            net.apply(&period, &cfg);
            for i in 0..n {
                for j in (0..n).filter(|&j| j != i) {
                    let k = i * n + j;
                    net.w[k] =
                        (net.w[k] + self.eta * (c_star[k] - c[k])).clamp(-self.clip, self.clip);
                }
                net.b[i] = (net.b[i] + self.eta * (m_star[i] - m[i])).clamp(-self.clip, self.clip);
            }
            if it % self.validate_every == 0 || it == self.iterations {
                record(it, &net, &mut out);
            }
        }
        out
    }
}

/// The target of sal.md §4a: `W*_ij = W*_ji ~ U(−1, 1)`, `b*_i ~ U(−1, 1)`.
pub fn uniform_target(n: usize, seed: u64) -> BoltzmannMachine {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let v = rng.random_range(-1.0..1.0);
            w[i * n + j] = v;
            w[j * n + i] = v;
        }
    }
    let b = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    BoltzmannMachine::new(w, b)
}
