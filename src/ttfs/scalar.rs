//! Single-neuron, f64, closed-form spike times and their exact gradients: the plain-Rust oracle
//! that the batched tensor layer ([`super::functional`]) is tested against.
//!
//! Inputs are one spike time per synapse (`f64::INFINITY` = no spike) and one weight per
//! synapse. The causal set is found by the textbook procedure: sort the inputs, and for each
//! prefix k of the sorted inputs solve the threshold condition; the output is the earliest
//! solution that lies between the k-th and the (k+1)-th input time.
//!
//! With `E = e^{t_i/τs}`, `c = g_l(ϑ − E_l)`:
//! - τm = τs = τ: `a = Σ w_i e^{t_i/τ}`, `b = Σ w_i (t_i/τ) e^{t_i/τ}`, `z = −(c/a) e^{b/a}`,
//!   `t* = τ (b/a − W₀(z))`; no spike for `z < −1/e`.
//! - τm = 2τs: `a₁ = Σ w_i e^{t_i/τs}`, `a₂ = Σ w_i e^{t_i/τm}`,
//!   `t* = τm ln(2a₁ / (a₂ + √(a₂² − 4a₁c)))`; no spike for a negative discriminant.
//!
//! Times are computed relative to the earliest input (`s`), which leaves `t*` unchanged and keeps
//! the exponentials small.
//!
//! ```
//! use spikeburn::ttfs::{neuron::{NeuronParams, TauRatio}, scalar};
//! // One input at t = 0 with weight w, τm = τs = 1, ϑ = 1: u(t) = w t e^{−t}.
//! // u = 1 at t* solves w t e^{−t} = 1; for w = 4: t* = −W₀(−1/4) = 0.3574029561813889.
//! let p = NeuronParams::reference(TauRatio::Equal);
//! let t = scalar::first_spike_time(&p, &[0.0], &[4.0]);
//! assert!((t - 0.357_402_956_181_388_9).abs() < 1e-12);
//! // A lone input below w = e never reaches threshold.
//! assert_eq!(scalar::first_spike_time(&p, &[0.0], &[2.7]), f64::INFINITY);
//! ```

use super::lambert::{BRANCH_POINT, lambert_w0};
use super::neuron::{NeuronParams, TauRatio};

/// First output spike time of one neuron (`f64::INFINITY` if it stays below threshold).
///
/// # Panics
/// If `times` and `weights` differ in length.
pub fn first_spike_time(p: &NeuronParams, times: &[f64], weights: &[f64]) -> f64 {
    assert_eq!(times.len(), weights.len(), "one weight per input time");
    let mut order: Vec<usize> = (0..times.len()).filter(|&i| times[i].is_finite()).collect();
    order.sort_by(|&i, &j| times[i].total_cmp(&times[j]));
    let Some(&first) = order.first() else {
        return f64::INFINITY;
    };
    let s = times[first];
    let (tau_s, tau_m, c) = (p.tau_syn, p.tau_mem(), p.threshold_drive());
    let (mut a, mut b) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        let rel = times[i] - s;
        let w = weights[i];
        let candidate = match p.ratio {
            TauRatio::Equal => {
                let x = rel / tau_s;
                a += w * x.exp();
                b += w * x * x.exp();
                let z = -(c / a) * (b / a).exp();
                if z.is_finite() && z >= BRANCH_POINT {
                    tau_s * (b / a - lambert_w0(z)) + s
                } else {
                    f64::NAN
                }
            }
            TauRatio::Double => {
                a += w * (rel / tau_s).exp(); // a₁
                b += w * (rel / tau_m).exp(); // a₂
                let d = (b * b - 4.0 * a * c).sqrt();
                tau_m * (2.0 * a / (b + d)).ln() + s
            }
        };
        let upper = order.get(k + 1).map_or(f64::INFINITY, |&j| times[j]);
        if candidate >= times[i] && candidate <= upper {
            return candidate;
        }
    }
    f64::INFINITY
}

/// Exact gradients of a finite output spike time `t_out` with respect to every weight and every
/// input time, by implicit differentiation of the threshold condition on the causal set
/// `{i : t_i ≤ t_out}`. Returns `(∂t*/∂w_i, ∂t*/∂t_i)`; non-causal and silent inputs get 0.
///
/// For τm = τs (W = W₀(z) of the causal set):
/// `∂t*/∂w_i = −e^{t_i/τ}(t* − t_i) / (a(1 + W))`,
/// `∂t*/∂t_i = −w_i e^{t_i/τ}(t* − t_i − τ) / (τ a (1 + W))`.
/// For τm = 2τs (x = e^{−t*/τm}, D the square root):
/// `∂t*/∂w_i = τm (e^{t_i/τs} x − e^{t_i/τm}) / D`,
/// `∂t*/∂t_i = w_i (2 e^{t_i/τs} x − e^{t_i/τm}) / D`.
///
/// A case by hand: one input at `t = 0` with weight `w`, τm = τs = 1, ϑ = 1. The threshold
/// condition `w t e^{−t} = 1` differentiated in `w` gives `t e^{−t} + w (1 − t) e^{−t} dt/dw = 0`,
/// so `dt*/dw = −t*/(w (1 − t*))`; shifting the input shifts the output, `dt*/dt_in = 1`.
///
/// ```
/// use spikeburn::ttfs::{neuron::{NeuronParams, TauRatio}, scalar};
/// let p = NeuronParams::reference(TauRatio::Equal);
/// let (w, t_in) = (4.0, 0.0);
/// let t = scalar::first_spike_time(&p, &[t_in], &[w]);
/// let (dw, dt) = scalar::spike_time_gradients(&p, &[t_in], &[w], t);
/// assert!((dw[0] - (-t / (w * (1.0 - t)))).abs() < 1e-12); // −0.139054…
/// assert!((dt[0] - 1.0).abs() < 1e-12);
/// ```
///
/// # Panics
/// If `t_out` is not finite or the lengths differ.
pub fn spike_time_gradients(
    p: &NeuronParams,
    times: &[f64],
    weights: &[f64],
    t_out: f64,
) -> (Vec<f64>, Vec<f64>) {
    assert!(t_out.is_finite(), "gradients exist only for a finite spike time");
    assert_eq!(times.len(), weights.len(), "one weight per input time");
    let causal: Vec<bool> = times.iter().map(|&t| t.is_finite() && t <= t_out).collect();
    let s = times
        .iter()
        .zip(&causal)
        .filter(|(_, c)| **c)
        .map(|(t, _)| *t)
        .fold(f64::INFINITY, f64::min);
    let (tau_s, tau_m, c) = (p.tau_syn, p.tau_mem(), p.threshold_drive());
    let n = times.len();
    let (mut dw, mut dt) = (vec![0.0; n], vec![0.0; n]);
    match p.ratio {
        TauRatio::Equal => {
            let (mut a, mut b) = (0.0, 0.0);
            for i in (0..n).filter(|&i| causal[i]) {
                let x = (times[i] - s) / tau_s;
                a += weights[i] * x.exp();
                b += weights[i] * x * x.exp();
            }
            let w_lambert = b / a - (t_out - s) / tau_s;
            let denom = a * (1.0 + w_lambert);
            for i in (0..n).filter(|&i| causal[i]) {
                let e = ((times[i] - s) / tau_s).exp();
                dw[i] = -e * (t_out - times[i]) / denom;
                dt[i] = -weights[i] * e * (t_out - times[i] - tau_s) / (tau_s * denom);
            }
        }
        TauRatio::Double => {
            let (mut a1, mut a2) = (0.0, 0.0);
            for i in (0..n).filter(|&i| causal[i]) {
                a1 += weights[i] * ((times[i] - s) / tau_s).exp();
                a2 += weights[i] * ((times[i] - s) / tau_m).exp();
            }
            let d = (a2 * a2 - 4.0 * a1 * c).sqrt();
            let x = (-(t_out - s) / tau_m).exp();
            let ratio = tau_m / tau_s;
            for i in (0..n).filter(|&i| causal[i]) {
                let es = ((times[i] - s) / tau_s).exp();
                let em = ((times[i] - s) / tau_m).exp();
                dw[i] = tau_m * (es * x - em) / d;
                dt[i] = weights[i] * (ratio * es * x - em) / d;
            }
        }
    }
    (dw, dt)
}

/// Membrane potential `u(t)` from the analytic PSP sum (for plots and checks).
pub fn membrane_potential(p: &NeuronParams, times: &[f64], weights: &[f64], t: f64) -> f64 {
    let (tau_s, tau_m) = (p.tau_syn, p.tau_mem());
    let mut u = p.v_leak;
    for (&ti, &w) in times.iter().zip(weights) {
        if !(ti.is_finite() && ti <= t) {
            continue;
        }
        let dt = t - ti;
        let kernel = match p.ratio {
            // (1/C) ∫ e^{−(t−s)/τ} e^{−s/τ} ds = dt e^{−dt/τ} / C
            TauRatio::Equal => dt * (-dt / tau_s).exp() / p.c_mem(),
            // (1/C) τmτs/(τm−τs) (e^{−dt/τm} − e^{−dt/τs})
            TauRatio::Double => {
                tau_m * tau_s / (tau_m - tau_s) * ((-dt / tau_m).exp() - (-dt / tau_s).exp())
                    / p.c_mem()
            }
        };
        u += w * kernel;
    }
    u
}
