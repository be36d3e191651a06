//! Backpropagation through time against central finite differences, in f64.
//!
//! With a Heaviside forward the surrogate gradient is not the derivative of anything, so the
//! check runs on the smoothed model where the surrogate is exact: every spike is `S(v − ϑ)`,
//! the smooth function whose derivative is the surrogate ([`SpikeForward::Smooth`]). Then the
//! autodiff gradient of the loss through the whole sequence (synaptic currents, leak, reset,
//! hidden layer, readout) must equal the finite-difference derivative — for every surrogate,
//! both resets and all three readouts, with per-neuron time constants and thresholds.

mod common;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{FdCount, f64_device};
use rand::{RngExt, SeedableRng};
use spikeburn::surrogate::layer::LayerTrace;
use spikeburn::surrogate::network::NetworkTrace;
use spikeburn::surrogate::{
    Encoder, Integrator, LifLayer, LifLayerConfig, LifState, LifValues, Readout, Reset,
    SpikeForward, Surrogate, SurrogateNetwork, TimeGrid,
};
use spikeburn::util::StdRng;
use spikeburn::util::to_vec_f64;

const H: f64 = 1e-6;

#[derive(Debug, Clone, Copy)]
struct Case {
    surrogate: Surrogate,
    reset: Reset,
    readout: Readout,
    integrator: Integrator,
    /// Steps held at `v_reset` after a spike.
    refractory_steps: usize,
    /// Leave the reset out of the backward pass (the shipped default).
    detach_reset: bool,
}

impl Case {
    fn new(surrogate: Surrogate, reset: Reset, readout: Readout) -> Self {
        Case {
            surrogate,
            reset,
            readout,
            integrator: Integrator::Exact,
            refractory_steps: 0,
            detach_reset: false,
        }
    }
}

fn network(case: &Case, device: &Device, rng: &mut StdRng) -> SurrogateNetwork {
    let grid = TimeGrid { dt: 0.1, steps: 30 };
    let sizes = [(5, 6), (6, 3)];
    let layers = sizes
        .iter()
        .enumerate()
        .map(|(l, &(n_in, n_out))| {
            let mut layer = LifLayerConfig::new(n_in, n_out)
                .with_bias_times(vec![0.3])
                .with_weight_mean(0.8)
                .with_weight_std(0.8)
                .with_neuron(LifValues { tau_mem: 1.0, tau_syn: 0.7, ..LifValues::default() })
                .with_grid(grid)
                .with_integrator(case.integrator)
                .with_surrogate(case.surrogate)
                .with_reset(case.reset)
                .with_refractory_steps(case.refractory_steps)
                .with_detach_reset(case.detach_reset)
                .with_spiking(l == 0 || case.readout.spiking())
                .init(device, rng);
            layer.cell.behaviour.forward = SpikeForward::Smooth;
            // Per-neuron values: each neuron its own τm, τs and ϑ.
            let vary = |t: Tensor<1>, rng: &mut StdRng| {
                let v: Vec<f64> =
                    to_vec_f64(t).iter().map(|x| x * rng.random_range(0.7..1.3)).collect();
                let n = v.len();
                Param::from_tensor(Tensor::from_data(TensorData::new(v, [n]), device))
                    .set_require_grad(false)
            };
            layer.cell.tau_mem_inv = vary(layer.cell.tau_mem_inv.val(), rng);
            layer.cell.tau_syn_inv = vary(layer.cell.tau_syn_inv.val(), rng);
            layer.cell.v_th = vary(layer.cell.v_th.val(), rng);
            layer
        })
        .collect();
    SurrogateNetwork { layers, readout: case.readout, encoder: Encoder::Latency }
}

fn loss(net: &SurrogateNetwork, times: &[f64], labels: &[i64], device: &Device) -> Tensor<1> {
    let mut rng = StdRng::seed_from_u64(0);
    let inputs = net.encode(times, 5, &mut rng, device);
    let trace = net.forward(&inputs);
    let scores = net.scores(&trace);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [labels.len()]), device);
    net.loss(scores, y, 2.0).mean()
}

fn with_weights(
    net: &SurrogateNetwork,
    l: usize,
    w: Vec<f64>,
    device: &Device,
) -> SurrogateNetwork {
    let mut net = net.clone();
    let shape = net.layers[l].weights.val().dims();
    net.layers[l].weights =
        Param::from_tensor(Tensor::from_data(TensorData::new(w, shape), device));
    net
}

/// A replay of one layer's forward pass, written out here from the step equations
/// (`surrogate::lif` module docs), with one change available: `frozen` gives the spikes the
/// reset uses at each step, held fixed. With the reset's spikes frozen at their unperturbed
/// values, the finite-difference derivative of the loss is by definition the gradient of the
/// model whose reset is left out of the backward pass (`detach_reset`): the shipped training
/// configuration. Without `frozen` the replay must equal `LifLayer::forward` (checked).
fn replay_layer(
    layer: &LifLayer,
    inputs: &[Tensor<2>],
    frozen: Option<&[Tensor<2>]>,
) -> LayerTrace {
    let cell = &layer.cell;
    if !cell.spiking {
        return layer.forward(inputs); // a leaky integrator has no reset
    }
    let n_in = layer.n_inputs();
    let w = layer.weights.val();
    let w_in = w.clone().narrow(0, 0, n_in);
    let p = cell.propagator(layer.grid.dt);
    let b = &cell.behaviour;
    let mut state = LifState::initial(inputs[0].dims()[0], &p);
    let mut trace = LayerTrace { spikes: vec![], v: vec![] };
    for (t, x) in inputs.iter().enumerate() {
        let mut current = x.clone().matmul(w_in.clone());
        for (k, bias) in layer.bias_times.iter().enumerate() {
            if layer.grid.step_of(*bias) == Some(t) {
                current = current + w.clone().narrow(0, n_in + k, 1);
            }
        }
        let i = state.i + current;
        let mut v = (state.v - p.v_leak.clone()) * p.v_decay.clone()
            + p.v_leak.clone()
            + i.clone() * p.v_from_i.clone();
        let i = i * p.i_decay.clone();
        if b.refractory_steps > 0 {
            let held = state.refractory.clone().greater_elem(0.0);
            v = v.clone().mask_where(held, p.v_reset.clone().expand(v.dims()));
        }
        let z = b.surrogate.spike(v.clone() - p.v_th.clone(), SpikeForward::Smooth);
        let zr = frozen.map_or_else(|| z.clone(), |f| f[t].clone());
        let v = match b.reset {
            Reset::Subtract => v - zr * (p.v_th.clone() - p.v_reset.clone()),
            Reset::ToReset => v.clone() - zr * (v - p.v_reset.clone()),
        };
        let refractory = if b.refractory_steps > 0 {
            let left = (state.refractory - 1.0).clamp_min(0.0);
            left.mask_fill(z.clone().greater_elem(0.5), b.refractory_steps as f64)
        } else {
            state.refractory
        };
        state = LifState { v, i, refractory };
        trace.v.push(state.v.clone());
        trace.spikes.push(z);
    }
    trace
}

/// The network's forward pass by [`replay_layer`], layer by layer; `frozen` holds each layer's
/// reset spikes.
fn replay(
    net: &SurrogateNetwork,
    inputs: &[Tensor<2>],
    frozen: Option<&NetworkTrace>,
) -> NetworkTrace {
    let mut layers: Vec<LayerTrace> = vec![];
    for (l, layer) in net.layers.iter().enumerate() {
        let input = if l == 0 { inputs.to_vec() } else { layers[l - 1].spikes.clone() };
        let f = frozen.map(|f| f.layers[l].spikes.as_slice());
        layers.push(replay_layer(layer, &input, f));
    }
    NetworkTrace { layers }
}

fn replay_loss(
    net: &SurrogateNetwork,
    times: &[f64],
    labels: &[i64],
    frozen: Option<&NetworkTrace>,
    device: &Device,
) -> (f64, NetworkTrace) {
    let inputs = net.encode(times, 5, &mut StdRng::seed_from_u64(0), device);
    let trace = replay(net, &inputs, frozen);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [labels.len()]), device);
    let l = net.loss(net.scores(&trace), y, 2.0).mean();
    (to_vec_f64(l)[0], trace)
}

/// Autodiff gradients of the loss against central finite differences, for every weight:
/// of the smoothed model itself, or (with `detach_reset`) of the [`replay`] whose reset spikes
/// are frozen at the unperturbed run's. An entry whose stencil crosses a refractory switch (a
/// spike value crossing ½, a kink) is skipped and counted.
fn check(case: Case, seed: u64) -> FdCount {
    let plain = f64_device();
    let device = plain.clone().autodiff();
    let mut rng = StdRng::seed_from_u64(seed);
    let net = network(&case, &device, &mut rng);
    let batch = 4;
    let times: Vec<f64> = (0..batch * 5)
        .map(|_| if rng.random_bool(0.15) { f64::INFINITY } else { rng.random_range(0.0..1.5) })
        .collect();
    let labels: Vec<i64> = (0..batch).map(|_| rng.random_range(0..3)).collect();

    let l = loss(&net, &times, &labels, &device);
    let grads = GradientsParams::from_grads(l.backward(), &net);
    // The replay is the same model: same loss as the library's forward, to rounding.
    let base_net = net.valid();
    let (replayed, base_trace) = replay_loss(&base_net, &times, &labels, None, &plain);
    let library = to_vec_f64(loss(&base_net, &times, &labels, &plain))[0];
    assert!((replayed - library).abs() < 1e-12, "{case:?}: replay {replayed} vs {library}");
    let frozen = case.detach_reset.then_some(&base_trace);
    let mut count = FdCount::default();
    for layer in 0..2 {
        let w = to_vec_f64(net.layers[layer].weights.val().inner());
        let g: Tensor<2> = grads.get(net.layers[layer].weights.id).expect("weight gradient");
        let g = to_vec_f64(g);
        for k in 0..w.len() {
            let at = |d: f64| {
                let mut v = w.clone();
                v[k] += d;
                let n = with_weights(&net, layer, v, &plain);
                replay_loss(&n, &times, &labels, frozen, &plain).0
            };
            let (lp, lm) = (at(H), at(-H));
            let curvature = ((lp - replayed) - (replayed - lm)).abs();
            if curvature > 1e-8 {
                count.skip(format!("layer {layer} weight {k}: second difference {curvature:.1e}"));
                continue;
            }
            let fd = (lp - lm) / (2.0 * H);
            let tol = 1e-6 + 1e-5 * fd.abs().max(g[k].abs());
            assert!(
                (fd - g[k]).abs() < tol,
                "{case:?} seed {seed}: layer {layer} weight {k}: autodiff {} vs FD {fd}",
                g[k]
            );
            count.compared(g[k], FLOOR);
        }
    }
    count
}

/// Gradients below this count as zero for the "enough nonzero entries" rule.
const FLOOR: f64 = 1e-4;

const SURROGATES: [Surrogate; 4] = [
    Surrogate::Sigmoid { slope: 4.0 },
    Surrogate::FastSigmoid { slope: 5.0 },
    Surrogate::Arctan { alpha: 2.0 },
    Surrogate::Triangle { slope: 0.5 },
];

/// (5 + 1 bias)·6 + (6 + 1 bias)·3 = 57 weights per case.
const WEIGHTS: usize = 57;

#[test]
fn bptt_matches_finite_differences_for_every_surrogate_and_reset() {
    let mut total = FdCount::default();
    for (i, surrogate) in SURROGATES.into_iter().enumerate() {
        for reset in [Reset::Subtract, Reset::ToReset] {
            total.add(check(Case::new(surrogate, reset, Readout::MaxMembrane), i as u64));
        }
    }
    total.assert_thorough("surrogates × resets", FLOOR, 8 * WEIGHTS * 3 / 4);
}

#[test]
fn bptt_matches_finite_differences_for_every_readout() {
    let mut total = FdCount::default();
    for (i, readout) in [Readout::SpikeCount, Readout::FirstSpike].into_iter().enumerate() {
        for integrator in [Integrator::Exact, Integrator::Euler] {
            let case = Case {
                integrator,
                ..Case::new(Surrogate::Sigmoid { slope: 4.0 }, Reset::Subtract, readout)
            };
            total.add(check(case, 10 + i as u64));
        }
    }
    total.assert_thorough("readouts × integrators", FLOOR, 4 * WEIGHTS * 3 / 4);
}

/// The shipped configuration trains with the reset detached from the backward pass (Zenke &
/// Vogels 2021): its gradient is that of the model whose reset spikes are held fixed, checked
/// here against finite differences of exactly that model — every surrogate and reset, both
/// readouts with spiking outputs, the `yinyang-surrogate.toml` neuron (fast sigmoid, slope 10,
/// soft reset).
#[test]
fn detached_reset_gradient_is_the_frozen_reset_derivative() {
    let mut total = FdCount::default();
    let mut cases = vec![];
    for surrogate in SURROGATES {
        for reset in [Reset::Subtract, Reset::ToReset] {
            cases.push(Case::new(surrogate, reset, Readout::MaxMembrane));
        }
    }
    cases.push(Case::new(
        Surrogate::FastSigmoid { slope: 10.0 },
        Reset::Subtract,
        Readout::MaxMembrane,
    ));
    cases.push(Case::new(Surrogate::Sigmoid { slope: 4.0 }, Reset::Subtract, Readout::SpikeCount));
    cases.push(Case::new(Surrogate::Sigmoid { slope: 4.0 }, Reset::ToReset, Readout::FirstSpike));
    for (i, case) in cases.iter().enumerate() {
        total.add(check(Case { detach_reset: true, ..*case }, 20 + i as u64));
    }
    total.assert_thorough("detached reset", FLOOR, cases.len() * WEIGHTS * 3 / 4);
}

/// Refractory periods (2 steps held at `v_reset`, the mask switched by the spike crossing ½ in
/// the smoothed model): with the reset in the backward pass and detached, both resets.
#[test]
fn refractory_steps_are_in_the_gradient() {
    let mut total = FdCount::default();
    for (i, reset) in [Reset::Subtract, Reset::ToReset].into_iter().enumerate() {
        for detach_reset in [false, true] {
            let case = Case {
                refractory_steps: 2,
                detach_reset,
                ..Case::new(Surrogate::FastSigmoid { slope: 5.0 }, reset, Readout::SpikeCount)
            };
            total.add(check(case, 30 + i as u64));
        }
    }
    total.assert_thorough("refractory", FLOOR, 4 * WEIGHTS * 3 / 4);
}
