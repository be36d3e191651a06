//! An independent check of the closed forms: integrate the neuron's ODE in fine time steps.
//!
//! State (u, I): `C_m du/dt = g_l(E_l − u) + I`, `dI/dt = −I/τs`, with `I` jumping by `w_i` when
//! input `i` arrives. Steps are classic RK4, split exactly at input arrivals; the first upward
//! threshold crossing is located by cubic Hermite interpolation inside the step. Nothing here
//! uses the closed forms, so agreement with [`super::scalar`] is evidence for both.

use super::general::Neuron;
use super::neuron::NeuronParams;

/// First threshold crossing of the simulated neuron in `[0, t_end]`, or `f64::INFINITY`.
///
/// `dt` is the largest RK4 step (in model time units); `1e-3` gives about `1e-10` accuracy.
///
/// # Panics
/// If `times` and `weights` differ in length or `dt` is not positive.
pub fn simulate_first_spike(
    p: &NeuronParams,
    times: &[f64],
    weights: &[f64],
    t_end: f64,
    dt: f64,
) -> f64 {
    simulate_neuron(&Neuron::from_params(p), times, weights, t_end, dt)
}

/// [`simulate_first_spike`] for a neuron with any τm and τs ([`super::general`]).
///
/// # Panics
/// As [`simulate_first_spike`].
pub fn simulate_neuron(p: &Neuron, times: &[f64], weights: &[f64], t_end: f64, dt: f64) -> f64 {
    assert_eq!(times.len(), weights.len(), "one weight per input time");
    assert!(dt > 0.0, "dt must be positive, got {dt}");
    let mut events: Vec<(f64, f64)> =
        times.iter().zip(weights).filter(|(t, _)| t.is_finite()).map(|(&t, &w)| (t, w)).collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let c_m = p.g_leak * p.tau_mem;
    let deriv =
        |u: f64, i: f64| -> (f64, f64) { ((p.g_leak * (p.v_leak - u) + i) / c_m, -i / p.tau_syn) };
    let (mut t, mut u, mut i) = (0.0_f64, p.v_leak, 0.0_f64);
    let mut next_event = 0;
    while t < t_end {
        while next_event < events.len() && events[next_event].0 <= t {
            i += events[next_event].1;
            next_event += 1;
        }
        let boundary = events.get(next_event).map_or(t_end, |e| e.0.min(t_end));
        let h = dt.min(boundary - t).max(f64::MIN_POSITIVE);
        let (k1u, k1i) = deriv(u, i);
        let (k2u, k2i) = deriv(u + 0.5 * h * k1u, i + 0.5 * h * k1i);
        let (k3u, k3i) = deriv(u + 0.5 * h * k2u, i + 0.5 * h * k2i);
        let (k4u, k4i) = deriv(u + h * k3u, i + h * k3i);
        let u_next = u + h / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u);
        let i_next = i + h / 6.0 * (k1i + 2.0 * k2i + 2.0 * k3i + k4i);
        if u_next >= p.v_th && u < p.v_th {
            let du_next = deriv(u_next, i_next).0;
            return t + hermite_root(u - p.v_th, k1u, u_next - p.v_th, du_next, h);
        }
        t += h;
        u = u_next;
        i = i_next;
    }
    f64::INFINITY
}

/// Root in `[0, h]` of the cubic Hermite interpolant with values `f0, f1` and slopes `d0, d1`,
/// given `f0 < 0 ≤ f1`, found by bisection then Newton polishing.
fn hermite_root(f0: f64, d0: f64, f1: f64, d1: f64, h: f64) -> f64 {
    let eval = |s: f64| -> (f64, f64) {
        let x = s / h;
        let (x2, x3) = (x * x, x * x * x);
        let h00 = 2.0 * x3 - 3.0 * x2 + 1.0;
        let h10 = x3 - 2.0 * x2 + x;
        let h01 = -2.0 * x3 + 3.0 * x2;
        let h11 = x3 - x2;
        let v = h00 * f0 + h10 * h * d0 + h01 * f1 + h11 * h * d1;
        let dv = ((6.0 * x2 - 6.0 * x) * f0
            + (3.0 * x2 - 4.0 * x + 1.0) * h * d0
            + (-6.0 * x2 + 6.0 * x) * f1
            + (3.0 * x2 - 2.0 * x) * h * d1)
            / h;
        (v, dv)
    };
    let (mut lo, mut hi) = (0.0, h);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if eval(mid).0 < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut s = 0.5 * (lo + hi);
    for _ in 0..3 {
        let (v, dv) = eval(s);
        if dv != 0.0 {
            s = (s - v / dv).clamp(0.0, h);
        }
    }
    s
}
