//! A sampling Boltzmann layer on tensors: a restricted Boltzmann machine with visible and label
//! units on one side and hidden units on the other, sampled by abstract neural sampling with
//! layer-wise sweeps over a batch of chains (one per image, or persistent fantasy chains).
//!
//! Units within a layer are not coupled, so a whole layer updates at once exactly: every step
//! updates the hidden layer from the visible/label states, then the visible/label layer from the
//! new hidden states (units held by a clamp keep their values). Each unit follows the counter
//! rule of [`super::neural`]: fire with σ(u − ln τ) when its counter ζ ≤ 1, be on for τ steps.
//! τ = 1 is block Gibbs sampling.
//!
//! Shapes: batch-major, `[chains, units]`; the visible/label layer is `[chains, n_visible +
//! n_label]` with the label units last.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::{log_softmax, softplus};
use burn::tensor::{Device, Distribution, Tensor};
use rand::Rng;

use crate::util::normal_weights;

/// The neural-sampling state of one layer of a batch of chains.
#[derive(Debug, Clone)]
pub struct LayerState {
    /// Refractory counters ζ, `[chains, units]` (a unit is on while ζ ≥ 1).
    pub zeta: Tensor<2>,
    /// On-states z ∈ {0, 1}, `[chains, units]`.
    pub z: Tensor<2>,
}

impl LayerState {
    /// All units off.
    pub fn off(chains: usize, units: usize, device: &Device) -> Self {
        let zeros = Tensor::zeros([chains, units], device);
        Self { zeta: zeros.clone(), z: zeros }
    }

    /// Units on where `z` is 1, as if they had just fired with τ = 1 (ready to fire again).
    pub fn from_states(z: Tensor<2>) -> Self {
        Self { zeta: z.clone(), z }
    }
}

/// One neural-sampling update of every unit of a layer from its membrane potentials `u`
/// (`[chains, units]`): units whose counter is ≤ 1 fire with probability σ(u − ln τ) and are then
/// on for `tau` steps; counters of the others count down.
///
/// # Panics
/// If `tau` is 0.
pub fn neural_sampling_update(u: Tensor<2>, state: LayerState, tau: u32) -> LayerState {
    assert!(tau >= 1, "the refractory time must be at least one step");
    let device = u.device();
    let q = crate::util::sigmoid(u - (tau as f64).ln());
    let r = Tensor::random(q.shape(), Distribution::Uniform(0.0, 1.0), &device);
    let fire = r.lower(q).bool_and(state.zeta.clone().lower_equal_elem(1.0));
    let zeta = (state.zeta - 1.0).clamp_min(0.0).mask_fill(fire, tau as f64);
    let z = zeta.clone().greater_equal_elem(1.0).float();
    LayerState { zeta, z }
}

/// Configuration of a [`SamplingRbm`].
#[derive(Config, Debug)]
pub struct SamplingRbmConfig {
    /// Visible (pixel) units.
    pub n_visible: usize,
    /// Label units (one per class).
    pub n_label: usize,
    /// Hidden units.
    pub n_hidden: usize,
    /// Standard deviation of the initial couplings (dimensionless log-odds).
    #[config(default = 0.01)]
    pub weight_std: f64,
}

impl SamplingRbmConfig {
    /// Couplings N(0, weight_std²), biases 0.
    pub fn init<R: Rng + ?Sized>(&self, device: &Device, rng: &mut R) -> SamplingRbm {
        let n_vl = self.n_visible + self.n_label;
        SamplingRbm {
            weights: Param::from_tensor(normal_weights(
                [n_vl, self.n_hidden],
                0.0,
                self.weight_std,
                device,
                rng,
            )),
            visible_bias: Param::from_tensor(Tensor::zeros([n_vl], device)),
            hidden_bias: Param::from_tensor(Tensor::zeros([self.n_hidden], device)),
            n_label: self.n_label,
        }
    }
}

/// A restricted Boltzmann machine over (visible + label, hidden) units, p(v, l, h) ∝
/// exp(b·[v, l] + c·h + [v, l] W h), sampled by neural sampling. Create with
/// [`SamplingRbmConfig`].
#[derive(Module, Debug)]
pub struct SamplingRbm {
    /// Couplings W, `[n_visible + n_label, n_hidden]` (label rows last).
    pub weights: Param<Tensor<2>>,
    /// Biases b of the visible and label units, `[n_visible + n_label]`.
    pub visible_bias: Param<Tensor<1>>,
    /// Biases c of the hidden units, `[n_hidden]`.
    pub hidden_bias: Param<Tensor<1>>,
    /// Number of label units (the last rows of W).
    pub n_label: usize,
}

impl SamplingRbm {
    /// Visible + label units.
    pub fn n_visible_label(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Visible (pixel) units.
    pub fn n_visible(&self) -> usize {
        self.n_visible_label() - self.n_label
    }

    /// Hidden units.
    pub fn n_hidden(&self) -> usize {
        self.weights.dims()[1]
    }

    /// Membrane potentials of the hidden units, c + [v, l] W.
    ///
    /// # Shapes
    /// `vl`: `[chains, n_visible + n_label]` → `[chains, n_hidden]`.
    pub fn hidden_potentials(&self, vl: Tensor<2>) -> Tensor<2> {
        vl.matmul(self.weights.val()) + self.hidden_bias.val().unsqueeze()
    }

    /// Membrane potentials of the visible and label units, b + h Wᵀ.
    ///
    /// # Shapes
    /// `h`: `[chains, n_hidden]` → `[chains, n_visible + n_label]`.
    pub fn visible_potentials(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.weights.val().transpose()) + self.visible_bias.val().unsqueeze()
    }

    /// One sweep: hidden layer from the visible/label states, then the visible/label layer from
    /// the new hidden states; where `clamp` is 1 the visible/label units keep `clamped` values.
    pub fn sweep(
        &self,
        vl: LayerState,
        h: LayerState,
        clamp: Option<(&Tensor<2>, &Tensor<2>)>,
        tau: u32,
    ) -> (LayerState, LayerState) {
        let h = neural_sampling_update(self.hidden_potentials(vl.z.clone()), h, tau);
        let mut vl = neural_sampling_update(self.visible_potentials(h.z.clone()), vl, tau);
        if let Some((mask, values)) = clamp {
            let free = mask.clone().neg() + 1.0;
            vl.z = vl.z * free.clone() + values.clone() * mask.clone();
            vl.zeta = vl.zeta * free + values.clone() * mask.clone();
        }
        (vl, h)
    }

    /// Exact log p(label | v) over one-hot label states, from the free energy:
    /// log p(y | v) = b_y + Σ_j softplus(c_j + (v W_v)_j + W_yj) − log Σ_y' (…).
    ///
    /// # Shapes
    /// `v`: `[batch, n_visible]` → `[batch, n_label]`.
    pub fn label_log_probs(&self, v: Tensor<2>) -> Tensor<2> {
        let (nv, nl, nh) = (self.n_visible(), self.n_label, self.n_hidden());
        let w = self.weights.val();
        let wv = w.clone().narrow(0, 0, nv);
        let wl = w.narrow(0, nv, nl);
        let a = v.matmul(wv) + self.hidden_bias.val().unsqueeze(); // [B, H]
        let batch = a.dims()[0];
        let x: Tensor<3> = a.unsqueeze_dim::<3>(1).expand([batch, nl, nh]) + wl.unsqueeze_dim(0);
        let free: Tensor<2> = softplus(x, 1.0).sum_dim(2).squeeze_dim(2);
        let bl = self.visible_bias.val().narrow(0, nv, nl);
        log_softmax(free + bl.unsqueeze(), 1)
    }

    /// Classification by sampling: clamp the image, let label and hidden units sample for
    /// `burn_in` + `steps` steps, and return each label unit's on-time over the last `steps`,
    /// cumulated step by step.
    ///
    /// # Shapes
    /// `v`: `[batch, n_visible]` → `steps` tensors `[batch, n_label]`: the label on-time summed
    /// up to and including each recorded step; and the hidden units' total on-time over the
    /// recorded steps (all samples).
    pub fn sample_labels(
        &self,
        v: Tensor<2>,
        tau: u32,
        burn_in: usize,
        steps: usize,
    ) -> (Vec<Tensor<2>>, f64) {
        let (nv, nl) = (self.n_visible(), self.n_label);
        let device = v.device();
        let batch = v.dims()[0];
        let w = self.weights.val();
        let wl = w.clone().narrow(0, nv, nl); // [L, H]
        // The clamped image's drive of the hidden units is the same at every step.
        let a = v.matmul(w.narrow(0, 0, nv)) + self.hidden_bias.val().unsqueeze();
        let bl = self.visible_bias.val().narrow(0, nv, nl).unsqueeze();
        let mut l = LayerState::off(batch, nl, &device);
        let mut h = LayerState::off(batch, self.n_hidden(), &device);
        let mut acc = Tensor::zeros([batch, nl], &device);
        let mut hidden_on = Tensor::zeros([batch, self.n_hidden()], &device);
        let mut out = Vec::with_capacity(steps);
        for t in 0..burn_in + steps {
            h = neural_sampling_update(a.clone() + l.z.clone().matmul(wl.clone()), h, tau);
            l = neural_sampling_update(
                bl.clone() + h.z.clone().matmul(wl.clone().transpose()),
                l,
                tau,
            );
            if t >= burn_in {
                acc = acc + l.z.clone();
                hidden_on = hidden_on + h.z.clone();
                out.push(acc.clone());
            }
        }
        (out, crate::util::to_vec_f64(hidden_on.sum())[0])
    }

    /// Pattern completion: units where `known` is 1 are clamped to `values`, the others (and the
    /// hidden layer) sample for `burn_in` + `steps` steps, starting from `values`. Returns the visible/label on-time
    /// fraction over the last `steps` (clamped units return their clamped value).
    ///
    /// # Shapes
    /// `values`, `known`: `[batch, n_visible + n_label]` → `[batch, n_visible + n_label]`.
    pub fn complete(
        &self,
        values: Tensor<2>,
        known: Tensor<2>,
        tau: u32,
        burn_in: usize,
        steps: usize,
    ) -> Tensor<2> {
        let [batch, n] = values.dims();
        let device = values.device();
        let mut vl = LayerState::from_states(values.clone());
        let mut h = LayerState::off(batch, self.n_hidden(), &device);
        let mut acc = Tensor::zeros([batch, n], &device);
        for t in 0..burn_in + steps {
            (vl, h) = self.sweep(vl, h, Some((&known, &values)), tau);
            if t >= burn_in {
                acc = acc + vl.z.clone();
            }
        }
        acc / steps.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::{BoltzmannMachine, StateHistogram};
    use crate::util::StdRng;
    use crate::util::to_vec_f64;
    use rand::SeedableRng;

    fn device() -> Device {
        crate::device::DeviceChoice::Flex.device().expect("flex")
    }

    /// A 3 + 0 / 2-unit RBM sampled with layer sweeps (τ = 1 and τ = 4, 400 chains) visits its
    /// 32 joint states with the exact Boltzmann probabilities (D_KL < 3·10⁻³).
    #[test]
    fn layer_sweeps_sample_the_joint() {
        let device = device();
        device.seed(1);
        let mut rng = StdRng::seed_from_u64(0);
        let rbm = SamplingRbmConfig::new(3, 0, 2).with_weight_std(1.0).init(&device, &mut rng);
        let rbm = SamplingRbm {
            visible_bias: Param::from_tensor(Tensor::from_floats([0.5, -0.5, 0.2], &device)),
            hidden_bias: Param::from_tensor(Tensor::from_floats([-0.3, 0.4], &device)),
            ..rbm
        };
        // The same machine as a general BM over (v0, v1, v2, h0, h1).
        let w = to_vec_f64(rbm.weights.val());
        let mut full = vec![0.0; 25];
        for i in 0..3 {
            for j in 0..2 {
                full[i * 5 + 3 + j] = w[i * 2 + j];
                full[(3 + j) * 5 + i] = w[i * 2 + j];
            }
        }
        let target =
            BoltzmannMachine::new(full, vec![0.5, -0.5, 0.2, -0.3, 0.4]).exact_distribution();
        for tau in [1, 4] {
            let chains = 400;
            let mut vl = LayerState::off(chains, 3, &device);
            let mut h = LayerState::off(chains, 2, &device);
            let mut hist = StateHistogram::new(5);
            for t in 0..600 {
                (vl, h) = rbm.sweep(vl, h, None, tau);
                if t >= 100 {
                    let v = to_vec_f64(vl.z.clone());
                    let hz = to_vec_f64(h.z.clone());
                    for c in 0..chains {
                        let mut s = 0;
                        for i in 0..3 {
                            s |= (v[c * 3 + i] as usize) << i;
                        }
                        for j in 0..2 {
                            s |= (hz[c * 2 + j] as usize) << (3 + j);
                        }
                        hist.add(s, 1.0);
                    }
                }
            }
            let d = hist.dkl_from(&target, 1.0);
            assert!(d < 3e-3, "τ = {tau}: D_KL {d}");
        }
    }

    /// The exact label posterior is a normalised distribution, and agrees with enumeration of
    /// a tiny RBM (2 visible, 2 labels, 1 hidden): p(y|v) ∝ e^{b_y} (1 + e^{c + v·W_v + W_y}).
    #[test]
    fn label_posterior_by_hand() {
        let device = device();
        let rbm = SamplingRbm {
            weights: Param::from_tensor(Tensor::from_floats(
                [[0.5], [-1.0], [2.0], [0.0]],
                &device,
            )),
            visible_bias: Param::from_tensor(Tensor::from_floats([0.1, 0.2, 0.3, -0.3], &device)),
            hidden_bias: Param::from_tensor(Tensor::from_floats([-0.5], &device)),
            n_label: 2,
        };
        let v = Tensor::from_floats([[1.0, 1.0]], &device);
        let lp = to_vec_f64(rbm.label_log_probs(v));
        let x = -0.5 + 0.5 - 1.0;
        let s0 = 0.3f64.exp() * (1.0 + (x + 2.0f64).exp());
        let s1 = (-0.3f64).exp() * (1.0 + x.exp());
        assert!((lp[0].exp() - s0 / (s0 + s1)).abs() < 1e-5, "{lp:?}");
        assert!((lp[1].exp() - s1 / (s0 + s1)).abs() < 1e-5);
    }
}
