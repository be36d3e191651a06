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

    /// Evaluate on a test split on the emulated `chip` (its fixed pattern, weight levels and
    /// trial noise); `None` for a model kind that does not run on a chip (the default).
    fn test_on_chip(
        &self,
        chip: &crate::chip::Chip,
        data: &SpikeDataset,
        cfg: &ExperimentConfig,
        device: &Device,
    ) -> Option<Evaluation> {
        let _ = (chip, data, cfg, device);
        None
    }

    /// Save the network of `cfg` into `run`: the burnpack checkpoint (carrying `cfg`'s model
    /// definition, [`checkpoint_metadata`]), and for first-spike-time networks also the
    /// reference code's weight layout.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    fn save(&self, run: &RunDir, cfg: &ExperimentConfig) -> Result<(), IoError>;

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

/// The metadata a checkpoint of `cfg`'s network carries: its model definition
/// ([`ExperimentConfig::model_definition`]) as JSON under [`super::config::MODEL_METADATA`].
pub fn checkpoint_metadata(cfg: &ExperimentConfig) -> [(&'static str, String); 1] {
    let definition = serde_json::to_string(&cfg.model_definition()).expect("strings serialise");
    [(super::config::MODEL_METADATA, definition)]
}

/// Saves `net` as the checkpoint of `run`, with `cfg`'s [`checkpoint_metadata`].
///
/// # Errors
/// [`IoError`] naming the file.
pub(crate) fn save_checkpoint_of<M: burn::store::ModuleSnapshot>(
    net: &M,
    run: &RunDir,
    cfg: &ExperimentConfig,
) -> Result<(), IoError> {
    let meta = checkpoint_metadata(cfg);
    let pairs: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::io::weights::save_checkpoint(net, &run.file(crate::io::files::CHECKPOINT), &pairs)
}

/// A trained network and the feedback matrices it was trained with (rules other than `bp`):
/// behaves as the network, and also saves the matrices into the run folder
/// (`feedback.safetensors`, `feedback.{k}` for `k = 1..L−1`, or `direct.{h}` for DFA).
#[derive(Debug)]
pub struct WithFeedback {
    /// The network.
    pub model: Box<dyn TrainedModel>,
    /// The rule.
    pub rule: crate::feedback::FeedbackRuleName,
    /// Its matrices.
    pub matrices: Vec<burn::tensor::Tensor<2>>,
}

impl WithFeedback {
    /// `model` alone under `bp` (nothing to save), else wrapped with the matrices.
    pub fn wrap(
        model: Box<dyn TrainedModel>,
        rule: &dyn crate::feedback::FeedbackRule,
    ) -> Box<dyn TrainedModel> {
        match rule.name() {
            crate::feedback::FeedbackRuleName::Bp => model,
            name => Box::new(Self { model, rule: name, matrices: rule.matrices() }),
        }
    }
}

impl TrainedModel for WithFeedback {
    fn test(&self, data: &SpikeDataset, cfg: &ExperimentConfig, device: &Device) -> Evaluation {
        self.model.test(data, cfg, device)
    }

    fn test_on_chip(
        &self,
        chip: &crate::chip::Chip,
        data: &SpikeDataset,
        cfg: &ExperimentConfig,
        device: &Device,
    ) -> Option<Evaluation> {
        self.model.test_on_chip(chip, data, cfg, device)
    }

    fn save(&self, run: &RunDir, cfg: &ExperimentConfig) -> Result<(), IoError> {
        self.model.save(run, cfg)?;
        let prefix = match self.rule {
            crate::feedback::FeedbackRuleName::Dfa => ("direct", 0),
            _ => ("feedback", 1),
        };
        let named: Vec<(String, burn::tensor::Tensor<2>)> = self
            .matrices
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("{}.{}", prefix.0, i + prefix.1), m.clone()))
            .collect();
        crate::io::weights::save_named(&named, &run.file(crate::io::files::FEEDBACK))
    }

    fn write_reports(
        &self,
        cfg: &ExperimentConfig,
        data: &Splits,
        device: &Device,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        self.model.write_reports(cfg, data, device, run)
    }

    fn as_any(&self) -> &dyn Any {
        self.model.as_any()
    }
}
