//! The batched tensor layer in f64 against the per-neuron f64 oracle (`ttfs::scalar`), spike
//! times and exact gradients, to 1e-10: the same closed forms evaluated two independent ways
//! (sorted causal-set search on tensors vs a plain loop over one neuron), so any difference
//! beyond rounding is a bug in one of them. (`spike_times_vs_simulation.rs` checks the f32
//! path, the precision training uses, at 2e-4; this file has its own test binary because the
//! default device is configured for f64 once per binary.)

mod common;

use common::*;
use spikeburn::ttfs::functional;
use spikeburn::ttfs::neuron::TauRatio;
use spikeburn::ttfs::scalar;
use spikeburn::util::to_vec_f64;

/// Relative tolerance of the comparison.
const TOL: f64 = 1e-10;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * (1.0 + b.abs())
}

/// Spike times neuron by neuron; the weight and input-time gradients with δ = 1 (so the tensor
/// backward returns Σ_b ∂t_bj/∂w_ij and Σ_j ∂t_bj/∂t_bi, which the oracle's per-neuron
/// gradients are summed into). Both regimes, per-neuron parameters, silent inputs, inhibitory
/// weights, fan-in up to 121.
#[test]
fn tensor_layer_matches_scalar_oracle_in_f64() {
    let device = f64_device();
    let (mut fired, mut silent) = (0, 0);
    for (case, (n_in, n_out)) in [(5, 8), (30, 12), (121, 3), (121, 20)].into_iter().enumerate() {
        for ratio in [TauRatio::Equal, TauRatio::Double] {
            let mut r = rng(100 + case as u64);
            let batch = 40;
            let p = random_problem(&mut r, batch, n_in, n_out, 0.2);
            let neurons = varied_neurons(ratio, n_out, &mut r);
            let params = neuron_tensors(&neurons, &device);
            let x = tensor2(&p.times, [batch, n_in], &device);
            let w = tensor2(&p.weights, [n_in, n_out], &device);
            let out = functional::first_spike_times(x.clone(), w.clone(), &params);
            let g = functional::backward(x, w, &params, out.clone(), out.clone().ones_like(), None);
            let (out, gw, gt) = (to_vec_f64(out), to_vec_f64(g.weights), to_vec_f64(g.input_times));
            let mut want_w = vec![0.0; n_in * n_out];
            let mut want_t = vec![0.0; batch * n_in];
            for b in 0..batch {
                let times = &p.times[b * n_in..(b + 1) * n_in];
                for j in 0..n_out {
                    let wj: Vec<f64> = (0..n_in).map(|i| p.weights[i * n_out + j]).collect();
                    let expect = scalar::first_spike_time(&neurons[j], times, &wj);
                    let got = out[b * n_out + j];
                    let at = format!("{ratio:?} {n_in}x{n_out} sample {b} neuron {j}");
                    if expect.is_infinite() {
                        assert!(got.is_infinite(), "{at}: tensor {got}, oracle silent");
                        silent += 1;
                        continue;
                    }
                    assert!(close(got, expect), "{at}: tensor {got} vs oracle {expect}");
                    fired += 1;
                    let (dw, dt) = scalar::spike_time_gradients(&neurons[j], times, &wj, expect);
                    for i in 0..n_in {
                        want_w[i * n_out + j] += dw[i];
                        want_t[b * n_in + i] += dt[i];
                    }
                }
            }
            for (k, (g, e)) in gw.iter().zip(&want_w).enumerate() {
                assert!(close(*g, *e), "{ratio:?} {n_in}x{n_out} dt/dw[{k}]: {g} vs {e}");
            }
            for (k, (g, e)) in gt.iter().zip(&want_t).enumerate() {
                let e = if p.times[k].is_finite() { *e } else { 0.0 };
                assert!(close(*g, e), "{ratio:?} {n_in}x{n_out} dt/dt_in[{k}]: {g} vs {e}");
            }
        }
    }
    println!("{fired} spike times and their gradients compared, {silent} silent neurons");
    assert!(fired > 2000 && silent > 100, "degenerate sample: {fired} fired, {silent} silent");
}

/// `util::sigmoid` at f64 precision on whatever backend the tests run on (Burn's default
/// sigmoid, which ndarray uses, computes in f32): values and autodiff gradient against the
/// formula to 1e-15, finite for arguments of ±800.
#[test]
fn sigmoid_is_f64_precise_forward_and_backward() {
    let xs: Vec<f64> = vec![-800.0, -30.0, -2.3, -0.7, 0.0, 0.123456789, 1.9, 40.0, 800.0];
    let device = f64_device().autodiff();
    let x = burn::tensor::Tensor::<1>::from_data(
        burn::tensor::TensorData::new(xs.clone(), [xs.len()]),
        &device,
    )
    .require_grad();
    let s = spikeburn::util::sigmoid(x.clone());
    let values = to_vec_f64(s.clone().inner());
    let grads = s.sum().backward();
    let g = to_vec_f64(x.grad(&grads).expect("gradient"));
    for ((x, v), g) in xs.iter().zip(&values).zip(&g) {
        let exact = 1.0 / (1.0 + (-x).exp());
        assert!((v - exact).abs() <= 1e-15, "σ({x}) = {v}, exact {exact}");
        let slope = exact * (1.0 - exact);
        assert!(g.is_finite() && (g - slope).abs() <= 1e-15, "σ'({x}) = {g}, exact {slope}");
    }
}
