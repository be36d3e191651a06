//! Experiment configuration: layered defaults < TOML file < command-line flags.
//!
//! Every field has a default (defined once, in the `Default` impls below), a TOML file may leave
//! out any of them, and an unknown key is an error. The defaults are the Yin-Yang network and
//! schedule that the README's train command runs (`models/yinyang-ttfs-double.toml`);
//! `models/yinyang-ttfs.toml` holds the paper's τm = τs configuration.
//!
//! Reading and checking a configuration (`ExperimentConfig::from_file`, `from_toml_str`,
//! `validate`) lives with the methods ([`super::method`]): the rules every method shares are
//! here, each method's own rules in its folder.

use serde::{Deserialize, Serialize};

pub use crate::chip::{ChipConfig, ChipMode};
pub use crate::config::ConfigError;
use crate::config::{in_unit_interval, positive};
use crate::data::DatasetName;
pub use crate::feedback::{FeedbackConfig, FeedbackRuleName};
pub use crate::sampling::{SamplingConfig, SleepChains};
pub use crate::surrogate::SurrogateConfig;
use crate::surrogate::{LifLayerConfig, TimeGrid};
use crate::ttfs::{Compute, SpikeTimeLayerConfig, TauRatio, TtfsLoss};

/// The checkpoint metadata key holding the model definition
/// ([`ExperimentConfig::model_definition`], as JSON).
pub const MODEL_METADATA: &str = "spikeburn-model";

/// The product of `factors`, saturating (an estimate of an absurd size stays absurd).
fn mul(factors: &[u128]) -> u128 {
    factors.iter().fold(1u128, |p, &f| p.saturating_mul(f))
}

/// `value` under `key` into `out`: tables by `key.sub`, anything else as its TOML text.
fn flatten(value: &toml::Value, key: &str, out: &mut std::collections::BTreeMap<String, String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(v, &format!("{key}.{k}"), out);
            }
        }
        other => {
            out.insert(key.to_string(), other.to_string());
        }
    }
}

/// How the network computes and learns. What each method does (its rules, learner, loading and
/// description) is its [`MethodKind`](super::method::MethodKind), `method.kind()`.
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
    /// How the error reaches the hidden layers (`ttfs` and `surrogate`).
    pub feedback: FeedbackConfig,
    /// The emulated chip the network meets (`ttfs` and `surrogate`); absent = none.
    pub chip: ChipConfig,
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
    /// Layers (0 = the first hidden layer, the output layer last) whose weights keep their
    /// initial values: neither optimizer steps nor weight bumping touch them. `[0]` trains the
    /// readout of fixed random hidden features, the control a learning hidden layer must beat.
    pub frozen_layers: Vec<usize>,
    /// `spikeburn train` saves the run's full state (`resume.safetensors`, for `train
    /// --resume`) after every this many epochs and after the last; an interrupted run saves it
    /// after the batch it stopped at. 0 = only when interrupted.
    pub checkpoint_every: usize,
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
            feedback: FeedbackConfig::default(),
            chip: ChipConfig::default(),
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
            frozen_layers: Vec::new(),
            checkpoint_every: 1,
        }
    }
}

impl ExperimentConfig {
    /// The resolved configuration as TOML (every field written out).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// A lower bound of the memory a training run of this configuration needs beyond its
    /// data, in bytes, with the terms it is made of: the parameters with their gradients and
    /// two optimizer moments (4 × synapses), and what the largest batch must hold at least —
    /// every unit's output and its gradient per sample (2 values per sample and unit), for the
    /// time-stepped layers per step of the training batch (3 values per sample, step and
    /// unit, kept for BPTT). A bound, not a forecast (measured peaks lie well above it,
    /// BENCHMARKS.md): sizes beyond it cannot run at all, and are refused before anything is
    /// allocated.
    pub fn memory_estimate(&self) -> (u128, String) {
        let b: u128 = match self.precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        };
        let sizes = self.layer_sizes();
        let bias = self.network.bias_times.len() as u128;
        let synapses = sizes
            .windows(2)
            .map(|io| mul(&[io[0] as u128 + bias, io[1] as u128]))
            .fold(0u128, u128::saturating_add);
        let neurons = sizes[1..].iter().map(|&n| n as u128).fold(0u128, u128::saturating_add);
        let units = neurons.saturating_add(sizes[0] as u128);
        let t = &self.training;
        let batch = t.batch_size.max(t.batch_size_eval) as u128;
        let params = mul(&[4, synapses, b]);
        let (activations, term) = match self.method {
            Method::Surrogate => (
                mul(&[3, t.batch_size as u128, self.surrogate.steps as u128, units, b]),
                format!(
                    "training batch {} × {} steps × {units} units × 3 values",
                    t.batch_size, self.surrogate.steps
                ),
            ),
            Method::Ttfs | Method::Sampling => {
                let rows = match self.method {
                    Method::Sampling => (self.sampling.fantasy_chains as u128).max(batch),
                    _ => batch,
                };
                (mul(&[2, rows, units, b]), format!("batch {rows} × {units} units × 2 values"))
            }
        };
        let total = params.saturating_add(activations);
        let how = format!("{synapses} synapses × 4 values + {term}, {b} bytes each");
        (total, how)
    }

    /// The keys that define the trained model — the method, the dataset (its inputs and
    /// classes), the network and the method's own layer settings — as `key → TOML value`; not
    /// how it was trained (schedule, loss, weight initialisation, chip, compute path). A
    /// checkpoint carries them ([`MODEL_METADATA`]) and loading it under a configuration that
    /// disagrees names the first differing key ([`Self::model_mismatch`]).
    pub fn model_definition(&self) -> std::collections::BTreeMap<String, String> {
        let value = toml::Value::try_from(self).expect("config serialises");
        let mut out = std::collections::BTreeMap::new();
        out.insert("method".into(), self.method.name().into());
        out.insert("dataset".into(), self.dataset.name().into());
        let mut section = |name: &str, skip: &[&str]| {
            if let Some(t) = value.get(name).and_then(toml::Value::as_table) {
                for (k, v) in t.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
                    flatten(v, &format!("{name}.{k}"), &mut out);
                }
            }
        };
        section("network", &["weight-init", "compute"]);
        match self.method {
            Method::Ttfs => {}
            Method::Surrogate => section("surrogate", &["derivative", "detach-reset"]),
            Method::Sampling => section(
                "sampling",
                &[
                    "wake-steps",
                    "sleep-steps",
                    "sleep-chains",
                    "fantasy-chains",
                    "momentum",
                    "weight-decay",
                    "weight-std",
                ],
            ),
        }
        out
    }

    /// The first key on which a checkpoint's model definition (`saved`, from its metadata)
    /// and this configuration's disagree: `(key, saved value, configured value)`, a missing
    /// value shown as `(absent)`.
    pub fn model_mismatch(
        &self,
        saved: &std::collections::BTreeMap<String, String>,
    ) -> Option<(String, String, String)> {
        let own = self.model_definition();
        let absent = || "(absent)".to_string();
        own.keys().chain(saved.keys()).find_map(|k| {
            let (a, b) = (saved.get(k), own.get(k));
            (a != b).then(|| {
                (k.clone(), a.cloned().unwrap_or_else(absent), b.cloned().unwrap_or_else(absent))
            })
        })
    }

    /// Check the rules every method shares (network shape and neurons, training schedule, the
    /// loss); [`ExperimentConfig::validate`] adds the method's own.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] describing the first violated rule.
    pub(super) fn validate_shared(&self) -> Result<(), ConfigError> {
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
        if !(in_unit_interval(t.adam_beta1) && in_unit_interval(t.adam_beta2)) {
            return bad(format!(
                "training.adam-beta1 and adam-beta2 must be in [0, 1), got {} and {}",
                t.adam_beta1, t.adam_beta2
            ));
        }
        if !positive(t.adam_epsilon) {
            return bad(format!("training.adam-epsilon must be positive, got {}", t.adam_epsilon));
        }
        if let Some(m) = t.max_missing.iter().find(|m| !(0.0..=1.0).contains(*m)) {
            return bad(format!(
                "training.max-missing entries are fractions in [0, 1], got {m} in {:?}",
                t.max_missing
            ));
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
        if let Some(l) = t.frozen_layers.iter().find(|&&l| l >= n_layers) {
            return bad(format!(
                "training.frozen-layers names layer {l}, the network has layers 0..{}",
                n_layers - 1
            ));
        }
        self.feedback.validate()?;
        self.loss.validate()
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

    /// The network's layers' `(rows, neurons)` (rows = inputs plus bias rows): the shapes a
    /// chip is drawn for.
    pub fn chip_shapes(&self) -> Vec<(usize, usize)> {
        match self.method {
            Method::Surrogate => self
                .surrogate_layer_configs()
                .iter()
                .map(|c| (c.n_inputs + c.bias_times.len(), c.n_outputs))
                .collect(),
            _ => self
                .layer_configs()
                .iter()
                .map(|c| (c.n_inputs + c.bias_times.len(), c.n_outputs))
                .collect(),
        }
    }

    /// The chips `[chip]` names for this network (none without a chip).
    ///
    /// # Errors
    /// As [`ChipConfig::chips`].
    pub fn chips(&self) -> Result<Vec<crate::chip::Chip>, ConfigError> {
        self.chip.chips(&self.chip_shapes())
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
