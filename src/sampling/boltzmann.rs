//! The target: a Boltzmann machine over binary units and its exact statistics.
//!
//! p(z) = Z⁻¹ exp(½ zᵀWz + bᵀz) for z ∈ {0,1}^K, with W symmetric and zero on the diagonal. The
//! neural computability condition (NCC) asks a sampling neuron's membrane potential to equal the
//! conditional log-odds u_k = b_k + Σ_j W_kj z_j ([`BoltzmannMachine::log_odds`]).
//!
//! States are packed into integers for enumeration: unit k is bit k of the state index.

use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Enumeration stops here: 2^20 states of f64 are 8 MiB.
pub const MAX_ENUMERATED_UNITS: usize = 20;

/// A Boltzmann machine: symmetric couplings `w` (row-major `[k, k]`, zero diagonal) and biases
/// `b` (`[k]`), both dimensionless (natural-log units of probability).
#[derive(Debug, Clone, PartialEq)]
pub struct BoltzmannMachine {
    /// Couplings W, row-major `[units, units]`, symmetric, zero diagonal.
    pub w: Vec<f64>,
    /// Biases b, `[units]`.
    pub b: Vec<f64>,
}

impl BoltzmannMachine {
    /// A machine from its couplings and biases.
    ///
    /// # Panics
    /// If `w` is not `[k, k]` for `k = b.len()`, not symmetric, or not zero on the diagonal.
    pub fn new(w: Vec<f64>, b: Vec<f64>) -> Self {
        let k = b.len();
        assert_eq!(w.len(), k * k, "couplings must be [{k}, {k}], got {} values", w.len());
        for i in 0..k {
            assert_eq!(w[i * k + i], 0.0, "couplings must be zero on the diagonal (unit {i})");
            for j in 0..i {
                assert!(
                    (w[i * k + j] - w[j * k + i]).abs() <= 1e-12 * (1.0 + w[i * k + j].abs()),
                    "couplings must be symmetric: W[{i},{j}] = {} but W[{j},{i}] = {}",
                    w[i * k + j],
                    w[j * k + i]
                );
            }
        }
        Self { w, b }
    }

    /// The random test machines of the sbs package (and of the design notes, §3): W = (A + Aᵀ)/2
    /// with A_ij ~ N(0, `w_std`²), zero diagonal; b_i ~ N(0, `b_std`²). sbs uses 1 and 1.
    pub fn random<R: Rng + ?Sized>(units: usize, w_std: f64, b_std: f64, rng: &mut R) -> Self {
        let nw = Normal::new(0.0, w_std).expect("finite, non-negative w_std");
        let nb = Normal::new(0.0, b_std).expect("finite, non-negative b_std");
        let a: Vec<f64> = (0..units * units).map(|_| nw.sample(rng)).collect();
        let b = (0..units).map(|_| nb.sample(rng)).collect();
        let mut w = vec![0.0; units * units];
        for i in 0..units {
            for j in 0..units {
                if i != j {
                    w[i * units + j] = 0.5 * (a[i * units + j] + a[j * units + i]);
                }
            }
        }
        Self::new(w, b)
    }

    /// Number of units K.
    pub fn units(&self) -> usize {
        self.b.len()
    }

    /// Coupling W_ij.
    pub fn weight(&self, i: usize, j: usize) -> f64 {
        self.w[i * self.units() + j]
    }

    /// The conditional log-odds of unit `k` given the others: u_k = b_k + Σ_j W_kj z_j
    /// (z_k itself does not count: the diagonal is zero).
    pub fn log_odds(&self, k: usize, z: &[u8]) -> f64 {
        let row = &self.w[k * self.units()..(k + 1) * self.units()];
        self.b[k] + row.iter().zip(z).map(|(w, &z)| if z != 0 { *w } else { 0.0 }).sum::<f64>()
    }

    /// ½ zᵀWz + bᵀz of a packed state (bit k = unit k), i.e. −energy.
    pub fn log_weight(&self, state: usize) -> f64 {
        let k = self.units();
        let mut s = 0.0;
        for i in 0..k {
            if state >> i & 1 == 1 {
                s += self.b[i];
                for j in 0..i {
                    if state >> j & 1 == 1 {
                        s += self.w[i * k + j];
                    }
                }
            }
        }
        s
    }

    /// The exact distribution over all 2^K packed states (bit k = unit k).
    ///
    /// # Panics
    /// If K exceeds [`MAX_ENUMERATED_UNITS`].
    pub fn exact_distribution(&self) -> Vec<f64> {
        let k = self.units();
        assert!(k <= MAX_ENUMERATED_UNITS, "{k} units is too many to enumerate");
        let logw: Vec<f64> = (0..1usize << k).map(|s| self.log_weight(s)).collect();
        let max = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut p: Vec<f64> = logw.iter().map(|l| (l - max).exp()).collect();
        let z: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= z);
        p
    }
}

/// Marginals p(z_k = 1) of a distribution over packed states of `units` units.
pub fn marginals(p: &[f64], units: usize) -> Vec<f64> {
    let mut m = vec![0.0; units];
    for (s, &ps) in p.iter().enumerate() {
        for (k, mk) in m.iter_mut().enumerate() {
            if s >> k & 1 == 1 {
                *mk += ps;
            }
        }
    }
    m
}

/// Second moments ⟨z_i z_j⟩, row-major `[units, units]` (the diagonal holds the marginals).
pub fn second_moments(p: &[f64], units: usize) -> Vec<f64> {
    let mut c = vec![0.0; units * units];
    for (s, &ps) in p.iter().enumerate() {
        for i in 0..units {
            if s >> i & 1 == 1 {
                for j in 0..units {
                    if s >> j & 1 == 1 {
                        c[i * units + j] += ps;
                    }
                }
            }
        }
    }
    c
}

/// Pearson correlations of the units, row-major `[units, units]` (0 where a unit never or always
/// fires).
pub fn correlations(p: &[f64], units: usize) -> Vec<f64> {
    let m = marginals(p, units);
    let c = second_moments(p, units);
    let mut r = vec![0.0; units * units];
    for i in 0..units {
        for j in 0..units {
            let var = m[i] * (1.0 - m[i]) * m[j] * (1.0 - m[j]);
            if var > 0.0 {
                r[i * units + j] = (c[i * units + j] - m[i] * m[j]) / var.sqrt();
            }
        }
    }
    r
}

/// Packs a binary state (`z[k]` = unit k) into its index.
pub fn pack(z: &[u8]) -> usize {
    z.iter().enumerate().fold(0, |s, (k, &zk)| s | ((zk as usize & 1) << k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    /// Two units, W₁₂ = 1, b = (0.5, −1): weights of 00, 10, 01, 11 are e⁰, e^0.5, e^−1,
    /// e^(0.5 − 1 + 1) = e^0.5, so Z = 1 + 2e^0.5 + e^−1.
    #[test]
    fn two_units_by_hand() {
        let bm = BoltzmannMachine::new(vec![0.0, 1.0, 1.0, 0.0], vec![0.5, -1.0]);
        let p = bm.exact_distribution();
        let e = std::f64::consts::E;
        let z = 1.0 + 2.0 * e.sqrt() + 1.0 / e;
        let want = [1.0 / z, e.sqrt() / z, 1.0 / e / z, e.sqrt() / z];
        for (a, b) in p.iter().zip(want) {
            assert!((a - b).abs() < 1e-14, "{p:?} vs {want:?}");
        }
        let m = marginals(&p, 2);
        assert!((m[0] - 2.0 * e.sqrt() / z).abs() < 1e-14);
        assert!((second_moments(&p, 2)[1] - e.sqrt() / z).abs() < 1e-14);
        // u_0 given z_1 = 1 is b_0 + W_01 = 1.5.
        assert_eq!(bm.log_odds(0, &[0, 1]), 1.5);
    }

    /// The NCC holds for the exact distribution: p(z_k=1 | rest) / p(z_k=0 | rest) = e^{u_k}.
    #[test]
    fn log_odds_are_conditional_log_odds() {
        let mut rng = SmallRng::seed_from_u64(3);
        let bm = BoltzmannMachine::random(5, 1.0, 1.0, &mut rng);
        let p = bm.exact_distribution();
        for s in 0..32usize {
            for k in 0..5 {
                if s >> k & 1 == 0 {
                    let z: Vec<u8> = (0..5).map(|j| (s >> j & 1) as u8).collect();
                    let ratio = p[s | 1 << k] / p[s];
                    assert!((ratio.ln() - bm.log_odds(k, &z)).abs() < 1e-10);
                }
            }
        }
    }

    #[test]
    fn random_machines_are_symmetric_with_zero_diagonal() {
        let mut rng = SmallRng::seed_from_u64(1);
        let bm = BoltzmannMachine::random(7, 1.0, 1.0, &mut rng);
        for i in 0..7 {
            assert_eq!(bm.weight(i, i), 0.0);
            for j in 0..7 {
                assert_eq!(bm.weight(i, j), bm.weight(j, i));
            }
        }
        assert!(bm.w.iter().any(|&w| w != 0.0));
        assert_eq!(pack(&[1, 0, 1]), 5);
    }

    #[test]
    #[should_panic(expected = "symmetric")]
    fn asymmetric_couplings_are_rejected() {
        BoltzmannMachine::new(vec![0.0, 1.0, 2.0, 0.0], vec![0.0, 0.0]);
    }
}
