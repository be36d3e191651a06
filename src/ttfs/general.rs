//! Exact first-spike times and exact gradients for **any** τm/τs, per neuron: the case a
//! mismatched chip produces, where the two closed forms (τm = τs, τm = 2τs) no longer apply.
//!
//! # The membrane in one window
//! With `δ = 1/τs − 1/τm` and `φ(s, δ) = (e^{sδ} − 1)/δ` (→ `s` as δ → 0), one input at `t_i`
//! adds `g_l (u − E_l) = w_i K(t − t_i)` with the PSP kernel
//!
//! ```text
//! K(s) = τs/(τm − τs) · (e^{−s/τm} − e^{−s/τs}) = e^{−s/τs} φ(s, δ) / τm      (s ≥ 0)
//! ```
//!
//! (C_m = g_l τm, as in [`super::neuron`]). Between two input times the causal set is fixed and,
//! with two running sums over it (times `r_i` relative to a shift),
//!
//! ```text
//! A = Σ w_i e^{r_i/τm},   D = Σ w_i e^{r_i/τs} φ(r_i, −δ),
//! F(t) = e^{−t/τs}/τm · (φ(t, δ) A − D) − c,     c = g_l (ϑ − E_l).
//! ```
//!
//! This form has no cancellation as τm → τs (it becomes the Lambert-W case's
//! `(a t − b) e^{−t}` exactly at δ = 0) and is exact at every ratio. `F′` has at most one zero,
//! at `t_p = (D/A) λ(δD/A) + τm λ(δτm)`, `λ(y) = ln(1 + y)/y`, so the first crossing in a window
//! is bracketed by the window start and the window end or `t_p`, and a safeguarded Newton
//! iteration (bisection whenever a step leaves the bracket) finds it to rounding.
//!
//! # Gradients
//! By implicit differentiation of `F(t*; θ) = 0`: `∂t*/∂θ = −(∂F/∂θ)/(∂F/∂t)` for every
//! weight, input time and per-neuron parameter ([`gradients`]).
//!
//! ```
//! use spikeburn::ttfs::{general, neuron::{NeuronParams, TauRatio}, scalar};
//! // At τm = τs the general solver is the Lambert-W closed form.
//! let p = NeuronParams::reference(TauRatio::Equal);
//! let n = general::Neuron::from_params(&p);
//! let (t, w) = ([0.2, 0.25, 0.9, 1.4], [2.0, -0.5, 1.0, 3.0]);
//! let closed = scalar::first_spike_time(&p, &t, &w);
//! assert!((general::first_spike_time(&n, &t, &w) - closed).abs() < 1e-12);
//! // At τm = 3.1 τs there is no closed form; the crossing satisfies u(t*) = ϑ.
//! let n = general::Neuron { tau_mem: 3.1, g_leak: 1.0 / 3.1, ..n };
//! let t_star = general::first_spike_time(&n, &t, &w);
//! assert!((general::membrane_potential(&n, &t, &w, t_star) - n.v_th).abs() < 1e-12);
//! ```

use super::neuron::NeuronParams;

/// One neuron with its own τm and τs (model time units), ϑ, E_l and g_l.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neuron {
    /// τm = C_m/g_l.
    pub tau_mem: f64,
    /// τs, the synaptic time constant.
    pub tau_syn: f64,
    /// ϑ, the threshold.
    pub v_th: f64,
    /// E_l, the leak potential.
    pub v_leak: f64,
    /// g_l, the leak conductance.
    pub g_leak: f64,
}

impl Neuron {
    /// The neuron of a closed-form parameter set (τm = ratio · τs).
    pub fn from_params(p: &NeuronParams) -> Self {
        Self {
            tau_mem: p.tau_mem(),
            tau_syn: p.tau_syn,
            v_th: p.v_th,
            v_leak: p.v_leak,
            g_leak: p.g_leak,
        }
    }

    /// δ = 1/τs − 1/τm.
    pub fn delta(&self) -> f64 {
        1.0 / self.tau_syn - 1.0 / self.tau_mem
    }

    /// c = g_l (ϑ − E_l).
    pub fn drive(&self) -> f64 {
        self.g_leak * (self.v_th - self.v_leak)
    }
}

/// `φ(s, δ) = (e^{sδ} − 1)/δ`, `s` at δ = 0.
pub fn phi(s: f64, d: f64) -> f64 {
    if d == 0.0 { s } else { (s * d).exp_m1() / d }
}

/// `∂φ/∂δ = (sδ e^{sδ} − e^{sδ} + 1)/δ²`, by its series where the closed form cancels.
fn phi_d(s: f64, d: f64) -> f64 {
    let y = s * d;
    if y.abs() < 0.05 {
        // Σ_{k≥2} y^{k−2} (k−1)/k!, to k = 9.
        const C: [f64; 8] = [
            1.0 / 2.0,
            2.0 / 6.0,
            3.0 / 24.0,
            4.0 / 120.0,
            5.0 / 720.0,
            6.0 / 5040.0,
            7.0 / 40320.0,
            8.0 / 362880.0,
        ];
        s * s * C.iter().rev().fold(0.0, |acc, c| acc * y + c)
    } else {
        (y * y.exp() - y.exp_m1()) / (d * d)
    }
}

/// `λ(y) = ln(1 + y)/y`, 1 at y = 0.
fn lambda(y: f64) -> f64 {
    if y == 0.0 { 1.0 } else { y.ln_1p() / y }
}

/// The PSP kernel `K(s) = e^{−s/τs} φ(s, δ)/τm` (0 for s < 0).
pub fn kernel(n: &Neuron, s: f64) -> f64 {
    if s < 0.0 { 0.0 } else { (-s / n.tau_syn).exp() * phi(s, n.delta()) / n.tau_mem }
}

/// `K′(s) = (e^{−s/τm} − e^{−s/τs} φ(s, δ)/τs)/τm`.
fn kernel_dt(n: &Neuron, s: f64) -> f64 {
    ((-s / n.tau_mem).exp() - (-s / n.tau_syn).exp() * phi(s, n.delta()) / n.tau_syn) / n.tau_mem
}

/// Membrane potential `u(t)`, summed input by input.
pub fn membrane_potential(n: &Neuron, times: &[f64], weights: &[f64], t: f64) -> f64 {
    let sum: f64 = times
        .iter()
        .zip(weights)
        .filter(|(ti, _)| ti.is_finite() && **ti <= t)
        .map(|(ti, w)| w * kernel(n, t - ti))
        .sum();
    n.v_leak + sum / n.g_leak
}

/// The running sums of one window and what they give: `F(t)`, `F′(t)`, and the stationary
/// point. Times are relative to the shift the sums were taken at.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// `A = Σ w e^{r/τm}`.
    pub a: f64,
    /// `B = Σ w e^{r/τs}` (needed to move the origin).
    pub b: f64,
    /// `D = Σ w e^{r/τs} φ(r, −δ)`.
    pub d: f64,
}

impl Window {
    /// The empty window.
    pub const EMPTY: Window = Window { a: 0.0, b: 0.0, d: 0.0 };

    /// Adds an input of weight `w` at relative time `r`.
    pub fn add(&mut self, n: &Neuron, r: f64, w: f64) {
        let es = (r / n.tau_syn).exp();
        self.a += w * (r / n.tau_mem).exp();
        self.b += w * es;
        self.d += w * es * phi(r, -n.delta());
    }

    /// Moves the time origin `dt` later (relative times `r → r − dt`):
    /// `A ← e^{−dt/τm} A`, `B ← e^{−dt/τs} B`, `D ← e^{−dt/τm} D − e^{−dt/τs} φ(dt, δ) B`.
    ///
    /// Sums taken far from the inputs they hold lose precision (for τm < τs the terms of `D`
    /// grow like `e^{r|δ|}` while `F` does not); moving the origin to each window's start keeps
    /// every term of the size of its contribution.
    pub fn rebase(&mut self, n: &Neuron, dt: f64) {
        if dt == 0.0 {
            return;
        }
        let (em, es) = ((-dt / n.tau_mem).exp(), (-dt / n.tau_syn).exp());
        self.d = em * self.d - es * phi(dt, n.delta()) * self.b;
        self.a *= em;
        self.b *= es;
    }

    /// `(F(t), F′(t))`.
    pub fn eval(&self, n: &Neuron, t: f64) -> (f64, f64) {
        let e = (-t / n.tau_syn).exp() / n.tau_mem;
        let p = phi(t, n.delta());
        let inner = p * self.a - self.d;
        let f = e * inner - n.drive();
        let df = e * ((t * n.delta()).exp() * self.a - inner / n.tau_syn);
        (f, df)
    }

    /// The zero of `F′`, if there is one.
    pub fn stationary(&self, n: &Neuron) -> Option<f64> {
        if self.a == 0.0 {
            return None;
        }
        let (d, ratio) = (n.delta(), self.d / self.a);
        if d * ratio <= -1.0 {
            return None;
        }
        let t = ratio * lambda(d * ratio) + n.tau_mem * lambda(d * n.tau_mem);
        t.is_finite().then_some(t)
    }

    /// The first threshold crossing in `[lo, hi]` (`hi` may be `+∞`), if the membrane reaches
    /// threshold there. Assumes the membrane is below threshold before `lo` (no earlier window
    /// reached it).
    pub fn crossing(&self, n: &Neuron, lo: f64, hi: f64) -> Option<f64> {
        let f = |t: f64| self.eval(n, t);
        if f(lo).0 >= 0.0 {
            return Some(lo);
        }
        let tp = self.stationary(n).filter(|&t| t > lo && t < hi);
        if let Some(tp) = tp
            && f(tp).0 >= 0.0
        {
            return Some(bracketed_root(f, lo, tp));
        }
        if hi.is_finite() && f(hi).0 >= 0.0 {
            return Some(bracketed_root(f, tp.unwrap_or(lo), hi));
        }
        None
    }
}

/// The root of an increasing `f` in `[lo, hi]` with `f(lo) < 0 ≤ f(hi)`: Newton steps, a
/// bisection whenever a step would leave the shrinking bracket.
pub fn bracketed_root(f: impl Fn(f64) -> (f64, f64), mut lo: f64, mut hi: f64) -> f64 {
    let mut x = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (v, dv) = f(x);
        if v == 0.0 {
            return x;
        }
        if v < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - v / dv;
        let next =
            if newton.is_finite() && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        let tol = 4.0 * f64::EPSILON * (1.0 + next.abs());
        if (next - x).abs() <= tol || hi - lo <= tol {
            return next;
        }
        x = next;
    }
    x
}

/// First output spike time (`+∞` if the neuron stays below threshold).
///
/// Inputs are sorted; the sums are moved to each window's start ([`Window::rebase`]) and the
/// crossing is searched as in [`Window::crossing`]; the first window that reaches threshold
/// gives the spike.
///
/// # Panics
/// If `times` and `weights` differ in length.
pub fn first_spike_time(n: &Neuron, times: &[f64], weights: &[f64]) -> f64 {
    assert_eq!(times.len(), weights.len(), "one weight per input time");
    let mut order: Vec<usize> = (0..times.len()).filter(|&i| times[i].is_finite()).collect();
    order.sort_by(|&i, &j| times[i].total_cmp(&times[j]));
    let Some(&first) = order.first() else {
        return f64::INFINITY;
    };
    let mut origin = times[first];
    let mut window = Window::EMPTY;
    for (k, &i) in order.iter().enumerate() {
        window.rebase(n, times[i] - origin);
        origin = times[i];
        window.add(n, 0.0, weights[i]);
        let hi = order.get(k + 1).map_or(f64::INFINITY, |&j| times[j] - origin);
        if let Some(t) = window.crossing(n, 0.0, hi) {
            return t + origin;
        }
    }
    f64::INFINITY
}

/// Exact gradients of one finite spike time with respect to everything it depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    /// ∂t*/∂w_i (0 for non-causal inputs).
    pub weights: Vec<f64>,
    /// ∂t*/∂t_i (0 for non-causal inputs).
    pub times: Vec<f64>,
    /// ∂t*/∂τm.
    pub tau_mem: f64,
    /// ∂t*/∂τs.
    pub tau_syn: f64,
    /// ∂t*/∂ϑ.
    pub v_th: f64,
    /// ∂t*/∂E_l.
    pub v_leak: f64,
    /// ∂t*/∂g_l.
    pub g_leak: f64,
}

/// Exact gradients of a finite spike time `t_out` by implicit differentiation of
/// `F = Σ_causal w_i K(t* − t_i) − g_l(ϑ − E_l) = 0` on the causal set `{i : t_i ≤ t_out}`.
///
/// With `F_t = Σ w_i K′(t* − t_i)`: `∂t*/∂w_i = −K/F_t`, `∂t*/∂t_i = w_i K′/F_t`,
/// `∂t*/∂ϑ = g_l/F_t`, `∂t*/∂E_l = −g_l/F_t`, `∂t*/∂g_l = (ϑ − E_l)/F_t`,
/// `∂t*/∂τ = −Σ w_i (∂K/∂τ)/F_t` for τ ∈ {τm, τs}. Infinite where the crossing grazes the
/// threshold (`F_t = 0`).
///
/// # Panics
/// If `t_out` is not finite or the lengths differ.
pub fn gradients(n: &Neuron, times: &[f64], weights: &[f64], t_out: f64) -> Gradients {
    assert!(t_out.is_finite(), "gradients exist only for a finite spike time");
    assert_eq!(times.len(), weights.len(), "one weight per input time");
    let d = n.delta();
    let (tm, ts) = (n.tau_mem, n.tau_syn);
    let causal = |t: f64| t.is_finite() && t <= t_out;
    let mut f_t = 0.0;
    let (mut f_tm, mut f_ts) = (0.0, 0.0);
    for (&ti, &w) in times.iter().zip(weights) {
        if !causal(ti) {
            continue;
        }
        let s = t_out - ti;
        let (e, p, pd) = ((-s / ts).exp(), phi(s, d), phi_d(s, d));
        f_t += w * kernel_dt(n, s);
        f_tm += w * e / (tm * tm) * (pd / tm - p);
        f_ts += w * e / (tm * ts * ts) * (s * p - pd);
    }
    let per_input = |f: &dyn Fn(f64, f64) -> f64| -> Vec<f64> {
        times
            .iter()
            .zip(weights)
            .map(|(&ti, &w)| if causal(ti) { f(t_out - ti, w) } else { 0.0 })
            .collect()
    };
    Gradients {
        weights: per_input(&|s, _| -kernel(n, s) / f_t),
        times: per_input(&|s, w| w * kernel_dt(n, s) / f_t),
        tau_mem: -f_tm / f_t,
        tau_syn: -f_ts / f_t,
        v_th: n.g_leak / f_t,
        v_leak: -n.g_leak / f_t,
        g_leak: (n.v_th - n.v_leak) / f_t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// The series branch of ∂φ/∂δ meets the closed form where they hand over.
    fn phi_d_branches_agree() {
        for s in [0.3, 1.0, 2.5] {
            let d = 0.05 / s;
            let closed = |d: f64| {
                let y = s * d;
                (y * y.exp() - y.exp_m1()) / (d * d)
            };
            // Just inside the series branch, against the closed form at the same δ (there the
            // closed form's cancellation costs only ~1e-13).
            let inside = d * 0.999_999;
            let series = phi_d(s, inside);
            let exact = closed(inside);
            assert!((series - exact).abs() < 1e-11 * exact.abs(), "s {s}: {series} vs {exact}");
            // And the two branches meet across the hand-over (φ_d is smooth in δ).
            let outside = phi_d(s, d * 1.000_001);
            assert!((series - outside).abs() < 1e-5 * exact.abs(), "s {s}: jump at the hand-over");
            // And against a central difference of φ.
            let h = 1e-6;
            let fd = (phi(s, 0.3 + h) - phi(s, 0.3 - h)) / (2.0 * h);
            assert!((phi_d(s, 0.3) - fd).abs() < 1e-7, "s {s}: {} vs {fd}", phi_d(s, 0.3));
        }
    }

    #[test]
    /// φ's limit: φ(s, 0) = s and φ(s, δ) → s continuously.
    fn phi_limit() {
        assert_eq!(phi(1.7, 0.0), 1.7);
        assert!((phi(1.7, 1e-12) - 1.7).abs() < 1e-11);
        assert!((lambda(1e-300) - 1.0).abs() < 1e-15);
    }

    #[test]
    /// A lone input at τm = τs = 1: `u = w t e^{−t}`; the stationary point is t = 1.
    fn stationary_point_of_one_input() {
        let n = Neuron { tau_mem: 1.0, tau_syn: 1.0, v_th: 1.0, v_leak: 0.0, g_leak: 1.0 };
        let mut w = Window::EMPTY;
        w.add(&n, 0.0, 4.0);
        assert!((w.stationary(&n).unwrap() - 1.0).abs() < 1e-15);
        // τm = 2, τs = 1: K ∝ e^{−t/2} − e^{−t}, peak at t = 2 ln 2.
        let n = Neuron { tau_mem: 2.0, ..n };
        let mut w = Window::EMPTY;
        w.add(&n, 0.0, 4.0);
        assert!((w.stationary(&n).unwrap() - 2.0 * 2f64.ln()).abs() < 1e-14);
    }
}
