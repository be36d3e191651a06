//! One whole run of either method: train, then test — what the CLI, the examples and the
//! benchmarks share.

use std::path::Path;

use burn::tensor::Device;

use super::config::{ExperimentConfig, Method};
use super::sampling::{evaluate_sampling, train_sampling};
use super::surrogate::{evaluate_surrogate, train_surrogate};
use super::trainer::{EpochMetrics, Evaluation, TrainEvent, TrainOutcome, evaluate, train};
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
    let (train_set, val) = (&data.train, &data.validation);
    match cfg.method {
        Method::Ttfs => {
            let out = train(cfg, train_set, val, device, on_event);
            let test = evaluate(&out.network, &data.test, bs, &cfg.loss, device);
            out.into_run(TrainedNetwork::Ttfs, test)
        }
        Method::Surrogate => {
            let out = train_surrogate(cfg, train_set, val, device, on_event);
            let test = evaluate_surrogate(&out.network, &data.test, bs, cfg, device);
            out.into_run(TrainedNetwork::Surrogate, test)
        }
        Method::Sampling => {
            let out = train_sampling(cfg, train_set, val, device, on_event);
            let test = evaluate_sampling(&out.network, &data.test, bs, cfg, device);
            out.into_run(TrainedNetwork::Sampling, test)
        }
    }
}

impl<N> TrainOutcome<N> {
    /// The run result: the network wrapped by `wrap`, this history, and the test evaluation.
    fn into_run(self, wrap: impl FnOnce(N) -> TrainedNetwork, test: Evaluation) -> RunResult {
        RunResult {
            network: wrap(self.network),
            history: self.history,
            train_seconds: self.train_seconds,
            test,
        }
    }
}
