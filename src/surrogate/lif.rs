//! The LIF neuron, time-stepped: pure functions over explicit parameter and state records
//! (Norse's split between dynamics and modules).
//!
//! Current-based leaky integrate-and-fire neuron with an exponential synapse:
//!
//! ```text
//! τm dv/dt = (v_leak − v) + i        τs di/dt = −i        i ← i + Σ_j w_j  at input spikes
//! z = Θ(v − ϑ)                       reset: v ← v − z (ϑ − v_reset)  or  v ← v_reset
//! ```
//!
//! `v`, `i`, `ϑ`, `v_leak`, `v_reset` and the weights are in potential units (`i` is the current
//! times the membrane resistance); times in model time units (the encoders' units: the
//! first-spike-time layers' τs = 1 when the same data feed both).
//!
//! One step of length `dt` (the order of Norse's `lif_feed_forward_step`):
//! 1. the step's input jumps into the current, `i ← i + input`;
//! 2. the membrane integrates over `dt` with that current, which decays meanwhile:
//!    `v ← v_leak + (v − v_leak)·a + i·b`, `i ← i·c` ([`Integrator`] gives `a`, `b`, `c`);
//! 3. `z = Θ(v − ϑ)` with a [`Surrogate`] derivative;
//! 4. reset where `z = 1`, and a refractory neuron is held at `v_reset` and cannot spike.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::spike::{SpikeForward, Surrogate};
use crate::util::to_vec_f64;

/// How the membrane is integrated over one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Integrator {
    /// Exact integration of the linear subthreshold ODE over the step (the current decays
    /// exponentially within it): `a = e^{−dt/τm}`, `c = e^{−dt/τs}`,
    /// `b = τs/(τs − τm)·(c − a)` (`b = (dt/τ)·a` for τm = τs). Matches the analytic solution
    /// at every step for any `dt`.
    #[default]
    Exact,
    /// Forward Euler, as Norse, snnTorch and most PyTorch code: `a = 1 − dt/τm`, `b = dt/τm`,
    /// `c = 1 − dt/τs`. Converges to the analytic solution as O(dt).
    Euler,
}

/// What a spike does to the membrane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reset {
    /// Reset by subtraction ("soft reset"): `v ← v − (ϑ − v_reset)`; overshoot is kept.
    #[default]
    Subtract,
    /// Reset to `v_reset` ("hard reset").
    ToReset,
}

/// Per-neuron parameters: each tensor has shape `[n]` (one value per neuron, so that a
/// hardware-mismatch model can vary them).
#[derive(Debug, Clone)]
pub struct LifParameters {
    /// 1/τm, per model time unit.
    pub tau_mem_inv: Tensor<1>,
    /// 1/τs, per model time unit (0 = a current that never decays).
    pub tau_syn_inv: Tensor<1>,
    /// ϑ, threshold, potential units.
    pub v_th: Tensor<1>,
    /// Leak (resting) potential, potential units.
    pub v_leak: Tensor<1>,
    /// Reset potential, potential units.
    pub v_reset: Tensor<1>,
}

/// Scalar values for [`LifParameters::uniform`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct LifValues {
    /// τm, model time units.
    pub tau_mem: f64,
    /// τs, model time units.
    pub tau_syn: f64,
    /// ϑ, potential units.
    pub v_th: f64,
    /// Leak potential, potential units.
    pub v_leak: f64,
    /// Reset potential, potential units.
    pub v_reset: f64,
}

impl Default for LifValues {
    /// τm = τs = 1, ϑ = 1, v_leak = v_reset = 0: the first-spike-time layers' neuron.
    fn default() -> Self {
        Self { tau_mem: 1.0, tau_syn: 1.0, v_th: 1.0, v_leak: 0.0, v_reset: 0.0 }
    }
}

impl LifValues {
    /// Norse's `LIFParameters()` defaults, in seconds: τm = 10 ms, τs = 5 ms, ϑ = 1, 0, 0.
    pub fn norse() -> Self {
        Self { tau_mem: 1e-2, tau_syn: 5e-3, ..Self::default() }
    }
}

impl LifParameters {
    /// The same values for all `n` neurons.
    pub fn uniform(values: &LifValues, n: usize, device: &Device) -> Self {
        let full = |x: f64| Tensor::<1>::full([n], x, device);
        Self {
            tau_mem_inv: full(1.0 / values.tau_mem),
            tau_syn_inv: full(1.0 / values.tau_syn),
            v_th: full(values.v_th),
            v_leak: full(values.v_leak),
            v_reset: full(values.v_reset),
        }
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.v_th.dims()[0]
    }

    /// Whether there are no neurons.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The per-step coefficients of a layer for one `dt`, each of shape `[1, n]` (they broadcast over
/// the batch). Computed once per sequence, in f64 on the host.
#[derive(Debug, Clone)]
pub struct Propagator {
    /// `a`: membrane decay over one step.
    pub v_decay: Tensor<2>,
    /// `b`: membrane response to the current at the start of the step.
    pub v_from_i: Tensor<2>,
    /// `c`: current decay over one step.
    pub i_decay: Tensor<2>,
    /// Leak potential.
    pub v_leak: Tensor<2>,
    /// Threshold.
    pub v_th: Tensor<2>,
    /// Reset potential.
    pub v_reset: Tensor<2>,
}

impl Propagator {
    /// The coefficients of `p` for steps of `dt` model time units.
    ///
    /// # Panics
    /// If `dt` is not positive, or a time constant is negative.
    pub fn new(p: &LifParameters, dt: f64, integrator: Integrator) -> Self {
        assert!(dt > 0.0, "dt must be positive, got {dt}");
        let device = p.v_th.device();
        let mem = to_vec_f64(p.tau_mem_inv.clone());
        let syn = to_vec_f64(p.tau_syn_inv.clone());
        assert!(mem.iter().chain(&syn).all(|x| *x >= 0.0), "inverse time constants must be ≥ 0");
        let coefficients = |m: f64, s: f64| -> [f64; 3] {
            match integrator {
                Integrator::Euler => [1.0 - dt * m, dt * m, 1.0 - dt * s],
                Integrator::Exact => {
                    let a = (-dt * m).exp();
                    // b = m/(m − s)·(e^{−s dt} − e^{−m dt}) = m·a·expm1((m − s) dt)/(m − s).
                    let d = m - s;
                    let b = if d == 0.0 { dt * m * a } else { m * a * (d * dt).exp_m1() / d };
                    [a, b, (-dt * s).exp()]
                }
            }
        };
        let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
        for (m, s) in mem.iter().zip(&syn) {
            let [x, y, z] = coefficients(*m, *s);
            a.push(x);
            b.push(y);
            c.push(z);
        }
        let n = mem.len();
        let row = |v: Vec<f64>| Tensor::<2>::from_data(TensorData::new(v, [1, n]), &device);
        let param = |t: &Tensor<1>| t.clone().unsqueeze_dim::<2>(0);
        Self {
            v_decay: row(a),
            v_from_i: row(b),
            i_decay: row(c),
            v_leak: param(&p.v_leak),
            v_th: param(&p.v_th),
            v_reset: param(&p.v_reset),
        }
    }
}

/// How the step behaves (everything but the per-neuron values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifBehaviour {
    /// Spike function and its surrogate derivative.
    pub surrogate: Surrogate,
    /// Exact step forward (training) or the smooth proxy (gradient checks).
    pub forward: SpikeForward,
    /// Reset by subtraction or to `v_reset`.
    pub reset: Reset,
    /// Steps a neuron is held at `v_reset` after a spike (0 = none).
    pub refractory_steps: usize,
    /// Whether the reset is left out of the backward pass (Zenke & Vogels, Neural Comput. 33,
    /// 899–925, 2021: detaching it trains better); the forward is the same either way.
    pub detach_reset: bool,
}

impl Default for LifBehaviour {
    fn default() -> Self {
        Self {
            surrogate: Surrogate::default(),
            forward: SpikeForward::Heaviside,
            reset: Reset::Subtract,
            refractory_steps: 0,
            detach_reset: true,
        }
    }
}

/// The state of a feed-forward LIF layer, each tensor `[batch, n]`.
#[derive(Debug, Clone)]
pub struct LifState {
    /// Membrane potential, potential units.
    pub v: Tensor<2>,
    /// Synaptic current (times resistance), potential units.
    pub i: Tensor<2>,
    /// Steps left in the refractory period (0 = free), as floats.
    pub refractory: Tensor<2>,
}

impl LifState {
    /// At rest: `v = v_leak`, no current, not refractory.
    pub fn initial(batch: usize, p: &Propagator) -> Self {
        let n = p.v_th.dims()[1];
        let device = p.v_th.device();
        Self {
            v: p.v_leak.clone().expand([batch, n]),
            i: Tensor::zeros([batch, n], &device),
            refractory: Tensor::zeros([batch, n], &device),
        }
    }
}

/// One step of the LIF dynamics (the module docs give the equations).
///
/// # Shapes
/// - `input`: `[batch, n]`, the current jumps of this step (weighted input spikes), potential
///   units;
/// - state tensors `[batch, n]`; the propagator's `[1, n]`.
///
/// # Returns
/// The spikes `z` of this step (`[batch, n]`, 0 or 1 with [`SpikeForward::Heaviside`]) and the
/// new state.
pub fn lif_step(
    input: Tensor<2>,
    state: LifState,
    p: &Propagator,
    behaviour: &LifBehaviour,
) -> (Tensor<2>, LifState) {
    let i = state.i + input;
    let v = (state.v - p.v_leak.clone()) * p.v_decay.clone()
        + p.v_leak.clone()
        + i.clone() * p.v_from_i.clone();
    let i = i * p.i_decay.clone();
    let refractory_on = behaviour.refractory_steps > 0;
    let held = state.refractory.clone().greater_elem(0.0);
    let v = if refractory_on {
        let reset = p.v_reset.clone().expand(v.dims());
        v.mask_where(held.clone(), reset)
    } else {
        v
    };
    let z = behaviour.surrogate.spike(v.clone() - p.v_th.clone(), behaviour.forward);
    let zr = if behaviour.detach_reset { z.clone().detach() } else { z.clone() };
    let v = match behaviour.reset {
        Reset::Subtract => v - zr * (p.v_th.clone() - p.v_reset.clone()),
        Reset::ToReset => v.clone() - zr * (v - p.v_reset.clone()),
    };
    let refractory = if refractory_on {
        let fired = z.clone().detach().greater_elem(0.5);
        let left = (state.refractory - 1.0).clamp_min(0.0);
        left.mask_fill(fired, behaviour.refractory_steps as f64)
    } else {
        state.refractory
    };
    (z, LifState { v, i, refractory })
}

/// One step of a leaky integrator (a LIF neuron without threshold): the readout layer.
/// Same integration as [`lif_step`], no spike, no reset.
///
/// # Shapes
/// `input`, `v`, `i`: `[batch, n]`. Returns the new `(v, i)`.
pub fn li_step(
    input: Tensor<2>,
    v: Tensor<2>,
    i: Tensor<2>,
    p: &Propagator,
) -> (Tensor<2>, Tensor<2>) {
    let i = i + input;
    let v = (v - p.v_leak.clone()) * p.v_decay.clone()
        + p.v_leak.clone()
        + i.clone() * p.v_from_i.clone();
    (v, i * p.i_decay.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(values: LifValues, n: usize) -> LifParameters {
        LifParameters::uniform(&values, n, &Device::default())
    }

    fn run(
        values: LifValues,
        dt: f64,
        integrator: Integrator,
        behaviour: LifBehaviour,
        inputs: &[f64],
        i0: f64,
    ) -> (Vec<f64>, Vec<f64>) {
        let p = Propagator::new(&params(values, 1), dt, integrator);
        let mut s = LifState::initial(1, &p);
        s.i = s.i + i0;
        let device = Device::default();
        let (mut vs, mut zs) = (vec![], vec![]);
        for x in inputs {
            let input = Tensor::<2>::full([1, 1], *x, &device);
            let (z, next) = lif_step(input, s, &p, &behaviour);
            s = next;
            vs.push(to_vec_f64(s.v.clone())[0]);
            zs.push(to_vec_f64(z)[0]);
        }
        (vs, zs)
    }

    /// Norse's golden trace (`norse/torch/functional/test/test_lif.py`,
    /// `test_lif_feed_forward_step`): input 1.0 every step, `LIFParameters()` defaults
    /// (τm = 10 ms, τs = 5 ms, ϑ = 1, reset to 0), dt = 1 ms, Euler.
    /// By hand: step 1 `i = 1`, `v = 0 + 0.1·(0 − 0 + 1) = 0.1`, `i ← 0.8`; step 2 `i = 1.8`,
    /// `v = 0.1 + 0.1·(−0.1 + 1.8) = 0.27`; … step 6 crosses 1 and resets to 0.
    #[test]
    fn norse_golden_trace() {
        let behaviour = LifBehaviour { reset: Reset::ToReset, ..LifBehaviour::default() };
        let (v, z) = run(LifValues::norse(), 1e-3, Integrator::Euler, behaviour, &[1.0; 9], 0.0);
        let want = [0.1, 0.27, 0.487, 0.7335, 0.9963, 0.0, 0.3951, 0.7717, 0.0];
        for (k, (a, b)) in v.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < 1e-4, "step {k}: {a} vs {b}");
        }
        assert_eq!(z, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
    }

    /// The analytic solutions (no threshold crossing: ϑ far away), v(0) = 0:
    /// - constant current (τs = ∞): `v(t) = I (1 − e^{−t/τm})`;
    /// - decaying current `I e^{−t/τs}`: `v(t) = I τs/(τs − τm) (e^{−t/τs} − e^{−t/τm})`,
    ///   and `v(t) = I (t/τ) e^{−t/τ}` for τm = τs.
    ///
    /// The exact integrator matches them at every step; Euler converges as O(dt).
    #[test]
    fn matches_the_analytic_solution() {
        type Solution = Box<dyn Fn(f64) -> f64>;
        let mut cases: Vec<(LifValues, Solution)> = vec![];
        let high = LifValues { v_th: 1e9, ..LifValues::default() };
        cases.push((
            LifValues { tau_mem: 2.0, tau_syn: f64::INFINITY, ..high },
            Box::new(|t: f64| 1.5 * (1.0 - (-t / 2.0).exp())),
        ));
        cases.push((
            LifValues { tau_mem: 2.0, tau_syn: 0.5, ..high },
            Box::new(|t: f64| 1.5 * 0.5 / (0.5 - 2.0) * ((-t / 0.5).exp() - (-t / 2.0).exp())),
        ));
        cases.push((
            LifValues { tau_mem: 1.0, tau_syn: 1.0, ..high },
            Box::new(|t: f64| 1.5 * t * (-t).exp()),
        ));
        for (values, exact) in &cases {
            for (integrator, dt, tol) in [
                (Integrator::Exact, 0.1, 1e-6),
                (Integrator::Exact, 0.5, 1e-6),
                (Integrator::Euler, 0.01, 2e-2),
            ] {
                let n = (4.0 / dt) as usize;
                let behaviour = LifBehaviour::default();
                let (v, _) = run(*values, dt, integrator, behaviour, &vec![0.0; n], 1.5);
                for (k, vk) in v.iter().enumerate() {
                    let want = exact((k + 1) as f64 * dt);
                    assert!(
                        (vk - want).abs() < tol,
                        "{values:?} {integrator:?} dt {dt} step {k}: {vk} vs {want}"
                    );
                }
            }
            // Euler's largest error over the trajectory halves with dt.
            let err = |dt: f64| {
                let n = (2.0 / dt) as usize;
                let (v, _) = run(
                    *values,
                    dt,
                    Integrator::Euler,
                    LifBehaviour::default(),
                    &vec![0.0; n],
                    1.5,
                );
                let errors = v.iter().enumerate().map(|(k, vk)| vk - exact((k + 1) as f64 * dt));
                errors.map(f64::abs).fold(0.0, f64::max)
            };
            let ratio = err(0.02) / err(0.01);
            assert!((1.7..2.3).contains(&ratio), "{values:?}: Euler error ratio {ratio}");
        }
    }

    /// A perfect integrator (`a = 1`, `b = 1`, `c = 0`: each step's input is added to `v`),
    /// to check the spike, reset and refractory logic by hand.
    fn perfect(behaviour: LifBehaviour, inputs: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let device = Device::default();
        let row = |x: f64| Tensor::<2>::full([1, 1], x, &device);
        let p = Propagator {
            v_decay: row(1.0),
            v_from_i: row(1.0),
            i_decay: row(0.0),
            v_leak: row(0.0),
            v_th: row(1.0),
            v_reset: row(0.0),
        };
        let mut s = LifState::initial(1, &p);
        let (mut vs, mut zs) = (vec![], vec![]);
        for x in inputs {
            let (z, next) = lif_step(row(*x), s, &p, &behaviour);
            s = next;
            vs.push(to_vec_f64(s.v.clone())[0]);
            zs.push(to_vec_f64(z)[0]);
        }
        (vs, zs)
    }

    /// Inputs 0.7 per step: subtraction keeps the overshoot (1.4 → 0.4, then 1.1 → 0.1),
    /// reset-to keeps none (1.4 → 0). Inputs 1.5 with 2 refractory steps: fire, held at
    /// `v_reset` for exactly 2 steps without firing, then fire again.
    #[test]
    fn reset_and_refractoriness() {
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        let sub = LifBehaviour::default();
        let (v, z) = perfect(sub, &[0.7, 0.7, 0.7, 0.0]);
        assert_eq!(z, [0.0, 1.0, 1.0, 0.0]);
        assert!(close(&v, &[0.7, 0.4, 0.1, 0.1]), "{v:?}");
        let to = LifBehaviour { reset: Reset::ToReset, ..sub };
        let (v, z) = perfect(to, &[0.7, 0.7, 0.7, 0.0]);
        assert_eq!(z, [0.0, 1.0, 0.0, 0.0]);
        assert!(close(&v, &[0.7, 0.0, 0.7, 0.7]), "{v:?}");
        let refractory = LifBehaviour { refractory_steps: 2, ..to };
        let (v, z) = perfect(refractory, &[1.5; 5]);
        assert_eq!(z, [1.0, 0.0, 0.0, 1.0, 0.0]);
        assert!(close(&v, &[0.0, 0.0, 0.0, 0.0, 0.0]), "{v:?}");
    }
}
