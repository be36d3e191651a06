//! The exact gradients against central finite differences, in f64, on many random cases: for a
//! single layer (weights and input times, both τ regimes, per-neuron parameters) and for a whole
//! network with the paper's loss.

mod common;

use common::*;
use spikeburn::ttfs::functional;
use spikeburn::ttfs::loss::TtfsLoss;
use spikeburn::ttfs::neuron::TauRatio;
use spikeburn::ttfs::{SpikeTimeLayerConfig, SpikeTimeNetwork};
use spikeburn::util::to_vec_f64;

const H: f64 = 1e-6;

/// Weighted sum of spike times, `Σ c_bj t_bj` over finite outputs: a scalar whose gradient
/// through `backward` with δ = c is checked.
fn objective(out: &[f64], coef: &[f64]) -> f64 {
    out.iter().zip(coef).filter(|(t, _)| t.is_finite()).map(|(t, c)| t * c).sum()
}

/// Gradients below this are counted as zero (a silent neuron's inputs, a non-causal input):
/// they are compared too, but a check must also reach enough entries above it.
const FLOOR: f64 = 1e-3;

/// Why a finite difference is not of a smooth function at this entry (a small perturbation
/// switched an output between firing and silence, or changed a causal set inside the stencil:
/// a kink in the second difference); `None` if it is smooth.
fn not_smooth(plus: &[f64], minus: &[f64], base: &[f64]) -> Option<String> {
    for (j, ((p, m), b)) in plus.iter().zip(minus).zip(base).enumerate() {
        if p.is_finite() != b.is_finite() || m.is_finite() != b.is_finite() {
            return Some(format!("output {j} switched between firing and silence"));
        }
        let curvature = ((p - b) - (b - m)).abs();
        if b.is_finite() && curvature >= 1e-6 {
            return Some(format!("output {j}: second difference {curvature:.1e} (causal set)"));
        }
    }
    None
}

fn check_layer(ratio: TauRatio, seed: u64) -> FdCount {
    let device = f64_device();
    let mut r = rng(seed);
    let (batch, n_in, n_out) = (6, 7, 5);
    let p = random_problem(&mut r, batch, n_in, n_out, 0.15);
    let neurons = varied_neurons(ratio, n_out, &mut r);
    let params = neuron_tensors(&neurons, &device);
    let coef: Vec<f64> = (0..batch * n_out).map(|_| r.random_range(-1.0..1.0)).collect();
    use rand::RngExt;

    let forward = |times: &[f64], weights: &[f64]| -> Vec<f64> {
        to_vec_f64(functional::first_spike_times(
            tensor2(times, [batch, n_in], &device),
            tensor2(weights, [n_in, n_out], &device),
            &params,
        ))
    };
    let out = forward(&p.times, &p.weights);
    let g = functional::backward(
        tensor2(&p.times, [batch, n_in], &device),
        tensor2(&p.weights, [n_in, n_out], &device),
        &params,
        tensor2(&out, [batch, n_out], &device),
        tensor2(&coef, [batch, n_out], &device),
        None,
    );
    let gw = to_vec_f64(g.weights);
    let gt = to_vec_f64(g.input_times);
    // Perturb one entry of `base` at a time (only the finite ones: a silent input has no
    // time to perturb), compare the finite difference of the objective with the analytic
    // gradient, and count what was compared and skipped.
    let check = |name: &str, base: &[f64], analytic: &[f64], eval: &dyn Fn(&[f64]) -> Vec<f64>| {
        let mut count = FdCount::default();
        for k in (0..base.len()).filter(|&k| base[k].is_finite()) {
            let (mut plus, mut minus) = (base.to_vec(), base.to_vec());
            plus[k] += H;
            minus[k] -= H;
            let (op, om) = (eval(&plus), eval(&minus));
            if let Some(why) = not_smooth(&op, &om, &out) {
                count.skip(format!("{ratio:?} seed {seed} d{name}[{k}]: {why}"));
                continue;
            }
            let fd = (objective(&op, &coef) - objective(&om, &coef)) / (2.0 * H);
            assert!(
                (fd - analytic[k]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{ratio:?} seed {seed}: dL/d{name}[{k}] analytic {} vs finite difference {fd}",
                analytic[k]
            );
            count.compared(analytic[k], FLOOR);
        }
        count
    };
    let mut count = check("w", &p.weights, &gw, &|w| forward(&p.times, w));
    count.add(check("t_in", &p.times, &gt, &|t| forward(t, &p.weights)));
    count
}

/// 25 random cases per regime × (35 weights + ~36 finite input times, ≈ 1780 entries): at most
/// 1 % may be skipped (none are, for these seeds), and at least 1300 must have a gradient above
/// [`FLOOR`] (measured: 1479 for τm = τs, 1598 for τm = 2τs; the rest belong to silent neurons
/// or non-causal inputs, whose finite differences are 0 as well).
fn check_many(ratio: TauRatio, seeds: std::ops::Range<u64>) {
    let mut total = FdCount::default();
    for seed in seeds {
        total.add(check_layer(ratio, seed));
    }
    total.assert_thorough(&format!("layer gradients {ratio:?}"), FLOOR, 1300);
}

#[test]
fn layer_gradients_match_finite_differences_tau_equal() {
    check_many(TauRatio::Equal, 0..25);
}

#[test]
fn layer_gradients_match_finite_differences_tau_double() {
    check_many(TauRatio::Double, 100..125);
}

/// The whole network (4(+1)–12(+1)–3 with the paper's loss), gradients of the mean loss with
/// respect to every weight, against finite differences of the loss.
#[test]
fn network_loss_gradients_match_finite_differences() {
    use burn::tensor::{Int, Tensor, TensorData};
    use rand::RngExt;
    let device = f64_device();
    for (ratio, seed) in [(TauRatio::Equal, 7u64), (TauRatio::Double, 8)] {
        let mut r = rng(seed);
        let cfgs = [
            SpikeTimeLayerConfig::new(4, 12)
                .with_bias_times(vec![0.9])
                .with_weight_mean(1.5)
                .with_weight_std(0.8)
                .with_tau_ratio(ratio),
            SpikeTimeLayerConfig::new(12, 3)
                .with_bias_times(vec![0.9])
                .with_weight_mean(0.5)
                .with_weight_std(0.8)
                .with_tau_ratio(ratio),
        ];
        let net =
            SpikeTimeNetwork { layers: cfgs.iter().map(|c| c.init(&device, &mut r)).collect() };
        let batch = 16;
        let times: Vec<f64> = (0..batch * 4).map(|_| 0.15 + 1.85 * r.random::<f64>()).collect();
        let labels: Vec<i64> = (0..batch).map(|_| r.random_range(0..3)).collect();
        let x = tensor2(&times, [batch, 4], &device);
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [batch]), &device);
        let loss = TtfsLoss::default();
        let (_, _, grads) = net.loss_and_grads(x.clone(), y.clone(), &loss, None);
        let mean_loss = |n: &SpikeTimeNetwork| -> f64 {
            to_vec_f64(loss.forward(n.forward(x.clone()), y.clone()).per_sample.mean())[0]
        };
        let mut count = FdCount::default();
        for l in 0..2 {
            let w = to_vec_f64(net.layers[l].weights.val());
            let g = to_vec_f64(grads.layers[l].weights.clone());
            let dims = net.layers[l].weights.val().dims();
            for k in 0..w.len() {
                let eval = |delta: f64| {
                    let mut wk = w.clone();
                    wk[k] += delta;
                    let mut n2 = net.clone();
                    n2.set_weights(l, tensor2(&wk, dims, &device));
                    mean_loss(&n2)
                };
                let (lp, l0, lm) = (eval(H), eval(0.0), eval(-H));
                let curvature = ((lp - l0) - (l0 - lm)).abs();
                if curvature > 1e-7 || !(lp.is_finite() && lm.is_finite()) {
                    count.skip(format!("layer {l} weight {k}: second difference {curvature:.1e}"));
                    continue; // a causal set changed inside the stencil
                }
                let fd = (lp - lm) / (2.0 * H);
                assert!(
                    (fd - g[k]).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "{ratio:?} layer {l} weight {k}: analytic {} vs finite difference {fd}",
                    g[k]
                );
                count.compared(g[k], FLOOR);
            }
        }
        // All 99 weights (12·5 + 3·13) are compared; 95 and 96 have a gradient above the floor.
        count.assert_thorough(&format!("network gradients {ratio:?}"), FLOOR, 90);
    }
}

/// `max_dw_norm` clipping: a (sample, neuron) weight-gradient column whose largest entry
/// exceeds the limit is zeroed for that sample only; the propagated error is untouched.
#[test]
fn clipping_zeroes_offending_columns_only() {
    let device = f64_device();
    let mut r = rng(3);
    let (batch, n_in, n_out) = (8, 6, 4);
    let p = random_problem(&mut r, batch, n_in, n_out, 0.0);
    let neurons = varied_neurons(TauRatio::Equal, n_out, &mut r);
    let params = neuron_tensors(&neurons, &device);
    let x = tensor2(&p.times, [batch, n_in], &device);
    let w = tensor2(&p.weights, [n_in, n_out], &device);
    let out = functional::first_spike_times(x.clone(), w.clone(), &params);
    let delta = out.clone().ones_like();
    // Per-sample gradients: run the backward one sample at a time without clipping.
    let limit = 0.3;
    let mut expected = vec![0.0; n_in * n_out];
    let mut n_clipped = 0;
    for b in 0..batch {
        let g = functional::backward(
            x.clone().narrow(0, b, 1),
            w.clone(),
            &params,
            out.clone().narrow(0, b, 1),
            delta.clone().narrow(0, b, 1),
            None,
        );
        let gw = to_vec_f64(g.weights);
        for j in 0..n_out {
            let worst = (0..n_in).map(|i| gw[i * n_out + j].abs()).fold(0.0, f64::max);
            if worst > limit {
                n_clipped += 1;
                continue;
            }
            for i in 0..n_in {
                expected[i * n_out + j] += gw[i * n_out + j];
            }
        }
    }
    assert!(
        n_clipped > 0 && n_clipped < batch * n_out,
        "limit must clip some columns: {n_clipped}"
    );
    let clipped = functional::backward(
        x.clone(),
        w.clone(),
        &params,
        out.clone(),
        delta.clone(),
        Some(limit),
    );
    let got = to_vec_f64(clipped.weights);
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-12, "{g} vs {e}");
    }
    let flags = to_vec_f64(clipped.clipped.float());
    assert_eq!(flags.iter().filter(|f| **f > 0.5).count(), n_clipped);
    let free = functional::backward(x, w, &params, out, delta, None);
    assert_eq!(
        to_vec_f64(clipped.input_times),
        to_vec_f64(free.input_times),
        "errors are not clipped"
    );
}

/// A network whose hidden layer is entirely silent: outputs silent, loss finite (constant),
/// every gradient exactly zero and nowhere NaN.
#[test]
fn silent_network_has_zero_gradients_not_nan() {
    use burn::tensor::{Int, Tensor, TensorData};
    let device = f64_device();
    let mut r = rng(1);
    let cfgs = [
        SpikeTimeLayerConfig::new(4, 6).with_weight_mean(-1.0).with_weight_std(0.1),
        SpikeTimeLayerConfig::new(6, 3).with_bias_times(vec![0.9]),
    ];
    let net = SpikeTimeNetwork { layers: cfgs.iter().map(|c| c.init(&device, &mut r)).collect() };
    let x = tensor2(&[0.2, 0.5, 1.0, 1.5, 0.3, f64::INFINITY, 0.1, 0.2], [2, 4], &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2], [2]), &device);
    let (trace, loss, grads) = net.loss_and_grads(x, y, &TtfsLoss::default(), Some(0.2));
    assert!(to_vec_f64(trace.activations[1].clone()).iter().all(|t| t.is_infinite()));
    assert!(to_vec_f64(loss.per_sample).iter().all(|l| *l == 100.0));
    for g in &grads.layers {
        assert!(to_vec_f64(g.weights.clone()).iter().all(|v| *v == 0.0));
    }
    assert!(to_vec_f64(grads.input_times).iter().all(|v| *v == 0.0));
}
