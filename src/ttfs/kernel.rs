//! A dedicated CPU kernel for the spike-time layer: the same spike times and gradients as
//! [`super::functional`], computed sample by sample in plain Rust on host memory, in parallel
//! over samples (rayon), in the tensors' own precision (f32 or f64).
//!
//! Where the tensor formulation evaluates every (prefix, neuron) pair with tensor-wide
//! operations, the kernel walks each sample's sorted inputs once per layer, keeps the two running
//! sums per neuron, stops a neuron at its first threshold crossing (found by the same
//! window-maximum test) and stops the sample when every neuron has fired. The backward pass
//! accumulates the exact gradients of [`super::functional::backward`] with the same
//! per-(sample, neuron) clipping. On a CPU backend (flex, ndarray) tensors live in host memory,
//! so moving them in and out costs a copy.

use burn::tensor::{Bool, DType, Device, Tensor, TensorData};
use num_traits::Float;
use rayon::prelude::*;

use super::functional::{SpikeTimeGrads, max_exponent};
use super::lambert::lambert_w0;
use super::neuron::{NeuronTensors, TauRatio};
use crate::util::to_vec_f64;

/// Number of sample groups whose weight gradients are summed separately (in parallel) and then
/// in a fixed order.
const GROUPS: usize = 8;

/// Per-neuron constants of a layer, on the host.
#[derive(Debug, Clone)]
struct Neurons<F> {
    /// τs per neuron.
    tau: Vec<F>,
    /// c = g_l (ϑ − E_l) per neuron.
    drive: Vec<F>,
    /// τs if every neuron has the same one (the common case, which shares exponentials).
    uniform_tau: Option<F>,
    /// τm/τs.
    ratio: TauRatio,
    /// Largest exponent before an input counts as silent.
    x_max: F,
}

impl<F: Float> Neurons<F> {
    fn new(p: &NeuronTensors, x_max: f64) -> Self {
        let cast =
            |v: Vec<f64>| v.into_iter().map(|x| F::from(x).expect("float")).collect::<Vec<F>>();
        let tau = cast(to_vec_f64(p.tau_syn.clone()));
        let g = to_vec_f64(p.g_leak.clone());
        let th = to_vec_f64(p.v_th.clone());
        let el = to_vec_f64(p.v_leak.clone());
        let drive = cast(g.iter().zip(&th).zip(&el).map(|((g, t), e)| g * (t - e)).collect());
        let uniform_tau = tau.iter().all(|t| *t == tau[0]).then_some(tau[0]);
        Self { tau, drive, uniform_tau, ratio: p.ratio, x_max: F::from(x_max).expect("float") }
    }
}

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch<F> {
    order: Vec<usize>,
    a: Vec<F>,
    b: Vec<F>,
    done: Vec<bool>,
}

/// Spike times of one sample: `t` `[n]`, `w` `[n, m]` row-major, `out` `[m]`.
fn forward_sample<F: Float>(t: &[F], w: &[F], p: &Neurons<F>, out: &mut [F], s: &mut Scratch<F>) {
    let m = out.len();
    out.fill(F::infinity());
    s.order.clear();
    s.order.extend((0..t.len()).filter(|&i| t[i].is_finite()));
    if s.order.is_empty() {
        return;
    }
    s.order.sort_unstable_by(|&i, &j| t[i].partial_cmp(&t[j]).expect("finite times"));
    let s0 = t[s.order[0]];
    s.a.clear();
    s.a.resize(m, F::zero());
    s.b.clear();
    s.b.resize(m, F::zero());
    s.done.clear();
    s.done.resize(m, false);
    let mut remaining = m;
    let (one, two) = (F::one(), F::one() + F::one());
    let ratio = F::from(p.ratio.value()).expect("float");
    for (k, &i) in s.order.iter().enumerate() {
        let rel = t[i] - s0;
        let rel_next = s.order.get(k + 1).map_or(F::infinity(), |&j| t[j] - s0);
        let row = &w[i * m..(i + 1) * m];
        for j in 0..m {
            if s.done[j] {
                continue;
            }
            let tau = p.uniform_tau.unwrap_or(p.tau[j]);
            let x = rel / tau;
            if x > p.x_max {
                continue; // too late to count (and so are all later inputs for this neuron)
            }
            let mut xn = rel_next / tau;
            if xn > p.x_max {
                xn = F::infinity(); // later inputs are ignored: the window never closes
            }
            let c = p.drive[j];
            let wj = row[j];
            let reached = match p.ratio {
                TauRatio::Equal => {
                    // f(x) = (a x − b) e^{−x} − c over [x, xn].
                    let e = x.exp();
                    s.a[j] = s.a[j] + wj * e;
                    s.b[j] = s.b[j] + wj * e * x;
                    let (a, b) = (s.a[j], s.b[j]);
                    let at_end = xn.is_finite() && (a * xn - b) * (-xn).exp() >= c;
                    at_end
                        || (a > F::zero()
                            && a * (x - one) <= b
                            && (!xn.is_finite() || b <= a * (xn - one))
                            && a * (-(one + b / a)).exp() >= c)
                }
                TauRatio::Double => {
                    // With y = e^{−t/τm}: f(y) = a₂ y − a₁ y² − c over y ∈ [y_next, y_now].
                    s.a[j] = s.a[j] + wj * x.exp();
                    s.b[j] = s.b[j] + wj * (x / ratio).exp();
                    let (a1, a2) = (s.a[j], s.b[j]);
                    let y_now = (-x / ratio).exp();
                    let y_next = (-xn / ratio).exp();
                    let at_end = a2 * y_next - a1 * y_next * y_next >= c;
                    at_end
                        || (a1 > F::zero()
                            && two * a1 * y_next <= a2
                            && a2 <= two * a1 * y_now
                            && a2 * a2 >= two * two * a1 * c)
                }
            };
            if reached {
                out[j] = solve(s.a[j], s.b[j], c, tau, p.ratio) + s0;
                s.done[j] = true;
                remaining -= 1;
            }
        }
        if remaining == 0 {
            break;
        }
    }
}

/// The closed-form crossing time (relative to the shift) from the running sums of the window
/// that reaches threshold; `+∞` if rounding pushed it out of the real domain.
fn solve<F: Float>(a: F, b: F, c: F, tau: F, ratio: TauRatio) -> F {
    let (a, b, c, tau) = (
        a.to_f64().expect("f64"),
        b.to_f64().expect("f64"),
        c.to_f64().expect("f64"),
        tau.to_f64().expect("f64"),
    );
    let t = match ratio {
        TauRatio::Equal => {
            let z = (-(c / a) * (b / a).exp()).max(super::lambert::BRANCH_POINT);
            tau * (b / a - lambert_w0(z))
        }
        TauRatio::Double => {
            let d = (b * b - 4.0 * a * c).max(0.0).sqrt();
            ratio.value() * tau * (2.0 * a / (b + d)).ln()
        }
    };
    if t.is_finite() { F::from(t).expect("float") } else { F::infinity() }
}

/// Gradients of one sample. Accumulates into `grad_w` (`[n, m]`), writes `grad_in` (`[n]`) and
/// `clipped` (`[m]`).
#[allow(clippy::too_many_arguments)]
fn backward_sample<F: Float>(
    t: &[F],
    w: &[F],
    fb: &[F],
    p: &Neurons<F>,
    out: &[F],
    delta: &[F],
    max_dw: Option<F>,
    grad_w: &mut [F],
    grad_in: &mut [F],
    clipped: &mut [bool],
    s: &mut Scratch<F>,
) {
    let (n, m) = (t.len(), out.len());
    grad_in.fill(F::zero());
    clipped.fill(false);
    let Some(s0) = t.iter().copied().filter(|v| v.is_finite()).reduce(F::min) else {
        return;
    };
    let ratio = F::from(p.ratio.value()).expect("float");
    // Usable inputs, relative times in units of each neuron's τs are formed on the fly.
    let exponent = |i: usize, j: usize| (t[i] - s0) / p.uniform_tau.unwrap_or(p.tau[j]);
    let causal =
        |i: usize, j: usize| t[i].is_finite() && t[i] <= out[j] && exponent(i, j) <= p.x_max;
    // Pass 1: the causal sums per neuron.
    s.a.clear();
    s.a.resize(m, F::zero());
    s.b.clear();
    s.b.resize(m, F::zero());
    s.done.clear();
    s.done.extend(
        (0..m).map(|j| out[j].is_finite() && delta[j].is_finite() && delta[j] != F::zero()),
    );
    for i in 0..n {
        if !t[i].is_finite() {
            continue;
        }
        let row = &w[i * m..(i + 1) * m];
        for j in (0..m).filter(|&j| s.done[j] && causal(i, j)) {
            let x = exponent(i, j);
            match p.ratio {
                TauRatio::Equal => {
                    let e = x.exp();
                    s.a[j] = s.a[j] + row[j] * e;
                    s.b[j] = s.b[j] + row[j] * e * x;
                }
                TauRatio::Double => {
                    s.a[j] = s.a[j] + row[j] * x.exp();
                    s.b[j] = s.b[j] + row[j] * (x / ratio).exp();
                }
            }
        }
    }
    // Per neuron: a scale such that ∂t*/∂w_ij·δ_j = scale_j·(…)_ij. Store it in `b`, and
    // e^{−(t*−s)/τm} (DT) in `a`.
    for j in 0..m {
        if !s.done[j] {
            continue;
        }
        let tau = p.uniform_tau.unwrap_or(p.tau[j]);
        let x_out = (out[j] - s0) / tau;
        let (scale, keep) = match p.ratio {
            TauRatio::Equal => {
                let lambert = s.b[j] / s.a[j] - x_out;
                let den = s.a[j] * (F::one() + lambert);
                (delta[j] / den, F::zero())
            }
            TauRatio::Double => {
                let (a1, a2) = (s.a[j], s.b[j]);
                let d = (a2 * a2 - (F::one() + F::one()) * (F::one() + F::one()) * a1 * p.drive[j])
                    .max(F::zero())
                    .sqrt();
                (delta[j] / d, (-x_out / ratio).exp())
            }
        };
        if scale.is_finite() {
            s.b[j] = scale;
            s.a[j] = keep;
        } else {
            s.done[j] = false; // grazing crossing: infinite gradient, dropped
        }
    }
    // (∂t*/∂w_ij·δ_j, ∂t*/∂t_i·δ_j) for a causal pair.
    let terms = |i: usize, j: usize, s: &Scratch<F>| -> (F, F) {
        let tau = p.uniform_tau.unwrap_or(p.tau[j]);
        let x = exponent(i, j);
        let wij = fb[i * m + j]; // the factor that carries the error back: W or B
        match p.ratio {
            TauRatio::Equal => {
                let e = x.exp();
                let gap = out[j] - t[i];
                (-(s.b[j]) * e * gap, -(s.b[j]) * wij * e * (gap - tau) / tau)
            }
            TauRatio::Double => {
                let tau_m = ratio * tau;
                let (es, em, y) = (x.exp(), (x / ratio).exp(), s.a[j]);
                (s.b[j] * tau_m * (es * y - em), s.b[j] * wij * (ratio * es * y - em))
            }
        }
    };
    // Pass 2: clipping, a column whose largest entry exceeds the limit is dropped.
    if let Some(limit) = max_dw {
        let mut worst = vec![F::zero(); m];
        for i in 0..n {
            for j in (0..m).filter(|&j| s.done[j] && causal(i, j)) {
                worst[j] = worst[j].max(terms(i, j, s).0.abs());
            }
        }
        for j in 0..m {
            clipped[j] = s.done[j] && worst[j] > limit;
        }
    }
    // Pass 3: accumulate.
    for i in 0..n {
        let mut gi = F::zero();
        for j in (0..m).filter(|&j| s.done[j] && causal(i, j)) {
            let (gw, gt) = terms(i, j, s);
            if !clipped[j] {
                grad_w[i * m + j] = grad_w[i * m + j] + gw;
            }
            gi = gi + gt;
        }
        grad_in[i] = gi;
    }
}

fn host<F: Float + burn::tensor::Element>(t: Tensor<2>) -> Vec<F> {
    t.into_data().convert::<F>().try_into_vec::<F>().expect("float tensor data")
}

fn device_tensor<F: burn::tensor::Element>(
    v: Vec<F>,
    shape: [usize; 2],
    device: &Device,
    dtype: DType,
) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), (device, dtype))
}

/// [`super::functional::first_spike_times`] by the CPU kernel (same shapes and semantics).
pub fn first_spike_times(
    times: Tensor<2>,
    weights: Tensor<2>,
    params: &NeuronTensors,
) -> Tensor<2> {
    match times.dtype() {
        DType::F64 => forward_typed::<f64>(times, weights, params),
        _ => forward_typed::<f32>(times, weights, params),
    }
}

fn forward_typed<F: Float + Send + Sync + burn::tensor::Element>(
    times: Tensor<2>,
    weights: Tensor<2>,
    params: &NeuronTensors,
) -> Tensor<2> {
    let [batch, n] = times.dims();
    let [wn, m] = weights.dims();
    assert_eq!(n, wn, "input times have {n} columns, weights have {wn} rows");
    let (device, dtype) = (times.device(), times.dtype());
    let p = Neurons::<F>::new(params, max_exponent(dtype));
    let (t, w) = (host::<F>(times), host::<F>(weights));
    let mut out = vec![F::zero(); batch * m];
    out.par_chunks_mut(m).enumerate().for_each_init(Scratch::default, |s, (b, row)| {
        forward_sample(&t[b * n..(b + 1) * n], &w, &p, row, s);
    });
    device_tensor(out, [batch, m], &device, dtype)
}

/// [`super::functional::backward`] by the CPU kernel (same shapes and semantics).
pub fn backward(
    times: Tensor<2>,
    weights: Tensor<2>,
    params: &NeuronTensors,
    out: Tensor<2>,
    delta: Tensor<2>,
    max_dw: Option<f64>,
) -> SpikeTimeGrads {
    backward_with(times, weights, None, params, out, delta, max_dw)
}

/// [`super::functional::backward_with`] by the CPU kernel (same shapes and semantics).
pub fn backward_with(
    times: Tensor<2>,
    weights: Tensor<2>,
    feedback: Option<Tensor<2>>,
    params: &NeuronTensors,
    out: Tensor<2>,
    delta: Tensor<2>,
    max_dw: Option<f64>,
) -> SpikeTimeGrads {
    if let Some(f) = &feedback {
        assert_eq!(f.dims(), weights.dims(), "feedback must have the weights' shape");
    }
    match times.dtype() {
        DType::F64 => backward_typed::<f64>(times, weights, feedback, params, out, delta, max_dw),
        _ => backward_typed::<f32>(times, weights, feedback, params, out, delta, max_dw),
    }
}

fn backward_typed<F: Float + Send + Sync + burn::tensor::Element>(
    times: Tensor<2>,
    weights: Tensor<2>,
    feedback: Option<Tensor<2>>,
    params: &NeuronTensors,
    out: Tensor<2>,
    delta: Tensor<2>,
    max_dw: Option<f64>,
) -> SpikeTimeGrads {
    let [batch, n] = times.dims();
    let [_, m] = weights.dims();
    let (device, dtype) = (times.device(), times.dtype());
    let p = Neurons::<F>::new(params, max_exponent(dtype));
    let limit = max_dw.map(|v| F::from(v).expect("float"));
    let (t, w, o, d) = (host::<F>(times), host::<F>(weights), host::<F>(out), host::<F>(delta));
    let fb = feedback.map(host::<F>);
    let fb = fb.as_deref().unwrap_or(&w);
    let mut grad_in = vec![F::zero(); batch * n];
    let mut clipped = vec![false; batch * m];
    // Fixed groups of samples, each summed in order, then the groups summed in order: the
    // result does not depend on how many threads ran or how the work was split, so a seed
    // reproduces a training run bit for bit.
    let group = batch.div_ceil(GROUPS).max(1);
    let partials: Vec<Vec<F>> = grad_in
        .par_chunks_mut(group * n)
        .zip(clipped.par_chunks_mut(group * m))
        .enumerate()
        .map(|(g, (gi, cl))| {
            let mut gw = vec![F::zero(); n * m];
            let mut s = Scratch::default();
            for (k, (gi, cl)) in gi.chunks_mut(n).zip(cl.chunks_mut(m)).enumerate() {
                let b = g * group + k;
                backward_sample(
                    &t[b * n..(b + 1) * n],
                    &w,
                    fb,
                    &p,
                    &o[b * m..(b + 1) * m],
                    &d[b * m..(b + 1) * m],
                    limit,
                    &mut gw,
                    gi,
                    cl,
                    &mut s,
                );
            }
            gw
        })
        .collect();
    let mut grad_w = vec![F::zero(); n * m];
    for part in partials {
        grad_w.iter_mut().zip(part).for_each(|(x, y)| *x = *x + y);
    }
    let clipped_data = TensorData::new(clipped, [batch, m]);
    SpikeTimeGrads {
        weights: device_tensor(grad_w, [n, m], &device, dtype),
        input_times: device_tensor(grad_in, [batch, n], &device, dtype),
        clipped: Tensor::<2, Bool>::from_data(clipped_data, &device),
    }
}
