//! Feedback rules through the models: backprop through the new path is backprop bit for bit;
//! under a feedback matrix the propagated error equals a hand computation with that matrix (f64,
//! against the scalar oracle for the exact layers); direct feedback delivers `δ_out · Dᵀ`;
//! Kolen–Pollack's update shrinks `W − B` by exactly `1 − λ`.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::*;
use rand::RngExt;
use rand::SeedableRng;
use spikeburn::error_path::ErrorPath;
use spikeburn::feedback::{FeedbackConfig, FeedbackRule, FeedbackRuleName, alignment_columns};
use spikeburn::sampling::sal::SalConfig;
use spikeburn::surrogate::{LifLayerConfig, Readout, SurrogateNetwork, TimeGrid};
use spikeburn::ttfs::functional::SpikeTimeGrads;
use spikeburn::ttfs::neuron::NeuronTensors;
use spikeburn::ttfs::neuron::TauRatio;
use spikeburn::ttfs::{
    Compute, SpikeTimeLayerConfig, SpikeTimeNetwork, functional, kernel, scalar,
};
use spikeburn::util::StdRng;
use spikeburn::util::to_vec_f64;

/// The two compute paths' `backward_with`, as one type.
type BackwardWith = fn(
    Tensor<2>,
    Tensor<2>,
    Option<Tensor<2>>,
    &NeuronTensors,
    Tensor<2>,
    Tensor<2>,
    Option<f64>,
) -> SpikeTimeGrads;

const PATHS: [(&str, BackwardWith); 2] =
    [("tensor", functional::backward_with), ("kernel", kernel::backward_with)];

/// Under `B = W` the error reaches the inputs through the same numbers as backpropagation:
/// bit for bit, on the tensor path and the CPU kernel, f32 and f64, both τ regimes.
#[test]
fn feedback_equal_to_the_weights_is_backprop_bit_for_bit() {
    for (precision, device) in [("f32", Device::default()), ("f64", f64_device())] {
        for ratio in [TauRatio::Equal, TauRatio::Double] {
            let mut r = rng(3);
            let p = random_problem(&mut r, 8, 6, 4, 0.15);
            let neurons = neuron_tensors(&varied_neurons(ratio, 4, &mut r), &device);
            let coef: Vec<f64> = (0..8 * 4).map(|_| r.random_range(-1.0..1.0)).collect();
            let x = tensor2(&p.times, [8, 6], &device);
            let w = tensor2(&p.weights, [6, 4], &device);
            let out = functional::first_spike_times(x.clone(), w.clone(), &neurons);
            let delta = tensor2(&coef, [8, 4], &device);
            let args =
                |fb: Option<Tensor<2>>| (x.clone(), w.clone(), fb, out.clone(), delta.clone());
            for (name, f) in PATHS {
                let (x0, w0, _, o0, d0) = args(None);
                let bp = f(x0, w0, None, &neurons, o0, d0, Some(0.5));
                let (x1, w1, fb, o1, d1) = args(Some(w.clone()));
                let same = f(x1, w1, fb, &neurons, o1, d1, Some(0.5));
                let (a, b) = (to_vec_f64(bp.input_times), to_vec_f64(same.input_times));
                assert!(a.iter().any(|v| *v != 0.0), "{precision} {name}: the case needs errors");
                assert_eq!(
                    a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{precision} {ratio:?} {name}"
                );
                assert_eq!(to_vec_f64(bp.weights), to_vec_f64(same.weights));
            }
        }
    }
}

/// With a random `B`, the error at input `i` is `Σ_j δ_j B_ij (∂t_j/∂t_i) / W_ij` — the scalar
/// oracle's `∂t_j/∂t_i` with its weight factor replaced — on 20 random f64 layers with
/// per-neuron parameters, both τ regimes, both compute paths; and the weight gradient does not
/// depend on `B`.
#[test]
fn feedback_alignment_error_is_the_hand_computation_with_b() {
    let device = f64_device();
    let mut nonzero = 0;
    for seed in 0..20u64 {
        let ratio = if seed % 2 == 0 { TauRatio::Equal } else { TauRatio::Double };
        let mut r = rng(100 + seed);
        let (batch, n_in, n_out) = (5, 6, 4);
        let p = random_problem(&mut r, batch, n_in, n_out, 0.15);
        let ps = varied_neurons(ratio, n_out, &mut r);
        let neurons = neuron_tensors(&ps, &device);
        let coef: Vec<f64> = (0..batch * n_out).map(|_| r.random_range(-1.0..1.0)).collect();
        let b: Vec<f64> = (0..n_in * n_out).map(|_| r.random_range(-2.0..2.0)).collect();
        let x = tensor2(&p.times, [batch, n_in], &device);
        let w = tensor2(&p.weights, [n_in, n_out], &device);
        let out = to_vec_f64(functional::first_spike_times(x.clone(), w.clone(), &neurons));
        let mut want = vec![0.0; batch * n_in];
        for s in 0..batch {
            let t = &p.times[s * n_in..(s + 1) * n_in];
            for j in (0..n_out).filter(|&j| out[s * n_out + j].is_finite()) {
                let col: Vec<f64> = (0..n_in).map(|i| p.weights[i * n_out + j]).collect();
                let (_, dt) = scalar::spike_time_gradients(&ps[j], t, &col, out[s * n_out + j]);
                for i in 0..n_in {
                    want[s * n_in + i] += coef[s * n_out + j] * b[i * n_out + j] * dt[i] / col[i];
                }
            }
        }
        for (_, f) in PATHS {
            let g = f(
                x.clone(),
                w.clone(),
                Some(tensor2(&b, [n_in, n_out], &device)),
                &neurons,
                tensor2(&out, [batch, n_out], &device),
                tensor2(&coef, [batch, n_out], &device),
                None,
            );
            let bp = f(
                x.clone(),
                w.clone(),
                None,
                &neurons,
                tensor2(&out, [batch, n_out], &device),
                tensor2(&coef, [batch, n_out], &device),
                None,
            );
            for (k, (got, want)) in to_vec_f64(g.input_times).iter().zip(&want).enumerate() {
                assert!(
                    (got - want).abs() < 1e-9 * (1.0 + want.abs()),
                    "seed {seed} entry {k}: {got} vs {want}"
                );
                nonzero += usize::from(want.abs() > 1e-3);
            }
            assert_eq!(
                to_vec_f64(g.weights),
                to_vec_f64(bp.weights),
                "seed {seed}: dW depends on B"
            );
        }
    }
    assert!(nonzero > 200, "too few non-zero errors compared: {nonzero}");
}

/// A 3–5–2 exact network, f64.
fn ttfs_network(device: &Device, seed: u64) -> SpikeTimeNetwork {
    let mut r = StdRng::seed_from_u64(seed);
    let layer = |n_in, n_out, mean, r: &mut StdRng| {
        SpikeTimeLayerConfig::new(n_in, n_out)
            .with_bias_times(vec![0.9])
            .with_weight_mean(mean)
            .with_weight_std(0.8)
            .with_tau_ratio(TauRatio::Double)
            .with_compute(Compute::Tensor)
            .init(device, r)
    };
    let (l0, l1) = (layer(3, 5, 1.5, &mut r), layer(5, 2, 0.5, &mut r));
    SpikeTimeNetwork { layers: vec![l0, l1] }
}

/// Direct feedback through the network: the hidden layer receives exactly `δ_out · Dᵀ`, and its
/// weight gradient is the layer's own backward with that error; a feedback path through the
/// network gives the output layer backprop's weight gradient (only the hidden layer's changes).
#[test]
fn direct_and_layered_feedback_through_the_network() {
    let device = f64_device();
    let net = ttfs_network(&device, 5);
    let mut r = rng(9);
    let times: Vec<f64> = (0..6 * 3).map(|_| r.random_range(0.0..1.5)).collect();
    let trace = net.forward_trace(tensor2(&times, [6, 3], &device));
    let delta_out: Vec<f64> = (0..12).map(|_| r.random_range(-1.0..1.0)).collect();
    let delta = tensor2(&delta_out, [6, 2], &device);
    let d: Vec<f64> = (0..10).map(|_| r.random_range(-1.0..1.0)).collect();
    let path = ErrorPath::Direct(vec![tensor2(&d, [5, 2], &device)]);
    let g = net.backward_along(&trace, delta.clone(), None, &path);
    let out_finite: Vec<bool> = to_vec_f64(trace.output()).iter().map(|t| t.is_finite()).collect();
    let got = to_vec_f64(g.deltas[0].clone());
    for s in 0..6 {
        for h in 0..5 {
            let want: f64 = (0..2)
                .filter(|&k| out_finite[s * 2 + k])
                .map(|k| delta_out[s * 2 + k] * d[h * 2 + k])
                .sum();
            assert!((got[s * 5 + h] - want).abs() < 1e-12, "δ_hidden[{s},{h}]");
        }
    }
    let own = net.layers[0].backward(
        trace.activations[0].clone(),
        trace.activations[1].clone(),
        g.deltas[0].clone(),
        None,
    );
    assert_eq!(to_vec_f64(own.weights), to_vec_f64(g.layers[0].weights.clone()));
    let bp = net.backward(&trace, delta.clone(), None);
    assert_eq!(to_vec_f64(bp.layers[1].weights.clone()), to_vec_f64(g.layers[1].weights.clone()));
    assert_ne!(to_vec_f64(bp.layers[0].weights.clone()), to_vec_f64(g.layers[0].weights.clone()));
    // B = W's real rows through the layered path: backprop, bit for bit.
    let w1 = net.layers[1].weights.val().narrow(0, 0, 5);
    let same = net.backward_along(&trace, delta, None, &ErrorPath::Feedback(vec![w1]));
    assert_eq!(
        to_vec_f64(bp.layers[0].weights.clone()),
        to_vec_f64(same.layers[0].weights.clone())
    );
}

/// A 4–6–3 surrogate network (spiking hidden layer, max-membrane readout), f64, and a batch.
fn surrogate_case(device: &Device) -> (SurrogateNetwork, Vec<Tensor<2>>, Tensor<1, Int>) {
    let mut r = StdRng::seed_from_u64(4);
    let grid = TimeGrid { dt: 0.05, steps: 30 };
    let layer = |n_in, n_out, spiking, std, r: &mut StdRng| {
        LifLayerConfig::new(n_in, n_out)
            .with_grid(grid)
            .with_weight_mean(0.0)
            .with_weight_std(std)
            .with_spiking(spiking)
            .init(device, r)
    };
    let (l0, l1) = (layer(4, 6, true, 3.0, &mut r), layer(6, 3, false, 1.0, &mut r));
    let net = SurrogateNetwork {
        layers: vec![l0, l1],
        readout: Readout::MaxMembrane,
        encoder: Default::default(),
    };
    let times: Vec<f64> = (0..5 * 4).map(|_| r.random_range(0.0..1.0)).collect();
    let inputs = net.encode(&times, 4, &mut r, device);
    let labels = Tensor::from_data(TensorData::new(vec![0i64, 1, 2, 0, 1], [5]), device);
    (net, inputs, labels)
}

/// The hidden spikes' error under a path (probes), per step stacked: `[steps·batch, 6]`.
fn surrogate_hidden_error(
    net: &SurrogateNetwork,
    inputs: &[Tensor<2>],
    y: &Tensor<1, Int>,
    path: &ErrorPath,
) -> Vec<f64> {
    let (trace, probes) = net.forward_probed(inputs, path, true);
    let loss = net.loss(net.scores(&trace), y.clone(), 2.0).mean();
    let grads = loss.backward();
    let g: Vec<Tensor<2>> =
        probes[0].iter().map(|p| Tensor::from_inner(p.grad(&grads).expect("probe grad"))).collect();
    to_vec_f64(Tensor::cat(g, 0))
}

/// Surrogate network, f64: the forward pass is the same under every path (bit for bit); the
/// hidden error under feedback `B` is `G · Bᵀ` and under direct feedback `G · Dᵀ`, where `G`
/// (`∂L/∂I_out` per step) is read off with `B = [I₃; 0]`; under `B = W` it is backprop's,
/// bit for bit.
#[test]
fn surrogate_hidden_error_is_the_output_error_through_b() {
    let device = f64_device().autodiff();
    let (net, inputs, y) = surrogate_case(&device);
    let mut r = rng(12);
    let random =
        |r: &mut StdRng| -> Vec<f64> { (0..18).map(|_| r.random_range(-1.0..1.0)).collect() };
    let t = |v: &[f64]| tensor2(v, [6, 3], &device);
    let mut eye = vec![0.0; 18];
    (0..3).for_each(|k| eye[k * 3 + k] = 1.0);
    let g = surrogate_hidden_error(&net, &inputs, &y, &ErrorPath::Feedback(vec![t(&eye)]));
    let rows = g.len() / 6;
    assert!(g.iter().any(|v| v.abs() > 1e-6), "the case needs an output error");
    let g = &g;
    let expect = |m: &[f64]| -> Vec<f64> {
        (0..rows)
            .flat_map(|s| {
                (0..6).map(move |h| (0..3).map(|k| g[s * 6 + k] * m[h * 3 + k]).sum::<f64>())
            })
            .collect()
    };
    for path_of in [|m| ErrorPath::Feedback(vec![m]), |m| ErrorPath::Direct(vec![m])] {
        let b = random(&mut r);
        let got = surrogate_hidden_error(&net, &inputs, &y, &path_of(t(&b)));
        for (k, (a, e)) in got.iter().zip(expect(&b)).enumerate() {
            assert!((a - e).abs() < 1e-12, "entry {k}: {a} vs {e}");
        }
    }
    let w = net.layers[1].weights.val().narrow(0, 0, 6);
    let bp = surrogate_hidden_error(&net, &inputs, &y, &ErrorPath::Backprop);
    let same = surrogate_hidden_error(&net, &inputs, &y, &ErrorPath::Feedback(vec![w]));
    assert_eq!(bp, same);
    let v = |p: &ErrorPath| to_vec_f64(net.scores(&net.forward_along(&inputs, p)).inner());
    let base = v(&ErrorPath::Backprop);
    assert_eq!(base, v(&ErrorPath::Feedback(vec![t(&random(&mut r))])));
    assert_eq!(base, v(&ErrorPath::Direct(vec![t(&random(&mut r))])));
}

/// Weights of the given `[rows, columns]` shapes, uniform in (−1, 1), from stream `seed`.
fn uniform_weights(dims: &[(usize, usize)], seed: u64, device: &Device) -> Vec<Tensor<2>> {
    let mut r = rng(seed);
    dims.iter()
        .map(|&(a, b)| {
            tensor2(
                &(0..a * b).map(|_| r.random_range(-1.0..1.0)).collect::<Vec<_>>(),
                [a, b],
                device,
            )
        })
        .collect()
}

/// The rules as values: matrices drawn like the weights (one per layer above the first, of
/// the real-input shape; DFA's output-to-hidden), `sign` follows `sign(W)·rms(W)`, KP shrinks
/// `W − B` by exactly `1 − λ` per step, and backprop's alignment columns are 0°, 1, 1.
#[test]
fn rules_draw_follow_and_decay_as_documented() {
    let device = f64_device();
    let shapes = [(4, 7), (7, 5), (5, 3)];
    let init = [[1.5, 0.8], [0.5, 0.8], [0.2, 0.1]];
    let cfg = |rule| FeedbackConfig { rule, ..FeedbackConfig::default() };
    let weights = uniform_weights(&[(5, 7), (8, 5), (6, 3)], 1, &device);
    let fa = cfg(FeedbackRuleName::Fa).init(&shapes, &init, 0, &device);
    let dims: Vec<[usize; 2]> = fa.matrices().iter().map(|m| m.dims()).collect();
    assert_eq!(dims, vec![[7, 5], [5, 3]]);
    let b2 = to_vec_f64(fa.matrices()[1].clone());
    let mean = b2.iter().sum::<f64>() / b2.len() as f64;
    assert!((mean - 0.2).abs() < 0.1, "B_2 drawn like W_2 (mean 0.2): {mean}");
    let dfa = cfg(FeedbackRuleName::Dfa).init(&shapes, &init, 0, &device);
    let dims: Vec<[usize; 2]> = dfa.matrices().iter().map(|m| m.dims()).collect();
    assert_eq!(dims, vec![[7, 3], [5, 3]]);

    let mut sign = cfg(FeedbackRuleName::Sign).init(&shapes, &init, 0, &device);
    let ErrorPath::Feedback(b) = sign.path(&weights) else { panic!("sign is a layered path") };
    let w1 = to_vec_f64(weights[1].clone().narrow(0, 0, 7));
    let rms = (w1.iter().map(|x| x * x).sum::<f64>() / w1.len() as f64).sqrt();
    for (s, w) in to_vec_f64(b[0].clone()).iter().zip(&w1) {
        assert!((s - w.signum() * rms).abs() < 1e-12);
    }

    let mut kp =
        FeedbackConfig { rule: FeedbackRuleName::Kp, kp_decay: 0.01, ..Default::default() }
            .init(&shapes, &init, 0, &device);
    let gap = |w: &[Tensor<2>], b: &[Tensor<2>], k: usize| -> Vec<f64> {
        let wr = to_vec_f64(w[k].clone().narrow(0, 0, b[k - 1].dims()[0]));
        wr.iter().zip(to_vec_f64(b[k - 1].clone())).map(|(a, b)| a - b).collect()
    };
    let before_gap = gap(&weights, &kp.matrices(), 2);
    let mut after: Vec<Tensor<2>> =
        weights.iter().map(|w| w.clone() + w.clone().mul_scalar(0.3).sin()).collect();
    let moved = after.clone();
    assert!(kp.after_update(&weights, &mut after, &[]), "kp rewrites the weights");
    for (a, b) in gap(&after, &kp.matrices(), 2).iter().zip(&before_gap) {
        assert!((a - 0.99 * b).abs() < 1e-12, "{a} vs 0.99 × {b}");
    }
    // A frozen layer keeps its W and its B: no decay of one without the other.
    let (b_before, mut again) = (kp.matrices(), moved.clone());
    assert!(kp.after_update(&weights, &mut again, &[2]));
    assert_eq!(to_vec_f64(again[2].clone()), to_vec_f64(moved[2].clone()), "frozen W_2");
    assert_eq!(to_vec_f64(kp.matrices()[1].clone()), to_vec_f64(b_before[1].clone()), "its B");
    assert_ne!(to_vec_f64(kp.matrices()[0].clone()), to_vec_f64(b_before[0].clone()), "B_1");
    let mut fa = FeedbackConfig { rule: FeedbackRuleName::Fa, ..Default::default() }
        .init(&shapes, &init, 0, &device);
    let mut untouched = moved.clone();
    assert!(!fa.after_update(&weights, &mut untouched, &[]), "fa never rewrites W");
    let cols = alignment_columns(FeedbackRuleName::Bp, &[], &weights);
    let values: Vec<f64> = cols.iter().map(|c| c.1).collect();
    assert_eq!(values, vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0], "{cols:?}");
}

/// SAL's batch schedule: with `sal-every-batches = 2` the feedback matrix moves on every
/// second batch (and never on the others), its sleeps' rate is reported at the epoch's end, and
/// the epoch itself adds no sleep.
#[test]
fn sal_sleeps_every_n_batches_when_asked() {
    let device = f64_device();
    let shapes = [(4, 6), (6, 3)];
    let init = [[0.5, 0.8], [0.5, 0.8]];
    let weights = uniform_weights(&[(5, 6), (7, 3)], 5, &device);
    let sal = SalConfig { steps_per_update: 200, updates: 2, copies: 2, ..SalConfig::default() };
    let cfg = FeedbackConfig {
        rule: FeedbackRuleName::Sal,
        sal_every_batches: 2,
        sal,
        ..FeedbackConfig::default()
    };
    let mut rule = cfg.init(&shapes, &init, 3, &device);
    let b = |rule: &dyn FeedbackRule| to_vec_f64(rule.matrices()[0].clone());
    let b0 = b(rule.as_ref());
    let mut after = weights.clone();
    assert!(!rule.after_update(&weights, &mut after, &[]), "SAL never rewrites W");
    assert_eq!(b(rule.as_ref()), b0, "no sleep after one batch");
    rule.after_update(&weights, &mut after, &[]);
    let b1 = b(rule.as_ref());
    assert_ne!(b1, b0, "a sleep after the second batch");
    rule.after_update(&weights, &mut after, &[]);
    assert_eq!(b(rule.as_ref()), b1, "none after the third");
    let cols = rule.end_epoch(0, &weights);
    assert_eq!(b(rule.as_ref()), b1, "the epoch schedule is off");
    let rate = cols.iter().find(|(n, _)| n == "sal_rate_l1").expect("rate column").1;
    assert!(rate > 0.0 && rate < 0.1, "mean rate of the sleep: {rate}");
    let cols = rule.end_epoch(1, &weights);
    assert!(cols[0].1.is_nan(), "no sleep since the last report: {cols:?}");
}
