//! A first-spike-time network on an emulated chip ([`crate::chip::Chip`]): every neuron with the
//! instance's own τm, τs, ϑ, E_l and g_l (so τm/τs differs per neuron and the exact spike times
//! come from [`super::general_kernel`]), every weight times its synapse's gain and rounded to the
//! chip's levels, and the trial-to-trial noise of one run of the chip: threshold offsets per
//! batch and per sample, spike-time jitter, spike loss and the readout clock.
//!
//! The network's own weights stay the ideal parameters that training updates; [`OnChip`] is the
//! view of them that one chip instance realises. Two gradients are offered:
//! - [`OnChip::backward_in_the_loop`]: the **ideal** model's gradient at the chip's observed spike
//!   times (Göltz, Kriener et al. 2021): each layer's exact-gradient formulas with the ideal
//!   neurons and weights, evaluated at the chip's observed input and output times; zero where
//!   the chip spiked but the ideal layer does not reach threshold from those inputs;
//! - [`OnChip::backward_exact`]: the exact gradient of the instance's own heterogeneous model,
//!   passed straight through the weight rounding to the ideal weights (times the synapse gains).
//!
//! Jitter, loss and the clock act on the emitted spikes: the gradient passes through jitter and
//! the clock as through the identity (straight through), and a lost spike receives no error (no
//! later neuron saw it). Equal observed times (the clock makes them common) are broken the way
//! the readout does: the earliest output wins, the lowest index among equals
//! ([`super::loss::predict`]).

use crate::util::StdRng;
use burn::tensor::Tensor;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use super::functional::SpikeTimeGrads;
use super::general::Neuron;
use super::general_kernel;
use super::network::{ForwardTrace, NetworkGrads, SpikeTimeNetwork};
use crate::chip::{Chip, ChipError, Trial, Weights};
use crate::error_path::ErrorPath;
use crate::util::{from_vec_f64, to_vec_f64};

/// One layer as the chip realises it.
#[derive(Debug, Clone)]
pub struct ChipLayer {
    /// The instance's neurons (ideal parameters times/plus their fixed-pattern deviations).
    pub neurons: Vec<Neuron>,
    /// Per synapse, row-major `[rows, neurons]` (bias rows included): factor on the weight.
    pub gains: Vec<f64>,
    /// The ideal ϑ − E_l per neuron: the unit of the threshold noise.
    pub distance: Vec<f64>,
    /// The ideal τs per neuron: the unit of the jitter.
    pub tau_syn: Vec<f64>,
}

/// A [`SpikeTimeNetwork`]'s view on one chip instance (built by [`OnChip::new`]).
#[derive(Debug, Clone)]
pub struct OnChip {
    /// Per layer, input side first.
    pub layers: Vec<ChipLayer>,
    /// The weight resolution.
    pub weights: Weights,
    /// The trial-to-trial noise.
    pub trial: Trial,
    /// Whether the chip changes nothing ([`crate::chip::ChipProfile::is_ideal`]): then the
    /// network runs and learns exactly as without a chip, bit for bit.
    pub ideal: bool,
}

/// One run of the chip: what it emitted and what its neurons computed.
#[derive(Debug, Clone)]
pub struct ChipTrace {
    /// The network input, then each layer's **observed** spikes (after jitter, loss, clock):
    /// what the next layer received and what the loss sees.
    pub observed: ForwardTrace,
    /// Each layer's threshold crossings before the trial effects on the emitted spikes.
    pub crossings: Vec<Tensor<2>>,
    /// Each layer's realised weights ([`OnChip::weights`]; empty on an ideal chip).
    pub weights: Vec<Tensor<2>>,
}

impl OnChip {
    /// `network` on `chip`: the chip must have been drawn for the network's layer shapes
    /// (rows = inputs plus bias rows).
    ///
    /// # Errors
    /// [`ChipError::Shape`] naming both shapes.
    pub fn new(network: &SpikeTimeNetwork, chip: &Chip) -> Result<Self, ChipError> {
        let shapes: Vec<(usize, usize)> = network
            .layers
            .iter()
            .map(|l| (l.n_inputs() + l.bias_times.len(), l.n_outputs()))
            .collect();
        chip.check_shapes(&shapes)?;
        let layers = network
            .layers
            .iter()
            .zip(&chip.layers)
            .map(|(layer, pattern)| {
                let p = layer.neurons();
                let (ts, th) = (to_vec_f64(p.tau_syn), to_vec_f64(p.v_th));
                let (el, gl) = (to_vec_f64(p.v_leak), to_vec_f64(p.g_leak));
                let ratio = p.ratio.value();
                let distance: Vec<f64> = th.iter().zip(&el).map(|(t, e)| t - e).collect();
                let neurons = (0..ts.len())
                    .map(|j| Neuron {
                        tau_mem: ratio * ts[j] * pattern.tau_mem[j],
                        tau_syn: ts[j] * pattern.tau_syn[j],
                        v_th: th[j] + pattern.v_th[j] * distance[j],
                        v_leak: el[j] + pattern.v_leak[j] * distance[j],
                        g_leak: gl[j] * pattern.g_leak[j],
                    })
                    .collect();
                ChipLayer { neurons, gains: pattern.synapse_gain.clone(), distance, tau_syn: ts }
            })
            .collect();
        Ok(Self {
            layers,
            weights: chip.profile.weights,
            trial: chip.profile.trial,
            ideal: chip.profile.is_ideal(),
        })
    }

    /// The weights layer `l` realises: each times its synapse's gain, rounded to the chip's
    /// levels (saturating).
    ///
    /// # Shapes
    /// - `w`: `[rows, neurons]` (bias rows included) → the same
    pub fn weights(&self, l: usize, w: Tensor<2>) -> Tensor<2> {
        let (shape, device, dtype) = (w.dims(), w.device(), w.dtype());
        let q = &self.weights;
        let v: Vec<f64> = to_vec_f64(w)
            .iter()
            .zip(&self.layers[l].gains)
            .map(|(w, g)| q.quantise(g * w))
            .collect();
        from_vec_f64(v, shape, &device, dtype)
    }

    /// Threshold offsets of one batch, `[batch, neurons]` row-major, or `None` without
    /// threshold noise: per neuron one draw shared by the batch plus one per sample, in units
    /// of the neuron's ϑ − E_l.
    fn threshold_offsets(&self, l: usize, batch: usize, rng: &mut StdRng) -> Option<Vec<f64>> {
        let (sb, ss) = (self.trial.v_th_batch, self.trial.v_th_sample);
        if sb == 0.0 && ss == 0.0 {
            return None;
        }
        let dist = &self.layers[l].distance;
        let m = dist.len();
        let mut normal = || -> f64 { StandardNormal.sample(rng) };
        let shared: Vec<f64> = (0..m).map(|_| if sb > 0.0 { sb * normal() } else { 0.0 }).collect();
        let mut out = Vec::with_capacity(batch * m);
        for _ in 0..batch {
            for j in 0..m {
                let own = if ss > 0.0 { ss * normal() } else { 0.0 };
                out.push((shared[j] + own) * dist[j]);
            }
        }
        Some(out)
    }

    /// The spikes layer `l`'s crossings emit: jittered, some lost, floored to the clock.
    fn observe(&self, l: usize, crossings: &Tensor<2>, rng: &mut StdRng) -> Tensor<2> {
        let t = &self.trial;
        if t.jitter == 0.0 && t.spike_loss == 0.0 && t.clock == 0.0 {
            return crossings.clone();
        }
        let (shape, device, dtype) = (crossings.dims(), crossings.device(), crossings.dtype());
        let m = shape[1];
        let tau = &self.layers[l].tau_syn;
        let mut v = to_vec_f64(crossings.clone());
        for (k, x) in v.iter_mut().enumerate() {
            if !x.is_finite() {
                continue;
            }
            if t.jitter > 0.0 {
                let z: f64 = StandardNormal.sample(rng);
                *x += t.jitter * tau[k % m] * z;
            }
            if t.spike_loss > 0.0 && rng.random::<f64>() < t.spike_loss {
                *x = f64::INFINITY;
                continue;
            }
            if t.clock > 0.0 {
                *x = (*x / t.clock).floor() * t.clock;
            }
        }
        from_vec_f64(v, shape, &device, dtype)
    }

    /// One run of the chip on `times`, its trial noise drawn from `rng`.
    ///
    /// # Shapes
    /// - `times`: `[batch, n_inputs]` → observed activations as [`ForwardTrace`]
    ///
    /// # Panics
    /// If `network` is not the one this view was built for (shapes).
    pub fn forward_trace(
        &self,
        network: &SpikeTimeNetwork,
        times: Tensor<2>,
        rng: &mut StdRng,
    ) -> ChipTrace {
        assert_eq!(network.layers.len(), self.layers.len(), "the chip has another depth");
        if self.ideal {
            let observed = network.forward_trace(times);
            let crossings = observed.activations[1..].to_vec();
            return ChipTrace { observed, crossings, weights: Vec::new() };
        }
        let [batch, _] = times.dims();
        let mut activations = vec![times];
        let mut crossings = Vec::with_capacity(self.layers.len());
        let mut weights = Vec::with_capacity(self.layers.len());
        for (l, layer) in network.layers.iter().enumerate() {
            let x = layer.with_bias(activations[l].clone());
            let w = self.weights(l, layer.weights.val());
            let offsets = self.threshold_offsets(l, batch, rng);
            weights.push(w.clone());
            let raw = general_kernel::first_spike_times(
                x,
                w,
                &self.layers[l].neurons,
                offsets.as_deref(),
            );
            activations.push(self.observe(l, &raw, rng));
            crossings.push(raw);
        }
        ChipTrace { observed: ForwardTrace { activations }, crossings, weights }
    }

    /// The chip's observed output spike times (a [`forward_trace`](Self::forward_trace)'s last).
    pub fn forward(
        &self,
        network: &SpikeTimeNetwork,
        times: Tensor<2>,
        rng: &mut StdRng,
    ) -> Tensor<2> {
        self.forward_trace(network, times, rng).observed.output()
    }

    /// Chip in the loop: the ideal network's gradient formulas for `delta = ∂L/∂(observed
    /// outputs)`, each layer's evaluated at the chip's observed input **and output** spike
    /// times, zero for the outputs the ideal layer does not fire at those inputs (an extra
    /// ideal forward pass per layer decides which); the error of a layer's outputs is carried
    /// back through the ideal weights (or `path`'s matrices).
    ///
    /// Evaluating the formulas at the observed output times, rather than at the ideal
    /// layer's own crossings, measured better on Yin-Yang on `bss2` (BENCHMARKS.md).
    pub fn backward_in_the_loop(
        &self,
        network: &SpikeTimeNetwork,
        trace: &ChipTrace,
        delta: Tensor<2>,
        max_dw: Option<f64>,
        path: &ErrorPath,
    ) -> NetworkGrads {
        if self.ideal {
            return network.backward_along(&trace.observed, delta, max_dw, path);
        }
        let acts = &trace.observed.activations;
        network.backward_with(&trace.observed.output(), delta, path, |l, layer, delta, fb| {
            let silent = layer.forward(acts[l].clone()).is_inf();
            let at = acts[l + 1].clone().mask_fill(silent, f64::INFINITY);
            layer.backward_through(acts[l].clone(), at, delta, max_dw, fb)
        })
    }

    /// The exact gradients of the instance's own model: each layer differentiated at its
    /// observed inputs and its own crossings, with its heterogeneous neurons and realised
    /// weights (which also carry the error back under backprop); the weight gradient reaches
    /// the ideal weights straight through the rounding, times the synapse gains.
    pub fn backward_exact(
        &self,
        network: &SpikeTimeNetwork,
        trace: &ChipTrace,
        delta: Tensor<2>,
        max_dw: Option<f64>,
        path: &ErrorPath,
    ) -> NetworkGrads {
        if self.ideal {
            return network.backward_along(&trace.observed, delta, max_dw, path);
        }
        let acts = &trace.observed.activations;
        network.backward_with(&trace.observed.output(), delta, path, |l, layer, delta, fb| {
            let x = layer.with_bias(acts[l].clone());
            let fb = fb.map(|b| layer.with_bias_rows(b));
            let g = general_kernel::backward_with(
                x,
                trace.weights[l].clone(),
                fb,
                &self.layers[l].neurons,
                trace.crossings[l].clone(),
                delta,
                max_dw,
            );
            let gains = &self.layers[l].gains;
            let (shape, device, dtype) = (g.weights.dims(), g.weights.device(), g.weights.dtype());
            let gw: Vec<f64> =
                to_vec_f64(g.weights).iter().zip(gains).map(|(d, g)| d * g).collect();
            SpikeTimeGrads {
                weights: from_vec_f64(gw, shape, &device, dtype),
                input_times: g.input_times.narrow(1, 0, layer.n_inputs()),
                clipped: g.clipped,
            }
        })
    }
}
