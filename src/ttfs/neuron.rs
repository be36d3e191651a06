//! Neuron parameters of the exact first-spike-time LIF neuron.
//!
//! Current-based leaky integrate-and-fire neuron with exponential synaptic currents, no reset,
//! only the first output spike counts:
//!
//! ```text
//! C_m du/dt = g_l (E_l − u) + Σ_i w_i Θ(t − t_i) e^{−(t − t_i)/τs},   u(0) = E_l,   τm = C_m/g_l
//! ```
//!
//! Time is measured in units of the synaptic time constant (the reference's τs = 1); weights are
//! in units of current such that with `g_l = 1`, `τm = τs` a lone input needs `w > e` to fire.
//! The spike time has a closed form only for τm = τs ([`TauRatio::Equal`], Lambert W) and
//! τm = 2τs ([`TauRatio::Double`], a quadratic); see [`crate::ttfs`].

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// The ratio τm/τs, which selects the closed form of the spike time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TauRatio {
    /// τm = τs: spike time through the Lambert W function (principal branch).
    #[default]
    Equal,
    /// τm = 2τs: spike time as the root of a quadratic in `x = e^{−t/τm}`.
    Double,
}

impl TauRatio {
    /// τm/τs as a number (1 or 2).
    pub fn value(self) -> f64 {
        match self {
            TauRatio::Equal => 1.0,
            TauRatio::Double => 2.0,
        }
    }
}

/// Scalar parameters of one neuron, in f64: the oracle's view, and the defaults a layer's
/// per-neuron tensors are filled with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeuronParams {
    /// τs, the synaptic time constant, in model time units (1 in the reference).
    pub tau_syn: f64,
    /// τm/τs.
    pub ratio: TauRatio,
    /// ϑ, the threshold potential (model voltage units).
    pub v_th: f64,
    /// E_l, the leak (resting) potential (model voltage units).
    pub v_leak: f64,
    /// g_l, the leak conductance (units of C_m per time unit; τm = C_m/g_l).
    pub g_leak: f64,
}

impl NeuronParams {
    /// The reference neuron for a τ ratio: τs = 1, ϑ = 1, E_l = 0, and g_l = τs/τm
    /// (1 for τm = τs, 0.5 for τm = 2τs, as in the authors' code).
    pub fn reference(ratio: TauRatio) -> Self {
        Self { tau_syn: 1.0, ratio, v_th: 1.0, v_leak: 0.0, g_leak: 1.0 / ratio.value() }
    }

    /// τm = ratio · τs, in model time units.
    pub fn tau_mem(&self) -> f64 {
        self.ratio.value() * self.tau_syn
    }

    /// C_m = g_l τm.
    pub fn c_mem(&self) -> f64 {
        self.g_leak * self.tau_mem()
    }

    /// c = g_l (ϑ − E_l): the right-hand side of the threshold condition.
    pub fn threshold_drive(&self) -> f64 {
        self.g_leak * (self.v_th - self.v_leak)
    }
}

/// Per-neuron parameter tensors of a layer of `n` neurons (all shape `[n]`), so that every
/// neuron can have its own values (a hardware-mismatch model draws them per chip).
///
/// All neurons of a layer share one [`TauRatio`]: the closed form depends on it.
#[derive(Debug, Clone)]
pub struct NeuronTensors {
    /// τs per neuron, shape `[n]`, model time units.
    pub tau_syn: Tensor<1>,
    /// ϑ per neuron, shape `[n]`.
    pub v_th: Tensor<1>,
    /// E_l per neuron, shape `[n]`.
    pub v_leak: Tensor<1>,
    /// g_l per neuron, shape `[n]`.
    pub g_leak: Tensor<1>,
    /// τm/τs, shared by the layer.
    pub ratio: TauRatio,
}

impl NeuronTensors {
    /// `n` neurons, all with the parameters `p`.
    pub fn uniform(p: &NeuronParams, n: usize, device: &Device) -> Self {
        let full = |v: f64| Tensor::<1>::full([n], v, device);
        Self {
            tau_syn: full(p.tau_syn),
            v_th: full(p.v_th),
            v_leak: full(p.v_leak),
            g_leak: full(p.g_leak),
            ratio: p.ratio,
        }
    }
}
