//! Measuring sampling quality: state histograms, D_KL, marginal errors, autocorrelation, ESS.
//!
//! Samples are **time-weighted**: a sampler's state counts for as long as it lasts (one count
//! per time step of any time-stepped sampler), not once per spike. D_KL(p* ‖ p̂) uses
//! pseudo-counts, because leaving empty bins out would bias it low.

/// Time-weighted counts of packed states (bit k = unit k) of a network of up to
/// [`super::MAX_ENUMERATED_UNITS`] units.
#[derive(Debug, Clone, PartialEq)]
pub struct StateHistogram {
    /// Time steps spent in each state, `[2^units]`.
    pub counts: Vec<f64>,
    /// Number of units.
    pub units: usize,
}

impl StateHistogram {
    /// An empty histogram.
    ///
    /// # Panics
    /// If `units` exceeds [`super::MAX_ENUMERATED_UNITS`].
    pub fn new(units: usize) -> Self {
        assert!(units <= super::MAX_ENUMERATED_UNITS, "{units} units is too many to histogram");
        Self { counts: vec![0.0; 1 << units], units }
    }

    /// Adds `weight` time steps in the packed state `state`.
    pub fn add(&mut self, state: usize, weight: f64) {
        self.counts[state] += weight;
    }

    /// Total time steps counted.
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    /// The estimated distribution with `pseudo` extra counts in every state.
    pub fn distribution(&self, pseudo: f64) -> Vec<f64> {
        let total = self.total() + pseudo * self.counts.len() as f64;
        self.counts.iter().map(|c| (c + pseudo) / total).collect()
    }

    /// D_KL(p* ‖ p̂) in nats, p̂ with `pseudo` counts per state (see [`kl_divergence`]).
    pub fn dkl_from(&self, target: &[f64], pseudo: f64) -> f64 {
        kl_divergence(target, &self.distribution(pseudo))
    }
}

/// D_KL(p ‖ q) = Σ p log(p/q) in nats; terms with p = 0 count 0; +∞ if q = 0 where p > 0.
///
/// # Panics
/// If the lengths differ.
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    assert_eq!(p.len(), q.len(), "distributions over different state sets");
    p.iter().zip(q).map(|(&p, &q)| if p > 0.0 { p * (p / q).ln() } else { 0.0 }).sum()
}

/// D_KL between two Bernoulli distributions with P(1) = `p` and `q`, in nats.
pub fn bernoulli_kl(p: f64, q: f64) -> f64 {
    let term = |a: f64, b: f64| if a > 0.0 { a * (a / b).ln() } else { 0.0 };
    term(p, q) + term(1.0 - p, 1.0 - q)
}

/// Σ_k D_KL(Bernoulli(p*_k) ‖ Bernoulli(p̂_k)): the error of the marginals alone.
pub fn marginal_kl_sum(target: &[f64], estimate: &[f64]) -> f64 {
    target.iter().zip(estimate).map(|(&p, &q)| bernoulli_kl(p, q)).sum()
}

/// The integrated autocorrelation time of a series, in steps: τ_int = ½ + Σ_{t≥1} ρ(t), summed
/// up to Sokal's self-consistent window (the first W with W ≥ 5 τ_int(W)). A constant series
/// has τ_int = ½ by convention (no information about correlations).
pub fn integrated_autocorrelation_time(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.5;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if var == 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    for lag in 1..n {
        let c: f64 =
            x[..n - lag].iter().zip(&x[lag..]).map(|(a, b)| (a - mean) * (b - mean)).sum::<f64>()
                / n as f64;
        tau += c / var;
        if lag as f64 >= 5.0 * tau {
            break;
        }
    }
    tau.max(0.5)
}

/// Effective sample size of a series: N / (2 τ_int).
pub fn effective_sample_size(x: &[f64]) -> f64 {
    x.len() as f64 / (2.0 * integrated_autocorrelation_time(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn dkl_by_hand() {
        // D_KL((½, ½) ‖ (¼, ¾)) = ½ ln 2 + ½ ln(2/3).
        let d = kl_divergence(&[0.5, 0.5], &[0.25, 0.75]);
        assert!((d - (0.5 * 2f64.ln() + 0.5 * (2.0 / 3.0f64).ln())).abs() < 1e-15);
        assert_eq!(kl_divergence(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(kl_divergence(&[0.5, 0.5], &[1.0, 0.0]), f64::INFINITY);
        assert!((bernoulli_kl(0.5, 0.25) - d).abs() < 1e-15);
    }

    /// Pseudo-counts keep an unvisited state from making D_KL infinite, and vanish with time.
    #[test]
    fn pseudo_counts() {
        let mut h = StateHistogram::new(1);
        h.add(0, 10.0);
        assert_eq!(h.dkl_from(&[0.5, 0.5], 0.0), f64::INFINITY);
        let q = h.distribution(1.0);
        assert_eq!(q, vec![11.0 / 12.0, 1.0 / 12.0]);
        assert!(h.dkl_from(&[0.5, 0.5], 1.0).is_finite());
    }

    /// An AR(1) series x_t = φ x_{t−1} + ε has τ_int = ½ (1 + φ)/(1 − φ): 9.5 for φ = 0.9.
    #[test]
    fn autocorrelation_time_of_ar1() {
        let mut rng = SmallRng::seed_from_u64(0);
        let phi: f64 = 0.9;
        let mut x = vec![0.0f64; 400_000];
        for t in 1..x.len() {
            let e: f64 = rng.random::<f64>() - 0.5;
            x[t] = phi * x[t - 1] + e;
        }
        let tau = integrated_autocorrelation_time(&x);
        assert!((tau - 9.5).abs() < 0.8, "tau {tau}");
        let iid: Vec<f64> = (0..100_000).map(|_| rng.random::<f64>()).collect();
        let tau0 = integrated_autocorrelation_time(&iid);
        assert!((tau0 - 0.5).abs() < 0.05, "iid tau {tau0}");
        assert!((effective_sample_size(&iid) - 100_000.0).abs() < 12_000.0);
    }
}
