//! A surrogate-gradient network on an emulated chip ([`crate::chip::Chip`]): the time-stepped
//! dynamics with every neuron's own τm, τs, ϑ, E_l and g_l (the instance's fixed pattern),
//! every weight times its synapse's gain and rounded to the chip's levels, and the
//! trial-to-trial noise of one run: threshold offsets per batch and per sample, spike-time
//! jitter, spike loss and the readout clock. The same instance and the same trial effects as
//! the first-spike-time layers' [`crate::ttfs::on_chip`], in discrete time.
//!
//! The per-neuron mapping (the same as for the first-spike-time layers): τm and τs times their
//! factors, ϑ and E_l plus their offsets in units of the ideal neuron's ϑ − E_l, and g_l times its
//! factor, which divides the neuron's input current (the current is in potential units: current
//! over g_l). The reset potential keeps its ideal value (the profiles have no reset spread).
//!
//! Two gradients, as on the real chip:
//! - [`SurrogateOnChip::forward`] is differentiable: backpropagation through time through the
//!   instance's own dynamics, straight through the weight rounding to the ideal weights (times
//!   the synapse gains) — the `exact` mode;
//! - [`SurrogateOnChip::forward_in_the_loop`]: the values are the chip's, the gradient is the
//!   **ideal** model's at the chip's observed values (Cramer et al. 2022 on BrainScaleS-2): each
//!   layer's ideal step function with the ideal weights and neurons, fed the chip's observed
//!   input spikes, with its membrane, spikes and refractory state replaced step by step by the
//!   chip's (`value + (model − model.detach())`), so the graph is the ideal model's at the chip's
//!   trajectory.
//!
//! Trial effects act on the emitted spikes. A spike emitted in step `k` stands for the time
//! `(k + 1)·dt` (as the first-spike readout counts): jitter moves it by the nearest whole number
//! of steps to `σ τs z`, one moved past the end of the sequence is not observed, a lost spike
//! (probability `spike-loss`) reaches no later neuron; the clock floors its time to the clock's
//! period and the spike lands in the step that ends first at or after the floored time (a
//! clock finer than `dt` moves nothing; a spike floored to 0 lands in step 0). The gradient passes to
//! a moved spike as to the spike itself (straight through); a lost spike receives none.

use crate::util::StdRng;
use burn::tensor::Tensor;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use super::layer::{Carrier, LayerTrace, LifLayer};
use super::lif::{LifParameters, LifState, Propagator};
use super::network::{NetworkTrace, SurrogateNetwork, with_extra};
use crate::chip::{Chip, ChipError, Trial, Weights};
use crate::error_path::ErrorPath;
use crate::util::{from_vec_f64, to_vec_f64};

/// One layer as the chip realises it.
#[derive(Debug, Clone)]
pub struct ChipLifLayer {
    /// The instance's neurons: ideal parameters times/plus their fixed-pattern deviations.
    pub parameters: LifParameters,
    /// Their step coefficients on the layer's grid, the membrane's response to the current
    /// divided by each neuron's g_l factor.
    pub propagator: Propagator,
    /// Per neuron: the g_l factor dividing the input current.
    pub g_leak: Vec<f64>,
    /// Per synapse, row-major `[rows, neurons]` (bias rows included): factor on the weight.
    pub gains: Vec<f64>,
    /// The ideal ϑ − E_l per neuron: the unit of the threshold noise.
    pub distance: Vec<f64>,
    /// The ideal τs per neuron: the unit of the jitter.
    pub tau_syn: Vec<f64>,
}

/// A [`SurrogateNetwork`]'s view on one chip instance (built by [`SurrogateOnChip::new`]).
#[derive(Debug, Clone)]
pub struct SurrogateOnChip {
    /// Per layer, input side first.
    pub layers: Vec<ChipLifLayer>,
    /// The weight resolution.
    pub weights: Weights,
    /// The trial-to-trial noise.
    pub trial: Trial,
    /// Whether the chip changes nothing ([`crate::chip::ChipProfile::is_ideal`]): then the
    /// network runs and learns exactly as without a chip.
    pub ideal: bool,
}

/// What the chip's neurons did in one layer over a sequence (values only).
struct ChipRun {
    /// Threshold crossings per step (before jitter, loss and clock).
    spikes: Vec<Tensor<2>>,
    /// Membrane per step (after reset).
    v: Vec<Tensor<2>>,
    /// Refractory counters per step.
    refractory: Vec<Tensor<2>>,
}

/// `value` with the gradient of `model`: `value + (model − model)` (exactly `value`).
fn pin(model: Tensor<2>, value: Tensor<2>) -> Tensor<2> {
    value.detach() + (model.clone() - model.detach())
}

impl SurrogateOnChip {
    /// `network` on `chip`: the chip must have been drawn for the network's layer shapes
    /// (rows = inputs plus bias rows).
    ///
    /// # Errors
    /// [`ChipError::Shape`] naming both shapes.
    pub fn new(network: &SurrogateNetwork, chip: &Chip) -> Result<Self, ChipError> {
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
                let ideal = layer.cell.parameters();
                let device = ideal.v_th.device();
                let dtype = ideal.v_th.dtype();
                let host = |t: &Tensor<1>| to_vec_f64(t.clone());
                let (m_inv, s_inv) = (host(&ideal.tau_mem_inv), host(&ideal.tau_syn_inv));
                let (th, el) = (host(&ideal.v_th), host(&ideal.v_leak));
                let n = th.len();
                let distance: Vec<f64> = th.iter().zip(&el).map(|(t, e)| t - e).collect();
                let tensor = |v: Vec<f64>| from_vec_f64(v, [n], &device, dtype);
                let parameters = LifParameters {
                    tau_mem_inv: tensor((0..n).map(|j| m_inv[j] / pattern.tau_mem[j]).collect()),
                    tau_syn_inv: tensor((0..n).map(|j| s_inv[j] / pattern.tau_syn[j]).collect()),
                    v_th: tensor((0..n).map(|j| th[j] + pattern.v_th[j] * distance[j]).collect()),
                    v_leak: tensor(
                        (0..n).map(|j| el[j] + pattern.v_leak[j] * distance[j]).collect(),
                    ),
                    v_reset: ideal.v_reset.clone(),
                };
                let mut propagator =
                    Propagator::new(&parameters, layer.grid.dt, layer.cell.integrator);
                let input_gain: Vec<f64> = pattern.g_leak.iter().map(|g| 1.0 / g).collect();
                let row = from_vec_f64(input_gain, [1, n], &device, dtype);
                propagator.v_from_i = propagator.v_from_i * row;
                let tau_syn = s_inv.iter().map(|s| if *s > 0.0 { 1.0 / s } else { 1.0 }).collect();
                ChipLifLayer {
                    parameters,
                    propagator,
                    g_leak: pattern.g_leak.clone(),
                    gains: pattern.synapse_gain.clone(),
                    distance,
                    tau_syn,
                }
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
    /// levels (saturating); differentiable straight through the rounding (the gradient to `w`
    /// is the gains).
    ///
    /// # Shapes
    /// - `w`: `[rows, neurons]` (bias rows included) → the same
    pub fn weights(&self, l: usize, w: Tensor<2>) -> Tensor<2> {
        let (shape, device, dtype) = (w.dims(), w.device(), w.dtype());
        let gains = &self.layers[l].gains;
        let gain = from_vec_f64(gains.clone(), shape, &device, dtype);
        let scaled = w * gain;
        if self.weights.bits == 0 {
            return scaled;
        }
        let q = &self.weights;
        let levels: Vec<f64> = to_vec_f64(scaled.clone()).iter().map(|x| q.quantise(*x)).collect();
        pin(scaled, from_vec_f64(levels, shape, &device, dtype))
    }

    /// Threshold offsets of one batch `[batch, neurons]`, or `None` without threshold noise:
    /// per neuron one draw shared by the batch plus one per sample, in units of the neuron's
    /// ideal ϑ − E_l.
    fn threshold_offsets(&self, l: usize, like: &Tensor<2>, rng: &mut StdRng) -> Option<Tensor<2>> {
        let (sb, ss) = (self.trial.v_th_batch, self.trial.v_th_sample);
        if sb == 0.0 && ss == 0.0 {
            return None;
        }
        let [batch, m] = like.dims();
        let dist = &self.layers[l].distance;
        let mut normal = || -> f64 { StandardNormal.sample(rng) };
        let shared: Vec<f64> = (0..m).map(|_| if sb > 0.0 { sb * normal() } else { 0.0 }).collect();
        let mut out = Vec::with_capacity(batch * m);
        for _ in 0..batch {
            for j in 0..m {
                let own = if ss > 0.0 { ss * normal() } else { 0.0 };
                out.push((shared[j] + own) * dist[j]);
            }
        }
        Some(from_vec_f64(out, [batch, m], &like.device(), like.dtype()))
    }

    /// Layer `l`'s chip neurons run from rest on `currents` (one `[batch, n]` per step), with
    /// this batch's threshold noise drawn from `rng`. Differentiable where `currents` are.
    fn run_neurons(
        &self,
        l: usize,
        layer: &LifLayer,
        currents: Vec<Tensor<2>>,
        rng: &mut StdRng,
    ) -> ChipRun {
        let mut p = self.layers[l].propagator.clone();
        if layer.cell.spiking
            && let Some(offsets) = self.threshold_offsets(l, &currents[0], rng)
        {
            p.v_th = p.v_th + offsets;
        }
        let [batch, _] = currents[0].dims();
        let mut state = LifState::initial(batch, &p);
        let steps = currents.len();
        let mut run = ChipRun {
            spikes: Vec::with_capacity(steps),
            v: Vec::with_capacity(steps),
            refractory: Vec::with_capacity(steps),
        };
        for current in currents {
            let (z, next) = layer.cell.step(current, state, &p);
            run.spikes.push(z);
            run.v.push(next.v.clone());
            run.refractory.push(next.refractory.clone());
            state = next;
        }
        run
    }

    /// The spikes layer `l`'s crossings emit: jittered, some lost, floored to the clock; the
    /// gradient of a kept spike passes to the crossing it came from.
    fn observe(
        &self,
        l: usize,
        dt: f64,
        spikes: Vec<Tensor<2>>,
        rng: &mut StdRng,
    ) -> Vec<Tensor<2>> {
        let t = &self.trial;
        // A clock period of at most `dt` floors `(k + 1)·dt` to a time inside step `k`.
        let clock = if t.clock > dt { t.clock } else { 0.0 };
        if t.jitter == 0.0 && t.spike_loss == 0.0 && clock == 0.0 {
            return spikes;
        }
        let [batch, m] = spikes[0].dims();
        let (device, dtype) = (spikes[0].device(), spikes[0].dtype());
        let steps = spikes.len();
        let tau = &self.layers[l].tau_syn;
        let mut moved = vec![vec![0.0; batch * m]; steps];
        let mut keep = vec![vec![1.0; batch * m]; steps];
        for (k, z) in spikes.iter().enumerate() {
            for (idx, s) in to_vec_f64(z.clone().detach()).into_iter().enumerate() {
                if s == 0.0 {
                    continue;
                }
                let mut step = k as i64;
                if t.jitter > 0.0 {
                    let z: f64 = StandardNormal.sample(rng);
                    step += (t.jitter * tau[idx % m] * z / dt).round() as i64;
                }
                if t.spike_loss > 0.0 && rng.random::<f64>() < t.spike_loss {
                    keep[k][idx] = 0.0;
                    continue;
                }
                if clock > 0.0 && step >= 0 {
                    let time = ((step + 1) as f64 * dt / clock).floor() * clock;
                    // The step whose end is the first at or after the floored time.
                    step = (time / dt - 1e-9).ceil() as i64 - 1;
                }
                match usize::try_from(step.max(0)) {
                    Ok(s2) if s2 < steps => moved[s2][idx] += s,
                    _ => keep[k][idx] = 0.0,
                }
            }
        }
        spikes
            .into_iter()
            .zip(moved.into_iter().zip(keep))
            .map(|(z, (moved, keep))| {
                let kept = z * from_vec_f64(keep, [batch, m], &device, dtype);
                pin(kept, from_vec_f64(moved, [batch, m], &device, dtype))
            })
            .collect()
    }

    /// One run of the chip on the encoded `inputs` (one `[batch, n_inputs]` spike tensor per
    /// step), its trial noise drawn from `rng`: the observed spikes of every layer and the
    /// chip's membranes. Differentiable: backpropagation through time through the instance's
    /// own dynamics (errors to the hidden layers along `path`, through the realised weights
    /// under backprop), straight through the rounding to the ideal weights.
    ///
    /// # Panics
    /// If `network` is not the one this view was built for (shapes), or `path` does not fit.
    pub fn forward(
        &self,
        network: &SurrogateNetwork,
        inputs: &[Tensor<2>],
        path: &ErrorPath,
        rng: &mut StdRng,
    ) -> NetworkTrace {
        assert_eq!(network.layers.len(), self.layers.len(), "the chip has another depth");
        if self.ideal {
            return network.forward_along(inputs, path);
        }
        let dt = network.grid().dt;
        let run =
            |l: usize, layer: &LifLayer, x: &[Tensor<2>], carrier: Carrier, extra: &[Tensor<2>]| {
                let w = self.weights(l, layer.weights.val());
                let currents = with_extra(layer.input_currents_with(w, x, carrier), extra);
                let chip = self.run_neurons(l, layer, currents, rng);
                LayerTrace { spikes: self.observe(l, dt, chip.spikes, rng), v: chip.v }
            };
        network.forward_with(inputs, path, false, run).0
    }

    /// Chip in the loop: the values of [`forward`](Self::forward) (the same trial noise from
    /// the same `rng` state), the gradient of the **ideal** model at the chip's observed values:
    /// each layer's ideal dynamics fed the chip's observed input spikes, its membrane, spikes
    /// and refractory state pinned to the chip's at every step (errors to the hidden layers
    /// along `path`, through the ideal weights under backprop).
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn forward_in_the_loop(
        &self,
        network: &SurrogateNetwork,
        inputs: &[Tensor<2>],
        path: &ErrorPath,
        rng: &mut StdRng,
    ) -> NetworkTrace {
        assert_eq!(network.layers.len(), self.layers.len(), "the chip has another depth");
        if self.ideal {
            return network.forward_along(inputs, path);
        }
        let dt = network.grid().dt;
        let run =
            |l: usize, layer: &LifLayer, x: &[Tensor<2>], carrier: Carrier, extra: &[Tensor<2>]| {
                let values: Vec<Tensor<2>> = x.iter().map(|t| t.clone().detach()).collect();
                let w = self.weights(l, layer.weights.val().detach());
                let currents = layer.input_currents_with(w, &values, Carrier::Weights);
                let chip = self.run_neurons(l, layer, currents, rng);
                let currents = with_extra(layer.input_currents(x, carrier), extra);
                let p = layer.cell.propagator(layer.grid.dt);
                let [batch, _] = currents[0].dims();
                let mut state = LifState::initial(batch, &p);
                let mut trace = LayerTrace { spikes: vec![], v: vec![] };
                let steps = chip.spikes.into_iter().zip(chip.v).zip(chip.refractory);
                for (current, ((z_chip, v_chip), refractory)) in currents.into_iter().zip(steps) {
                    let (z, next) = layer.cell.step(current, state, &p);
                    let v = pin(next.v, v_chip);
                    trace.spikes.push(pin(z, z_chip));
                    trace.v.push(v.clone());
                    state = LifState { v, i: next.i, refractory };
                }
                trace.spikes = self.observe(l, dt, trace.spikes, rng);
                trace
            };
        network.forward_with(inputs, path, false, run).0
    }
}
