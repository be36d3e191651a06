//! The dedicated CPU kernel against the tensor formulation (which the finite-difference and
//! simulation tests verify), in f64: spike times, weight gradients (with and without clipping)
//! and propagated errors, on random layers with silent inputs, both τ regimes, uniform and
//! per-neuron parameters.

mod common;

use common::*;
use rand::RngExt;
use spikeburn::ttfs::neuron::{NeuronParams, TauRatio};
use spikeburn::ttfs::{functional, kernel};
use spikeburn::util::to_vec_f64;

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let ok = (x.is_infinite() && y.is_infinite() && x.signum() == y.signum())
            || (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs()));
        assert!(ok, "{what}[{k}]: kernel {x} vs tensor {y}");
    }
}

#[test]
fn kernel_matches_tensor_formulation() {
    let device = f64_device();
    let mut cases = 0;
    for (case, (batch, n_in, n_out)) in
        [(7, 5, 9), (16, 30, 12), (10, 121, 3), (6, 256, 40)].into_iter().enumerate()
    {
        for ratio in [TauRatio::Equal, TauRatio::Double] {
            for uniform in [true, false] {
                let mut r = rng(500 + case as u64);
                let mut p = random_problem(&mut r, batch, n_in, n_out, 0.2);
                // Twice the shared generator's drive, so that most neurons fire.
                p.weights.iter_mut().for_each(|w| *w *= 2.0);
                let neurons = if uniform {
                    vec![NeuronParams::reference(ratio); n_out]
                } else {
                    varied_neurons(ratio, n_out, &mut r)
                };
                let params = neuron_tensors(&neurons, &device);
                let x = tensor2(&p.times, [batch, n_in], &device);
                let w = tensor2(&p.weights, [n_in, n_out], &device);
                let out_k = kernel::first_spike_times(x.clone(), w.clone(), &params);
                let out_t = functional::first_spike_times(x.clone(), w.clone(), &params);
                let (ok, ot) = (to_vec_f64(out_k.clone()), to_vec_f64(out_t.clone()));
                let label = format!("{ratio:?} uniform={uniform} {batch}x{n_in}x{n_out}");
                close(&ok, &ot, 1e-9, &format!("{label} times"));
                let fired = ot.iter().filter(|t| t.is_finite()).count();
                assert!(fired > ot.len() / 2, "{label}: only {fired} of {} fired", ot.len());
                let delta: Vec<f64> =
                    (0..batch * n_out).map(|_| r.random_range(-1.0..1.0)).collect();
                for max_dw in [None, Some(0.3)] {
                    let d = tensor2(&delta, [batch, n_out], &device);
                    let gk = kernel::backward(
                        x.clone(),
                        w.clone(),
                        &params,
                        out_t.clone(),
                        d.clone(),
                        max_dw,
                    );
                    let gt = functional::backward(
                        x.clone(),
                        w.clone(),
                        &params,
                        out_t.clone(),
                        d,
                        max_dw,
                    );
                    close(
                        &to_vec_f64(gk.weights),
                        &to_vec_f64(gt.weights),
                        1e-9,
                        &format!("{label} {max_dw:?} dw"),
                    );
                    close(
                        &to_vec_f64(gk.input_times),
                        &to_vec_f64(gt.input_times),
                        1e-9,
                        &format!("{label} dt"),
                    );
                    assert_eq!(
                        to_vec_f64(gk.clipped.float()),
                        to_vec_f64(gt.clipped.float()),
                        "{label} clipped"
                    );
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 16);
}

#[test]
fn kernel_handles_all_silent_and_single_input() {
    let device = f64_device();
    let params = neuron_tensors(&[NeuronParams::reference(TauRatio::Equal); 2], &device);
    let inf = f64::INFINITY;
    let x = tensor2(&[inf, inf, 0.0, inf], [2, 2], &device);
    let w = tensor2(&[4.0, 1.0, 4.0, 1.0], [2, 2], &device);
    let out = to_vec_f64(kernel::first_spike_times(x, w, &params));
    assert_eq!(out[0], inf);
    assert_eq!(out[1], inf);
    assert!((out[2] - 0.357_402_956_181_388_9).abs() < 1e-12, "{}", out[2]);
    assert_eq!(out[3], inf);
}
