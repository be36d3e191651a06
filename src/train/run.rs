//! One whole run of either method: train, then test — what the CLI, the examples and the
//! benchmarks share.

use std::path::Path;

use burn::tensor::Device;

use super::config::{ExperimentConfig, Method};
use super::sampling::{evaluate_sampling, train_sampling};
use super::surrogate::{evaluate_surrogate, train_surrogate};
use super::trainer::{EpochMetrics, Evaluation, TrainEvent, evaluate, train};
use crate::data::Splits;
use crate::io::{IoError, weights};
use crate::sampling::SamplingRbm;
use crate::surrogate::SurrogateNetwork;
use crate::ttfs::SpikeTimeNetwork;

/// A trained network of either method.
#[derive(Debug)]
pub enum TrainedNetwork {
    /// Exact first-spike-time layers.
    Ttfs(SpikeTimeNetwork),
    /// Surrogate-gradient LIF layers.
    Surrogate(SurrogateNetwork),
    /// A sampling Boltzmann layer.
    Sampling(SamplingRbm),
}

impl TrainedNetwork {
    /// Save as a burnpack checkpoint; a first-spike-time network also writes the reference
    /// safetensors layout to `reference` if given.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn save(&self, checkpoint: &Path, reference: Option<&Path>) -> Result<(), IoError> {
        match self {
            TrainedNetwork::Ttfs(net) => {
                weights::save_checkpoint(net, checkpoint)?;
                if let Some(path) = reference {
                    weights::save_reference_weights(net, path)?;
                }
                Ok(())
            }
            TrainedNetwork::Surrogate(net) => weights::save_checkpoint(net, checkpoint),
            TrainedNetwork::Sampling(rbm) => weights::save_checkpoint(rbm, checkpoint),
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// The trained network.
    pub network: TrainedNetwork,
    /// Per-epoch metrics.
    pub history: Vec<EpochMetrics>,
    /// Seconds in the epoch loop (training and validation).
    pub train_seconds: f64,
    /// The test-split evaluation of the trained network.
    pub test: Evaluation,
}

/// Train `cfg`'s method on `data.train` (validating on `data.validation` every epoch), then
/// evaluate on `data.test`.
pub fn train_and_test(
    cfg: &ExperimentConfig,
    data: &Splits,
    device: &Device,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> RunResult {
    let bs = cfg.training.batch_size_eval;
    match cfg.method {
        Method::Ttfs => {
            let out = train(cfg, &data.train, &data.validation, device, on_event);
            let test = evaluate(&out.network, &data.test, bs, &cfg.loss, device);
            RunResult {
                network: TrainedNetwork::Ttfs(out.network),
                history: out.history,
                train_seconds: out.train_seconds,
                test,
            }
        }
        Method::Surrogate => {
            let out = train_surrogate(cfg, &data.train, &data.validation, device, on_event);
            let test = evaluate_surrogate(&out.network, &data.test, bs, cfg, device);
            RunResult {
                network: TrainedNetwork::Surrogate(out.network),
                history: out.history,
                train_seconds: out.train_seconds,
                test,
            }
        }
        Method::Sampling => {
            let out = train_sampling(cfg, &data.train, &data.validation, device, on_event);
            let test = evaluate_sampling(&out.rbm, &data.test, bs, cfg, device);
            RunResult {
                network: TrainedNetwork::Sampling(out.rbm),
                history: out.history,
                train_seconds: out.train_seconds,
                test,
            }
        }
    }
}
