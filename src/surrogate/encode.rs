//! Spike-time inputs as spike trains on a time grid, for the time-stepped layers.
//!
//! Both encoders start from a [`SpikeDataset`](crate::data::SpikeDataset)'s spike times, so the time-stepped and the exact
//! first-spike-time models see the same data: the latency encoder keeps the spikes, the rate
//! encoder turns each input's earliness into a firing rate.

use crate::util::StdRng;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::data::LatencyEncoder;

/// The time grid of a simulation: `steps` steps of `dt` model time units. Step `k` covers
/// `[k·dt, (k+1)·dt)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TimeGrid {
    /// Step length, model time units.
    pub dt: f64,
    /// Number of steps.
    pub steps: usize,
}

impl TimeGrid {
    /// The step a spike at time `t` falls into, if it falls inside the grid (`t = +∞`, negative
    /// or late spikes do not).
    pub fn step_of(&self, t: f64) -> Option<usize> {
        if !(t >= 0.0 && t.is_finite()) {
            return None;
        }
        let k = (t / self.dt).floor() as usize;
        (k < self.steps).then_some(k)
    }

    /// The end of the grid, model time units.
    pub fn duration(&self) -> f64 {
        self.dt * self.steps as f64
    }
}

/// How input spike times become spike trains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case", rename_all_fields = "kebab-case")]
#[serde(deny_unknown_fields)]
pub enum Encoder {
    /// Each input spike lands in the step that contains its time (at most one spike per input).
    #[default]
    Latency,
    /// Poisson-like (Bernoulli per step) spike trains: an input at time `t` has intensity
    /// `p = (t_late − t)/(t_late − t_early)` clamped to `[0, 1]` (for the image datasets, the
    /// pixel value; silent inputs have `p = 0`) and spikes in each step with probability
    /// `min(1, p·max_rate·dt)`.
    Rate {
        /// Firing rate at intensity 1, spikes per model time unit.
        max_rate: f64,
        /// Spike time of intensity 1, model time units.
        t_early: f64,
        /// Spike time of intensity 0, model time units.
        t_late: f64,
    },
}

impl Encoder {
    /// The rate encoder for data made with `latency` (it inverts that latency code).
    pub fn rate_for(latency: LatencyEncoder, max_rate: f64) -> Self {
        Encoder::Rate { max_rate, t_early: latency.t_early, t_late: latency.t_late }
    }

    /// Spike trains of `times` (row-major `[batch, n]`, model time units, `+∞` = silent) on
    /// `grid`, as 0/1 values in a row-major `[steps, batch, n]` array. `rng` is drawn from only
    /// by the rate encoder.
    pub fn encode(&self, times: &[f64], n: usize, grid: TimeGrid, rng: &mut StdRng) -> Vec<f32> {
        let batch = times.len() / n.max(1);
        let mut out = vec![0.0f32; grid.steps * batch * n];
        match *self {
            Encoder::Latency => {
                for (j, t) in times.iter().enumerate() {
                    if let Some(k) = grid.step_of(*t) {
                        out[k * batch * n + j] = 1.0;
                    }
                }
            }
            Encoder::Rate { max_rate, t_early, t_late } => {
                for (j, t) in times.iter().enumerate() {
                    let p = if t.is_finite() {
                        ((t_late - t) / (t_late - t_early)).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let q = (p * max_rate * grid.dt).min(1.0);
                    if q <= 0.0 {
                        continue;
                    }
                    for k in 0..grid.steps {
                        if rng.random::<f64>() < q {
                            out[k * batch * n + j] = 1.0;
                        }
                    }
                }
            }
        }
        out
    }

    /// Check the parameters.
    ///
    /// # Errors
    /// A message naming the bad value.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Encoder::Latency => Ok(()),
            Encoder::Rate { max_rate, t_early, t_late } => {
                if !(max_rate > 0.0 && max_rate.is_finite()) {
                    Err(format!("rate encoder: max-rate must be positive, got {max_rate}"))
                } else if t_late.partial_cmp(&t_early) != Some(std::cmp::Ordering::Greater) {
                    Err(format!("rate encoder: t-late ({t_late}) must exceed t-early ({t_early})"))
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn latency_spikes_land_in_their_step() {
        let grid = TimeGrid { dt: 0.1, steps: 20 };
        let times = [0.0, 0.15, 1.999, f64::INFINITY, 2.5, 0.95];
        let out = Encoder::Latency.encode(&times, 3, grid, &mut StdRng::seed_from_u64(0));
        let spikes: Vec<(usize, usize)> = out
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == 1.0)
            .map(|(i, _)| (i / 6, i % 6))
            .collect();
        // (step, flat input index): 0.0 → 0, 0.15 → 1, 1.999 → 19, 0.95 → 9; ∞ and 2.5 none.
        assert_eq!(spikes, [(0, 0), (1, 1), (9, 5), (19, 2)]);
        assert_eq!(out.len(), 20 * 6);
    }

    /// The rate encoder's spike counts follow `p·max_rate·duration`.
    #[test]
    fn rate_counts_follow_intensity() {
        let grid = TimeGrid { dt: 0.01, steps: 1000 };
        let enc = Encoder::rate_for(LatencyEncoder::REFERENCE, 20.0);
        // t_early → p = 1 (0.2 per step), midway → p = 0.5, t_late and silent → none.
        let times = [0.15, 1.075, 2.0, f64::INFINITY];
        let mut rng = StdRng::seed_from_u64(3);
        let mut counts = [0.0; 4];
        for _ in 0..10 {
            let out = enc.encode(&times, 4, grid, &mut rng);
            for (i, v) in out.iter().enumerate() {
                counts[i % 4] += *v as f64 / 10.0;
            }
        }
        assert!((counts[0] - 200.0).abs() < 15.0, "{counts:?}");
        assert!((counts[1] - 100.0).abs() < 12.0, "{counts:?}");
        assert_eq!(&counts[2..], &[0.0, 0.0]);
        assert!(enc.validate().is_ok());
        assert!(Encoder::Rate { max_rate: 1.0, t_early: 2.0, t_late: 1.0 }.validate().is_err());
    }
}
