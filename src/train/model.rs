//! A trained network of any method ([`TrainedModel`]): what train and eval do with it once it
//! exists — the test evaluation, saving it into a run folder, and the method's own reports.

use std::any::Any;

use burn::tensor::Device;

use super::config::ExperimentConfig;
use super::evaluation::Evaluation;
use crate::data::{SpikeDataset, Splits};
use crate::io::{IoError, RunDir};

/// A trained network (without autodiff), as train and eval handle it whatever its method.
///
/// Implemented by [`crate::ttfs::SpikeTimeNetwork`], [`crate::surrogate::SurrogateNetwork`] and
/// [`crate::sampling::SamplingRbm`]; [`TrainedModel::as_any`] gives the concrete network back.
pub trait TrainedModel: std::fmt::Debug {
    /// Evaluate on a test split in batches of `cfg.training.batch-size-eval` (the sampling
    /// machine classifies by sampling here; its validation during training is exact).
    fn test(&self, data: &SpikeDataset, cfg: &ExperimentConfig, device: &Device) -> Evaluation;

    /// Save the network into `run`: the burnpack checkpoint, and for first-spike-time networks
    /// also the reference code's weight layout.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    fn save(&self, run: &RunDir) -> Result<(), IoError>;

    /// The method's own reports and figures, written into `run` after training or evaluation;
    /// returns lines for the console. The default writes nothing.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    fn write_reports(
        &self,
        cfg: &ExperimentConfig,
        data: &Splits,
        device: &Device,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        let _ = (cfg, data, device, run);
        Ok(Vec::new())
    }

    /// The concrete network, for downcasting (`as_any().downcast_ref::<SpikeTimeNetwork>()`).
    fn as_any(&self) -> &dyn Any;
}
