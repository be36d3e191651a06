//! Surrogate-gradient networks on an emulated chip ([`spikeburn::surrogate::SurrogateOnChip`]),
//! in f64 (training runs are in `tests/chip_training.rs`):
//! - the chip runs the instance's own neurons: the same as the ideal network rebuilt by hand
//!   with every neuron's τm, τs, ϑ, E_l, g_l and every realised weight of the instance;
//! - a leaky integrator on the chip follows the closed-form PSP with its own τm, τs, E_l and
//!   the realised weight divided by its g_l;
//! - the exact chip gradient (BPTT through the instance, threshold noise included) equals
//!   central differences of the chip's own loss;
//! - in the loop the values are the chip's and the gradient the ideal model's at them;
//! - jitter, spike loss and the readout clock have the configured statistics.

mod common;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{FdCount, f64_device};
use rand::{RngExt, SeedableRng};
use spikeburn::chip::{Chip, ChipConfig, ChipProfile, Trial};
use spikeburn::error_path::ErrorPath;
use spikeburn::surrogate::network::NetworkTrace;
use spikeburn::surrogate::{
    Encoder, LifLayerConfig, LifValues, Readout, SpikeForward, Surrogate, SurrogateNetwork,
    SurrogateOnChip, TimeGrid,
};
use spikeburn::util::StdRng;
use spikeburn::util::to_vec_f64;

/// A profile from the built-in `ideal` with `edit` applied.
fn profile(edit: impl FnOnce(&mut ChipProfile)) -> ChipProfile {
    let mut p = ChipConfig::read_profile("ideal").unwrap();
    p.name = "test".into();
    edit(&mut p);
    p
}

/// Every fixed-pattern effect at a visible size.
fn fixed_pattern(p: &mut ChipProfile) {
    let f = &mut p.fixed_pattern;
    (f.tau_mem, f.tau_syn, f.v_th, f.v_leak, f.g_leak, f.synapse_gain) =
        (0.15, 0.12, 0.08, 0.05, 0.08, 0.1);
}

const N_IN: usize = 5;

/// A 5(+1 bias)–8–3 network on `steps` steps of 0.1, τm = 1.2, τs = 0.8, hidden layer
/// spiking, readout as given (max-membrane: non-spiking outputs).
fn network(
    device: &Device,
    seed: u64,
    readout: Readout,
    forward: SpikeForward,
) -> SurrogateNetwork {
    let mut rng = StdRng::seed_from_u64(seed);
    let grid = TimeGrid { dt: 0.1, steps: 40 };
    let layers = [(N_IN, 8, 0.9), (8, 3, 0.6)]
        .iter()
        .enumerate()
        .map(|(l, &(i, o, mean))| {
            let mut layer = LifLayerConfig::new(i, o)
                .with_bias_times(vec![0.35])
                .with_weight_mean(mean)
                .with_weight_std(0.7)
                .with_neuron(LifValues { tau_mem: 1.2, tau_syn: 0.8, ..LifValues::default() })
                .with_grid(grid)
                .with_surrogate(Surrogate::FastSigmoid { slope: 5.0 })
                .with_detach_reset(false)
                .with_spiking(l == 0 || readout.spiking())
                .init(device, &mut rng);
            layer.cell.behaviour.forward = forward;
            layer
        })
        .collect();
    SurrogateNetwork { layers, readout, encoder: Encoder::Latency }
}

/// The chip's row counts: inputs plus the bias row.
fn shapes(net: &SurrogateNetwork) -> Vec<(usize, usize)> {
    net.layers.iter().map(|l| (l.n_inputs() + l.bias_times.len(), l.n_outputs())).collect()
}

/// Latency-coded inputs in [0, 1.5] (some silent) and labels.
fn data(batch: usize, seed: u64, device: &Device) -> (Vec<f64>, Tensor<1, Int>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let times = (0..batch * N_IN)
        .map(|_| if rng.random_bool(0.1) { f64::INFINITY } else { rng.random_range(0.0..1.5) })
        .collect();
    let labels: Vec<i64> = (0..batch as i64).map(|b| b % 3).collect();
    (times, Tensor::from_data(TensorData::new(labels, [batch]), device))
}

fn host(ts: &[Tensor<2>]) -> Vec<Vec<f64>> {
    ts.iter().map(|t| to_vec_f64(t.clone())).collect()
}

fn vector(v: Vec<f64>, device: &Device) -> Param<Tensor<1>> {
    let n = v.len();
    Param::from_tensor(Tensor::from_data(TensorData::new(v, [n]), device)).set_require_grad(false)
}

/// `net` rebuilt by hand as the instance realises it: each neuron's τm and τs times its
/// factors, ϑ and E_l plus its offsets times the ideal ϑ − E_l, each weight times its gain,
/// rounded to the chip's levels and divided by the neuron's g_l factor.
fn as_realised(net: &SurrogateNetwork, chip: &Chip, device: &Device) -> SurrogateNetwork {
    let mut out = net.clone();
    for (layer, pattern) in out.layers.iter_mut().zip(&chip.layers) {
        let c = &layer.cell;
        let (m, s) = (to_vec_f64(c.tau_mem_inv.val()), to_vec_f64(c.tau_syn_inv.val()));
        let (th, el) = (to_vec_f64(c.v_th.val()), to_vec_f64(c.v_leak.val()));
        let n = th.len();
        let d: Vec<f64> = (0..n).map(|j| th[j] - el[j]).collect();
        layer.cell.tau_mem_inv =
            vector((0..n).map(|j| m[j] / pattern.tau_mem[j]).collect(), device);
        layer.cell.tau_syn_inv =
            vector((0..n).map(|j| s[j] / pattern.tau_syn[j]).collect(), device);
        layer.cell.v_th = vector((0..n).map(|j| th[j] + pattern.v_th[j] * d[j]).collect(), device);
        layer.cell.v_leak =
            vector((0..n).map(|j| el[j] + pattern.v_leak[j] * d[j]).collect(), device);
        let w = to_vec_f64(layer.weights.val());
        let shape = layer.weights.val().dims();
        let q = chip.profile.weights;
        let realised: Vec<f64> = w
            .iter()
            .enumerate()
            .map(|(k, w)| q.quantise(w * pattern.synapse_gain[k]) / pattern.g_leak[k % n])
            .collect();
        layer.weights =
            Param::from_tensor(Tensor::from_data(TensorData::new(realised, shape), device));
    }
    out
}

#[test]
/// Without trial noise the chip is the ideal network with the instance's parameters and
/// realised weights: the same spikes in every layer and step, membranes to rounding — and not
/// the ideal network's own.
fn chip_runs_the_instance_neurons() {
    let device = f64_device();
    let net = network(&device, 1, Readout::SpikeCount, SpikeForward::Heaviside);
    let chip = Chip::draw(profile(fixed_pattern), 7, &shapes(&net));
    assert_eq!(chip.profile.weights.bits, 0, "the ideal profile has continuous weights");
    let chip = Chip::draw(
        profile(|p| {
            fixed_pattern(p);
            p.weights.bits = 6;
            p.weights.levels_per_unit = 30.0;
        }),
        7,
        &shapes(&net),
    );
    let view = SurrogateOnChip::new(&net, &chip).unwrap();
    let (times, _) = data(32, 2, &device);
    let inputs = net.encode(&times, N_IN, &mut StdRng::seed_from_u64(0), &device);
    let on_chip = view.forward(&net, &inputs, &ErrorPath::Backprop, &mut StdRng::seed_from_u64(1));
    let by_hand = as_realised(&net, &chip, &device).forward(&inputs);
    let ideal = net.forward(&inputs);
    let (mut spikes, mut differ) = (0.0, 0);
    for l in 0..2 {
        let (a, b) = (host(&on_chip.layers[l].spikes), host(&by_hand.layers[l].spikes));
        assert_eq!(a, b, "layer {l}: spikes");
        spikes += a.iter().flatten().sum::<f64>();
        differ += a.iter().zip(host(&ideal.layers[l].spikes)).filter(|(x, y)| **x != *y).count();
        let (va, vb) = (host(&on_chip.layers[l].v), host(&by_hand.layers[l].v));
        for (x, y) in va.iter().flatten().zip(vb.iter().flatten()) {
            assert!((x - y).abs() < 1e-9, "layer {l}: membrane {x} vs {y}");
        }
    }
    assert!(spikes > 300.0, "{spikes} spikes");
    assert!(differ > 0, "the instance behaves differently from the ideal network");
}

#[test]
/// A leaky integrator on the chip is the closed-form PSP sum of its own neuron:
/// `v(t) = E_l' + Σ_i q(g_ij w_ij)/g_l,j · τs'/(τs' − τm')·(e^{−Δ/τs'} − e^{−Δ/τm'})` with
/// `Δ` from the start of the input's step to the end of step `k`, every fixed-pattern effect and
/// the 6-bit weights on.
fn leaky_integrator_follows_the_closed_form() {
    let device = f64_device();
    let mut rng = StdRng::seed_from_u64(3);
    let grid = TimeGrid { dt: 0.1, steps: 50 };
    let layer = LifLayerConfig::new(N_IN, 4)
        .with_bias_times(vec![0.35])
        .with_weight_mean(0.2)
        .with_weight_std(1.0)
        .with_neuron(LifValues { tau_mem: 1.5, tau_syn: 0.6, v_leak: 0.1, ..LifValues::default() })
        .with_grid(grid)
        .with_spiking(false)
        .init(&device, &mut rng);
    let net = SurrogateNetwork {
        layers: vec![layer],
        readout: Readout::MaxMembrane,
        encoder: Encoder::Latency,
    };
    let p = profile(|p| {
        fixed_pattern(p);
        p.weights.bits = 6;
        p.weights.levels_per_unit = 30.0;
    });
    let chip = Chip::draw(p, 4, &shapes(&net));
    let view = SurrogateOnChip::new(&net, &chip).unwrap();
    let batch = 6;
    let (times, _) = data(batch, 5, &device);
    let inputs = net.encode(&times, N_IN, &mut StdRng::seed_from_u64(0), &device);
    let trace = view.forward(&net, &inputs, &ErrorPath::Backprop, &mut StdRng::seed_from_u64(0));
    let v = host(&trace.layers[0].v);
    let pat = &chip.layers[0];
    let w = to_vec_f64(net.layers[0].weights.val());
    let q = chip.profile.weights;
    let (tm, ts, el, th) = (1.5, 0.6, 0.1, 1.0);
    let mut worst = 0.0_f64;
    for b in 0..batch {
        for j in 0..4 {
            let (tm, ts) = (tm * pat.tau_mem[j], ts * pat.tau_syn[j]);
            let leak = el + pat.v_leak[j] * (th - el);
            for (k, row) in v.iter().enumerate() {
                let t_end = (k + 1) as f64 * grid.dt;
                let mut expected = leak;
                let arrivals =
                    (0..=N_IN).map(|i| if i < N_IN { times[b * N_IN + i] } else { 0.35 });
                for (i, t) in arrivals.enumerate() {
                    let Some(step) = grid.step_of(t) else { continue };
                    let d = t_end - step as f64 * grid.dt;
                    if step > k {
                        continue;
                    }
                    let idx = i * 4 + j;
                    let weight = q.quantise(w[idx] * pat.synapse_gain[idx]) / pat.g_leak[j];
                    expected += weight * ts / (ts - tm) * ((-d / ts).exp() - (-d / tm).exp());
                }
                worst = worst.max((row[b * 4 + j] - expected).abs());
            }
        }
    }
    assert!(worst < 1e-12, "largest deviation from the closed form {worst}");
}

/// The chip's loss on `net` (values only), its threshold noise from a fixed seed.
fn chip_loss(
    view: &SurrogateOnChip,
    net: &SurrogateNetwork,
    inputs: &[Tensor<2>],
    labels: &Tensor<1, Int>,
) -> Tensor<1> {
    let trace = view.forward(net, inputs, &ErrorPath::Backprop, &mut StdRng::seed_from_u64(9));
    net.loss(net.scores(&trace), labels.clone(), 2.0).mean()
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

#[test]
/// The exact chip gradient — backpropagation through the instance's own dynamics, its
/// per-sample threshold offsets included — equals central differences of the chip's own loss
/// for every weight (smoothed spikes, where the surrogate is the true derivative; continuous
/// weights, where the rounding has none).
fn exact_chip_gradient_matches_finite_differences() {
    let plain = f64_device();
    let device = plain.clone().autodiff();
    let net = network(&device, 11, Readout::MaxMembrane, SpikeForward::Smooth);
    let p = profile(|p| {
        fixed_pattern(p);
        p.trial.v_th_sample = 0.05;
        p.trial.v_th_batch = 0.03;
    });
    let chip = Chip::draw(p, 2, &shapes(&net));
    let view = SurrogateOnChip::new(&net, &chip).unwrap();
    let base = net.valid();
    let plain_view = SurrogateOnChip::new(&base, &chip).unwrap();
    let (times, labels) = data(6, 12, &plain);
    let inputs = net.encode(&times, N_IN, &mut StdRng::seed_from_u64(0), &device);
    let plain_inputs = base.encode(&times, N_IN, &mut StdRng::seed_from_u64(0), &plain);
    let labels_ad = Tensor::from_data(labels.to_data(), &device);
    let loss = chip_loss(&view, &net, &inputs, &labels_ad);
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    let ideal = base.loss(base.scores(&base.forward(&plain_inputs)), labels.clone(), 2.0).mean();
    let value = to_vec_f64(chip_loss(&plain_view, &base, &plain_inputs, &labels))[0];
    assert!((value - to_vec_f64(ideal)[0]).abs() > 1e-3, "the chip's loss is its own");
    let h = 1e-6;
    let mut count = FdCount::default();
    for l in 0..2 {
        let w = to_vec_f64(base.layers[l].weights.val());
        let g: Tensor<2> = grads.get(net.layers[l].weights.id).expect("weight gradient");
        let g = to_vec_f64(g);
        for k in 0..w.len() {
            let at = |d: f64| {
                let mut v = w.clone();
                v[k] += d;
                let n = with_weights(&base, l, v, &plain);
                to_vec_f64(chip_loss(&plain_view, &n, &plain_inputs, &labels))[0]
            };
            let (lp, lm) = (at(h), at(-h));
            let curvature = ((lp - value) - (value - lm)).abs();
            if curvature > 1e-8 {
                count.skip(format!("layer {l} weight {k}: second difference {curvature:.1e}"));
                continue;
            }
            let fd = (lp - lm) / (2.0 * h);
            let tol = 1e-6 + 1e-5 * fd.abs().max(g[k].abs());
            assert!((fd - g[k]).abs() < tol, "layer {l} weight {k}: autodiff {} vs FD {fd}", g[k]);
            count.compared(g[k], 1e-4);
        }
    }
    // (5 + 1)·8 + (8 + 1)·3 = 75 weights.
    count.assert_thorough("exact chip", 1e-4, 50);
}

fn weight_grads(net: &SurrogateNetwork, loss: Tensor<1>) -> Vec<Vec<f64>> {
    let grads = GradientsParams::from_grads(loss.backward(), net);
    net.layers
        .iter()
        .map(|l| to_vec_f64(grads.get::<2>(l.weights.id).expect("weight gradient")))
        .collect()
}

fn largest_difference(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
/// In the loop the forward values are the exact mode's, trial noise included (the same draws
/// from the same seed), and the gradient is the ideal model's at the chip's values: equal to
/// the exact gradient where the chip only shifts the readout's leak (the dynamics' derivatives
/// agree), and, with the readout's τm and τs varied, equal to the ideal readout's Jacobian
/// applied to the loss error at the chip's membranes — not to the exact gradient.
fn in_the_loop_values_are_the_chips_and_the_gradient_the_ideal_models() {
    let device = f64_device().autodiff();
    let net = network(&device, 21, Readout::MaxMembrane, SpikeForward::Heaviside);
    let (times, labels) = data(16, 22, &device);
    let inputs = net.encode(&times, N_IN, &mut StdRng::seed_from_u64(0), &device);
    let path = ErrorPath::Backprop;

    let noisy = profile(|p| {
        fixed_pattern(p);
        p.weights.bits = 6;
        p.weights.levels_per_unit = 30.0;
        p.trial = Trial {
            v_th_sample: 0.02,
            jitter: 0.1,
            spike_loss: 0.05,
            clock: 0.2,
            v_th_batch: 0.01,
        };
    });
    let chip = Chip::draw(noisy, 3, &shapes(&net));
    let view = SurrogateOnChip::new(&net, &chip).unwrap();
    let exact = view.forward(&net, &inputs, &path, &mut StdRng::seed_from_u64(5));
    let itl = view.forward_in_the_loop(&net, &inputs, &path, &mut StdRng::seed_from_u64(5));
    for l in 0..2 {
        assert_eq!(host(&exact.layers[l].spikes), host(&itl.layers[l].spikes), "layer {l} spikes");
        assert_eq!(host(&exact.layers[l].v), host(&itl.layers[l].v), "layer {l} membranes");
    }

    // A chip whose only deviation is the readout's leak: a constant shift of its membranes.
    let mut chip = Chip::draw(profile(|p| p.fixed_pattern.v_leak = 0.2), 4, &shapes(&net));
    chip.layers[0].v_leak = vec![0.0; 8];
    let view = SurrogateOnChip::new(&net, &chip).unwrap();
    let loss_of = |trace: &NetworkTrace| net.loss(net.scores(trace), labels.clone(), 2.0).mean();
    let mut rng = StdRng::seed_from_u64(0);
    let g_exact = weight_grads(&net, loss_of(&view.forward(&net, &inputs, &path, &mut rng)));
    let g_itl =
        weight_grads(&net, loss_of(&view.forward_in_the_loop(&net, &inputs, &path, &mut rng)));
    let g_ideal = weight_grads(&net, loss_of(&net.forward(&inputs)));
    assert!(largest_difference(&g_exact, &g_itl) < 1e-12, "a leak shift: in the loop = exact");
    assert!(largest_difference(&g_ideal, &g_itl) > 1e-4, "the error is the chip's");

    // The readout's τm and τs varied: the ideal readout's Jacobian at the chip's error.
    let mut chip = Chip::draw(
        profile(|p| {
            p.fixed_pattern.tau_mem = 0.2;
            p.fixed_pattern.tau_syn = 0.2;
        }),
        6,
        &shapes(&net),
    );
    chip.layers[0].tau_mem = vec![1.0; 8];
    chip.layers[0].tau_syn = vec![1.0; 8];
    let view = SurrogateOnChip::new(&net, &chip).unwrap();
    let g_exact = weight_grads(&net, loss_of(&view.forward(&net, &inputs, &path, &mut rng)));
    let trace = view.forward_in_the_loop(&net, &inputs, &path, &mut rng);
    let g_itl = weight_grads(&net, loss_of(&trace));
    // The error at the chip's membranes, as leaves.
    let leaves: Vec<Tensor<2>> =
        trace.layers[1].v.iter().map(|v| v.clone().detach().require_grad()).collect();
    let mut at_chip = trace.clone();
    at_chip.layers[1].v = leaves.clone();
    let back = loss_of(&at_chip).backward();
    let errors: Vec<Tensor<2>> = leaves
        .iter()
        .map(|v| Tensor::from_data(v.grad(&back).expect("error").to_data(), &device))
        .collect();
    let ideal = net.forward(&inputs);
    let pulled = ideal.layers[1]
        .v
        .iter()
        .zip(&errors)
        .map(|(v, e)| (v.clone() * e.clone()).sum())
        .reduce(|a, b| a + b)
        .unwrap();
    let g_ref = weight_grads(&net, pulled);
    assert!(largest_difference(&g_ref[1..], &g_itl[1..]) < 1e-12, "readout: ideal Jacobian");
    assert!(largest_difference(&g_exact[1..], &g_itl[1..]) > 1e-4, "not the chip's Jacobian");
}

/// One spiking layer of 50 slow neurons (τm = τs = 3) that fire at most once (refractory for
/// the whole sequence), 400 samples: the observed spikes with `trial`, and the crossings
/// without.
fn one_layer_run(trial: Trial) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let device = f64_device();
    let mut rng = StdRng::seed_from_u64(9);
    let grid = TimeGrid { dt: 0.1, steps: 100 };
    let layer = LifLayerConfig::new(N_IN, 50)
        .with_weight_mean(0.9)
        .with_weight_std(0.3)
        .with_neuron(LifValues { tau_mem: 3.0, tau_syn: 3.0, ..LifValues::default() })
        .with_grid(grid)
        .with_refractory_steps(grid.steps)
        .init(&device, &mut rng);
    let net = SurrogateNetwork {
        layers: vec![layer],
        readout: Readout::SpikeCount,
        encoder: Encoder::Latency,
    };
    let (times, _) = data(400, 3, &device);
    let inputs = net.encode(&times, N_IN, &mut StdRng::seed_from_u64(0), &device);
    let run = |trial: Trial| {
        let chip = Chip::draw(profile(|p| p.trial = trial), 2, &[(N_IN, 50)]);
        let view = SurrogateOnChip::new(&net, &chip).unwrap();
        let trace =
            view.forward(&net, &inputs, &ErrorPath::Backprop, &mut StdRng::seed_from_u64(11));
        host(&trace.layers[0].spikes)
    };
    (run(trial), run(Trial::default()))
}

/// Per (sample, neuron): the step of its one spike, if any.
fn spike_steps(spikes: &[Vec<f64>]) -> Vec<Option<usize>> {
    let n = spikes[0].len();
    (0..n)
        .map(|idx| {
            let steps: Vec<usize> = (0..spikes.len()).filter(|&k| spikes[k][idx] != 0.0).collect();
            assert!(steps.len() <= 1, "one spike per neuron");
            steps.first().copied()
        })
        .collect()
}

#[test]
/// Jitter moves a spike by `round(σ τs z/dt)` steps (mean and variance within their 99.9 %
/// intervals; the variance of a rounded normal is σ² + 1/12 in steps²), a spike is lost at the
/// configured rate (binomial 99.9 % interval), and the clock floors every spike's time
/// `(k + 1)·dt` to its period.
fn trial_noise_has_its_statistics() {
    let sigma = 0.1; // τs = 3, dt = 0.1: 3 steps
    let (obs, raw) = one_layer_run(Trial { jitter: sigma, ..Trial::default() });
    let (obs, raw) = (spike_steps(&obs), spike_steps(&raw));
    let d: Vec<f64> = obs
        .iter()
        .zip(&raw)
        .filter_map(|(o, r)| match (o, r) {
            (Some(o), Some(r)) if (20..80).contains(r) => Some(*o as f64 - *r as f64),
            (None, Some(r)) if (20..80).contains(r) => panic!("a spike at step {r} lost"),
            _ => None,
        })
        .collect();
    let n = d.len() as f64;
    assert!(n > 5_000.0, "{n} spikes");
    let sd = sigma * 3.0 / 0.1;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(mean.abs() < 3.29 * sd / n.sqrt(), "jitter mean {mean} steps");
    let expected = sd * sd + 1.0 / 12.0;
    let sd_var = (2.0 / (n - 1.0)).sqrt() * expected;
    assert!((var - expected).abs() < 3.29 * sd_var, "jitter variance {var} vs {expected}");
    assert!(d.iter().all(|x| x.fract() == 0.0));

    let p = 0.2;
    let (obs, raw) = one_layer_run(Trial { spike_loss: p, ..Trial::default() });
    let (obs, raw) = (spike_steps(&obs), spike_steps(&raw));
    let emitted = raw.iter().flatten().count() as f64;
    assert!(emitted > 10_000.0, "{emitted} spikes");
    let lost = obs.iter().zip(&raw).filter(|(o, r)| r.is_some() && o.is_none()).count() as f64;
    let rate = lost / emitted;
    assert!((rate - p).abs() < 3.29 * (p * (1.0 - p) / emitted).sqrt(), "loss rate {rate}");
    assert!(obs.iter().zip(&raw).all(|(o, r)| o.is_none() || o == r), "kept spikes stay");

    let clock = 0.5; // five steps
    let (obs, raw) = one_layer_run(Trial { clock, ..Trial::default() });
    let (obs, raw) = (spike_steps(&obs), spike_steps(&raw));
    let mut moved = 0;
    for (o, r) in obs.iter().zip(&raw) {
        let Some(r) = r else { continue };
        let floored = ((*r + 1) as f64 * 0.1 / clock + 1e-9).floor() * clock;
        let expected = ((floored / 0.1).round() as usize).saturating_sub(1);
        assert_eq!(*o, Some(expected), "a spike in step {r} with a clock of {clock}");
        moved += usize::from(expected != *r);
    }
    assert!(moved > 1000, "{moved} spikes moved by the clock");
    // A clock finer than the grid moves nothing.
    let (obs, raw) = one_layer_run(Trial { clock: 0.001333, ..Trial::default() });
    assert_eq!(spike_steps(&obs), spike_steps(&raw));
}
