//! The batched kernel of heterogeneous layers ([`spikeburn::ttfs::general_kernel`]) against the
//! scalar general solver, which `tests/general_spike_times.rs` verifies against the closed
//! forms, an RK4 simulation and finite differences: spike times (with per-sample threshold
//! offsets), weight gradients summed over the batch (with and without clipping), propagated
//! errors through the weights and through a feedback matrix; and against the closed-form
//! kernel at τm/τs = 1 and 2.

mod common;

use common::*;
use rand::RngExt;
use spikeburn::ttfs::general::{self, Neuron};
use spikeburn::ttfs::neuron::TauRatio;
use spikeburn::ttfs::{general_kernel, kernel};
use spikeburn::util::StdRng;
use spikeburn::util::to_vec_f64;

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let ok = (x.is_infinite() && y.is_infinite() && x.signum() == y.signum())
            || (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs()));
        assert!(ok, "{what}[{k}]: {x} vs {y}");
    }
}

/// `m` neurons with their own τm/τs: ratios in [0.5, 4] or, for a chip, within ±10 % of 1.
fn neurons(r: &mut StdRng, m: usize, chip_like: bool) -> Vec<Neuron> {
    (0..m)
        .map(|_| {
            let tau_syn = r.random_range(0.7..1.4);
            let ratio = if chip_like { r.random_range(0.9..1.1) } else { r.random_range(0.5..4.0) };
            Neuron {
                tau_mem: ratio * tau_syn,
                tau_syn,
                v_th: r.random_range(0.8..1.2),
                v_leak: r.random_range(-0.1..0.1),
                g_leak: r.random_range(0.8..1.25) / ratio,
            }
        })
        .collect()
}

#[test]
/// Spike times, weight gradients and input errors equal the scalar solver's, sample by sample.
fn kernel_matches_the_scalar_solver() {
    let device = f64_device();
    let (mut fired, mut silent, mut grads, mut n_clipped) = (0, 0, 0, 0);
    for (case, (batch, n_in, n_out)) in
        [(7, 5, 9), (16, 30, 12), (6, 121, 10), (4, 256, 20)].into_iter().enumerate()
    {
        for chip_like in [false, true] {
            let mut r = rng(900 + case as u64);
            let mut p = random_problem(&mut r, batch, n_in, n_out, 0.2);
            p.weights.iter_mut().for_each(|w| *w *= 2.0);
            let ns = neurons(&mut r, n_out, chip_like);
            let offsets: Vec<f64> =
                (0..batch * n_out).map(|_| r.random_range(-0.05..0.05)).collect();
            let delta: Vec<f64> = (0..batch * n_out).map(|_| r.random_range(-1.0..1.0)).collect();
            let feedback: Vec<f64> = (0..n_in * n_out).map(|_| r.random_range(-1.0..1.0)).collect();
            let times = tensor2(&p.times, [batch, n_in], &device);
            let weights = tensor2(&p.weights, [n_in, n_out], &device);
            let out = general_kernel::first_spike_times(
                times.clone(),
                weights.clone(),
                &ns,
                Some(&offsets),
            );
            let got = to_vec_f64(out.clone());
            let mut want = vec![0.0; batch * n_out];
            let mut want_gw = vec![0.0; n_in * n_out];
            let mut want_gi = vec![0.0; batch * n_in];
            let mut want_fb = vec![0.0; batch * n_in];
            for b in 0..batch {
                let t = &p.times[b * n_in..(b + 1) * n_in];
                for j in 0..n_out {
                    let n = Neuron { v_th: ns[j].v_th + offsets[b * n_out + j], ..ns[j] };
                    let col: Vec<f64> = (0..n_in).map(|i| p.weights[i * n_out + j]).collect();
                    let ts = general::first_spike_time(&n, t, &col);
                    want[b * n_out + j] = ts;
                    if !ts.is_finite() {
                        silent += 1;
                        continue;
                    }
                    fired += 1;
                    let g = general::gradients(&n, t, &col, ts);
                    let d = delta[b * n_out + j];
                    for i in 0..n_in {
                        want_gw[i * n_out + j] += d * g.weights[i];
                        want_gi[b * n_in + i] += d * g.times[i];
                        // Through the feedback matrix: w K′/F_t with b in place of w.
                        if col[i] != 0.0 {
                            want_fb[b * n_in + i] +=
                                d * g.times[i] * feedback[i * n_out + j] / col[i];
                        }
                    }
                    grads += n_in;
                }
            }
            close(&got, &want, 1e-11, "spike times");
            // The gradients at the kernel's own spike times (offsets enter only through them).
            let delta_t = tensor2(&delta, [batch, n_out], &device);
            let g = general_kernel::backward_with(
                times.clone(),
                weights.clone(),
                None,
                &ns,
                out.clone(),
                delta_t.clone(),
                None,
            );
            close(&to_vec_f64(g.weights), &want_gw, 1e-9, "weight gradients");
            close(&to_vec_f64(g.input_times), &want_gi, 1e-9, "input errors");
            assert!(to_vec_f64(g.clipped.float()).iter().all(|c| *c == 0.0));
            let fb = tensor2(&feedback, [n_in, n_out], &device);
            let g = general_kernel::backward_with(
                times.clone(),
                weights.clone(),
                Some(fb),
                &ns,
                out.clone(),
                delta_t.clone(),
                None,
            );
            close(&to_vec_f64(g.input_times), &want_fb, 1e-9, "errors through feedback");
            // Clipping: a limit below the largest entry drops exactly the columns above it.
            let limit = 0.3;
            let g =
                general_kernel::backward_with(times, weights, None, &ns, out, delta_t, Some(limit));
            let clipped = to_vec_f64(g.clipped.float());
            let gw = to_vec_f64(g.weights);
            let mut kept = vec![0.0; n_in * n_out];
            for b in 0..batch {
                let t = &p.times[b * n_in..(b + 1) * n_in];
                for j in 0..n_out {
                    let ts = want[b * n_out + j];
                    if !ts.is_finite() {
                        continue;
                    }
                    let n = Neuron { v_th: ns[j].v_th + offsets[b * n_out + j], ..ns[j] };
                    let col: Vec<f64> = (0..n_in).map(|i| p.weights[i * n_out + j]).collect();
                    let gr = general::gradients(&n, t, &col, ts);
                    let d = delta[b * n_out + j];
                    let worst = gr.weights.iter().map(|x| (d * x).abs()).fold(0.0, f64::max);
                    assert_eq!(clipped[b * n_out + j] == 1.0, worst > limit, "clip b{b} j{j}");
                    n_clipped += usize::from(worst > limit);
                    if worst <= limit {
                        (0..n_in).for_each(|i| kept[i * n_out + j] += d * gr.weights[i]);
                    }
                }
            }
            close(&gw, &kept, 1e-9, "clipped weight gradients");
        }
    }
    assert!(fired > 300 && silent > 20, "fired {fired}, silent {silent}: both regimes covered");
    assert!(grads > 20_000, "{grads} gradient entries compared");
    assert!(n_clipped > 20 && n_clipped < fired / 2, "{n_clipped} of {fired} clipped");
}

#[test]
/// With τm = τs or τm = 2τs in every neuron, the general kernel gives the closed-form
/// kernel's spike times and gradients (1e-9).
fn kernel_equals_the_closed_form_kernel() {
    let device = f64_device();
    for ratio in [TauRatio::Equal, TauRatio::Double] {
        let mut r = rng(77);
        let (batch, n_in, n_out) = (12, 40, 15);
        let mut p = random_problem(&mut r, batch, n_in, n_out, 0.2);
        p.weights.iter_mut().for_each(|w| *w *= 2.0);
        let ps = varied_neurons(ratio, n_out, &mut r);
        let ns: Vec<Neuron> = ps.iter().map(Neuron::from_params).collect();
        let times = tensor2(&p.times, [batch, n_in], &device);
        let weights = tensor2(&p.weights, [n_in, n_out], &device);
        let nt = neuron_tensors(&ps, &device);
        let closed = kernel::first_spike_times(times.clone(), weights.clone(), &nt);
        let ours = general_kernel::first_spike_times(times.clone(), weights.clone(), &ns, None);
        let finite = to_vec_f64(closed.clone()).iter().filter(|t| t.is_finite()).count();
        assert!(finite > batch * n_out / 3, "{ratio:?}: {finite} spikes");
        close(&to_vec_f64(ours), &to_vec_f64(closed.clone()), 1e-9, "times");
        let delta = tensor2(
            &(0..batch * n_out).map(|_| r.random_range(-1.0..1.0)).collect::<Vec<_>>(),
            [batch, n_out],
            &device,
        );
        let a = kernel::backward(
            times.clone(),
            weights.clone(),
            &nt,
            closed.clone(),
            delta.clone(),
            Some(0.5),
        );
        let b = general_kernel::backward_with(times, weights, None, &ns, closed, delta, Some(0.5));
        close(&to_vec_f64(b.weights), &to_vec_f64(a.weights), 1e-9, "weight gradients");
        close(&to_vec_f64(b.input_times), &to_vec_f64(a.input_times), 1e-9, "input errors");
        assert_eq!(to_vec_f64(b.clipped.float()), to_vec_f64(a.clipped.float()), "clipping");
    }
}

#[test]
/// In f32 the kernel computes in f64 inside and returns f32 (within f32 rounding of the f64
/// result), with no NaN.
fn f32_tensors_round_the_f64_result() {
    use burn::tensor::{DType, Tensor, TensorData};
    let device = f64_device();
    let mut r = rng(5);
    let (batch, n_in, n_out) = (9, 20, 8);
    let p = random_problem(&mut r, batch, n_in, n_out, 0.1);
    let ns = neurons(&mut r, n_out, true);
    let f32_tensor = |v: &[f64], shape: [usize; 2]| {
        let v: Vec<f32> = v.iter().map(|x| *x as f32).collect();
        Tensor::<2>::from_data(TensorData::new(v, shape), (&device, DType::F32))
    };
    let times = f32_tensor(&p.times, [batch, n_in]);
    let weights = f32_tensor(&p.weights, [n_in, n_out]);
    assert_eq!(times.dtype(), DType::F32);
    let out = general_kernel::first_spike_times(times, weights, &ns, None);
    assert_eq!(out.dtype(), burn::tensor::DType::F32);
    for (b, t) in to_vec_f64(out).chunks(n_out).enumerate() {
        for (j, &t) in t.iter().enumerate() {
            assert!(!t.is_nan());
            let ti: Vec<f64> =
                p.times[b * n_in..(b + 1) * n_in].iter().map(|&x| x as f32 as f64).collect();
            let col: Vec<f64> = (0..n_in).map(|i| p.weights[i * n_out + j] as f32 as f64).collect();
            let want = general::first_spike_time(&ns[j], &ti, &col);
            assert!(
                (t.is_infinite() && want.is_infinite()) || (t - want).abs() < 1e-6 * (1.0 + want),
                "b{b} j{j}: {t} vs {want}"
            );
        }
    }
}
