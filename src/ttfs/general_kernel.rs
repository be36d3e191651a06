//! The CPU kernel for layers whose neurons each have their own τm, τs, ϑ, E_l and g_l (a
//! mismatched chip): batched spike times and exact gradients by [`super::general`]'s mathematics,
//! in f64 on host memory, in parallel over samples.
//!
//! Per sample the sorted inputs are walked once; each neuron keeps its window sums
//! ([`Window`]) with the origin at the latest input, so adding an input costs no
//! transcendental (its relative time is 0). For the window up to the next input at gap `g` the
//! kernel computes `e^{−g/τs}` and `expm1(gδ)` once and uses them twice: for the test
//! `F(g) ≥ 0` (the membrane is above threshold at the window's end) and to move the origin to
//! the next input. A neuron whose membrane falls at the window's start (`F′(0) ≤ 0`) can only
//! cross at the end (its one stationary point is then a minimum), so the stationary point is
//! computed only for rising membranes. The first window that reaches threshold is solved by
//! [`Window::crossing`].
//!
//! Trial-to-trial threshold noise enters as an optional per-(sample, neuron) threshold offset.
//! The backward pass gives `∂t*/∂w_ij = −K(t*−t_i)/F_t` and `∂t*/∂t_i = b_ij K′(t*−t_i)/F_t`
//! (`b` the weights, or a feedback rule's matrix) with `F_t = Σ_causal w_ij K′`, the same
//! per-(sample, neuron) clipping as [`super::kernel`] and the same fixed summation order (a seed
//! reproduces a run bit for bit, whatever the thread count).

use burn::tensor::{Bool, DType, Device, Tensor, TensorData};
use rayon::prelude::*;

use super::functional::SpikeTimeGrads;
use super::general::{Neuron, Window};
use crate::util::{from_vec_f64, to_vec_f64};

/// Number of sample groups whose weight gradients are summed separately, then in order.
const GROUPS: usize = 8;

/// The neuron `j` of a sample whose threshold is moved by `offset`.
fn with_offset(n: &Neuron, offset: Option<&[f64]>, j: usize) -> Neuron {
    match offset {
        Some(o) => Neuron { v_th: n.v_th + o[j], ..*n },
        None => *n,
    }
}

/// Spike times of one sample (`t` `[n]`, `w` `[n, m]` row-major, `out` `[m]`), in f64.
fn forward_sample(
    t: &[f64],
    w: &[f64],
    neurons: &[Neuron],
    offset: Option<&[f64]>,
    out: &mut [f64],
    windows: &mut Vec<Window>,
    order: &mut Vec<usize>,
) {
    let m = out.len();
    out.fill(f64::INFINITY);
    order.clear();
    order.extend((0..t.len()).filter(|&i| t[i].is_finite()));
    if order.is_empty() {
        return;
    }
    order.sort_unstable_by(|&i, &j| t[i].total_cmp(&t[j]));
    windows.clear();
    windows.resize(m, Window::EMPTY);
    let mut remaining = m;
    for (k, &i) in order.iter().enumerate() {
        let gap = order.get(k + 1).map_or(f64::INFINITY, |&next| t[next] - t[i]);
        let row = &w[i * m..(i + 1) * m];
        for j in 0..m {
            if out[j].is_finite() {
                continue;
            }
            let n = with_offset(&neurons[j], offset, j);
            let win = &mut windows[j];
            // The input at relative time 0: e^{0} = 1, φ(0, ·) = 0.
            win.a += row[j];
            win.b += row[j];
            let c = n.drive();
            let (tm, ts, d) = (n.tau_mem, n.tau_syn, n.delta());
            // Rising at the window's start: F′(0) = (A + D/τs)/τm > 0.
            let rising = win.a + win.d / ts > 0.0;
            let mut fire = -win.d / tm - c >= 0.0;
            let mut end = None;
            if !fire && gap.is_finite() {
                let es = (-gap / ts).exp();
                let x = (gap * d).exp_m1();
                let p = if d == 0.0 { gap } else { x / d };
                let f_end = es / tm * (p * win.a - win.d) - c;
                fire = f_end >= 0.0;
                end = Some((es, x, p));
            }
            if !fire && rising {
                fire = win.stationary(&n).is_some_and(|tp| {
                    tp > 0.0 && tp < gap && {
                        let (f, _) = win.eval(&n, tp);
                        f >= 0.0
                    }
                });
            }
            if fire {
                out[j] = win.crossing(&n, 0.0, gap).map_or(f64::INFINITY, |s| s + t[i]);
                if out[j].is_finite() {
                    remaining -= 1;
                    continue;
                }
                // Rounding put the crossing out of reach: treat as not reached.
            }
            if let Some((es, x, p)) = end {
                // Move the origin to the next input: A ← e^{−g/τm}A, B ← e^{−g/τs}B,
                // D ← e^{−g/τm}D − e^{−g/τs} φ(g, δ) B, with e^{−g/τm} = e^{−g/τs}(1 + expm1(gδ)).
                let em = es * (1.0 + x);
                win.d = em * win.d - es * p * win.b;
                win.a *= em;
                win.b *= es;
            }
        }
        if remaining == 0 {
            break;
        }
    }
}

/// `(K(s), K′(s))` of neuron `n` at `s ≥ 0`: `K = e^{−s/τs} φ(s, δ)/τm`,
/// `K′ = (e^{−s/τm} − e^{−s/τs} φ(s, δ)/τs)/τm`.
fn kernel_pair(n: &Neuron, s: f64) -> (f64, f64) {
    let d = n.delta();
    let es = (-s / n.tau_syn).exp();
    let x = (s * d).exp_m1();
    let p = if d == 0.0 { s } else { x / d };
    let em = es * (1.0 + x);
    (es * p / n.tau_mem, (em - es * p / n.tau_syn) / n.tau_mem)
}

/// Reusable per-thread buffers of the backward pass.
#[derive(Default)]
struct Scratch {
    /// K per causal pair, `[n, m]` (0 elsewhere).
    k: Vec<f64>,
    /// K′ per causal pair, `[n, m]`.
    kd: Vec<f64>,
    /// δ_j/F_t per neuron (0: no gradient).
    scale: Vec<f64>,
}

/// Gradients of one sample: accumulates into `grad_w` (`[n, m]`), writes `grad_in` (`[n]`) and
/// `clipped` (`[m]`).
#[allow(clippy::too_many_arguments)]
fn backward_sample(
    t: &[f64],
    w: &[f64],
    fb: &[f64],
    neurons: &[Neuron],
    out: &[f64],
    delta: &[f64],
    max_dw: Option<f64>,
    grad_w: &mut [f64],
    grad_in: &mut [f64],
    clipped: &mut [bool],
    s: &mut Scratch,
) {
    let (n, m) = (t.len(), out.len());
    grad_in.fill(0.0);
    clipped.fill(false);
    s.k.clear();
    s.k.resize(n * m, 0.0);
    s.kd.clear();
    s.kd.resize(n * m, 0.0);
    s.scale.clear();
    s.scale.resize(m, 0.0);
    let live: Vec<bool> =
        (0..m).map(|j| out[j].is_finite() && delta[j].is_finite() && delta[j] != 0.0).collect();
    // Pass 1: K, K′ of the causal pairs and F_t = Σ w K′ per neuron.
    for i in (0..n).filter(|&i| t[i].is_finite()) {
        for j in (0..m).filter(|&j| live[j] && t[i] <= out[j]) {
            let (k, kd) = kernel_pair(&neurons[j], out[j] - t[i]);
            s.k[i * m + j] = k;
            s.kd[i * m + j] = kd;
            s.scale[j] += w[i * m + j] * kd;
        }
    }
    for j in 0..m {
        let scale = if live[j] { delta[j] / s.scale[j] } else { 0.0 };
        // A grazing crossing (F_t = 0) has an infinite gradient: dropped.
        s.scale[j] = if scale.is_finite() { scale } else { 0.0 };
    }
    // Pass 2: clipping, a neuron whose largest weight-gradient entry exceeds the limit keeps
    // its error for the inputs but gives no weight gradient.
    if let Some(limit) = max_dw {
        let mut worst = vec![0.0_f64; m];
        for row in s.k.chunks(m) {
            for ((w, k), scale) in worst.iter_mut().zip(row).zip(&s.scale) {
                *w = w.max((scale * k).abs());
            }
        }
        for j in 0..m {
            clipped[j] = s.scale[j] != 0.0 && worst[j] > limit;
        }
    }
    // Pass 3: accumulate.
    for (i, gi) in grad_in.iter_mut().enumerate() {
        let mut sum = 0.0;
        for j in (0..m).filter(|&j| s.scale[j] != 0.0) {
            let ij = i * m + j;
            if !clipped[j] {
                grad_w[ij] -= s.scale[j] * s.k[ij];
            }
            sum += s.scale[j] * fb[ij] * s.kd[ij];
        }
        *gi = sum;
    }
}

fn device_tensor(v: Vec<f64>, shape: [usize; 2], device: &Device, dtype: DType) -> Tensor<2> {
    from_vec_f64(v, shape, device, dtype)
}

fn check(times: &Tensor<2>, weights: &Tensor<2>, neurons: &[Neuron], offset: Option<&[f64]>) {
    let [batch, n] = times.dims();
    let [wn, m] = weights.dims();
    assert_eq!(n, wn, "input times have {n} columns, weights have {wn} rows");
    assert_eq!(neurons.len(), m, "{} neurons for {m} weight columns", neurons.len());
    if let Some(o) = offset {
        assert_eq!(o.len(), batch * m, "threshold offsets must be [batch, neurons]");
    }
}

/// First output spike times of a layer of heterogeneous neurons.
///
/// # Shapes
/// - `times`: `[batch, n]` (`+∞` = no spike), `weights`: `[n, m]`, `neurons`: `m`
/// - `v_th_offset`: `batch · m` values, row-major (added to each neuron's ϑ per sample)
/// - returns `[batch, m]` in the dtype of `times`
///
/// # Panics
/// If the shapes disagree.
pub fn first_spike_times(
    times: Tensor<2>,
    weights: Tensor<2>,
    neurons: &[Neuron],
    v_th_offset: Option<&[f64]>,
) -> Tensor<2> {
    check(&times, &weights, neurons, v_th_offset);
    let [batch, n] = times.dims();
    let [_, m] = weights.dims();
    let (device, dtype) = (times.device(), times.dtype());
    let (t, w) = (to_vec_f64(times), to_vec_f64(weights));
    let mut out = vec![0.0; batch * m];
    out.par_chunks_mut(m).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(windows, order), (b, row)| {
            let offset = v_th_offset.map(|o| &o[b * m..(b + 1) * m]);
            forward_sample(&t[b * n..(b + 1) * n], &w, neurons, offset, row, windows, order);
        },
    );
    device_tensor(out, [batch, m], &device, dtype)
}

/// Exact gradients of [`first_spike_times`] given its result `out` and `delta = ∂L/∂out`,
/// the error carried to the inputs by `feedback` in place of the weights (`None`: the
/// weights, i.e. backpropagation). The threshold offsets do not enter the gradients (`F_t`
/// does not depend on ϑ), only through `out`.
///
/// # Shapes
/// As [`first_spike_times`]; `out`, `delta`: `[batch, m]`; `feedback`: `[n, m]`.
///
/// # Panics
/// If the shapes disagree.
#[allow(clippy::too_many_arguments)]
pub fn backward_with(
    times: Tensor<2>,
    weights: Tensor<2>,
    feedback: Option<Tensor<2>>,
    neurons: &[Neuron],
    out: Tensor<2>,
    delta: Tensor<2>,
    max_dw: Option<f64>,
) -> SpikeTimeGrads {
    check(&times, &weights, neurons, None);
    if let Some(f) = &feedback {
        assert_eq!(f.dims(), weights.dims(), "feedback must have the weights' shape");
    }
    let [batch, n] = times.dims();
    let [_, m] = weights.dims();
    let (device, dtype) = (times.device(), times.dtype());
    let (t, w) = (to_vec_f64(times), to_vec_f64(weights));
    let (o, d) = (to_vec_f64(out), to_vec_f64(delta));
    let fb = feedback.map(to_vec_f64);
    let fb = fb.as_deref().unwrap_or(&w);
    let mut grad_in = vec![0.0; batch * n];
    let mut clipped = vec![false; batch * m];
    let group = batch.div_ceil(GROUPS).max(1);
    let partials: Vec<Vec<f64>> = grad_in
        .par_chunks_mut(group * n)
        .zip(clipped.par_chunks_mut(group * m))
        .enumerate()
        .map(|(g, (gi, cl))| {
            let mut gw = vec![0.0; n * m];
            let mut s = Scratch::default();
            for (k, (gi, cl)) in gi.chunks_mut(n).zip(cl.chunks_mut(m)).enumerate() {
                let b = g * group + k;
                backward_sample(
                    &t[b * n..(b + 1) * n],
                    &w,
                    fb,
                    neurons,
                    &o[b * m..(b + 1) * m],
                    &d[b * m..(b + 1) * m],
                    max_dw,
                    &mut gw,
                    gi,
                    cl,
                    &mut s,
                );
            }
            gw
        })
        .collect();
    let mut grad_w = vec![0.0; n * m];
    for part in partials {
        grad_w.iter_mut().zip(part).for_each(|(x, y)| *x += y);
    }
    SpikeTimeGrads {
        weights: device_tensor(grad_w, [n, m], &device, dtype),
        input_times: device_tensor(grad_in, [batch, n], &device, dtype),
        clipped: Tensor::<2, Bool>::from_data(TensorData::new(clipped, [batch, m]), &device),
    }
}

#[cfg(test)]
mod tests {
    use super::super::general::kernel;
    use super::*;

    #[test]
    /// K and K′ from the shared exponentials agree with the scalar kernel and its difference
    /// quotient, at δ = 0 and away from it.
    fn kernel_pair_matches_the_scalar_kernel() {
        for (tm, ts) in [(1.0, 1.0), (2.0, 1.0), (0.7, 1.3)] {
            let n = Neuron { tau_mem: tm, tau_syn: ts, v_th: 1.0, v_leak: 0.0, g_leak: 1.0 };
            for s in [0.0, 0.1, 1.0, 3.7] {
                let (k, kd) = kernel_pair(&n, s);
                assert!((k - kernel(&n, s)).abs() < 1e-15);
                if s == 0.0 {
                    // K′(0) = 1/τm: the current starts at w, the membrane rises at w/C_m.
                    assert!((kd - 1.0 / tm).abs() < 1e-15);
                    continue;
                }
                let h = 1e-6;
                let fd = (kernel(&n, s + h) - kernel(&n, s - h)) / (2.0 * h);
                assert!((kd - fd).abs() < 1e-8, "τm {tm} τs {ts} s {s}: {kd} vs {fd}");
            }
        }
    }
}
