//! First-spike-time networks on an emulated chip ([`spikeburn::ttfs::on_chip`]), in f64 (the
//! training runs are in `tests/chip_training.rs`): the exact chip gradient equals
//! central finite differences of the chip's own loss in f64; the in-the-loop gradient is the
//! ideal layers' gradient at the chip's observed inputs, zero where only the chip fires; the
//! realised weights are exact levels; jitter, spike loss, the clock and the threshold noise
//! have the configured statistics.

mod common;

use burn::tensor::{Int, Tensor, TensorData};
use common::*;
use rand::SeedableRng;
use spikeburn::chip::{Chip, ChipConfig, ChipProfile};
use spikeburn::error_path::ErrorPath;
use spikeburn::ttfs::on_chip::OnChip;
use spikeburn::ttfs::{SpikeTimeLayerConfig, SpikeTimeNetwork, TauRatio, TtfsLoss};
use spikeburn::util::StdRng;
use spikeburn::util::to_vec_f64;

/// A profile from the built-in `ideal` with `edit` applied.
fn profile(edit: impl FnOnce(&mut ChipProfile)) -> ChipProfile {
    let mut p = ChipConfig::read_profile("ideal").unwrap();
    p.name = "test".into();
    edit(&mut p);
    p
}

/// A 6–5–3 network (one bias spike per layer) in f64.
fn network(seed: u64) -> SpikeTimeNetwork {
    let device = f64_device();
    let mut r = StdRng::seed_from_u64(seed);
    let layers = [(6, 5, 1.5), (5, 3, 1.0)]
        .iter()
        .map(|&(i, o, mean)| {
            SpikeTimeLayerConfig::new(i, o)
                .with_bias_times(vec![0.5])
                .with_weight_mean(mean)
                .with_weight_std(0.8)
                .with_tau_ratio(TauRatio::Double)
                .init(&device, &mut r)
        })
        .collect();
    SpikeTimeNetwork { layers }
}

fn inputs(batch: usize, seed: u64) -> (Tensor<2>, Tensor<1, Int>) {
    let device = f64_device();
    let mut r = StdRng::seed_from_u64(seed);
    let p = random_problem(&mut r, batch, 6, 1, 0.0);
    let labels: Vec<i64> = (0..batch as i64).map(|b| b % 3).collect();
    (
        tensor2(&p.times, [batch, 6], &device),
        Tensor::from_data(TensorData::new(labels, [batch]), &device),
    )
}

fn shapes(net: &SpikeTimeNetwork) -> Vec<(usize, usize)> {
    net.layers.iter().map(|l| (l.n_inputs() + 1, l.n_outputs())).collect()
}

#[test]
/// The exact gradient of the instance's own model (fixed pattern of every kind, continuous
/// weights, no trial noise) equals central differences of its loss in f64, for every weight.
fn exact_chip_gradient_matches_finite_differences() {
    let net = network(1);
    let p = profile(|p| {
        let f = &mut p.fixed_pattern;
        (f.tau_mem, f.tau_syn, f.v_th, f.v_leak, f.g_leak, f.synapse_gain) =
            (0.15, 0.1, 0.08, 0.05, 0.05, 0.1);
    });
    let chip = Chip::draw(p, 3, &shapes(&net));
    let view = OnChip::new(&net, &chip).unwrap();
    let (x, y) = inputs(12, 2);
    let loss = TtfsLoss::default();
    let mut rng = StdRng::seed_from_u64(0);
    let value = |net: &SpikeTimeNetwork, rng: &mut StdRng| -> f64 {
        let out = view.forward(net, x.clone(), rng);
        to_vec_f64(loss.forward(out, y.clone()).per_sample.mean())[0]
    };
    let trace = view.forward_trace(&net, x.clone(), &mut rng);
    let fired = to_vec_f64(trace.observed.output()).iter().filter(|t| t.is_finite()).count();
    assert!(fired > 20, "{fired} of 36 outputs fired");
    let out = loss.forward(trace.observed.output(), y.clone());
    let grads = view.backward_exact(&net, &trace, out.delta, None, &ErrorPath::Backprop);
    let (mut compared, mut worst) = (0, 0.0_f64);
    for l in 0..2 {
        let g = to_vec_f64(grads.layers[l].weights.clone());
        let w = to_vec_f64(net.layers[l].weights.val());
        let shape = net.layers[l].weights.val().dims();
        for k in 0..w.len() {
            let h = 1e-6;
            let mut nudged = |d: f64| {
                let mut n = network(1);
                let mut v = w.clone();
                v[k] += d;
                n.set_weights(l, tensor2(&v, shape, &f64_device()));
                value(&n, &mut rng)
            };
            let fd = (nudged(h) - nudged(-h)) / (2.0 * h);
            if fd.abs() > 1e3 {
                continue; // a spike entering or leaving the window inside ±h
            }
            let e = (g[k] - fd).abs() / (1e-4 + fd.abs());
            if e > 1e-4 {
                eprintln!("layer {l} entry {k}: exact {} vs fd {fd}", g[k]);
            }
            worst = worst.max(e);
            compared += usize::from(fd.abs() > 1e-6);
        }
    }
    assert!(worst < 1e-4, "worst relative error {worst}");
    assert!(compared > 25, "{compared} nonzero gradients compared");
}

#[test]
/// In the loop, each layer's gradient is the ideal layer's formula at the chip's observed
/// input and output times with the loss error of the chip's outputs; an output that only the
/// chip fires gets none.
fn in_the_loop_is_the_ideal_gradient_at_observed_inputs() {
    let mut net = network(4);
    let weak = net.layers[1].weights.val().mul_scalar(0.3);
    net.set_weights(1, weak);
    // Thresholds 40 % lower on the chip: it fires where the ideal neuron does not.
    let mut chip = Chip::draw(profile(|p| p.fixed_pattern.tau_mem = 0.1), 5, &shapes(&net));
    chip.layers[1].v_th = vec![-0.4; 3];
    let view = OnChip::new(&net, &chip).unwrap();
    let (x, y) = inputs(16, 6);
    let trace = view.forward_trace(&net, x, &mut StdRng::seed_from_u64(0));
    let loss = TtfsLoss::default();
    let out = loss.forward(trace.observed.output(), y);
    let grads =
        view.backward_in_the_loop(&net, &trace, out.delta.clone(), None, &ErrorPath::Backprop);
    let acts = &trace.observed.activations;
    let at = |l: usize| {
        let silent = net.layers[l].forward(acts[l].clone()).is_inf();
        acts[l + 1].clone().mask_fill(silent, f64::INFINITY)
    };
    let ideal_out = net.layers[1].forward(acts[1].clone());
    let want = net.layers[1].backward(acts[1].clone(), at(1), out.delta.clone(), None);
    assert_eq!(to_vec_f64(grads.layers[1].weights.clone()), to_vec_f64(want.weights));
    let want0 = net.layers[0].backward(acts[0].clone(), at(0), want.input_times, None);
    assert_eq!(to_vec_f64(grads.layers[0].weights.clone()), to_vec_f64(want0.weights));
    // Outputs the chip fires and the ideal layer does not: no error reaches the hidden layer
    // through them (their K′ terms are absent), and such cases exist.
    let (obs, ideal) = (to_vec_f64(trace.observed.output()), to_vec_f64(ideal_out));
    let only_chip =
        obs.iter().zip(&ideal).filter(|(o, i)| o.is_finite() && i.is_infinite()).count();
    let fin = |v: &[f64]| v.iter().filter(|t| t.is_finite()).count();
    assert!(
        only_chip > 0,
        "the lowered thresholds make the chip fire alone: {} {}",
        fin(&obs),
        fin(&ideal)
    );
    let single = |k: usize| {
        let mut d = vec![0.0; obs.len()];
        d[k] = 1.0;
        tensor2(&d, [16, 3], &f64_device())
    };
    for k in (0..obs.len()).filter(|&k| obs[k].is_finite() && ideal[k].is_infinite()) {
        let g = view.backward_in_the_loop(&net, &trace, single(k), None, &ErrorPath::Backprop);
        assert!(to_vec_f64(g.layers[1].weights.clone()).iter().all(|v| *v == 0.0));
        assert!(to_vec_f64(g.input_times).iter().all(|v| *v == 0.0));
    }
}

#[test]
/// Realised weights: `quantise(gain · w)`, on exact multiples of 1/30, saturating at ±63/30.
fn realised_weights_are_exact_levels() {
    let net = network(7);
    let p = profile(|p| {
        p.weights.bits = 6;
        p.weights.levels_per_unit = 30.0;
        p.fixed_pattern.synapse_gain = 0.1;
    });
    let chip = Chip::draw(p, 1, &shapes(&net));
    let view = OnChip::new(&net, &chip).unwrap();
    for l in 0..2 {
        let w = net.layers[l].weights.val().mul_scalar(2.0);
        let raw = to_vec_f64(w.clone());
        let q = to_vec_f64(view.weights(l, w));
        let mut saturated = 0;
        for (k, (&v, &r)) in q.iter().zip(&raw).enumerate() {
            let level = v * 30.0;
            assert!((level - level.round()).abs() < 1e-9 && level.abs() <= 63.0 + 1e-9);
            let g = chip.layers[l].synapse_gain[k];
            let want = (g * r * 30.0).round().clamp(-63.0, 63.0) / 30.0;
            assert_eq!(v, want);
            saturated += usize::from(level.abs() > 62.5);
        }
        assert!(saturated > 0, "layer {l}: some weights saturate");
    }
}

/// The observed and the underlying crossing times of a large batch on a one-layer chip.
fn one_layer_run(trial: spikeburn::chip::Trial) -> (Vec<f64>, Vec<f64>) {
    let device = f64_device();
    let mut r = StdRng::seed_from_u64(9);
    let layer = SpikeTimeLayerConfig::new(6, 50)
        .with_weight_mean(1.5)
        .with_weight_std(0.3)
        .init(&device, &mut r);
    let net = SpikeTimeNetwork { layers: vec![layer] };
    let chip = Chip::draw(profile(|p| p.trial = trial), 2, &[(6, 50)]);
    let view = OnChip::new(&net, &chip).unwrap();
    let (x, _) = inputs(400, 3);
    let trace = view.forward_trace(&net, x, &mut StdRng::seed_from_u64(11));
    (to_vec_f64(trace.observed.output()), to_vec_f64(trace.crossings[0].clone()))
}

#[test]
/// Jitter is N(0, σ τs) (mean and variance within their 99.9 % intervals), a lost spike is
/// lost at the configured rate (binomial 99.9 % interval), the clock floors every time.
fn trial_noise_has_its_statistics() {
    let sigma = 0.05;
    let (obs, raw) = one_layer_run(spikeburn::chip::Trial { jitter: sigma, ..Default::default() });
    let d: Vec<f64> =
        obs.iter().zip(&raw).filter(|(_, r)| r.is_finite()).map(|(o, r)| o - r).collect();
    let n = d.len() as f64;
    assert!(n > 10_000.0, "{n} spikes");
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(mean.abs() < 3.29 * sigma / n.sqrt(), "jitter mean {mean}");
    // Var of the sample variance of a normal: 2σ⁴/(n − 1).
    let sd_var = (2.0 / (n - 1.0)).sqrt() * sigma * sigma;
    assert!((var - sigma * sigma).abs() < 3.29 * sd_var, "jitter variance {var}");

    let p = 0.2;
    let (obs, raw) = one_layer_run(spikeburn::chip::Trial { spike_loss: p, ..Default::default() });
    let emitted = raw.iter().filter(|t| t.is_finite()).count() as f64;
    let lost = obs.iter().zip(&raw).filter(|(o, r)| r.is_finite() && o.is_infinite()).count();
    let rate = lost as f64 / emitted;
    assert!((rate - p).abs() < 3.29 * (p * (1.0 - p) / emitted).sqrt(), "loss rate {rate}");
    assert!(obs.iter().zip(&raw).all(|(o, r)| o.is_infinite() || o == r));

    let clock = 0.01;
    let (obs, raw) = one_layer_run(spikeburn::chip::Trial { clock, ..Default::default() });
    for (o, r) in obs.iter().zip(&raw).filter(|(_, r)| r.is_finite()) {
        assert_eq!(*o, (r / clock).floor() * clock);
        assert!(*o <= *r && r - o < clock);
    }
}

#[test]
/// Threshold noise: per-sample offsets of σ_s, per-batch offsets of σ_b shared by the
/// samples, in units of ϑ − E_l: the spike times move as the scalar solver says they do for
/// thresholds drawn so, and their spread grows with σ.
fn threshold_noise_moves_spikes() {
    let base = one_layer_run(Default::default()).0;
    let (noisy, _) =
        one_layer_run(spikeburn::chip::Trial { v_th_sample: 0.05, ..Default::default() });
    let (shared, _) =
        one_layer_run(spikeburn::chip::Trial { v_th_batch: 0.05, ..Default::default() });
    let both = |a: &[f64], b: &[f64]| -> Vec<f64> {
        a.iter()
            .zip(b)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| y - x)
            .collect()
    };
    let d_sample = both(&base, &noisy);
    let d_batch = both(&base, &shared);
    assert!(d_sample.iter().any(|d| d.abs() > 1e-3), "per-sample noise moves spikes");
    // Per batch: every sample of a neuron moves in the same direction (one threshold for all).
    let m = 50;
    let mut same_sign = 0;
    for j in 0..m {
        let col: Vec<f64> = base
            .iter()
            .zip(&shared)
            .enumerate()
            .filter(|(k, (a, b))| k % m == j && a.is_finite() && b.is_finite())
            .map(|(_, (a, b))| b - a)
            .collect();
        same_sign += usize::from(col.iter().all(|d| *d >= 0.0) || col.iter().all(|d| *d <= 0.0));
    }
    assert_eq!(same_sign, m, "the batch offset is shared by all samples");
    assert!(!d_batch.is_empty());
}
