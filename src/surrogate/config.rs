//! The `[surrogate]` section of an experiment: time grid, neurons, spike derivative, readout,
//! loss, and the rules its values must satisfy.

use serde::{Deserialize, Serialize};

use super::encode::Encoder;
use super::lif::{Integrator, LifValues, Reset};
use super::network::Readout;
use super::spike::Surrogate;
use crate::config::{ConfigError, positive};

/// The surrogate-gradient method: time grid, neurons, spike derivative, readout, loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct SurrogateConfig {
    /// Step length, model time units.
    pub dt: f64,
    /// Steps per sample (the sequence covers `steps·dt`).
    pub steps: usize,
    /// Exact or forward-Euler integration of the membrane.
    pub integrator: Integrator,
    /// Neuron parameters of every layer (`[surrogate.neuron]`).
    pub neuron: LifValues,
    /// The surrogate spike derivative, e.g. `{ kind = "fast-sigmoid", slope = 25.0 }`.
    pub derivative: Surrogate,
    /// Reset by subtraction or to v-reset.
    pub reset: Reset,
    /// Steps a neuron is held at v-reset after a spike.
    pub refractory_steps: usize,
    /// Leave the reset out of the backward pass.
    pub detach_reset: bool,
    /// Output readout: max-membrane, spike-count or first-spike.
    pub readout: Readout,
    /// Input encoding: `{ kind = "latency" }` or `{ kind = "rate", max-rate = …, t-early = …,
    /// t-late = … }`.
    pub encoder: Encoder,
    /// The loss is the cross-entropy of `logit-scale × readout scores`.
    pub logit_scale: f64,
}

impl Default for SurrogateConfig {
    /// τm = τs = 1 (the first-spike-time neuron), 60 steps of 0.05, exact integration, SuperSpike
    /// slope 25, soft reset (detached), max-membrane readout, latency inputs.
    fn default() -> Self {
        Self {
            dt: 0.05,
            steps: 60,
            integrator: Integrator::Exact,
            neuron: LifValues::default(),
            derivative: Surrogate::default(),
            reset: Reset::Subtract,
            refractory_steps: 0,
            detach_reset: true,
            readout: Readout::MaxMembrane,
            encoder: Encoder::Latency,
            logit_scale: 1.0,
        }
    }
}

impl SurrogateConfig {
    /// Check the values.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first bad value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if !(positive(self.dt) && self.dt.is_finite()) || self.steps == 0 {
            return bad(format!(
                "surrogate.dt must be positive and surrogate.steps ≥ 1, got {} and {}",
                self.dt, self.steps
            ));
        }
        let nv = &self.neuron;
        if !(positive(nv.tau_mem) && positive(nv.tau_syn)) {
            return bad(format!(
                "surrogate.neuron tau-mem and tau-syn must be positive, got {} and {}",
                nv.tau_mem, nv.tau_syn
            ));
        }
        if !positive(nv.v_th - nv.v_reset) {
            return bad(format!(
                "surrogate.neuron v-th ({}) must exceed v-reset ({})",
                nv.v_th, nv.v_reset
            ));
        }
        if !(positive(self.logit_scale) && self.logit_scale.is_finite()) {
            return bad(format!(
                "surrogate.logit-scale must be positive, got {}",
                self.logit_scale
            ));
        }
        self.derivative.validate().map_err(|m| ConfigError::Invalid(format!("surrogate: {m}")))?;
        self.encoder.validate().map_err(|m| ConfigError::Invalid(format!("surrogate: {m}")))
    }
}
