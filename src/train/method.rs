//! The one place that knows the methods. `cfg.method.kind()` (the crate's only `match` on
//! [`Method`]) gives the method's [`MethodKind`], and everything that depends on the method goes
//! through it: the rules its config sections must satisfy, its learner (with the run's random
//! stream), loading a trained network, and its one-line description. Train, bench and eval all
//! call these builders, so an option that applies to every method is applied once, here.
//!
//! The pattern is burn-optim's `AdamConfig::init()`: one match at build time, a trait object
//! afterwards.

use std::path::{Path, PathBuf};

use crate::util::StdRng;
use burn::store::ModuleSnapshot;
use burn::tensor::Device;
use rand::SeedableRng;

use super::config::{ExperimentConfig, Method, RandomStream};
use super::epochs::Learner;
use super::model::TrainedModel;
use super::rng::TrainingRng;
use super::sampling::{SamplingLearner, build_sampling_rbm};
use super::surrogate::{SurrogateLearner, build_surrogate_network};
use super::ttfs::TtfsLearner;
use crate::config::{ConfigError, parse_toml, read_config_file, require_finite};
use crate::data::{DatasetName, SpikeDataset};
use crate::feedback::FeedbackRuleName;
use crate::io::{IoError, weights};

/// Where a trained network is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkSource {
    /// A burnpack checkpoint written by `spikeburn train` (every method).
    Checkpoint(PathBuf),
    /// Weights in the reference PyTorch code's safetensors layout (first-spike-time networks).
    ReferenceWeights(PathBuf),
    /// A NIR graph (first-spike-time and surrogate-gradient networks; see
    /// [`crate::io::nir::convert`]).
    Nir(PathBuf),
}

/// Errors loading a trained network.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is missing, unreadable, or holds another architecture.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The `[chip]` section names a profile or chip file that cannot be used.
    #[error(transparent)]
    Chip(#[from] ConfigError),
    /// The checkpoint was trained with a model that the configuration does not describe.
    #[error(
        "{path}: the checkpoint's network has {key} = {saved}, the configuration says \
         {configured}; evaluate it with the config it was trained with (config.toml of its run \
         folder)"
    )]
    ModelMismatch {
        /// The checkpoint.
        path: std::path::PathBuf,
        /// The first differing key.
        key: String,
        /// The checkpoint's value.
        saved: String,
        /// The configuration's value.
        configured: String,
    },
    /// Reference-layout weights or a NIR graph were given for a method that has none.
    #[error("{networks} load from --checkpoint (no reference layout, no NIR form)")]
    NoReferenceLayout {
        /// What the method's networks are called, e.g. "surrogate-gradient networks".
        networks: &'static str,
    },
}

/// Everything that depends on the method. Reach it with [`Method::kind`].
pub trait MethodKind: Sync {
    /// `ttfs`, `surrogate` or `sampling`: the config's spelling.
    fn name(&self) -> &'static str;

    /// The method's own rules, checked after the shared ones.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first violated rule.
    fn validate(&self, cfg: &ExperimentConfig) -> Result<(), ConfigError>;

    /// How the network computes and learns, in one line (for `spikeburn bench`).
    fn describe(&self, cfg: &ExperimentConfig) -> String;

    /// A fresh learner for `cfg` on `device` and the run's random stream (which has drawn the
    /// initial weights). `train` is the training split (the sampling machine starts its biases
    /// and fantasy chains from it).
    fn learner<'a>(
        &self,
        cfg: &'a ExperimentConfig,
        train: &SpikeDataset,
        device: &Device,
    ) -> (Box<dyn Learner + 'a>, TrainingRng);

    /// A trained network of `cfg`'s architecture read from `source`: the network the learner
    /// would start from, with the file's values loaded into it.
    ///
    /// # Errors
    /// [`LoadError`] naming the file, or a source the method cannot read.
    fn load(
        &self,
        cfg: &ExperimentConfig,
        source: &NetworkSource,
        device: &Device,
    ) -> Result<Box<dyn TrainedModel>, LoadError>;
}

impl Method {
    /// What this method does: its [`MethodKind`].
    pub fn kind(self) -> &'static dyn MethodKind {
        match self {
            Method::Ttfs => &Ttfs,
            Method::Surrogate => &Surrogate,
            Method::Sampling => &Sampling,
        }
    }

    /// `ttfs`, `surrogate` or `sampling`.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }
}

impl ExperimentConfig {
    /// Parse a TOML document (missing fields take their defaults; unknown keys are errors) and
    /// check it.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming `origin`, or [`ConfigError::Invalid`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: Self = parse_toml(text, origin)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read and check a TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the path.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml_str(&read_config_file(path)?, &path.display().to_string())
    }

    /// Check every rule a runnable configuration must satisfy: the shared ones, then the
    /// method's.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] describing the first violated rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_finite(self)?;
        self.validate_shared()?;
        self.method.kind().validate(self)
    }
}

/// `rng = "torch"` only replays first-spike-time training.
fn spikeburn_stream_only(cfg: &ExperimentConfig) -> Result<(), ConfigError> {
    if cfg.rng == RandomStream::Torch {
        return Err(ConfigError::Invalid(format!(
            "rng = \"torch\" replays the reference code's first-spike-time training; the {} \
             method draws from spikeburn's generator (rng = \"spikeburn\")",
            cfg.method.name()
        )));
    }
    Ok(())
}

/// The emulated chip runs first-spike-time and surrogate networks, and LIF sampling
/// experiments (`spikeburn sample`); the sampling classifier's abstract sampler has no chip.
fn no_chip(cfg: &ExperimentConfig) -> Result<(), ConfigError> {
    if cfg.chip.is_active() {
        return Err(ConfigError::Invalid(format!(
            "[chip]: the emulated chip runs first-spike-time and surrogate networks (method = \
             \"ttfs\" or \"surrogate\") and LIF sampling experiments (spikeburn sample), not \
             the {} method (its abstract sampler has no chip model)",
            cfg.method.name()
        )));
    }
    Ok(())
}

/// The checkpoint `source` names, for a method whose networks (`networks`, for the error) have
/// no reference layout.
fn checkpoint_only<'s>(
    source: &'s NetworkSource,
    networks: &'static str,
) -> Result<&'s Path, LoadError> {
    match source {
        NetworkSource::Checkpoint(path) => Ok(path),
        NetworkSource::ReferenceWeights(_) | NetworkSource::Nir(_) => {
            Err(LoadError::NoReferenceLayout { networks })
        }
    }
}

/// The NIR graph at `path` read into `fresh` by `fill` (in the graph's time unit).
fn nir_into<N: TrainedModel + 'static>(
    fresh: N,
    path: &Path,
    fill: impl FnOnce(N, &crate::io::nir::Graph, f64) -> Result<N, String>,
) -> Result<Box<dyn TrainedModel>, LoadError> {
    use crate::io::nir;
    let (graph, _warnings) = nir::read(path)?;
    let unit = nir::convert::time_unit(&graph, nir::convert::ExportOptions::default().time_unit);
    let net = fill(fresh, &graph, unit).map_err(|m| IoError::format(path, m))?;
    Ok(Box::new(net))
}

/// `fresh` (the network the learner starts from) with the checkpoint at `path` loaded into it.
fn checkpoint_into<N: TrainedModel + ModuleSnapshot + 'static>(
    fresh: N,
    path: &Path,
    cfg: &ExperimentConfig,
) -> Result<Box<dyn TrainedModel>, LoadError> {
    let meta = weights::checkpoint_metadata(path)?;
    // Checkpoints written before the model definition was stored carry none: nothing to check.
    if let Some(text) = meta.get(super::config::MODEL_METADATA) {
        let saved: std::collections::BTreeMap<String, String> = serde_json::from_str(text)
            .map_err(|e| {
                IoError::format(path, format!("unreadable model definition in the checkpoint: {e}"))
            })?;
        if let Some((key, saved, configured)) = cfg.model_mismatch(&saved) {
            return Err(LoadError::ModelMismatch { path: path.into(), key, saved, configured });
        }
    }
    Ok(Box::new(weights::load_checkpoint_into(fresh, path)?))
}

/// Exact first-spike-time layers ([`crate::ttfs`]).
struct Ttfs;

impl MethodKind for Ttfs {
    fn name(&self) -> &'static str {
        "ttfs"
    }

    fn validate(&self, cfg: &ExperimentConfig) -> Result<(), ConfigError> {
        cfg.chips().map(|_| ())
    }

    fn describe(&self, cfg: &ExperimentConfig) -> String {
        format!("exact first-spike times, compute {:?}", cfg.network.compute)
    }

    fn learner<'a>(
        &self,
        cfg: &'a ExperimentConfig,
        _train: &SpikeDataset,
        device: &Device,
    ) -> (Box<dyn Learner + 'a>, TrainingRng) {
        let (learner, rng) = TtfsLearner::seeded(cfg, device);
        (Box::new(learner), rng)
    }

    fn load(
        &self,
        cfg: &ExperimentConfig,
        source: &NetworkSource,
        device: &Device,
    ) -> Result<Box<dyn TrainedModel>, LoadError> {
        let network = match source {
            NetworkSource::ReferenceWeights(path) => {
                Box::new(weights::load_reference_weights(&cfg.layer_configs(), path, device)?)
            }
            NetworkSource::Checkpoint(path) => {
                checkpoint_into(TrainingRng::new(cfg).init_network(cfg, device), path, cfg)?
            }
            NetworkSource::Nir(path) => nir_into(
                TrainingRng::new(cfg).init_network(cfg, device),
                path,
                crate::io::nir::convert::into_ttfs,
            )?,
        };
        Ok(super::chip::with_chips(network, cfg.chips()?))
    }
}

/// Surrogate-gradient LIF layers ([`crate::surrogate`]).
struct Surrogate;

impl MethodKind for Surrogate {
    fn name(&self) -> &'static str {
        "surrogate"
    }

    fn validate(&self, cfg: &ExperimentConfig) -> Result<(), ConfigError> {
        spikeburn_stream_only(cfg)?;
        cfg.surrogate.validate()?;
        cfg.chips().map(|_| ())
    }

    fn describe(&self, cfg: &ExperimentConfig) -> String {
        format!("surrogate gradients, {} steps of {}", cfg.surrogate.steps, cfg.surrogate.dt)
    }

    fn learner<'a>(
        &self,
        cfg: &'a ExperimentConfig,
        _train: &SpikeDataset,
        device: &Device,
    ) -> (Box<dyn Learner + 'a>, TrainingRng) {
        let (learner, rng) = SurrogateLearner::seeded(cfg, device);
        (Box::new(learner), rng)
    }

    fn load(
        &self,
        cfg: &ExperimentConfig,
        source: &NetworkSource,
        device: &Device,
    ) -> Result<Box<dyn TrainedModel>, LoadError> {
        let fresh = build_surrogate_network(cfg, device, &mut StdRng::seed_from_u64(cfg.seed));
        let network = match source {
            NetworkSource::Nir(path) => {
                nir_into(fresh, path, crate::io::nir::convert::into_surrogate)?
            }
            _ => checkpoint_into(
                fresh,
                checkpoint_only(source, "surrogate-gradient networks")?,
                cfg,
            )?,
        };
        Ok(super::chip::with_chips(network, cfg.chips()?))
    }
}

/// A sampling Boltzmann layer ([`crate::sampling::SamplingRbm`]).
struct Sampling;

impl MethodKind for Sampling {
    fn name(&self) -> &'static str {
        "sampling"
    }

    fn validate(&self, cfg: &ExperimentConfig) -> Result<(), ConfigError> {
        spikeburn_stream_only(cfg)?;
        no_chip(cfg)?;
        if cfg.dataset == DatasetName::Yinyang {
            return Err(ConfigError::Invalid(
                "the sampling method classifies images: pick an image dataset".into(),
            ));
        }
        if !cfg.training.frozen_layers.is_empty() {
            return Err(ConfigError::Invalid(
                "training.frozen-layers: the sampling machine is one layer, trained as a whole"
                    .into(),
            ));
        }
        if cfg.feedback.rule != FeedbackRuleName::Bp {
            return Err(ConfigError::Invalid(format!(
                "feedback.rule = \"{}\": the sampling machine learns by wake–sleep, it sends \
                 no error backwards (feedback rules are for the ttfs and surrogate methods)",
                cfg.feedback.rule.name()
            )));
        }
        cfg.sampling.validate(&cfg.network.hidden)
    }

    fn describe(&self, cfg: &ExperimentConfig) -> String {
        let s = &cfg.sampling;
        format!(
            "neural sampling τ = {}, wake–sleep ({} wake steps, {} sleep sweeps of {} chains)",
            s.tau, s.wake_steps, s.sleep_steps, s.fantasy_chains
        )
    }

    fn learner<'a>(
        &self,
        cfg: &'a ExperimentConfig,
        train: &SpikeDataset,
        device: &Device,
    ) -> (Box<dyn Learner + 'a>, TrainingRng) {
        let (learner, rng) = SamplingLearner::seeded(cfg, Some(train), device);
        (Box::new(learner), rng)
    }

    fn load(
        &self,
        cfg: &ExperimentConfig,
        source: &NetworkSource,
        device: &Device,
    ) -> Result<Box<dyn TrainedModel>, LoadError> {
        let path = checkpoint_only(source, "sampling machines")?;
        let fresh = build_sampling_rbm(cfg, None, device, &mut StdRng::seed_from_u64(cfg.seed));
        checkpoint_into(fresh, path, cfg)
    }
}
