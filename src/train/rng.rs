//! The random stream of a training run ([`TrainingRng`]): spikeburn's own generator, or
//! PyTorch's, drawn from in the reference code's order.

use crate::util::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::config::{ExperimentConfig, RandomStream};
use super::torch_rng::TorchGenerator;

/// The random stream of a training run: initial weights, sample order and input noise.
#[derive(Debug)]
pub enum TrainingRng {
    /// spikeburn's generator (`StdRng` seeded with the configuration's seed).
    Spikeburn(Box<StdRng>),
    /// PyTorch's global CPU generator after `torch.manual_seed(seed)`, drawn from in the
    /// reference code's order: initial weights layer by layer, one pass over the validation set
    /// before training, then per epoch the training `DataLoader` (base seed, sampler seed),
    /// the input noise of each batch and the validation pass.
    Torch(Box<TorchGenerator>),
}

impl TrainingRng {
    /// The stream `cfg.rng` names, seeded with `cfg.seed`.
    pub fn new(cfg: &ExperimentConfig) -> Self {
        match cfg.rng {
            RandomStream::Spikeburn => Self::Spikeburn(Box::new(StdRng::seed_from_u64(cfg.seed))),
            RandomStream::Torch => Self::Torch(Box::new(TorchGenerator::new(cfg.seed))),
        }
    }

    /// The draws of one pass over the validation set (the reference makes one before training
    /// and one after every epoch): none for spikeburn, the `DataLoader`'s base seed for torch.
    pub(crate) fn validation_pass(&mut self) {
        if let Self::Torch(g) = self {
            let _ = g.dataloader_order(0, false);
        }
    }

    /// This epoch's sample order: spikeburn reshuffles `order` in place; the reference draws a
    /// fresh permutation of `0..n`.
    pub(crate) fn shuffle(&mut self, order: &mut [usize]) {
        match self {
            Self::Spikeburn(rng) => order.shuffle(rng),
            Self::Torch(g) => order.copy_from_slice(&g.dataloader_order(order.len(), true)),
        }
    }

    /// Gaussian input noise, `t ← |t + N(0, σ)|` (`+∞` stays `+∞`).
    pub(crate) fn add_input_noise(&mut self, times: &mut [f64], sigma: f64) {
        match self {
            Self::Spikeburn(rng) => add_input_noise(times, sigma, rng),
            Self::Torch(g) => {
                let noise = g.normal(times.len(), 0.0, sigma);
                for (t, z) in times.iter_mut().zip(noise) {
                    *t = (*t + z).abs();
                }
            }
        }
    }
}

/// Training input times with Gaussian noise: `t ← |t + N(0, σ)|`, `+∞` stays `+∞`.
fn add_input_noise(times: &mut [f64], sigma: f64, rng: &mut StdRng) {
    for t in times.iter_mut().filter(|t| t.is_finite()) {
        // Box–Muller.
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
        let n = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        *t = (*t + sigma * n).abs();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_noise_reflects_and_keeps_silence() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut times = vec![0.01; 2000];
        times.push(f64::INFINITY);
        add_input_noise(&mut times, 0.3, &mut rng);
        assert!(times[..2000].iter().all(|t| *t >= 0.0 && t.is_finite()));
        assert!(times[2000].is_infinite());
        let mean = times[..2000].iter().sum::<f64>() / 2000.0;
        // E|0.01 + N(0, 0.3)| ≈ 0.3·sqrt(2/π) ≈ 0.24.
        assert!((mean - 0.24).abs() < 0.02, "{mean}");
    }
}
