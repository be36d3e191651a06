//! Feedback rules: how a layered classifier sends its error back to its hidden layers, and how
//! the feedback matrices learn.
//!
//! One rule per run, chosen by `[feedback] rule` (CLI `--feedback RULE`) and made a value once
//! ([`FeedbackConfig::init`] → `Box<dyn FeedbackRule>`). The models take only the
//! [`ErrorPath`] the rule hands them each step; the rule owns its matrices.
//!
//! | rule | error to layer `k − 1` | matrices | learns |
//! |---|---|---|---|
//! | `bp` | through `W_k` (backpropagation) | none | — |
//! | `fa` | through a fixed random `B_k` (Lillicrap et al. 2016) | `B_k ~ N(μ_k, σ_k)` | never |
//! | `dfa` | output error straight to hidden layer `h` via `D_h` (Nøkland 2016) | `D_h ~ N(μ_{h+1}, σ_{h+1})` | never |
//! | `sign` | through `sign(W_k) · rms(W_k)` (Liao et al. 2016; Xiao et al. 2018) | from `W_k` each step | with `W` |
//! | `kp` | through `B_k` (Kolen–Pollack) | `B_k ~ N(μ_k, σ_k)` | `B_k` gets every change of `W_k` (optimizer steps and weight bumps); both decay by `kp-decay` per such batch, so `W − B` shrinks by `1 − λ` each time |
//! | `sal` | through `B_k` | `B_k ~ N(μ_k, σ_k)` | by spike-based alignment learning in input-free sleep phases ([`crate::sampling::sal`]) |
//!
//! `μ_k, σ_k` are the configured weight initialisation of layer `k` (`network.weight-init`):
//! the matrices are "initialised like W", drawn on the host from their own stream (seeded
//! from the run's seed), so the forward weights' draws are those of a `bp` run. Matrices have
//! the real-input rows of `W_k` only (bias spikes receive no error). Layer numbers are those of
//! [`crate::error_path`]: `k = 1 ..= L−1`; a DFA matrix `D_h` carries the label `k = h + 1`.

use crate::util::StdRng;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::error_path::ErrorPath;
use crate::sampling::sal::{SalConfig, SalNetwork, angle_degrees};
use crate::util::{normal_weights, to_vec_f64};

/// Offset of the feedback matrices' random stream from the run's seed.
const FEEDBACK_SEED: u64 = 0xFEED_BAC0;

/// The feedback rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FeedbackRuleName {
    /// Backpropagation (`B = Wᵀ`).
    #[default]
    Bp,
    /// Feedback alignment: fixed random `B`.
    Fa,
    /// Direct feedback alignment: fixed random output-to-hidden matrices.
    Dfa,
    /// Sign symmetry: `sign(Wᵀ)` scaled to `W`'s RMS.
    Sign,
    /// Kolen–Pollack: `B` gets the transposed update, both decay.
    Kp,
    /// Spike-based alignment learning in sleep phases.
    Sal,
}

impl FeedbackRuleName {
    /// The config spelling (`bp`, `fa`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bp => "bp",
            Self::Fa => "fa",
            Self::Dfa => "dfa",
            Self::Sign => "sign",
            Self::Kp => "kp",
            Self::Sal => "sal",
        }
    }
}

/// The `[feedback]` section of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct FeedbackConfig {
    /// The rule.
    pub rule: FeedbackRuleName,
    /// Kolen–Pollack's decay λ per batch that moves the weights (a step or a bump), applied
    /// to `W` and `B` of every layer with a feedback matrix (`kp` only).
    pub kp_decay: f64,
    /// SAL: a sleep phase after every this many epochs.
    pub sal_every: usize,
    /// SAL: if > 0, a sleep phase after every this many batches that move the weights (steps
    /// and bumps) instead of after epochs (`sal-every` is then unused).
    pub sal_every_batches: usize,
    /// SAL: each layer pair's weights enter the sleeping network scaled to this RMS coupling
    /// (and `B` is scaled back after): the rule's fixed point `B = W` holds at any scale, but
    /// large couplings bias it (sal.md §3) and the trained networks' weights are not sampling
    /// couplings. The sleeping network's biases are centred ([`SalNetwork::centred`]) so that
    /// no neuron saturates on the weights' mean.
    pub sal_coupling_rms: f64,
    /// SAL's plasticity and sleep settings.
    pub sal: SalConfig,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            rule: FeedbackRuleName::Bp,
            kp_decay: 1e-3,
            sal_every: 1,
            sal_every_batches: 0,
            sal_coupling_rms: 0.3,
            sal: SalConfig::default(),
        }
    }
}

impl FeedbackConfig {
    /// Checks every key.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(format!("feedback.{m}")));
        if !(self.kp_decay.is_finite() && (0.0..1.0).contains(&self.kp_decay)) {
            return bad(format!("kp-decay must be in [0, 1), got {}", self.kp_decay));
        }
        if self.sal_every == 0 {
            return bad("sal-every must be ≥ 1 epoch".into());
        }
        if !(self.sal_coupling_rms.is_finite() && self.sal_coupling_rms > 0.0) {
            return bad(format!(
                "sal-coupling-rms must be positive and finite, got {}",
                self.sal_coupling_rms
            ));
        }
        self.sal.validate("feedback.sal")
    }

    /// The rule as a value, its matrices drawn for a network of `shapes` (each layer's
    /// `(n_inputs, n_outputs)`, real inputs) with weight initialisation `init` (`[mean, std]`
    /// per layer), from a stream seeded by `seed`.
    ///
    /// # Panics
    /// If `init` does not have one entry per layer.
    pub fn init(
        &self,
        shapes: &[(usize, usize)],
        init: &[[f64; 2]],
        seed: u64,
        device: &Device,
    ) -> Box<dyn FeedbackRule> {
        assert_eq!(shapes.len(), init.len(), "one weight initialisation per layer");
        let mut rng = StdRng::seed_from_u64(seed ^ FEEDBACK_SEED);
        let n = shapes.len();
        let n_classes = shapes[n - 1].1;
        let mut draw = |shape: [usize; 2], k: usize| {
            let [mean, std] = init[k];
            normal_weights(shape, mean, std, device, &mut rng)
        };
        let matrices: Vec<Tensor<2>> = match self.rule {
            FeedbackRuleName::Bp | FeedbackRuleName::Sign => Vec::new(),
            FeedbackRuleName::Dfa => {
                (0..n - 1).map(|h| draw([shapes[h].1, n_classes], h + 1)).collect()
            }
            FeedbackRuleName::Fa | FeedbackRuleName::Kp | FeedbackRuleName::Sal => {
                (1..n).map(|k| draw([shapes[k].0, shapes[k].1], k)).collect()
            }
        };
        Box::new(Rule {
            cfg: self.clone(),
            shapes: shapes.to_vec(),
            matrices,
            seed,
            sleeps: 0,
            batches: 0,
            rates: Vec::new(),
        })
    }
}

/// A feedback rule ([`FeedbackConfig::init`]). `weights` arguments are every layer's forward
/// weights, full (`[n_inputs + n_bias, n_outputs]`), input side first.
pub trait FeedbackRule: Send {
    /// Which rule this is.
    fn name(&self) -> FeedbackRuleName;

    /// The path of this step's error.
    fn path(&mut self, weights: &[Tensor<2>]) -> ErrorPath;

    /// After a batch moved the weights from `before` to `after` (an optimizer step or a
    /// weight bump; the layers in `frozen` did not move): Kolen–Pollack moves `B_k` by the
    /// same change and decays both `W_k` and `B_k` (it rewrites `after[k]`; a frozen `W_k`
    /// and its `B_k` are left as they are). What it writes is detached: on an autodiff device
    /// a fresh leaf, ready to be a trainable parameter again. Returns whether it rewrote
    /// `after`; the other rules do nothing and return `false`.
    fn after_update(
        &mut self,
        before: &[Tensor<2>],
        after: &mut [Tensor<2>],
        frozen: &[usize],
    ) -> bool;

    /// After epoch `epoch` (0-based): SAL's sleep phase (on the epoch schedule). Returns
    /// named values for `metrics.csv` (SAL: the mean rate of the sleeps since the last epoch,
    /// either schedule).
    fn end_epoch(&mut self, epoch: usize, weights: &[Tensor<2>]) -> Vec<(String, f64)>;

    /// The feedback matrices now (`B_k` for `k = 1..L−1`, or `D_h` for DFA; empty for `bp`;
    /// for `sign` the ones of the last [`path`](Self::path)).
    fn matrices(&self) -> Vec<Tensor<2>>;

    /// Replaces the matrices (from a saved run).
    fn set_matrices(&mut self, matrices: Vec<Tensor<2>>);

    /// The rule's counters and pending reports (for resuming a run).
    fn counters(&self) -> FeedbackCounters;

    /// Replaces the counters (from a resumed run).
    fn set_counters(&mut self, counters: FeedbackCounters);
}

/// What a feedback rule counts besides its matrices: SAL's sleeps (they seed the next sleep),
/// the batches seen (the batch schedule) and the rates of the sleeps not yet reported (each
/// `f64` as its bits).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedbackCounters {
    /// Sleep phases so far.
    pub sleeps: u64,
    /// Batches seen by `after_update`.
    pub batches: u64,
    /// Per sleep since the last report, each layer pair's rate (bits).
    pub rates: Vec<Vec<u64>>,
}

struct Rule {
    cfg: FeedbackConfig,
    /// Each layer's `(n_inputs, n_outputs)`, real inputs.
    shapes: Vec<(usize, usize)>,
    matrices: Vec<Tensor<2>>,
    seed: u64,
    sleeps: u64,
    /// Batches seen by `after_update` (SAL's batch schedule).
    batches: u64,
    /// SAL: the mean rate of each layer pair's sleeps since the last epoch report.
    rates: Vec<Vec<f64>>,
}

/// The real-input rows of each layer's weights.
fn real_rows(weights: &[Tensor<2>], shapes: &[(usize, usize)]) -> Vec<Tensor<2>> {
    weights.iter().zip(shapes).map(|(w, (n_in, _))| w.clone().narrow(0, 0, *n_in)).collect()
}

/// `sign(W) · rms(W)`.
fn sign_matrix(w: &Tensor<2>) -> Tensor<2> {
    let rms = w.clone().powi_scalar(2).mean().sqrt();
    w.clone().sign() * rms.unsqueeze::<2>()
}

impl Rule {
    /// SAL: one sleep phase of every layer pair on `weights`; `B` takes what it learned.
    fn sleep(&mut self, weights: &[Tensor<2>]) {
        let mut rates = Vec::new();
        for (k, wk) in weights.iter().enumerate().skip(1) {
            let b = &self.matrices[k - 1];
            let [n_lower, n_upper] = b.dims();
            let w = to_vec_f64(wk.clone().narrow(0, 0, n_lower));
            let rms = (w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64).sqrt();
            let scale = if rms > 0.0 { self.cfg.sal_coupling_rms / rms } else { 1.0 };
            let scaled = |v: Vec<f64>| v.into_iter().map(|x| x * scale).collect::<Vec<_>>();
            let mut net = SalNetwork::layer_pair(
                &scaled(w),
                &scaled(to_vec_f64(b.clone())),
                n_lower,
                n_upper,
            )
            .centred(self.cfg.sal.tau_ref);
            let seed = self.seed ^ (self.sleeps << 20) ^ (k as u64);
            rates.push(net.sleep(&self.cfg.sal, seed));
            let learned: Vec<f64> =
                net.feedback_block(n_lower).into_iter().map(|x| x / scale).collect();
            self.matrices[k - 1] = Tensor::from_data(
                TensorData::new(learned, [n_lower, n_upper]),
                (&b.device(), b.dtype()),
            );
        }
        self.rates.push(rates);
        self.sleeps += 1;
    }
}

impl FeedbackRule for Rule {
    fn name(&self) -> FeedbackRuleName {
        self.cfg.rule
    }

    fn path(&mut self, weights: &[Tensor<2>]) -> ErrorPath {
        match self.cfg.rule {
            FeedbackRuleName::Bp => ErrorPath::Backprop,
            FeedbackRuleName::Dfa => ErrorPath::Direct(self.matrices.clone()),
            FeedbackRuleName::Sign => {
                let rows = real_rows(weights, &self.shapes);
                self.matrices = rows[1..].iter().map(sign_matrix).collect();
                ErrorPath::Feedback(self.matrices.clone())
            }
            FeedbackRuleName::Fa | FeedbackRuleName::Kp | FeedbackRuleName::Sal => {
                ErrorPath::Feedback(self.matrices.clone())
            }
        }
    }

    fn after_update(
        &mut self,
        before: &[Tensor<2>],
        after: &mut [Tensor<2>],
        frozen: &[usize],
    ) -> bool {
        if self.cfg.rule == FeedbackRuleName::Sal && self.cfg.sal_every_batches > 0 {
            self.batches += 1;
            if self.batches.is_multiple_of(self.cfg.sal_every_batches as u64) {
                self.sleep(after);
            }
            return false;
        }
        if self.cfg.rule != FeedbackRuleName::Kp {
            return false;
        }
        let keep = 1.0 - self.cfg.kp_decay;
        for k in (1..after.len()).filter(|k| !frozen.contains(k)) {
            let b = &mut self.matrices[k - 1];
            let n_in = b.dims()[0];
            let update = after[k].clone().narrow(0, 0, n_in) - before[k].clone().narrow(0, 0, n_in);
            // W ← (1 − λ) W_before + ΔW, B ← (1 − λ) B + ΔW: W − B shrinks by (1 − λ).
            // Detached: on an autodiff device the results are fresh leaves, so no graph (nor
            // its consumed tape) reaches from one batch into the next through W or B.
            *b = (b.clone().mul_scalar(keep) + update).detach();
            after[k] =
                (after[k].clone() - before[k].clone().mul_scalar(self.cfg.kp_decay)).detach();
        }
        true
    }

    fn end_epoch(&mut self, epoch: usize, weights: &[Tensor<2>]) -> Vec<(String, f64)> {
        if self.cfg.rule != FeedbackRuleName::Sal {
            return Vec::new();
        }
        if self.cfg.sal_every_batches == 0 && (epoch + 1).is_multiple_of(self.cfg.sal_every) {
            self.sleep(weights);
        }
        let rates = std::mem::take(&mut self.rates);
        (1..weights.len())
            .map(|k| {
                let r: Vec<f64> = rates.iter().filter_map(|v| v.get(k - 1).copied()).collect();
                let mean =
                    if r.is_empty() { f64::NAN } else { r.iter().sum::<f64>() / r.len() as f64 };
                (format!("sal_rate_l{k}"), mean)
            })
            .collect()
    }

    fn matrices(&self) -> Vec<Tensor<2>> {
        self.matrices.clone()
    }

    fn set_matrices(&mut self, matrices: Vec<Tensor<2>>) {
        self.matrices = matrices;
    }

    fn counters(&self) -> FeedbackCounters {
        let rates = self.rates.iter().map(|r| r.iter().map(|x| x.to_bits()).collect()).collect();
        FeedbackCounters { sleeps: self.sleeps, batches: self.batches, rates }
    }

    fn set_counters(&mut self, c: FeedbackCounters) {
        self.sleeps = c.sleeps;
        self.batches = c.batches;
        self.rates =
            c.rates.into_iter().map(|r| r.into_iter().map(f64::from_bits).collect()).collect();
    }
}

/// What each feedback matrix stands in for: `W_k`'s real rows (`k ≥ 1`), or for DFA's `D_h`
/// the linear backprop path `W_{h+1} ⋯ W_{L−1}` (real rows), both `[n_lower, n_upper]`.
pub fn references(rule: FeedbackRuleName, weights: &[Tensor<2>]) -> Vec<Tensor<2>> {
    let n = weights.len();
    // Layer k's real inputs are layer k − 1's outputs (k ≥ 1: the layers a matrix stands for).
    let rows: Vec<Tensor<2>> =
        (1..n).map(|k| weights[k].clone().narrow(0, 0, weights[k - 1].dims()[1])).collect();
    match rule {
        FeedbackRuleName::Dfa => (0..n - 1)
            .map(|h| rows[h + 1..].iter().fold(rows[h].clone(), |acc, w| acc.matmul(w.clone())))
            .collect(),
        _ => rows,
    }
}

/// Per feedback matrix `k = 1 ..= L−1`: the angle (degrees) between it and what it stands in
/// for ([`references`]), the norm ratio `‖B‖/‖W‖` and the fraction of entries with the same
/// sign, as `metrics.csv` columns `angle_l{k}`, `norm_ratio_l{k}`, `sign_agreement_l{k}`.
/// Under `bp` the matrices are the references themselves (0°, 1, 1).
pub fn alignment_columns(
    rule: FeedbackRuleName,
    matrices: &[Tensor<2>],
    weights: &[Tensor<2>],
) -> Vec<(String, f64)> {
    let refs = references(rule, weights);
    let mut out = Vec::new();
    for (i, w) in refs.iter().enumerate() {
        let k = i + 1;
        if rule == FeedbackRuleName::Bp {
            out.extend([(format!("angle_l{k}"), 0.0), (format!("norm_ratio_l{k}"), 1.0)]);
            out.push((format!("sign_agreement_l{k}"), 1.0));
            continue;
        }
        let w = to_vec_f64(w.clone());
        let b = to_vec_f64(matrices[i].clone());
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let agree = b.iter().zip(&w).filter(|(x, y)| x.signum() == y.signum()).count();
        out.push((format!("angle_l{k}"), angle_degrees(&b, &w)));
        out.push((format!("norm_ratio_l{k}"), norm(&b) / norm(&w)));
        out.push((format!("sign_agreement_l{k}"), agree as f64 / w.len() as f64));
    }
    out
}

/// Every feedback column of `metrics.csv` after epoch `epoch`, as both layered learners write
/// them: the rule's own ([`FeedbackRule::end_epoch`], SAL's sleep), the [`alignment_columns`],
/// then `delta_angle_l{k}`: the angle between the hidden errors along the rule's path and
/// backprop's, which `delta_angles` computes given the path (`None`: no batch to compare on,
/// NaN); under `bp` they are 0° without being computed.
pub fn epoch_columns(
    rule: &mut dyn FeedbackRule,
    epoch: usize,
    weights: &[Tensor<2>],
    delta_angles: impl FnOnce(&ErrorPath) -> Option<Vec<f64>>,
) -> Vec<(String, f64)> {
    let mut columns = rule.end_epoch(epoch, weights);
    let path = rule.path(weights);
    let name = rule.name();
    columns.extend(alignment_columns(name, &rule.matrices(), weights));
    let n_hidden = weights.len() - 1;
    let angles = match name {
        FeedbackRuleName::Bp => vec![0.0; n_hidden],
        _ => delta_angles(&path).unwrap_or_else(|| vec![f64::NAN; n_hidden]),
    };
    for (k, a) in angles.into_iter().enumerate() {
        columns.push((format!("delta_angle_l{}", k + 1), a));
    }
    columns
}

/// The angle (degrees) between two errors, non-finite entries counted as 0.
pub fn error_angle(a: Tensor<2>, b: Tensor<2>) -> f64 {
    let clean = |t: Tensor<2>| {
        to_vec_f64(t).into_iter().map(|x| if x.is_finite() { x } else { 0.0 }).collect::<Vec<_>>()
    };
    angle_degrees(&clean(a), &clean(b))
}
