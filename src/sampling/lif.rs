//! LIF sampling (Petrovici, Bill, Bytschok, Schemmel & Meier, Phys. Rev. E 94:042312, 2016):
//! leaky integrate-and-fire neurons in a noisy high-conductance state sample from a Boltzmann
//! distribution once their activation functions are calibrated and (W, b) is translated into
//! synaptic weights and resting potentials.
//!
//! Units: time ms, potentials mV, capacitance nF, conductances µS, currents nA, rates kHz
//! (spikes per ms). One neuron, between spikes:
//!
//! C_m du/dt = g_l (E_l − u) + Σ_x g_x(t) (E_x − u)   (conductance-based), or
//! C_m du/dt = g_l (E_l − u) + Σ_x ± I_x(t)           (current-based),
//!
//! with exponential synapses (each input spike of weight w adds w to g_x or I_x, which decays
//! with τ_syn). At u ≥ ϑ the neuron spikes, is held at ρ (v_reset) for τ_ref and is **on**
//! (z = 1) for exactly that time. Background: excitatory and inhibitory Poisson trains
//! ([`Noise`]). Steps integrate the membrane exactly for the conductances held over the step
//! (exponential integrator), so dt only limits the timing of spikes and inputs.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::boltzmann::BoltzmannMachine;
use super::sampler::Sampler;

/// How synaptic input acts on the membrane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SynapseModel {
    /// Conductances w (µS) pulling toward reversal potentials E_exc, E_inh.
    Conductance,
    /// Currents w (nA), excitatory positive, inhibitory negative.
    Current,
}

/// One sampling neuron's parameters. The default is the sbs package's test neuron
/// (conductance-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct LifSamplingNeuron {
    /// Conductance- or current-based synapses.
    pub synapse: SynapseModel,
    /// Membrane capacitance C_m, nF.
    pub c_m: f64,
    /// Membrane time constant τ_m = C_m/g_l, ms.
    pub tau_m: f64,
    /// Threshold ϑ, mV.
    pub v_th: f64,
    /// Reset potential ρ, mV (held during the refractory time).
    pub v_reset: f64,
    /// Refractory time τ_ref, ms: the time a neuron is "on" after a spike.
    pub tau_ref: f64,
    /// Synaptic time constant τ_syn (excitatory and inhibitory), ms.
    pub tau_syn: f64,
    /// Excitatory reversal potential E_exc, mV (conductance-based only).
    pub e_exc: f64,
    /// Inhibitory reversal potential E_inh, mV (conductance-based only).
    pub e_inh: f64,
    /// Resting potential before calibration, mV (the bias overrides it).
    pub e_l: f64,
}

impl Default for LifSamplingNeuron {
    /// sbs's test neuron: C_m 0.2 nF, τ_m 1 ms, ϑ −50 mV, ρ −50.001 mV, τ_ref 10 ms,
    /// τ_syn 10 ms, E_exc 0 mV, E_inh −100 mV, E_l −50 mV.
    fn default() -> Self {
        Self {
            synapse: SynapseModel::Conductance,
            c_m: 0.2,
            tau_m: 1.0,
            v_th: -50.0,
            v_reset: -50.001,
            tau_ref: 10.0,
            tau_syn: 10.0,
            e_exc: 0.0,
            e_inh: -100.0,
            e_l: -50.0,
        }
    }
}

impl LifSamplingNeuron {
    /// A copy whose threshold and reset are shifted by `delta` mV: fixed-pattern threshold
    /// mismatch of an analog chip.
    pub fn with_threshold_shift(&self, delta: f64) -> Self {
        Self { v_th: self.v_th + delta, v_reset: self.v_reset + delta, ..self.clone() }
    }

    /// Leak conductance g_l = C_m/τ_m, µS.
    pub fn g_l(&self) -> f64 {
        self.c_m / self.tau_m
    }
}

/// Background noise of every neuron: an excitatory and an inhibitory input train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum Noise {
    /// Poisson trains of rate `rate` (kHz) each, weights `weight-exc`, `weight-inh` (µS or nA,
    /// both positive).
    Poisson {
        /// Rate of each train, kHz.
        rate: f64,
        /// Excitatory weight, µS or nA.
        weight_exc: f64,
        /// Inhibitory weight (positive), µS or nA.
        weight_inh: f64,
    },
    /// Inhomogeneous Poisson trains with rate ν(t) = rate + amplitude·sin(2π·frequency·t +
    /// phase): cortical oscillations as simulated tempering (Korcsak-Gorzo et al. 2022). Hot
    /// (high-rate) phases widen the membrane distribution; read samples in the cool phase
    /// ([`LifSampler::rate_at`]).
    Sinusoidal {
        /// Mean rate, kHz.
        rate: f64,
        /// Amplitude, kHz (at most `rate`).
        amplitude: f64,
        /// Frequency, Hz.
        frequency: f64,
        /// Phase at t = 0, rad.
        phase: f64,
        /// Excitatory weight, µS or nA.
        weight_exc: f64,
        /// Inhibitory weight (positive), µS or nA.
        weight_inh: f64,
    },
    /// Deterministic ensembles (Dold et al., Neural Netw. 2019): every neuron receives the
    /// spikes of `sources` fixed random excitatory and `sources` inhibitory neurons of *other*
    /// chains instead of Poisson noise; after random initial states nothing is random. Each
    /// neuron's fixed sources give it its own mean input, so a shared calibration is only a
    /// start: calibrate under rate-matched Poisson noise and train with the ensemble in the loop
    /// ([`Translation::network_with_noise`]; `tests/sampling_learning.rs`).
    Ensemble {
        /// Excitatory and inhibitory sources per neuron (each).
        sources: usize,
        /// Excitatory weight, µS or nA.
        weight_exc: f64,
        /// Inhibitory weight (positive), µS or nA.
        weight_inh: f64,
    },
}

impl Default for Noise {
    /// sbs's background: 3 kHz excitatory and inhibitory, 0.001 µS each.
    fn default() -> Self {
        Noise::Poisson { rate: 3.0, weight_exc: 0.001, weight_inh: 0.001 }
    }
}

impl Noise {
    /// Mean rate of each train, kHz (`None` for ensembles: it depends on the network).
    pub fn mean_rate(&self) -> Option<f64> {
        match *self {
            Noise::Poisson { rate, .. } | Noise::Sinusoidal { rate, .. } => Some(rate),
            Noise::Ensemble { .. } => None,
        }
    }

    /// (excitatory, inhibitory) weights.
    pub fn weights(&self) -> (f64, f64) {
        match *self {
            Noise::Poisson { weight_exc, weight_inh, .. }
            | Noise::Sinusoidal { weight_exc, weight_inh, .. }
            | Noise::Ensemble { weight_exc, weight_inh, .. } => (weight_exc, weight_inh),
        }
    }
}

/// Statistics of the free membrane under Poisson background (Campbell's theorem, as in sbs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeMembrane {
    /// Mean membrane potential μ, mV.
    pub mean: f64,
    /// Standard deviation σ, mV.
    pub std: f64,
    /// Total mean conductance g_tot, µS (g_l for current-based neurons).
    pub g_tot: f64,
    /// Effective membrane time constant τ_eff = C_m/g_tot, ms.
    pub tau_eff: f64,
    /// sbs's first estimate of the activation width, α ≈ (√(2π)/4)·σ, mV (μ units).
    pub alpha_estimate: f64,
}

/// The free-membrane statistics of `neuron` at resting potential `e_l` under Poisson trains of
/// `rate` (kHz) with weights `(w_exc, w_inh)`.
pub fn free_membrane(
    neuron: &LifSamplingNeuron,
    e_l: f64,
    rate: f64,
    w: (f64, f64),
) -> FreeMembrane {
    let (c, g_l, ts) = (neuron.c_m, neuron.g_l(), neuron.tau_syn);
    let (g_tot, mean, s): (f64, f64, [f64; 2]) = match neuron.synapse {
        SynapseModel::Conductance => {
            let ge = w.0 * rate * ts;
            let gi = w.1 * rate * ts;
            let g_tot = g_l + ge + gi;
            let mean = (g_l * e_l + ge * neuron.e_exc + gi * neuron.e_inh) / g_tot;
            let tau_eff = c / g_tot;
            let tau_g = 1.0 / (1.0 / ts - 1.0 / tau_eff);
            let s = |wx: f64, ex: f64| wx * (ex - mean) * tau_g / (tau_eff * g_tot);
            (g_tot, mean, [s(w.0, neuron.e_exc), s(w.1, neuron.e_inh)])
        }
        SynapseModel::Current => {
            let mean = e_l + (w.0 - w.1) * rate * ts / g_l;
            let tau_eff = c / g_l;
            let tau_g = 1.0 / (1.0 / ts - 1.0 / tau_eff);
            let s = |wx: f64| wx * tau_g / (tau_eff * g_l);
            (g_l, mean, [s(w.0), s(w.1)])
        }
    };
    let tau_eff = c / g_tot;
    let shape = ts / 2.0 + tau_eff / 2.0 - 2.0 * tau_eff * ts / (tau_eff + ts);
    let var: f64 = s.iter().map(|s| rate * s * s * shape).sum();
    let std = var.sqrt();
    FreeMembrane {
        mean,
        std,
        g_tot,
        tau_eff,
        alpha_estimate: (2.0 * std::f64::consts::PI).sqrt() / 4.0 * std,
    }
}

/// Steps of fewer neurons (all chains) run on one thread: below this, handing work to threads
/// every 0.1 ms step costs more than it saves (measured: 64 chains × 5 neurons sample 2.9× faster
/// on one thread than on two, 0.71 s vs 2.03 s for 10⁵ steps).
const PARALLEL_NEURONS: usize = 2048;

/// One chain's dynamic state.
#[derive(Debug, Clone)]
struct Chain {
    v: Vec<f64>,
    g_exc: Vec<f64>,
    g_inh: Vec<f64>,
    /// Steps left on (z = 1) after a spike.
    refractory: Vec<u32>,
    z: Vec<u8>,
    /// Spiked in the last step.
    spiked: Vec<u8>,
    /// Time of each neuron's last spike, ms (renewing synapses).
    last_spike: Vec<f64>,
    /// Next background arrival per neuron, excitatory and inhibitory, ms.
    next_exc: Vec<f64>,
    next_inh: Vec<f64>,
    rng: SmallRng,
}

/// Precomputed per-neuron constants.
#[derive(Debug, Clone)]
struct Constants {
    syn_decay: f64,
    c_m: f64,
    g_l: f64,
    ref_steps: u32,
}

/// A batch of LIF sampling networks with recurrent exponential synapses. Create with
/// [`LifSampler::new`], usually from [`Translation::network`].
#[derive(Debug, Clone)]
pub struct LifSampler {
    neurons: Vec<LifSamplingNeuron>,
    consts: Vec<Constants>,
    noise: Noise,
    /// Synaptic weights, row-major `[post, pre]`: positive excitatory, negative inhibitory,
    /// µS or nA.
    weights: Vec<f64>,
    /// Resting potentials per chain and neuron, `[chains, units]`, mV.
    e_l: Vec<f64>,
    /// Tsodyks–Markram U = 1, τ_rec = τ_syn: a new spike replaces its synapse's PSP.
    renewing: bool,
    dt: f64,
    t: f64,
    chains: Vec<Chain>,
    /// Ensemble noise: per (chain, unit), the (chain, unit) indices of its excitatory sources
    /// followed by its inhibitory ones (flat, `2·sources` each).
    sources: Vec<u32>,
    /// The last step's spikes of every chain, `[chains, units]` (ensemble noise).
    spikes_prev: Vec<u8>,
}

impl LifSampler {
    /// `chains` networks of `neurons.len()` neurons with synaptic `weights` (`[post, pre]`,
    /// signed), resting potentials `e_l` per chain and neuron (`[chains, units]`, mV), the
    /// given background, step `dt` (ms, at most 0.1 is the rule of thumb), started at E_l with
    /// random background phases.
    ///
    /// # Panics
    /// On shape mismatches, `dt ≤ 0`, or an ensemble with fewer than two chains.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        neurons: Vec<LifSamplingNeuron>,
        weights: Vec<f64>,
        e_l: Vec<f64>,
        noise: Noise,
        renewing: bool,
        dt: f64,
        chains: usize,
        seed: u64,
    ) -> Self {
        let k = neurons.len();
        assert_eq!(weights.len(), k * k, "weights must be [{k}, {k}]");
        assert_eq!(e_l.len(), chains * k, "resting potentials must be [{chains}, {k}]");
        assert!(dt > 0.0, "dt must be positive, got {dt}");
        let consts: Vec<Constants> = neurons
            .iter()
            .map(|n| Constants {
                syn_decay: (-dt / n.tau_syn).exp(),
                c_m: n.c_m,
                g_l: n.g_l(),
                ref_steps: (n.tau_ref / dt).round().max(1.0) as u32,
            })
            .collect();
        let mut seeder = SmallRng::seed_from_u64(seed);
        let mut sources = Vec::new();
        if let Noise::Ensemble { sources: n, .. } = noise {
            assert!(chains >= 2, "ensemble noise needs at least two chains");
            for c in 0..chains {
                for _ in 0..k * 2 * n {
                    // A random neuron of another chain.
                    let other = (c + seeder.random_range(1..chains)) % chains;
                    sources.push((other * k + seeder.random_range(0..k)) as u32);
                }
            }
        }
        let chains_v = (0..chains)
            .map(|c| {
                let mut rng = SmallRng::seed_from_u64(seeder.random());
                let v: Vec<f64> = (0..k).map(|i| e_l[c * k + i]).collect();
                // Random initial states, so that deterministic ensembles do not start in lockstep.
                let refractory: Vec<u32> =
                    consts
                        .iter()
                        .map(|c: &Constants| {
                            if rng.random_bool(0.5) { rng.random_range(1..=c.ref_steps) } else { 0 }
                        })
                        .collect();
                let z = refractory.iter().map(|&r| (r > 0) as u8).collect();
                Chain {
                    v,
                    g_exc: vec![0.0; k],
                    g_inh: vec![0.0; k],
                    refractory,
                    z,
                    spiked: vec![0; k],
                    last_spike: vec![f64::NEG_INFINITY; k],
                    next_exc: vec![0.0; k],
                    next_inh: vec![0.0; k],
                    rng,
                }
            })
            .collect();
        let mut s = Self {
            neurons,
            consts,
            noise,
            weights,
            e_l,
            renewing,
            dt,
            t: 0.0,
            chains: chains_v,
            sources,
            spikes_prev: vec![0; chains * k],
        };
        s.init_background();
        s
    }

    fn init_background(&mut self) {
        let peak = self.peak_rate();
        for c in &mut self.chains {
            for i in 0..c.v.len() {
                if peak > 0.0 {
                    c.next_exc[i] = exp_interval(&mut c.rng, peak);
                    c.next_inh[i] = exp_interval(&mut c.rng, peak);
                } else {
                    c.next_exc[i] = f64::INFINITY;
                    c.next_inh[i] = f64::INFINITY;
                }
            }
        }
    }

    /// The highest background rate (the thinning envelope), kHz.
    fn peak_rate(&self) -> f64 {
        match self.noise {
            Noise::Poisson { rate, .. } => rate,
            Noise::Sinusoidal { rate, amplitude, .. } => rate + amplitude.abs(),
            Noise::Ensemble { .. } => 0.0,
        }
    }

    /// The background rate at time `t` (ms), kHz (ensembles: `None`).
    pub fn rate_at(&self, t: f64) -> Option<f64> {
        match self.noise {
            Noise::Poisson { rate, .. } => Some(rate),
            Noise::Sinusoidal { rate, amplitude, frequency, phase, .. } => Some(
                rate + amplitude
                    * (2.0 * std::f64::consts::PI * frequency * t / 1000.0 + phase).sin(),
            ),
            Noise::Ensemble { .. } => None,
        }
    }

    /// Replaces the synaptic weights (`[post, pre]`, signed) and resting potentials (`[units]`,
    /// the same for every chain) and keeps the dynamic state (persistent chains for learning).
    ///
    /// # Panics
    /// On shape mismatches.
    pub fn set_network(&mut self, weights: Vec<f64>, e_l: &[f64]) {
        let k = self.units();
        assert_eq!(weights.len(), k * k, "weights must be [{k}, {k}]");
        assert_eq!(e_l.len(), k, "resting potentials must be [{k}]");
        self.weights = weights;
        for c in 0..self.chains.len() {
            self.e_l[c * k..(c + 1) * k].copy_from_slice(e_l);
        }
    }

    /// Simulated time, ms.
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Membrane potentials of one chain, mV.
    pub fn potentials(&self, chain: usize) -> &[f64] {
        &self.chains[chain].v
    }

    /// Which neurons of one chain spiked in the last step.
    pub fn spikes(&self, chain: usize) -> &[u8] {
        &self.chains[chain].spiked
    }
}

fn exp_interval(rng: &mut SmallRng, rate: f64) -> f64 {
    -(1.0 - rng.random::<f64>()).ln() / rate
}

/// Everything a chain's step reads.
struct StepCtx<'a> {
    neurons: &'a [LifSamplingNeuron],
    consts: &'a [Constants],
    noise: &'a Noise,
    weights: &'a [f64],
    renewing: bool,
    dt: f64,
    t: f64,
    peak: f64,
    units: usize,
    sources: &'a [u32],
    spikes_prev: &'a [u8],
}

impl Chain {
    // Indexes a dozen parallel per-neuron arrays: a range loop reads clearest.
    #[allow(clippy::needless_range_loop)]
    fn step(&mut self, ctx: &StepCtx<'_>, e_l: &[f64], chain: usize) {
        let k = ctx.units;
        let (t0, t1) = (ctx.t, ctx.t + ctx.dt);
        let (w_exc, w_inh) = ctx.noise.weights();
        // Synaptic decay, then this step's inputs.
        for i in 0..k {
            let d = ctx.consts[i].syn_decay;
            self.g_exc[i] *= d;
            self.g_inh[i] *= d;
        }
        match *ctx.noise {
            Noise::Poisson { .. } | Noise::Sinusoidal { .. } => {
                let sinus = match *ctx.noise {
                    Noise::Sinusoidal { rate, amplitude, frequency, phase, .. } => {
                        Some((rate, amplitude, frequency, phase))
                    }
                    _ => None,
                };
                for i in 0..k {
                    for (next, g, w) in [
                        (&mut self.next_exc[i], &mut self.g_exc[i], w_exc),
                        (&mut self.next_inh[i], &mut self.g_inh[i], w_inh),
                    ] {
                        while *next < t1 {
                            let accept = match sinus {
                                None => true,
                                Some((r, a, f, ph)) => {
                                    let nu = r + a
                                        * (2.0 * std::f64::consts::PI * f * *next / 1000.0 + ph)
                                            .sin();
                                    self.rng.random::<f64>() * ctx.peak < nu
                                }
                            };
                            if accept {
                                *g += w;
                            }
                            *next += exp_interval(&mut self.rng, ctx.peak);
                        }
                    }
                }
            }
            Noise::Ensemble { sources, .. } => {
                for i in 0..k {
                    let base = (chain * k + i) * 2 * sources;
                    let src = &ctx.sources[base..base + 2 * sources];
                    let ne: u32 =
                        src[..sources].iter().map(|&s| ctx.spikes_prev[s as usize] as u32).sum();
                    let ni: u32 =
                        src[sources..].iter().map(|&s| ctx.spikes_prev[s as usize] as u32).sum();
                    self.g_exc[i] += w_exc * ne as f64;
                    self.g_inh[i] += w_inh * ni as f64;
                }
            }
        }
        // Recurrent input from the last step's spikes (one step of delay).
        for j in 0..k {
            if self.spiked[j] == 1 {
                let jump = if ctx.renewing {
                    // U = 1, τ_rec = τ_syn: resources recovered since the previous spike.
                    let since = t0 - self.last_spike[j];
                    1.0 - (-since / ctx.neurons[j].tau_syn).exp()
                } else {
                    1.0
                };
                for i in 0..k {
                    let w = ctx.weights[i * k + j] * jump;
                    if w > 0.0 {
                        self.g_exc[i] += w;
                    } else {
                        self.g_inh[i] -= w;
                    }
                }
                self.last_spike[j] = t0;
            }
        }
        // Membranes.
        for i in 0..k {
            self.spiked[i] = 0;
            if self.refractory[i] > 0 {
                self.refractory[i] -= 1;
            }
            let n = &ctx.neurons[i];
            let c = &ctx.consts[i];
            if self.refractory[i] > 0 {
                self.v[i] = n.v_reset;
            } else {
                let (g_tot, v_inf) = match n.synapse {
                    SynapseModel::Conductance => {
                        let g = c.g_l + self.g_exc[i] + self.g_inh[i];
                        (
                            g,
                            (c.g_l * e_l[i] + self.g_exc[i] * n.e_exc + self.g_inh[i] * n.e_inh)
                                / g,
                        )
                    }
                    SynapseModel::Current => {
                        (c.g_l, e_l[i] + (self.g_exc[i] - self.g_inh[i]) / c.g_l)
                    }
                };
                self.v[i] = v_inf + (self.v[i] - v_inf) * (-g_tot * ctx.dt / c.c_m).exp();
                if self.v[i] >= n.v_th {
                    self.v[i] = n.v_reset;
                    self.refractory[i] = c.ref_steps;
                    self.spiked[i] = 1;
                }
            }
            self.z[i] = (self.refractory[i] > 0) as u8;
        }
    }
}

impl Sampler for LifSampler {
    fn units(&self) -> usize {
        self.neurons.len()
    }

    fn chains(&self) -> usize {
        self.chains.len()
    }

    fn dt(&self) -> f64 {
        self.dt
    }

    fn step(&mut self) {
        let k = self.units();
        let ensemble = matches!(self.noise, Noise::Ensemble { .. });
        if ensemble {
            for (c, chain) in self.chains.iter().enumerate() {
                self.spikes_prev[c * k..(c + 1) * k].copy_from_slice(&chain.spiked);
            }
        }
        let ctx = StepCtx {
            neurons: &self.neurons,
            consts: &self.consts,
            noise: &self.noise,
            weights: &self.weights,
            renewing: self.renewing,
            dt: self.dt,
            t: self.t,
            peak: self.peak_rate(),
            units: k,
            sources: &self.sources,
            spikes_prev: &self.spikes_prev,
        };
        let e_l = &self.e_l;
        let work = |(c, chain): (usize, &mut Chain)| chain.step(&ctx, &e_l[c * k..(c + 1) * k], c);
        if self.chains.len() > 1 && self.chains.len() * k >= PARALLEL_NEURONS {
            self.chains.par_iter_mut().enumerate().for_each(work);
        } else {
            self.chains.iter_mut().enumerate().for_each(work);
        }
        self.t += self.dt;
    }

    fn state(&self, chain: usize) -> &[u8] {
        &self.chains[chain].z
    }
}

/// A fitted logistic activation per neuron: p(z_k = 1) = σ((E_l − v_p05)/α) as a function of
/// the resting potential, both in mV of E_l.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Resting potential at which the neuron is on half of the time, per neuron, mV.
    pub v_p05: Vec<f64>,
    /// Width of the logistic in resting-potential units, per neuron, mV.
    pub alpha: Vec<f64>,
    /// Largest |p_on − fit| over the swept points, per neuron.
    pub max_residual: Vec<f64>,
    /// The swept resting potentials, mV.
    pub e_l: Vec<f64>,
    /// Measured p_on per swept point and neuron, `[points, units]`.
    pub p_on: Vec<f64>,
}

/// How to sweep the resting potential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct CalibrationSweep {
    /// Lowest swept E_l, mV.
    pub e_l_min: f64,
    /// Highest swept E_l, mV.
    pub e_l_max: f64,
    /// Number of swept points.
    pub points: usize,
    /// Simulated time per point, ms.
    pub duration: f64,
    /// Discarded time before measuring, ms.
    pub burn_in: f64,
}

impl Default for CalibrationSweep {
    /// 40 points over E_l ∈ [−56, −44] mV (around sbs's neuron), 10 s each after 100 ms.
    fn default() -> Self {
        Self { e_l_min: -56.0, e_l_max: -44.0, points: 40, duration: 10_000.0, burn_in: 100.0 }
    }
}

impl CalibrationSweep {
    /// A sweep centred on the analytic estimate (μ = ϑ) ± 5 estimated widths, in E_l units.
    pub fn around_estimate(neuron: &LifSamplingNeuron, noise: &Noise) -> Self {
        let rate = noise.mean_rate().unwrap_or(3.0);
        let fm = free_membrane(neuron, neuron.v_th, rate, noise.weights());
        // ΔE_l moves μ by g_l/g_tot ΔE_l (conductance-based).
        let scale = fm.g_tot / neuron.g_l();
        let centre = match neuron.synapse {
            // μ(E_l) = ϑ: solve (g_l E_l + Σ g_x E_x)/g_tot = ϑ.
            SynapseModel::Conductance => neuron.v_th + (neuron.v_th - fm.mean) * scale,
            SynapseModel::Current => neuron.v_th - (fm.mean - neuron.v_th),
        };
        let half = 5.0 * fm.alpha_estimate * scale;
        Self { e_l_min: centre - half, e_l_max: centre + half, ..Self::default() }
    }
}

/// Sweeps every neuron's resting potential (one chain per swept point, couplings off), measures
/// p_on = time on / time (= N_spikes τ_ref / T), and fits the logistic by least squares on
/// logit(p_on) over the points with 0.05 < p_on < 0.95.
///
/// # Panics
/// If a neuron has fewer than two points inside (0.05, 0.95) ([`try_calibrate`] returns the
/// error instead).
pub fn calibrate(
    neurons: &[LifSamplingNeuron],
    noise: &Noise,
    dt: f64,
    sweep: &CalibrationSweep,
    seed: u64,
) -> Calibration {
    try_calibrate(neurons, noise, dt, sweep, seed).unwrap_or_else(|e| panic!("{e}"))
}

/// A calibration that could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "calibration of neuron {neuron}: only {points} swept points with 0.05 < p_on < 0.95 in \
     E_l ∈ [{e_l_min}, {e_l_max}] mV (the activation is too steep or outside the sweep: more \
     background noise, or more calibration points)"
)]
pub struct CalibrationError {
    /// The neuron.
    pub neuron: usize,
    /// Points inside (0.05, 0.95).
    pub points: usize,
    /// Lowest swept E_l, mV.
    pub e_l_min: f64,
    /// Highest swept E_l, mV.
    pub e_l_max: f64,
}

/// [`calibrate`], returning an error instead of panicking when a neuron cannot be fitted.
///
/// # Errors
/// [`CalibrationError`] naming the first neuron with fewer than two usable points.
pub fn try_calibrate(
    neurons: &[LifSamplingNeuron],
    noise: &Noise,
    dt: f64,
    sweep: &CalibrationSweep,
    seed: u64,
) -> Result<Calibration, CalibrationError> {
    let k = neurons.len();
    let n = sweep.points;
    let grid: Vec<f64> = (0..n)
        .map(|i| sweep.e_l_min + (sweep.e_l_max - sweep.e_l_min) * i as f64 / (n - 1).max(1) as f64)
        .collect();
    let e_l: Vec<f64> = grid.iter().flat_map(|&e| std::iter::repeat_n(e, k)).collect();
    let mut s =
        LifSampler::new(neurons.to_vec(), vec![0.0; k * k], e_l, noise.clone(), false, dt, n, seed);
    let p_on = super::sampler::mean_states(
        &mut s,
        (sweep.burn_in / dt).round() as usize,
        (sweep.duration / dt).round() as usize,
    );
    let mut cal = Calibration {
        v_p05: vec![0.0; k],
        alpha: vec![0.0; k],
        max_residual: vec![0.0; k],
        e_l: grid.clone(),
        p_on: p_on.clone(),
    };
    for i in 0..k {
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|p| (grid[p], p_on[p * k + i]))
            .filter(|&(_, p)| p > 0.05 && p < 0.95)
            .map(|(e, p)| (e, (p / (1.0 - p)).ln()))
            .collect();
        if pts.len() < 2 {
            return Err(CalibrationError {
                neuron: i,
                points: pts.len(),
                e_l_min: sweep.e_l_min,
                e_l_max: sweep.e_l_max,
            });
        }
        let m = pts.len() as f64;
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let (mx, my) = (sx / m, sy / m);
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = sxy / sxx;
        let alpha = 1.0 / slope;
        let v05 = mx - my / slope;
        cal.alpha[i] = alpha;
        cal.v_p05[i] = v05;
        cal.max_residual[i] = (0..n)
            .map(|p| (p_on[p * k + i] - 1.0 / (1.0 + (-(grid[p] - v05) / alpha).exp())).abs())
            .fold(0.0, f64::max);
    }
    Ok(cal)
}

/// The map between a Boltzmann machine and a LIF network: E_l,k = v_p05,k + α_k b_k, and
/// synaptic weights whose PSP, averaged over τ_ref, equals α_k W_kj (in μ units):
///
/// w_kj = α_μ,k W_kj C_m (1/τ_eff − 1/τ_syn) τ_ref / ( (E_x − μ_k) [τ_syn(1 − e^{−τ_ref/τ_syn})
///        − τ_eff(1 − e^{−τ_ref/τ_eff})] ),
///
/// E_x = E_exc for W > 0 and E_inh for W < 0 (conductance-based; current-based drops (E_x − μ)
/// and uses τ_m). α_μ = α·g_l/g_tot converts the fitted width from E_l to μ units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Translation {
    /// The neurons.
    pub neurons: Vec<LifSamplingNeuron>,
    /// Their calibration.
    pub calibration: Calibration,
    /// The background they were calibrated under.
    pub noise: Noise,
    /// Integration step, ms.
    pub dt: f64,
    /// Renewing synapses (U = 1, τ_rec = τ_syn).
    pub renewing: bool,
}

impl Translation {
    /// Synaptic weight per unit of W onto neuron `k`, µS or nA: `[excitatory (W > 0),
    /// inhibitory (W < 0)]`, both positive (the sign of W gives the weight's sign). One
    /// free-membrane evaluation per postsynaptic neuron.
    fn weight_factors(&self, k: usize) -> [f64; 2] {
        let n = &self.neurons[k];
        let rate = self.noise.mean_rate().unwrap_or(0.0);
        let e_l = self.calibration.v_p05[k];
        let fm = free_membrane(n, e_l, rate, self.noise.weights());
        let alpha_mu = self.calibration.alpha[k] * n.g_l() / fm.g_tot;
        let (te, ts, tr) = (fm.tau_eff, n.tau_syn, n.tau_ref);
        let shape = ts * (1.0 - (-tr / ts).exp()) - te * (1.0 - (-tr / te).exp());
        let per_drive = alpha_mu * n.c_m * (1.0 / te - 1.0 / ts) * tr / shape;
        match n.synapse {
            SynapseModel::Conductance => {
                [per_drive / (n.e_exc - fm.mean), per_drive / (fm.mean - n.e_inh)]
            }
            SynapseModel::Current => [per_drive, per_drive],
        }
    }

    /// The factor of `weight_factors(k)` for a coupling (or weight) of sign `x`.
    fn factor_for(factors: [f64; 2], x: f64) -> f64 {
        if x > 0.0 { factors[0] } else { factors[1] }
    }

    /// Synaptic weights `[post, pre]` (signed) and resting potentials `[units]` for `bm`.
    pub fn to_lif(&self, bm: &BoltzmannMachine) -> (Vec<f64>, Vec<f64>) {
        let k = bm.units();
        assert_eq!(k, self.neurons.len(), "machine and calibration differ in size");
        let mut w = vec![0.0; k * k];
        for i in 0..k {
            let factors = self.weight_factors(i);
            for j in 0..k {
                let wij = bm.weight(i, j);
                if wij != 0.0 {
                    w[i * k + j] = wij * Self::factor_for(factors, wij);
                }
            }
        }
        let e_l = (0..k)
            .map(|i| self.calibration.v_p05[i] + self.calibration.alpha[i] * bm.b[i])
            .collect();
        (w, e_l)
    }

    /// The machine a LIF network represents (the inverse of [`Translation::to_lif`]).
    pub fn to_boltzmann(&self, w: &[f64], e_l: &[f64]) -> BoltzmannMachine {
        let k = self.neurons.len();
        let mut bw = vec![0.0; k * k];
        for i in 0..k {
            let factors = self.weight_factors(i);
            for j in 0..k {
                let x = w[i * k + j];
                if x != 0.0 {
                    bw[i * k + j] = x / Self::factor_for(factors, x);
                }
            }
        }
        // Calibration spreads can make the translated couplings slightly asymmetric: average.
        for i in 0..k {
            for j in 0..i {
                let m = 0.5 * (bw[i * k + j] + bw[j * k + i]);
                bw[i * k + j] = m;
                bw[j * k + i] = m;
            }
        }
        let b = (0..k)
            .map(|i| (e_l[i] - self.calibration.v_p05[i]) / self.calibration.alpha[i])
            .collect();
        BoltzmannMachine::new(bw, b)
    }

    /// Points a running network at a new machine (keeps its state).
    pub fn update(&self, sampler: &mut LifSampler, bm: &BoltzmannMachine) {
        let (w, e_l) = self.to_lif(bm);
        sampler.set_network(w, &e_l);
    }

    /// `chains` LIF networks sampling from `bm` under the calibration's background.
    pub fn network(&self, bm: &BoltzmannMachine, chains: usize, seed: u64) -> LifSampler {
        self.network_with_noise(bm, self.noise.clone(), chains, seed)
    }

    /// `chains` LIF networks sampling from `bm` under another background than the one they were
    /// calibrated with — for deterministic ensembles ([`Noise::Ensemble`]): calibrate under
    /// Poisson trains of the rate the sources will deliver, run as an ensemble, and let learning
    /// in the loop absorb what differs (each neuron's fixed sources give it its own offset; the
    /// wiring is fixed by `seed`).
    pub fn network_with_noise(
        &self,
        bm: &BoltzmannMachine,
        noise: Noise,
        chains: usize,
        seed: u64,
    ) -> LifSampler {
        let (w, e_l) = self.to_lif(bm);
        let e_l = (0..chains).flat_map(|_| e_l.iter().copied()).collect();
        LifSampler::new(self.neurons.clone(), w, e_l, noise, self.renewing, self.dt, chains, seed)
    }
}
