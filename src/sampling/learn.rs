//! Learning Boltzmann machines from spike-derived states.
//!
//! - **Wake–sleep / contrastive** ([`WakeSleep`]): ΔW_ij = η(⟨z_i z_j⟩_data − ⟨z_i z_j⟩_model),
//!   Δb_i = η(⟨z_i⟩_data − ⟨z_i⟩_model). For a fully visible machine with a known target the data
//!   term is exact and the rule is the gradient of D_KL(p* ‖ p); the model term comes from any
//!   [`Sampler`] (abstract, Gibbs or LIF), run on persistent chains. With the LIF sampler in the
//!   loop, training compensates the sampler's systematic errors (the chip-in-the-loop idea).
//! - **Importance-weighted target matching** (Czischek et al., SciPost Phys. 2022;
//!   [`ImportanceWeighted`]): for machines with hidden units and a target over the visible ones,
//!   weight every free sample z = (v, h) by r(v) = 1 − p*(v)/p̂(v), with p̂ the sampled visible
//!   histogram: Δb = −η⟨r z⟩, ΔW = −η⟨r z zᵀ⟩ (masked to the connectivity). No clamped run.
//!
//! Both feed an [`Optimizer`] (SGD with η(t) = η₀/(1 + t/t₀), or Adam), with element-wise
//! clipping of the update and optional quantisation of the parameters the sampler sees
//! ([`Quantisation`]: double-precision shadow parameters, rounded per run, as on BrainScaleS).

use serde::{Deserialize, Serialize};

use super::boltzmann::{BoltzmannMachine, marginals, pack, second_moments};
use super::sampler::Sampler;

/// Time-weighted first and second moments of a sampler's states over all chains: `(⟨z⟩ [K],
/// ⟨z zᵀ⟩ [K, K])`, from `steps` steps after `burn_in`.
pub fn sampled_moments<S: Sampler + ?Sized>(
    sampler: &mut S,
    burn_in: usize,
    steps: usize,
) -> (Vec<f64>, Vec<f64>) {
    let k = sampler.units();
    for _ in 0..burn_in {
        sampler.step();
    }
    let (mut m, mut c) = (vec![0.0; k], vec![0.0; k * k]);
    let mut on = Vec::with_capacity(k);
    for _ in 0..steps {
        sampler.step();
        for chain in 0..sampler.chains() {
            on.clear();
            on.extend(
                sampler.state(chain).iter().enumerate().filter(|(_, z)| **z == 1).map(|x| x.0),
            );
            for &i in &on {
                m[i] += 1.0;
                for &j in &on {
                    c[i * k + j] += 1.0;
                }
            }
        }
    }
    let n = (steps * sampler.chains()).max(1) as f64;
    m.iter_mut().for_each(|x| *x /= n);
    c.iter_mut().for_each(|x| *x /= n);
    (m, c)
}

/// How parameter updates are applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum Optimizer {
    /// Plain steps with η(t) = lr / (1 + t/decay) (sbs's default is 10/(100 + t): lr 0.1, decay
    /// 100).
    Sgd {
        /// Initial learning rate η₀.
        lr: f64,
        /// Steps t₀ over which η halves (∞-like values: constant η).
        decay: f64,
    },
    /// Adam (β₁ 0.9, β₂ 0.999, ε 1e-8).
    Adam {
        /// Learning rate.
        lr: f64,
    },
}

/// Rounding of the parameters the sampler sees to a grid, as on analog hardware: weights to
/// `2^(weight_bits−1) − 1` signed levels over ±`weight_max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Quantisation {
    /// Bits of a signed weight (BrainScaleS-2: 6 + sign = 7).
    pub weight_bits: u32,
    /// Largest representable |W|.
    pub weight_max: f64,
}

impl Quantisation {
    /// `w` rounded to the nearest level and clipped to ±`weight_max`.
    pub fn apply(&self, w: f64) -> f64 {
        let levels = ((1u64 << (self.weight_bits - 1)) - 1) as f64;
        let step = self.weight_max / levels;
        (w / step).round().clamp(-levels, levels) * step
    }
}

/// The optimiser's state over a flat parameter vector (W then b).
#[derive(Debug, Clone)]
pub struct OptimizerState {
    rule: Optimizer,
    /// Largest |update| per element.
    clip: f64,
    t: u64,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl OptimizerState {
    /// A fresh state for `n` parameters; updates are clipped to ±`clip`.
    pub fn new(rule: Optimizer, clip: f64, n: usize) -> Self {
        Self { rule, clip, t: 0, m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// Applies one ascent step along `direction` (the rule's Δ before the learning rate).
    pub fn step(&mut self, params: &mut [f64], direction: &[f64]) {
        self.t += 1;
        let t = self.t as f64;
        for (i, (p, &g)) in params.iter_mut().zip(direction).enumerate() {
            let delta = match self.rule {
                Optimizer::Sgd { lr, decay } => lr / (1.0 + (t - 1.0) / decay) * g,
                Optimizer::Adam { lr } => {
                    self.m[i] = 0.9 * self.m[i] + 0.1 * g;
                    self.v[i] = 0.999 * self.v[i] + 0.001 * g * g;
                    let mh = self.m[i] / (1.0 - 0.9f64.powf(t));
                    let vh = self.v[i] / (1.0 - 0.999f64.powf(t));
                    lr * mh / (vh.sqrt() + 1e-8)
                }
            };
            *p += delta.clamp(-self.clip, self.clip);
        }
    }
}

/// Flat (W upper triangle, b) parameter layout of a machine.
fn to_params(bm: &BoltzmannMachine) -> Vec<f64> {
    let k = bm.units();
    let mut p = Vec::with_capacity(k * (k - 1) / 2 + k);
    for i in 0..k {
        for j in 0..i {
            p.push(bm.weight(i, j));
        }
    }
    p.extend(&bm.b);
    p
}

fn from_params(p: &[f64], k: usize, quant: Option<Quantisation>) -> BoltzmannMachine {
    let mut w = vec![0.0; k * k];
    let mut idx = 0;
    for i in 0..k {
        for j in 0..i {
            let x = quant.map_or(p[idx], |q| q.apply(p[idx]));
            w[i * k + j] = x;
            w[j * k + i] = x;
            idx += 1;
        }
    }
    BoltzmannMachine::new(w, p[idx..idx + k].to_vec())
}

/// The (W, b) ascent direction (⟨zzᵀ⟩_a − ⟨zzᵀ⟩_b, ⟨z⟩_a − ⟨z⟩_b) in the flat layout, masked by
/// `mask` (`[K, K]`, 1 = coupling exists; `None` = all).
fn contrast(ma: &[f64], ca: &[f64], mb: &[f64], cb: &[f64], mask: Option<&[bool]>) -> Vec<f64> {
    let k = ma.len();
    let mut d = Vec::with_capacity(k * (k - 1) / 2 + k);
    for i in 0..k {
        for j in 0..i {
            let on = mask.is_none_or(|m| m[i * k + j]);
            d.push(if on { ca[i * k + j] - cb[i * k + j] } else { 0.0 });
        }
    }
    d.extend(ma.iter().zip(mb).map(|(a, b)| a - b));
    d
}

/// Wake–sleep learning of a fully visible machine toward a known target distribution. The
/// data (wake) term is exact; the model (sleep) term is sampled.
#[derive(Debug, Clone)]
pub struct WakeSleep {
    /// Exact ⟨z⟩ and ⟨z zᵀ⟩ of the target.
    data: (Vec<f64>, Vec<f64>),
    /// Shadow parameters (W upper triangle, then b).
    params: Vec<f64>,
    units: usize,
    opt: OptimizerState,
    quant: Option<Quantisation>,
}

impl WakeSleep {
    /// Starts from `init` toward the distribution `target` over 2^K packed states.
    pub fn new(
        target: &[f64],
        init: &BoltzmannMachine,
        rule: Optimizer,
        clip: f64,
        quant: Option<Quantisation>,
    ) -> Self {
        let k = init.units();
        assert_eq!(target.len(), 1 << k, "target must cover 2^{k} states");
        let params = to_params(init);
        let opt = OptimizerState::new(rule, clip, params.len());
        Self {
            data: (marginals(target, k), second_moments(target, k)),
            params,
            units: k,
            opt,
            quant,
        }
    }

    /// The machine the sampler should run now (quantised if configured).
    pub fn machine(&self) -> BoltzmannMachine {
        from_params(&self.params, self.units, self.quant)
    }

    /// One update from the model moments `(⟨z⟩, ⟨zzᵀ⟩)` (e.g. [`sampled_moments`]).
    pub fn update(&mut self, model: &(Vec<f64>, Vec<f64>)) {
        let d = contrast(&self.data.0, &self.data.1, &model.0, &model.1, None);
        self.opt.step(&mut self.params, &d);
    }
}

/// Importance-weighted target matching for a machine whose first `visible` units carry a
/// target distribution over 2^visible packed visible states (bit k = visible unit k).
#[derive(Debug, Clone)]
pub struct ImportanceWeighted {
    target: Vec<f64>,
    visible: usize,
    mask: Vec<bool>,
    params: Vec<f64>,
    units: usize,
    opt: OptimizerState,
    /// Pseudo-count per visible state in p̂(v).
    pseudo: f64,
}

impl ImportanceWeighted {
    /// Starts from `init`; `mask` (`[K, K]`, symmetric) gives the couplings that exist (`None`:
    /// all).
    pub fn new(
        target: &[f64],
        visible: usize,
        init: &BoltzmannMachine,
        mask: Option<Vec<bool>>,
        rule: Optimizer,
        clip: f64,
    ) -> Self {
        let k = init.units();
        assert_eq!(target.len(), 1 << visible, "target must cover 2^{visible} visible states");
        let params = to_params(init);
        let opt = OptimizerState::new(rule, clip, params.len());
        let mask = mask.unwrap_or_else(|| vec![true; k * k]);
        Self { target: target.to_vec(), visible, mask, params, units: k, opt, pseudo: 1.0 }
    }

    /// The machine the sampler should run now.
    pub fn machine(&self) -> BoltzmannMachine {
        from_params(&self.params, self.units, None)
    }

    /// Samples `steps` steps (after `burn_in`) and applies one update. Returns D_KL(p* ‖ p̂)
    /// over the visible units of the samples used.
    pub fn update<S: Sampler + ?Sized>(
        &mut self,
        sampler: &mut S,
        burn_in: usize,
        steps: usize,
    ) -> f64 {
        let (k, v) = (self.units, self.visible);
        for _ in 0..burn_in {
            sampler.step();
        }
        let mut states: Vec<usize> = Vec::with_capacity(steps * sampler.chains());
        for _ in 0..steps {
            sampler.step();
            for c in 0..sampler.chains() {
                states.push(pack(sampler.state(c)));
            }
        }
        let mut hist = vec![self.pseudo; 1 << v];
        let vmask = (1usize << v) - 1;
        for &s in &states {
            hist[s & vmask] += 1.0;
        }
        let total: f64 = hist.iter().sum();
        let p_hat: Vec<f64> = hist.iter().map(|h| h / total).collect();
        let r: Vec<f64> = (0..1 << v).map(|s| 1.0 - self.target[s] / p_hat[s]).collect();
        let (mut m, mut c) = (vec![0.0; k], vec![0.0; k * k]);
        for &s in &states {
            let w = r[s & vmask];
            for i in 0..k {
                if s >> i & 1 == 1 {
                    m[i] += w;
                    for j in 0..k {
                        if s >> j & 1 == 1 {
                            c[i * k + j] += w;
                        }
                    }
                }
            }
        }
        let n = states.len().max(1) as f64;
        m.iter_mut().for_each(|x| *x /= n);
        c.iter_mut().for_each(|x| *x /= n);
        // Descent on ⟨r φ⟩ = ascent on 0 − ⟨r φ⟩.
        let zeros = (vec![0.0; k], vec![0.0; k * k]);
        let d = contrast(&zeros.0, &zeros.1, &m, &c, Some(&self.mask));
        self.opt.step(&mut self.params, &d);
        super::quality::kl_divergence(&self.target, &p_hat)
    }
}

/// The marginal distribution over the first `visible` units of a distribution over 2^K packed
/// states.
pub fn visible_marginal(p: &[f64], visible: usize) -> Vec<f64> {
    let mut out = vec![0.0; 1 << visible];
    let mask = (1usize << visible) - 1;
    for (s, &ps) in p.iter().enumerate() {
        out[s & mask] += ps;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantisation_rounds_and_clips() {
        let q = Quantisation { weight_bits: 3, weight_max: 1.5 }; // levels ±3 of 0.5
        assert_eq!(q.apply(0.7), 0.5);
        assert_eq!(q.apply(0.8), 1.0);
        assert_eq!(q.apply(-9.0), -1.5);
    }

    #[test]
    fn params_round_trip() {
        let bm = BoltzmannMachine::new(vec![0.0, 0.3, 0.3, 0.0], vec![1.0, -2.0]);
        assert_eq!(from_params(&to_params(&bm), 2, None), bm);
    }

    /// Exact moments in the loop: wake–sleep is gradient ascent on −D_KL and converges.
    #[test]
    fn exact_wake_sleep_converges() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(0);
        let target_bm = BoltzmannMachine::random(4, 1.0, 1.0, &mut rng);
        let target = target_bm.exact_distribution();
        let init = BoltzmannMachine::new(vec![0.0; 16], vec![0.0; 4]);
        let mut ws = WakeSleep::new(&target, &init, Optimizer::Adam { lr: 0.05 }, 1.0, None);
        for _ in 0..2000 {
            let p = ws.machine().exact_distribution();
            ws.update(&(marginals(&p, 4), second_moments(&p, 4)));
        }
        let d = crate::sampling::kl_divergence(&target, &ws.machine().exact_distribution());
        assert!(d < 1e-6, "D_KL {d}");
    }
}
