//! The `[sampling]` section of an experiment: the sampling classifier's wake–sleep learning and
//! sampled readout, and the rules its values must satisfy.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The sampling method: neural sampling, wake–sleep learning, readout by sampling.
///
/// Learning (per batch): *wake*: clamp pixels and the one-hot label, sample the hidden units
/// for `wake-steps` steps; *sleep*: advance `fantasy-chains` persistent free-running chains
/// (PCD) or chains started at the batch's data (CD-k) by `sleep-steps` sweeps; ΔW = η(⟨(v,l) hᵀ⟩_wake −
/// ⟨(v,l) hᵀ⟩_sleep) − η·weight-decay·W (biases alike, without decay), with momentum. States are
/// the neural sampler's on-states (time-averaged over each phase), not probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct SamplingConfig {
    /// Refractory time τ of every unit, steps (1 = block Gibbs).
    pub tau: u32,
    /// Wake-phase steps of the hidden layer per batch.
    pub wake_steps: usize,
    /// Sleep-phase sweeps of the fantasy chains per batch.
    pub sleep_steps: usize,
    /// Where the sleep phase starts: `persistent` chains carried across batches (PCD) or the
    /// batch's `data` itself (CD-k, k = `sleep-steps`).
    pub sleep_chains: SleepChains,
    /// Persistent free-running chains (with `sleep-chains = "persistent"`).
    pub fantasy_chains: usize,
    /// Momentum of the parameter updates.
    pub momentum: f64,
    /// L2 weight decay (per unit of learning rate).
    pub weight_decay: f64,
    /// Standard deviation of the initial couplings.
    pub weight_std: f64,
    /// A pixel is on when its intensity exceeds this fraction of white.
    pub binarize_threshold: f64,
    /// Readout: steps before label on-time is counted.
    pub readout_burn_in: usize,
    /// Readout: steps over which label on-time is counted.
    pub readout_steps: usize,
    /// Refractory time of the readout and completion sampler, steps.
    pub readout_tau: u32,
}

/// Where the sleep (model) phase of wake–sleep learning starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SleepChains {
    /// Persistent contrastive divergence: free-running chains carried across batches.
    Persistent,
    /// Contrastive divergence CD-k: the batch's data, advanced k sweeps.
    Data,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            tau: 1,
            wake_steps: 1,
            sleep_steps: 1,
            sleep_chains: SleepChains::Persistent,
            fantasy_chains: 100,
            momentum: 0.5,
            weight_decay: 2e-4,
            weight_std: 0.01,
            binarize_threshold: 0.5,
            readout_burn_in: 20,
            readout_steps: 200,
            readout_tau: 1,
        }
    }
}

impl SamplingConfig {
    /// Check the values, for a machine with the hidden layers `hidden` (`network.hidden`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first bad value.
    pub fn validate(&self, hidden: &[usize]) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if hidden.len() != 1 {
            return bad(format!(
                "the sampling method has one hidden layer: network.hidden = {hidden:?}"
            ));
        }
        if self.tau == 0 || self.readout_tau == 0 {
            return bad("sampling.tau and sampling.readout-tau must be ≥ 1 step".into());
        }
        if self.wake_steps == 0 || self.sleep_steps == 0 || self.fantasy_chains == 0 {
            return bad("sampling.wake-steps, sleep-steps and fantasy-chains must be ≥ 1".into());
        }
        if self.readout_steps == 0 {
            return bad("sampling.readout-steps must be ≥ 1".into());
        }
        if !(0.0..1.0).contains(&self.momentum) || self.weight_decay < 0.0 {
            return bad(format!(
                "sampling.momentum must be in [0, 1) and weight-decay ≥ 0, got {} and {}",
                self.momentum, self.weight_decay
            ));
        }
        if !(self.weight_std >= 0.0 && self.weight_std <= 100.0) {
            return bad(format!(
                "sampling.weight-std must be in [0, 100] (couplings beyond ±100 saturate every \
                 unit), got {}",
                self.weight_std
            ));
        }
        if !(self.binarize_threshold > 0.0 && self.binarize_threshold < 1.0) {
            return bad(format!(
                "sampling.binarize-threshold must be in (0, 1), got {}",
                self.binarize_threshold
            ));
        }
        Ok(())
    }
}
