//! The first-spike-time loss of Göltz, Kriener et al. (2021) and the earliest-spike prediction.

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, positive};

/// Loss on output spike times `t_k` (model time units) for a label `y`:
///
/// ```text
/// L = −log softmax_k(−t_k/(ξτs))[y] + α exp(t_y/(βτs))
/// ```
///
/// averaged over the batch. The first term pushes the label neuron to fire first, the second
/// pushes it to fire early at all. A sample whose label neuron is silent (`t_y = +∞`) costs the
/// constant [`SILENT_LABEL_LOSS`] and contributes no gradient, as in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TtfsLoss {
    /// ξ, the softmax temperature in units of τs (reference 0.2).
    pub xi: f64,
    /// α, the weight of the early-label regulariser (reference 0.005).
    pub alpha: f64,
    /// β, the time scale of the regulariser in units of τs (reference 1).
    pub beta: f64,
    /// τs used to scale ξ and β, in model time units (1 in the reference).
    pub tau_syn: f64,
}

/// Loss of a sample whose label neuron never fires.
pub const SILENT_LABEL_LOSS: f64 = 100.0;

impl Default for TtfsLoss {
    fn default() -> Self {
        Self { xi: 0.2, alpha: 0.005, beta: 1.0, tau_syn: 1.0 }
    }
}

/// Per-sample losses and `∂(mean loss)/∂t`.
#[derive(Debug, Clone)]
pub struct LossOutput {
    /// Loss of each sample, shape `[batch]`.
    pub per_sample: Tensor<1>,
    /// `∂L/∂t` of the batch-mean loss, shape `[batch, n_classes]`; zero for silent neurons.
    pub delta: Tensor<2>,
}

impl TtfsLoss {
    /// Check the values: ξ, β and τs scale times and must be positive.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the keys.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(positive(self.xi) && positive(self.beta) && positive(self.tau_syn)) {
            return Err(ConfigError::Invalid(
                "loss.xi, loss.beta and loss.tau-syn must be positive".into(),
            ));
        }
        if self.alpha.is_nan() || self.alpha < 0.0 {
            return Err(ConfigError::Invalid(format!(
                "loss.alpha must be ≥ 0, got {}",
                self.alpha
            )));
        }
        Ok(())
    }

    /// Loss and its exact gradient with respect to the output times.
    ///
    /// # Shapes
    /// - `times`: `[batch, n_classes]` (`+∞` = silent), `labels`: `[batch]`
    pub fn forward(&self, times: Tensor<2>, labels: Tensor<1, Int>) -> LossOutput {
        let [batch, n_classes] = times.dims();
        let temp = self.xi * self.tau_syn;
        let reg_scale = self.beta * self.tau_syn;
        let finite = times.clone().is_finite();
        let logits = times.clone().div_scalar(-temp).mask_fill(finite.clone().bool_not(), -1e30);
        let max = logits.clone().max_dim(1); // [B, 1]
        let shifted = logits - max;
        let exp = shifted.clone().exp();
        let sum = exp.clone().sum_dim(1);
        let prob = exp / sum.clone();
        let labels2 = labels.reshape([batch, 1]);
        let onehot = labels2.clone().one_hot_like(n_classes, &times);
        let label_time = times.gather(1, labels2); // [B, 1]
        let label_ok = label_time.clone().is_finite();
        let t_y = label_time.mask_fill(label_ok.clone().bool_not(), 0.0);
        let reg = t_y.div_scalar(reg_scale).exp().mul_scalar(self.alpha); // [B, 1]
        let ce = sum.log() - (shifted * onehot.clone()).sum_dim(1);
        let per_sample = (ce + reg.clone())
            .mask_fill(label_ok.clone().bool_not(), SILENT_LABEL_LOSS)
            .reshape([batch]);
        let d_ce = (prob - onehot.clone()).div_scalar(-temp);
        let d_reg = onehot * reg.div_scalar(reg_scale);
        let delta = (d_ce + d_reg)
            .div_scalar(batch as f64)
            .mask_fill(label_ok.bool_not().expand([batch, n_classes]), 0.0)
            .mask_fill(finite.bool_not(), 0.0);
        LossOutput { per_sample, delta }
    }
}

/// One-hot encoding in the float dtype and device of a reference tensor.
trait OneHotLike {
    fn one_hot_like(self, n: usize, like: &Tensor<2>) -> Tensor<2>;
}

impl OneHotLike for Tensor<2, Int> {
    fn one_hot_like(self, n: usize, like: &Tensor<2>) -> Tensor<2> {
        let [batch, _] = self.dims();
        let classes = Tensor::<1, Int>::arange(0..n as i64, &like.device())
            .reshape([1, n])
            .expand([batch, n]);
        let hit = classes.equal(self.expand([batch, n]));
        like.clone().zeros_like().mask_fill(hit, 1.0)
    }
}

/// Predicted class per sample: the earliest output spike (ties → lowest index), or `None`
/// where no output neuron fires.
///
/// # Shapes
/// - `times`: `[batch, n_classes]` → `batch` entries
pub fn predict(times: Tensor<2>) -> Vec<Option<usize>> {
    let [batch, _] = times.dims();
    let first = times.clone().min_dim(1).reshape([batch]);
    let arg = times.argmin(1).reshape([batch]);
    let first = crate::util::to_vec_f64(first);
    let arg = crate::util::to_vec_i64(arg);
    first.iter().zip(arg).map(|(t, k)| t.is_finite().then_some(k as usize)).collect()
}
