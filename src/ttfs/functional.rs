//! Batched exact first-spike times and their gradients, as pure functions on Burn tensors.
//!
//! These functions hold the mathematics; [`super::layer::SpikeTimeLayer`] is a thin module around
//! them (weights, bias spikes, neuron parameters). They run on any Burn backend, in the dtype of
//! their inputs (f32 or f64), and never produce NaN: "no spike" is `+∞` in and out.
//!
//! **Causal-set search in O(B·N·M).** The reference implementation forms every prefix of the
//! sorted inputs densely (a `B × N × N × M` tensor). Here each sample's inputs are sorted once,
//! the weights are gathered in that order (`B × N × M`), and running (prefix) sums give the
//! closed-form candidate `t*_k` for every prefix `k` at once. A candidate is valid when it lies
//! between the k-th and the (k+1)-th sorted input time; the output is the earliest valid one.
//!
//! **Overflow.** Exponentials are taken of times relative to each sample's earliest input. An
//! input arriving more than [`max_exponent`] synaptic time constants after a sample's first
//! input is treated as silent (≈ 80 τs in f32, ≈ 700 τs in f64); outputs in practice lie within
//! a few τs of the inputs.

use burn::tensor::{Bool, DType, Int, Tensor};

use super::lambert::lambert_w0_tensor;
use super::neuron::{NeuronTensors, TauRatio};

/// Largest exponent used in `e^{(t_i − s)/τs}` for a dtype before the input counts as silent.
pub fn max_exponent(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 700.0,
        DType::F16 | DType::BF16 => 10.0,
        _ => 80.0,
    }
}

/// Per-sample shift `s`: the earliest finite input time of each sample (0 if all are silent).
///
/// # Shapes
/// - `times`: `[batch, n_in]` → `[batch, 1]`
fn earliest_input(times: &Tensor<2>) -> Tensor<2> {
    let finite = times.clone().is_finite();
    let masked = times.clone().mask_fill(finite.clone().bool_not(), f64::INFINITY);
    let s = masked.min_dim(1);
    let any = finite.any_dim(1);
    s.clone().mask_where(any.bool_not(), s.zeros_like())
}

/// Per-neuron tensors as `[1, 1, n_out]` for broadcasting over `[batch, n_in, n_out]`.
fn per_neuron(t: &Tensor<1>) -> Tensor<3> {
    let [n] = t.dims();
    t.clone().reshape([1, 1, n])
}

/// c = g_l (ϑ − E_l), shape `[1, 1, n_out]`.
fn threshold_drive(p: &NeuronTensors) -> Tensor<3> {
    per_neuron(&(p.g_leak.clone() * (p.v_th.clone() - p.v_leak.clone())))
}

/// First output spike times of a layer of neurons.
///
/// # Arguments
/// - `times`: input spike times (model time units; `+∞` = no spike).
/// - `weights`: synaptic weights, input rows first.
/// - `params`: per-neuron parameters of the `n_out` neurons; `g_l (ϑ − E_l) > 0` is assumed
///   (the neuron rests below threshold).
///
/// # Shapes
/// - `times`: `[batch, n_in]`
/// - `weights`: `[n_in, n_out]`
/// - returns: `[batch, n_out]`, `+∞` where a neuron stays below threshold.
///
/// # Method
/// Inputs are sorted per sample; window `k` is the interval between the k-th and the (k+1)-th
/// sorted input, where the membrane is the PSP sum of the first `k` inputs, known in closed form
/// from two running sums. The membrane is below threshold when window `k` opens (no earlier
/// window reached it, and a new PSP starts at zero), so the threshold is crossed in window `k`
/// exactly when the membrane's maximum over the window reaches it: at the window's end, or at
/// the membrane's peak if that lies inside. The spike time is then solved once, in the first such
/// window. This is the reference's "earliest self-consistent candidate" rule without evaluating
/// the closed form for every prefix.
///
/// # Panics
/// If the shapes disagree.
pub fn first_spike_times(
    times: Tensor<2>,
    weights: Tensor<2>,
    params: &NeuronTensors,
) -> Tensor<2> {
    let [batch, n_in] = times.dims();
    let [w_in, n_out] = weights.dims();
    assert_eq!(n_in, w_in, "input times have {n_in} columns, weights have {w_in} rows");
    let shape = [batch, n_in, n_out];
    let x_max = max_exponent(times.dtype());

    let (sorted, order) = times.sort_with_indices(1);
    let s = earliest_input(&sorted); // [B, 1]
    let finite = sorted.clone().is_finite(); // [B, N]
    let rel = (sorted.clone() - s.clone()).mask_fill(finite.clone().bool_not(), 0.0);
    // End of each window, relative to s: the next sorted input (+∞ after the last one).
    let rel_next = if n_in > 1 {
        let inf_col = rel.clone().narrow(1, 0, 1).full_like(f64::INFINITY);
        let next = sorted.narrow(1, 1, n_in - 1) - s.clone();
        Tensor::cat(vec![next, inf_col], 1)
    } else {
        rel.clone().full_like(f64::INFINITY)
    };
    let w_sorted = gather_rows(weights, order, batch, n_in, n_out); // [B, N, M]

    let tau_s = per_neuron(&params.tau_syn);
    let c = threshold_drive(params);
    let x_s = rel.unsqueeze_dim::<3>(2) / tau_s.clone(); // [B, N, M]
    // Silent (or too late) inputs contribute nothing and open no window.
    let usable =
        finite.unsqueeze_dim::<3>(2).expand(shape).bool_and(x_s.clone().lower_equal_elem(x_max));
    let w_used = w_sorted.mask_fill(usable.clone().bool_not(), 0.0);
    let x_s = x_s.clamp_max(x_max);
    let next3 = rel_next.unsqueeze_dim::<3>(2); // [B, N, 1], may be +∞

    // Whether window k reaches threshold, and the two running sums per window.
    let (reach, sums) = match params.ratio {
        TauRatio::Equal => {
            let we = w_used * x_s.clone().exp();
            let a = we.clone().cumsum(1);
            let b = (we * x_s.clone()).cumsum(1);
            // Membrane drive f(x) = (a x − b) e^{−x} − c (x in units of τs, relative to s).
            let xn = (next3 / tau_s.clone()).clamp_max(1e4);
            let f_next = (a.clone() * xn.clone() - b.clone()) * xn.clone().neg().exp() - c.clone();
            let x_peak = b.clone() / a.clone() + 1.0;
            let peak_inside = a
                .clone()
                .greater_elem(0.0)
                .bool_and(x_peak.clone().greater_equal(x_s))
                .bool_and(x_peak.clone().lower_equal(xn));
            let f_peak = a.clone() * x_peak.neg().exp() - c;
            let reach = f_next
                .greater_equal_elem(0.0)
                .bool_or(peak_inside.bool_and(f_peak.greater_equal_elem(0.0)));
            (reach, (a, b))
        }
        TauRatio::Double => {
            let tau_m = tau_s.clone().mul_scalar(params.ratio.value());
            let ratio = params.ratio.value();
            let a1 = (w_used.clone() * x_s.clone().exp()).cumsum(1);
            let a2 = (w_used * x_s.clone().div_scalar(ratio).exp()).cumsum(1);
            // With y = e^{−t/τm} (relative to s): f(y) = a₂ y − a₁ y² − c, y decreasing in t.
            let y_now = x_s.div_scalar(ratio).neg().exp();
            let y_next = (next3 / tau_m).neg().exp(); // 0 after the last input
            let f_next = a2.clone() * y_next.clone()
                - a1.clone() * y_next.clone().powi_scalar(2)
                - c.clone();
            let y_peak = a2.clone() / a1.clone().mul_scalar(2.0);
            let peak_inside = a1
                .clone()
                .greater_elem(0.0)
                .bool_and(y_peak.clone().lower_equal(y_now))
                .bool_and(y_peak.greater_equal(y_next));
            let f_peak = a2.clone().powi_scalar(2) / a1.clone().mul_scalar(4.0) - c;
            let reach = f_next
                .greater_equal_elem(0.0)
                .bool_or(peak_inside.bool_and(f_peak.greater_equal_elem(0.0)));
            (reach, (a1, a2))
        }
    };

    let (first, any) = first_true(reach.bool_and(usable), n_in);

    // Solve the closed form once per (sample, neuron), with the sums of the first reaching window.
    let pick = |t: Tensor<3>| t.gather(1, first.clone()).reshape([batch, n_out]);
    let (p, q) = (pick(sums.0), pick(sums.1));
    let tau_s2 = params.tau_syn.clone().reshape([1, n_out]);
    let c2 = threshold_drive(params).reshape([1, n_out]);
    let t_rel = match params.ratio {
        TauRatio::Equal => {
            // t* = τ (b/a − W₀(z)), z = −(c/a) e^{b/a}; z ≥ −1/e where the threshold is reached
            // (up to rounding, hence the clamp inside lambert_w0_tensor).
            let (a, b) = (p.mask_fill(any.clone().bool_not(), 1.0), q);
            let ratio = b / a.clone();
            let z = (c2 / a).neg() * ratio.clone().exp();
            let z_ok = z.clone().is_finite();
            let z = z.mask_fill(z_ok.clone().bool_not(), 0.0);
            (ratio - lambert_w0_tensor(z)) * tau_s2
        }
        TauRatio::Double => {
            // t* = τm ln(2a₁ / (a₂ + √(a₂² − 4a₁c))); the discriminant is ≥ 0 where the
            // threshold is reached (clamped against rounding).
            let (a1, a2) = (p.mask_fill(any.clone().bool_not(), 1.0), q);
            let d =
                (a2.clone().powi_scalar(2) - a1.clone() * c2.mul_scalar(4.0)).clamp_min(0.0).sqrt();
            (a1.mul_scalar(2.0) / (a2 + d)).log() * tau_s2.mul_scalar(params.ratio.value())
        }
    };
    let t = t_rel + s;
    let ok = any.bool_and(t.clone().is_finite());
    t.mask_fill(ok.bool_not(), f64::INFINITY)
}

/// Index of the first `true` along dim 1 of a `[B, N, M]` mask, as `[B, 1, M]` (0 where there is
/// none), and whether there is one, `[B, M]`.
fn first_true(mask: Tensor<3, Bool>, n: usize) -> (Tensor<3, Int>, Tensor<2, Bool>) {
    let [batch, _, m] = mask.dims();
    let device = mask.device();
    let k = Tensor::<1, Int>::arange(0..n as i64, &device).reshape([1, n, 1]).expand([batch, n, m]);
    let none = Tensor::<3, Int>::full([batch, n, m], n as i64, &device);
    let first = none.mask_where(mask, k).min_dim(1); // [B, 1, M]
    let any = first.clone().lower_elem(n as i64).reshape([batch, m]);
    (first.clamp_max(n as i64 - 1), any)
}

/// `weights[order[b, k], j]` as a `[batch, n_in, n_out]` tensor.
fn gather_rows(
    weights: Tensor<2>,
    order: Tensor<2, Int>,
    batch: usize,
    n_in: usize,
    n_out: usize,
) -> Tensor<3> {
    weights.select(0, order.reshape([batch * n_in])).reshape([batch, n_in, n_out])
}

/// What [`backward`] needs of a layer's forward pass.
#[derive(Debug, Clone)]
pub struct SpikeTimeGrads {
    /// ∂L/∂w, summed over the batch (after per-sample clipping), shape `[n_in, n_out]`.
    pub weights: Tensor<2>,
    /// ∂L/∂t_in, the error propagated to the input times (never clipped), shape `[batch, n_in]`.
    pub input_times: Tensor<2>,
    /// Per (sample, output neuron): whether clipping zeroed its weight gradient,
    /// shape `[batch, n_out]`.
    pub clipped: Tensor<2, Bool>,
}

/// Exact gradients of the loss through one layer of first-spike times.
///
/// Implicit differentiation of the threshold condition on the causal set `{i : t_i ≤ t*_j}` of
/// each output (the same formulas as [`super::scalar::spike_time_gradients`]), contracted with the
/// upstream error `δ_bj = ∂L/∂t_bj`. Silent outputs and non-finite `δ` contribute nothing.
///
/// Clipping as in the reference (`max_dw_norm`): for each sample and output neuron, if
/// `max_i |∂t_j/∂w_ij · δ_j| > max_dw`, that neuron's whole weight-gradient column is zeroed for
/// that sample. It is not a rescale, and the propagated error is not clipped.
///
/// # Shapes
/// - `times`: `[batch, n_in]`, `weights`: `[n_in, n_out]`, `out`: `[batch, n_out]` (the forward
///   result), `delta`: `[batch, n_out]`.
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

/// [`backward`] with the error sent to the inputs through `feedback` instead of the weights.
///
/// The weights enter `∂t*_j/∂t_i` twice: inside the neuron's own membrane sums (local to
/// neuron `j`, kept) and as the factor `w_ij` that carries the error from `j` back to input `i`
/// (the weight transport). `feedback = Some(B)` (shape of `weights`) replaces that factor by
/// `B_ij`; `None` is backpropagation, and `Some(weights)` gives the same numbers bit for bit.
/// The weight gradient does not depend on `feedback`.
///
/// # Shapes
/// As [`backward`]; `feedback`: `[n_in, n_out]`.
pub fn backward_with(
    times: Tensor<2>,
    weights: Tensor<2>,
    feedback: Option<Tensor<2>>,
    params: &NeuronTensors,
    out: Tensor<2>,
    delta: Tensor<2>,
    max_dw: Option<f64>,
) -> SpikeTimeGrads {
    let [batch, n_in] = times.dims();
    let [_, n_out] = weights.dims();
    let shape = [batch, n_in, n_out];
    let x_max = max_exponent(times.dtype());

    let out_finite = out.clone().is_finite(); // [B, M]
    let bad_delta = out_finite.clone().bool_not().bool_or(delta.clone().is_finite().bool_not());
    let delta = delta.mask_fill(bad_delta, 0.0);
    let s = earliest_input(&times); // [B, 1]
    let t_out = out.mask_where(out_finite.clone().bool_not(), s.clone().expand([batch, n_out]));

    let in_finite = times.clone().is_finite();
    let rel_in = (times.clone() - s.clone()).mask_fill(in_finite.clone().bool_not(), 0.0); // [B, N]
    let times_safe = times.mask_fill(in_finite.clone().bool_not(), 0.0);
    let tau_s = per_neuron(&params.tau_syn);
    let x_s_raw = rel_in.clone().unsqueeze_dim::<3>(2) / tau_s.clone(); // [B, N, M]
    let causal = in_finite
        .unsqueeze_dim::<3>(2)
        .expand(shape)
        .bool_and(
            times_safe
                .unsqueeze_dim::<3>(2)
                .expand(shape)
                .lower_equal(t_out.clone().unsqueeze_dim::<3>(1).expand(shape)),
        )
        .bool_and(x_s_raw.clone().lower_equal_elem(x_max))
        .bool_and(out_finite.unsqueeze_dim::<3>(1).expand(shape));
    let not_causal = causal.bool_not();
    let x_s = x_s_raw.mask_fill(not_causal.clone(), 0.0);
    if let Some(f) = &feedback {
        assert_eq!(f.dims(), weights.dims(), "feedback must have the weights' shape");
    }
    let w3 = weights.unsqueeze_dim::<3>(0); // [1, N, M]
    // The factor that carries the error back to the inputs: the weights (backprop) or B.
    let f3 = feedback.map(|f| f.unsqueeze_dim::<3>(0));
    let dt_out = (t_out - s).unsqueeze_dim::<3>(1); // [B, 1, M]: t* − s

    let (dt_dw, dt_dtin) = match params.ratio {
        TauRatio::Equal => {
            let e = x_s.clone().exp().mask_fill(not_causal.clone(), 0.0);
            let we = w3.clone() * e.clone();
            let a = we.clone().sum_dim(1); // [B, 1, M]
            let b = (we.clone() * x_s).sum_dim(1);
            let lambert = b / a.clone() - dt_out.clone() / tau_s.clone();
            let denom = a * lambert.add_scalar(1.0);
            let denom = safe_denominator(denom);
            // t* − t_i: [B, N, M]
            let gap = t_minus_ti(&dt_out, &rel_in);
            let dw = (e.clone() * gap.clone()).neg() / denom.clone();
            let carried = match f3 {
                None => we,
                Some(f3) => f3 * e.clone(),
            };
            let dtin = (carried * (gap - tau_s.clone())).neg() / (denom * tau_s);
            (dw, dtin)
        }
        TauRatio::Double => {
            let ratio = params.ratio.value();
            let tau_m = tau_s.clone().mul_scalar(ratio);
            let es = x_s.exp().mask_fill(not_causal.clone(), 0.0);
            let x_m = (rel_in.clone().unsqueeze_dim::<3>(2) / tau_m.clone())
                .mask_fill(not_causal.clone(), 0.0);
            let em = x_m.exp().mask_fill(not_causal.clone(), 0.0);
            let a1 = (w3.clone() * es.clone()).sum_dim(1);
            let a2 = (w3.clone() * em.clone()).sum_dim(1);
            let c = threshold_drive(params);
            let d = safe_denominator(
                (a2.clone().powi_scalar(2) - a1 * c.mul_scalar(4.0)).clamp_min(0.0).sqrt(),
            );
            let x = (dt_out / tau_m.clone()).neg().exp(); // [B, 1, M]
            let es_x = es * x;
            let dw = (es_x.clone() - em.clone()) * tau_m / d.clone();
            let dtin = f3.unwrap_or(w3) * (es_x.mul_scalar(ratio) - em) / d;
            (dw, dtin)
        }
    };
    let dt_dw = dt_dw.mask_fill(not_causal.clone(), 0.0);
    let dt_dtin = dt_dtin.mask_fill(not_causal, 0.0);

    let delta3 = delta.clone().unsqueeze_dim::<3>(1); // [B, 1, M]
    let mut per_sample = dt_dw * delta3.clone(); // [B, N, M]
    let clipped = match max_dw {
        Some(limit) => {
            let worst = per_sample.clone().abs().max_dim(1); // [B, 1, M]
            let over = worst.greater_elem(limit);
            per_sample = per_sample.mask_fill(over.clone().expand(shape), 0.0);
            over.reshape([batch, n_out])
        }
        None => delta.clone().zeros_like().greater_elem(0.0),
    };
    let grad_w = per_sample.sum_dim(0).reshape([n_in, n_out]);
    let grad_in = (dt_dtin * delta3).sum_dim(2).reshape([batch, n_in]);
    SpikeTimeGrads { weights: grad_w, input_times: grad_in, clipped }
}

/// `t*_bj − t_bi` from the shifted quantities: `(t* − s) − (t_i − s)`, shape `[B, N, M]`.
fn t_minus_ti(dt_out: &Tensor<3>, rel_in: &Tensor<2>) -> Tensor<3> {
    dt_out.clone() - rel_in.clone().unsqueeze_dim::<3>(2)
}

/// Replaces zero or non-finite denominators (silent outputs, grazing crossings) by 1; the
/// affected entries are masked out by the caller.
fn safe_denominator(d: Tensor<3>) -> Tensor<3> {
    let bad = d.clone().is_finite().bool_not().bool_or(d.clone().equal_elem(0.0));
    d.mask_fill(bad, 1.0)
}
