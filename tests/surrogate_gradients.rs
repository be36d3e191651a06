//! Backpropagation through time against central finite differences, in f64.
//!
//! With a Heaviside forward the surrogate gradient is not the derivative of anything, so the
//! check runs on the smoothed model where the surrogate is exact: every spike is `S(v − ϑ)`,
//! the smooth function whose derivative is the surrogate ([`SpikeForward::Smooth`]). Then the
//! autodiff gradient of the loss through the whole sequence (synaptic currents, leak, reset,
//! hidden layer, readout) must equal the finite-difference derivative — for every surrogate,
//! both resets and all three readouts, with per-neuron time constants and thresholds.

mod common;

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::f64_device;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use spikeburn::surrogate::{
    Encoder, Integrator, LifLayerConfig, LifValues, Readout, Reset, SpikeForward, Surrogate,
    SurrogateNetwork, TimeGrid,
};
use spikeburn::util::to_vec_f64;

const H: f64 = 1e-6;

struct Case {
    surrogate: Surrogate,
    reset: Reset,
    readout: Readout,
    integrator: Integrator,
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
                .with_detach_reset(false)
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

/// Returns the number of weight entries compared.
fn check(case: Case, seed: u64) -> usize {
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
    let mut compared = 0;
    for layer in 0..2 {
        let w = to_vec_f64(net.layers[layer].weights.val().inner());
        let g: Tensor<2> = grads.get(net.layers[layer].weights.id).expect("weight gradient");
        let g = to_vec_f64(g);
        for k in 0..w.len() {
            let at = |d: f64| {
                let mut v = w.clone();
                v[k] += d;
                let n = with_weights(&net, layer, v, &plain);
                to_vec_f64(loss(&n, &times, &labels, &plain))[0]
            };
            let fd = (at(H) - at(-H)) / (2.0 * H);
            let tol = 1e-6 + 1e-5 * fd.abs().max(g[k].abs());
            assert!(
                (fd - g[k]).abs() < tol,
                "{:?} {:?} {:?} seed {seed}: layer {layer} weight {k}: autodiff {} vs FD {fd}",
                case.surrogate,
                case.reset,
                case.readout,
                g[k]
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn bptt_matches_finite_differences_for_every_surrogate_and_reset() {
    let surrogates = [
        Surrogate::Sigmoid { slope: 4.0 },
        Surrogate::FastSigmoid { slope: 5.0 },
        Surrogate::Arctan { alpha: 2.0 },
        Surrogate::Triangle { slope: 0.5 },
    ];
    let mut n = 0;
    for (i, surrogate) in surrogates.into_iter().enumerate() {
        for reset in [Reset::Subtract, Reset::ToReset] {
            let case = Case {
                surrogate,
                reset,
                readout: Readout::MaxMembrane,
                integrator: Integrator::Exact,
            };
            n += check(case, i as u64);
        }
    }
    assert!(n > 0);
}

#[test]
fn bptt_matches_finite_differences_for_every_readout() {
    for (i, readout) in [Readout::SpikeCount, Readout::FirstSpike].into_iter().enumerate() {
        for integrator in [Integrator::Exact, Integrator::Euler] {
            let case = Case {
                surrogate: Surrogate::Sigmoid { slope: 4.0 },
                reset: Reset::Subtract,
                readout,
                integrator,
            };
            check(case, 10 + i as u64);
        }
    }
}
