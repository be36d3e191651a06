//! Experiment configuration: layered defaults < TOML file < command-line flags.
//!
//! Every field has a default (defined once, in the `Default` impls below), a TOML file may leave
//! out any of them, and an unknown key is an error. The defaults are the Yin-Yang network and
//! schedule that the README's train command runs (`models/yinyang-ttfs-double.toml`);
//! `models/yinyang-ttfs.toml` holds the paper's τm = τs configuration.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::DatasetName;
use crate::surrogate::{
    Encoder, Integrator, LifLayerConfig, LifValues, Readout, Reset, Surrogate, TimeGrid,
};
use crate::ttfs::{Compute, SpikeTimeLayerConfig, TauRatio, TtfsLoss};

/// How the network computes and learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Exact first-spike-time layers with analytical gradients ([`crate::ttfs`]); `[network]`
    /// and `[loss]` configure them.
    #[default]
    Ttfs,
    /// Time-stepped LIF layers trained by backpropagation through time with a surrogate
    /// derivative ([`crate::surrogate`]); `[surrogate]` configures them, `[network]` gives the
    /// layer sizes, bias spikes and weight initialisation.
    Surrogate,
    /// A sampling Boltzmann layer ([`crate::sampling::SamplingRbm`]: binarised pixels and label
    /// units ↔ `network.hidden[0]` hidden units) trained by wake–sleep on neural-sampling
    /// states and classifying by sampling the label units; `[sampling]` configures it.
    Sampling,
}

impl Method {
    /// `ttfs`, `surrogate` or `sampling`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Ttfs => "ttfs",
            Method::Surrogate => "surrogate",
            Method::Sampling => "sampling",
        }
    }
}

/// Floating-point precision of the computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// 32-bit floats (fast; the default).
    #[default]
    F32,
    /// 64-bit floats (the reference implementation's precision).
    F64,
}

impl Precision {
    /// `f32` or `f64`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

/// Which generator a training run draws its initial weights, sample order and input noise from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RandomStream {
    /// spikeburn's own generator, seeded with `seed` (the default).
    #[default]
    Spikeburn,
    /// PyTorch's CPU generator after `torch.manual_seed(seed)`, consumed as the reference code
    /// consumes it: a first-spike-time run replays the reference run of the same torch seed
    /// (initial weights, batch order, input noise). See [`super::torch_rng`].
    Torch,
}

/// A whole experiment: data, network, training schedule, loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct ExperimentConfig {
    /// Short name, used in run-folder names.
    pub name: String,
    /// Which dataset.
    pub dataset: DatasetName,
    /// Seed of weight initialisation, shuffling and input noise.
    pub seed: u64,
    /// The generator `seed` seeds: spikeburn's, or PyTorch's to replay a reference run.
    pub rng: RandomStream,
    /// Precision of the computation.
    pub precision: Precision,
    /// Exact first-spike times or surrogate gradients.
    pub method: Method,
    /// The network.
    pub network: NetworkConfig,
    /// The training schedule.
    pub training: TrainingConfig,
    /// The loss of the first-spike-time method.
    pub loss: TtfsLoss,
    /// The time-stepped layers of the surrogate-gradient method.
    pub surrogate: SurrogateConfig,
    /// The sampling Boltzmann layer of the sampling method.
    pub sampling: SamplingConfig,
}

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
    fn validate(&self, hidden: &[usize]) -> Result<(), ConfigError> {
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
        if !(self.binarize_threshold > 0.0 && self.binarize_threshold < 1.0) {
            return bad(format!(
                "sampling.binarize-threshold must be in (0, 1), got {}",
                self.binarize_threshold
            ));
        }
        Ok(())
    }
}

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

/// Network architecture and neuron parameters (shared by all layers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct NetworkConfig {
    /// Hidden layer sizes, input side first (the input and output sizes come from the dataset).
    pub hidden: Vec<usize>,
    /// τm/τs: `equal` (Lambert W) or `double` (quadratic).
    pub tau_ratio: TauRatio,
    /// τs, model time units.
    pub tau_syn: f64,
    /// ϑ, threshold potential.
    pub v_th: f64,
    /// E_l, leak potential.
    pub v_leak: f64,
    /// g_l, leak conductance; absent = τs/τm (1 for `equal`, 0.5 for `double`).
    pub g_leak: Option<f64>,
    /// Bias spike times fed to every layer, model time units.
    pub bias_times: Vec<f64>,
    /// Weight initialisation `[mean, std]` per layer (hidden layers, then the output layer).
    pub weight_init: Vec<[f64; 2]>,
    /// `auto` (CPU kernel on flex/ndarray, tensor operations on GPU), `tensor` or `kernel`.
    pub compute: Compute,
}

/// Training schedule and the reference's training tricks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct TrainingConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// Evaluation batch size.
    pub batch_size_eval: usize,
    /// Adam learning rate at epoch 0.
    pub learning_rate: f64,
    /// StepLR: the learning rate is multiplied by `lr-gamma` every `lr-step` epochs.
    pub lr_step: usize,
    /// StepLR factor.
    pub lr_gamma: f64,
    /// Adam β₁.
    pub adam_beta1: f64,
    /// Adam β₂.
    pub adam_beta2: f64,
    /// Adam ε.
    pub adam_epsilon: f64,
    /// Per-(sample, neuron) weight-gradient limit: a column whose largest entry exceeds it is
    /// zeroed for that sample (the reference's `max_dw_norm`); 0 disables.
    pub max_dw_norm: f64,
    /// Weight bumping: the largest tolerated fraction of silent (sample, neuron) pairs per layer
    /// (hidden layers, then the output layer).
    pub max_missing: Vec<f64>,
    /// Weight bumping: value added to every incoming weight of a silent neuron (doubles on
    /// consecutive bumps of the same layer).
    pub bump_value: f64,
    /// Standard deviation of Gaussian noise on training input times (model time units);
    /// negative times are reflected, silence stays silent. 0 = none.
    pub input_noise: f64,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            name: "yinyang-ttfs-double".into(),
            dataset: DatasetName::Yinyang,
            seed: 0,
            rng: RandomStream::Spikeburn,
            precision: Precision::F32,
            method: Method::Ttfs,
            network: NetworkConfig::default(),
            training: TrainingConfig::default(),
            loss: TtfsLoss::default(),
            surrogate: SurrogateConfig::default(),
            sampling: SamplingConfig::default(),
        }
    }
}

impl Default for NetworkConfig {
    /// The reference Yin-Yang network 4(+1)–120(+1)–3 with τm = 2τs (g_l = τs/τm = 0.5): the
    /// quadratic closed form, which trains to higher accuracy than τm = τs in the same time
    /// (BENCHMARKS.md). `models/yinyang-ttfs.toml` is the paper's τm = τs configuration.
    fn default() -> Self {
        Self {
            hidden: vec![120],
            tau_ratio: TauRatio::Double,
            tau_syn: 1.0,
            v_th: 1.0,
            v_leak: 0.0,
            g_leak: None,
            bias_times: vec![0.9],
            weight_init: vec![[1.5, 0.8], [0.5, 0.8]],
            compute: Compute::Auto,
        }
    }
}

impl Default for TrainingConfig {
    /// The reference Yin-Yang schedule (batch 150, Adam 0.005, StepLR(20, 0.95), 300 epochs),
    /// with a bump value of 5e-3 instead of 5e-4 (fewer batches spent on bumping). Together with
    /// the network default this is `models/yinyang-ttfs-double.toml`, the README's train command.
    fn default() -> Self {
        Self {
            epochs: 300,
            batch_size: 150,
            batch_size_eval: 1000,
            learning_rate: 0.005,
            lr_step: 20,
            lr_gamma: 0.95,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            max_dw_norm: 0.2,
            max_missing: vec![0.3, 0.0],
            bump_value: 5e-3,
            input_noise: 0.0,
        }
    }
}

/// Errors in a configuration: reading, parsing, or a value that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema (unknown keys included).
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What was wrong, with its location.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// Parses a TOML document into any config type (missing fields take their defaults where the
/// type says `serde(default)`; unknown keys are errors where it says `deny_unknown_fields`).
///
/// # Errors
/// [`ConfigError::Parse`] naming `origin`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text)
        .map_err(|e| ConfigError::Parse { path: origin.into(), message: e.to_string() })
}

/// Reads a config file's text.
///
/// # Errors
/// [`ConfigError::Read`] naming the path.
pub fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })
}

impl ExperimentConfig {
    /// Parse a TOML document (missing fields take their defaults; unknown keys are errors).
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming `origin`, or [`ConfigError::Invalid`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: Self = parse_toml(text, origin)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read and validate a TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the path.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml_str(&read_config_file(path)?, &path.display().to_string())
    }

    /// The resolved configuration as TOML (every field written out).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// Check every rule a runnable configuration must satisfy.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] describing the first violated rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let n_layers = self.network.hidden.len() + 1;
        let n = &self.network;
        let t = &self.training;
        if n.hidden.contains(&0) {
            return bad(format!("network.hidden has a zero-sized layer: {:?}", n.hidden));
        }
        if n.weight_init.len() != n_layers {
            return bad(format!(
                "network.weight-init has {} entries, the network has {n_layers} layers",
                n.weight_init.len()
            ));
        }
        if let Some(&[m, s]) = n.weight_init.iter().find(|[m, s]| !(m.is_finite() && *s >= 0.0)) {
            return bad(format!(
                "network.weight-init entry [{m}, {s}] needs a finite mean and std ≥ 0"
            ));
        }
        if !(positive(n.tau_syn) && n.tau_syn.is_finite()) {
            return bad(format!("network.tau-syn must be positive, got {}", n.tau_syn));
        }
        if let Some(g) = n.g_leak.filter(|g| !positive(*g)) {
            return bad(format!("network.g-leak must be positive, got {g}"));
        }
        if !positive(n.v_th - n.v_leak) {
            return bad(format!("network.v-th ({}) must exceed v-leak ({})", n.v_th, n.v_leak));
        }
        if n.bias_times.iter().any(|b| !(b.is_finite() && *b >= 0.0)) {
            return bad(format!("network.bias-times must be finite and ≥ 0: {:?}", n.bias_times));
        }
        if t.batch_size == 0 || t.batch_size_eval == 0 {
            return bad("training.batch-size and batch-size-eval must be positive".into());
        }
        if !positive(t.learning_rate) {
            return bad(format!(
                "training.learning-rate must be positive, got {}",
                t.learning_rate
            ));
        }
        if t.lr_step == 0 || !positive(t.lr_gamma) {
            return bad("training.lr-step must be ≥ 1 and lr-gamma > 0".into());
        }
        if t.max_missing.len() != n_layers {
            return bad(format!(
                "training.max-missing has {} entries, the network has {n_layers} layers",
                t.max_missing.len()
            ));
        }
        if t.max_dw_norm < 0.0 || t.input_noise < 0.0 || t.bump_value < 0.0 {
            return bad("training.max-dw-norm, input-noise and bump-value must be ≥ 0".into());
        }
        if !(positive(self.loss.xi) && positive(self.loss.beta) && positive(self.loss.tau_syn)) {
            return bad("loss.xi, loss.beta and loss.tau-syn must be positive".into());
        }
        if self.rng == RandomStream::Torch && self.method != Method::Ttfs {
            return bad(format!(
                "rng = \"torch\" replays the reference code's first-spike-time training; the {} \
                 method draws from spikeburn's generator (rng = \"spikeburn\")",
                self.method.name()
            ));
        }
        if self.method == Method::Surrogate {
            self.surrogate.validate()?;
        }
        if self.method == Method::Sampling {
            if self.dataset == DatasetName::Yinyang {
                return bad("the sampling method classifies images: pick an image dataset".into());
            }
            self.sampling.validate(&n.hidden)?;
        }
        Ok(())
    }

    /// The surrogate-gradient layer configurations, input side first (the output layer is
    /// spiking unless the readout is `max-membrane`).
    pub fn surrogate_layer_configs(&self) -> Vec<LifLayerConfig> {
        let (n, s) = (&self.network, &self.surrogate);
        let sizes = self.layer_sizes();
        let last = sizes.len() - 2;
        sizes
            .windows(2)
            .zip(&n.weight_init)
            .enumerate()
            .map(|(l, (io, &[mean, std]))| {
                LifLayerConfig::new(io[0], io[1])
                    .with_bias_times(n.bias_times.clone())
                    .with_weight_mean(mean)
                    .with_weight_std(std)
                    .with_neuron(s.neuron)
                    .with_grid(TimeGrid { dt: s.dt, steps: s.steps })
                    .with_integrator(s.integrator)
                    .with_surrogate(s.derivative)
                    .with_reset(s.reset)
                    .with_refractory_steps(s.refractory_steps)
                    .with_detach_reset(s.detach_reset)
                    .with_spiking(l < last || s.readout.spiking())
            })
            .collect()
    }

    /// Layer widths: inputs, hidden layers, classes.
    fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.dataset.n_inputs()];
        sizes.extend(&self.network.hidden);
        sizes.push(self.dataset.n_classes());
        sizes
    }

    /// Layer configurations, input side first.
    pub fn layer_configs(&self) -> Vec<SpikeTimeLayerConfig> {
        let n = &self.network;
        self.layer_sizes()
            .windows(2)
            .zip(&n.weight_init)
            .map(|(io, &[mean, std])| {
                let mut c = SpikeTimeLayerConfig::new(io[0], io[1])
                    .with_bias_times(n.bias_times.clone())
                    .with_weight_mean(mean)
                    .with_weight_std(std)
                    .with_tau_ratio(n.tau_ratio)
                    .with_tau_syn(n.tau_syn)
                    .with_v_th(n.v_th)
                    .with_v_leak(n.v_leak)
                    .with_compute(n.compute);
                c.g_leak = n.g_leak;
                c
            })
            .collect()
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

/// `x > 0`, false for NaN: validation rejects NaN with the same message as a non-positive value.
fn positive(x: f64) -> bool {
    x > 0.0
}
