//! The spike function Θ(v − ϑ) with a surrogate derivative.
//!
//! Forward, a spike is the exact Heaviside step of the distance to threshold `x = v − ϑ`
//! (potential units). Backward, the step's derivative (a Dirac delta) is replaced by a smooth
//! bump `g(x)`, the *surrogate derivative* (Neftci, Mostafa & Zenke, IEEE Signal Process. Mag.
//! 36, 51–63, 2019).
//!
//! Each [`Surrogate`] is defined by a smooth function `S(x)` with `S′ = g`. The spike is built as
//!
//! ```text
//! z = Θ(x) + (S(x) − detach(S(x)))
//! ```
//!
//! The bracket is exactly 0 in the forward pass (IEEE `a − a = 0` for finite `a`), so `z` is the
//! exact step, and its derivative is exactly `g(x)`: autodiff differentiates the bracket and
//! nothing else. [`SpikeForward::Smooth`] uses `S(x) − S(−∞)` itself as the forward value: a
//! smoothed model whose true derivative is the surrogate, which finite differences can check.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// A surrogate derivative `g(x)` of the spike step, `x = v − ϑ` in potential units. The
/// normalisations are those of snnTorch and Norse, so slopes carry over from PyTorch code.
///
/// In TOML: `surrogate = { kind = "fast-sigmoid", slope = 25.0 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Surrogate {
    /// SuperSpike / fast sigmoid (Zenke & Ganguli, Neural Comput. 30, 1514–1541, 2018):
    /// `g(x) = 1 / (1 + k|x|)²`, peak 1. Smooth proxy `S(x) = x / (1 + k|x|)`.
    FastSigmoid {
        /// `k`, per potential unit (snnTorch's `slope`, Norse's `alpha`).
        slope: f64,
    },
    /// Arctan (Fang et al., ICCV 2021, SpikingJelly's `ATan`):
    /// `g(x) = (α/2) / (1 + (π α x / 2)²)`, peak α/2. `S(x) = arctan(π α x / 2) / π`.
    Arctan {
        /// `α`, per potential unit.
        alpha: f64,
    },
    /// Sigmoid: `g(x) = k σ(kx) (1 − σ(kx))`, peak k/4. `S(x) = σ(kx)` (the derivative of a
    /// logistic spike probability; one of the shapes compared by Zenke & Vogels, Neural Comput.
    /// 33, 899–925, 2021, snnTorch's `sigmoid`).
    Sigmoid {
        /// `k`, per potential unit.
        slope: f64,
    },
    /// Triangle / piecewise linear (Esser et al., PNAS 113, 11441, 2016; Bellec et al., NeurIPS
    /// 2018): `g(x) = max(0, 1 − k|x|)`, peak 1, zero beyond `|x| = 1/k`.
    /// `S(x) = u − k u|u| / 2` with `u = clamp(x, −1/k, 1/k)`.
    Triangle {
        /// `k`, per potential unit (the inverse half-width).
        slope: f64,
    },
}

impl Default for Surrogate {
    /// SuperSpike with slope 25 (snnTorch's default).
    fn default() -> Self {
        Surrogate::FastSigmoid { slope: 25.0 }
    }
}

/// What the forward pass of [`Surrogate::spike`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpikeForward {
    /// The exact step Θ(x) (spikes are 0 or 1); the surrogate acts only backward. Training.
    #[default]
    Heaviside,
    /// `S(x) − S(−∞)`, whose true derivative is the surrogate: a smoothed model for gradient
    /// checks against finite differences.
    Smooth,
}

impl Surrogate {
    /// The parameter (`slope` or `alpha`).
    pub fn parameter(&self) -> f64 {
        match *self {
            Surrogate::FastSigmoid { slope }
            | Surrogate::Sigmoid { slope }
            | Surrogate::Triangle { slope } => slope,
            Surrogate::Arctan { alpha } => alpha,
        }
    }

    /// The surrogate derivative `g(x)` at one point (the documented formula, for tests and docs).
    pub fn derivative(&self, x: f64) -> f64 {
        match *self {
            Surrogate::FastSigmoid { slope: k } => 1.0 / (1.0 + k * x.abs()).powi(2),
            Surrogate::Arctan { alpha: a } => {
                let y = std::f64::consts::FRAC_PI_2 * a * x;
                0.5 * a / (1.0 + y * y)
            }
            Surrogate::Sigmoid { slope: k } => {
                let s = 1.0 / (1.0 + (-k * x).exp());
                k * s * (1.0 - s)
            }
            Surrogate::Triangle { slope: k } => (1.0 - k * x.abs()).max(0.0),
        }
    }

    /// `S(−∞)`, the lower limit of the smooth proxy.
    fn smooth_floor(&self) -> f64 {
        match *self {
            Surrogate::FastSigmoid { slope: k } => -1.0 / k,
            Surrogate::Arctan { .. } => -0.5,
            Surrogate::Sigmoid { .. } => 0.0,
            Surrogate::Triangle { slope: k } => -0.5 / k,
        }
    }

    /// The smooth proxy `S(x)` elementwise (`S′ = g`).
    pub fn smooth<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let k = self.parameter();
        match *self {
            Surrogate::FastSigmoid { .. } => x.clone() / (x.abs() * k + 1.0),
            Surrogate::Arctan { .. } => {
                (x * (std::f64::consts::FRAC_PI_2 * k)).atan() / std::f64::consts::PI
            }
            Surrogate::Sigmoid { .. } => crate::util::sigmoid(x * k),
            Surrogate::Triangle { .. } => {
                let u = x.clamp(-1.0 / k, 1.0 / k);
                u.clone() - u.clone() * u.abs() * (0.5 * k)
            }
        }
    }

    /// Spikes `z` from distances to threshold `x = v − ϑ` (any shape): forward as `mode` says,
    /// backward `∂z/∂x = g(x)`.
    pub fn spike<const D: usize>(&self, x: Tensor<D>, mode: SpikeForward) -> Tensor<D> {
        let s = self.smooth(x.clone());
        match mode {
            SpikeForward::Heaviside => x.greater_elem(0.0).float() + (s.clone() - s.detach()),
            SpikeForward::Smooth => s - self.smooth_floor(),
        }
    }

    /// Check the parameter.
    ///
    /// # Errors
    /// A message naming the surrogate if its parameter is not positive and finite.
    pub fn validate(&self) -> Result<(), String> {
        let p = self.parameter();
        if p > 0.0 && p.is_finite() {
            Ok(())
        } else {
            Err(format!("surrogate {self:?}: the parameter must be positive and finite"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::to_vec_f64;
    use burn::tensor::{Device, TensorData};

    fn all() -> [Surrogate; 4] {
        [
            Surrogate::FastSigmoid { slope: 10.0 },
            Surrogate::Arctan { alpha: 2.0 },
            Surrogate::Sigmoid { slope: 5.0 },
            Surrogate::Triangle { slope: 2.0 },
        ]
    }

    fn points() -> Vec<f64> {
        (0..41).map(|i| -1.0 + 0.05 * i as f64 + 0.0123).collect()
    }

    /// Forward is the exact step, backward is the documented formula `g(x)`.
    #[test]
    fn heaviside_forward_and_stated_derivative_backward() {
        let device = Device::default().autodiff();
        for s in all() {
            let xs = points();
            let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &device)
                .require_grad();
            let z = s.spike(x.clone(), SpikeForward::Heaviside);
            let grads = z.clone().sum().backward();
            let zv = to_vec_f64(z.inner());
            let gv = to_vec_f64(x.grad(&grads).expect("gradient"));
            for ((xi, zi), gi) in xs.iter().zip(&zv).zip(&gv) {
                assert_eq!(*zi, if *xi > 0.0 { 1.0 } else { 0.0 }, "{s:?} forward at {xi}");
                let want = s.derivative(*xi);
                assert!((gi - want).abs() < 1e-5 * (1.0 + want), "{s:?} at {xi}: {gi} vs {want}");
            }
        }
    }

    /// The smooth proxy's derivative is the surrogate (central differences), it starts at 0,
    /// and the smooth forward's autodiff derivative is the surrogate too.
    #[test]
    fn smooth_proxy_integrates_the_surrogate() {
        let device = Device::default().autodiff();
        let h = 1e-3;
        for s in all() {
            let xs = points();
            let eval = |shift: f64| {
                let v: Vec<f64> = xs.iter().map(|x| x + shift).collect();
                let t = Tensor::<1>::from_data(TensorData::new(v, [xs.len()]), &device);
                to_vec_f64(s.spike(t, SpikeForward::Smooth).inner())
            };
            let (up, down) = (eval(h), eval(-h));
            for (i, x) in xs.iter().enumerate() {
                let fd = (up[i] - down[i]) / (2.0 * h);
                let want = s.derivative(*x);
                assert!((fd - want).abs() < 2e-3 * (1.0 + want), "{s:?} at {x}: {fd} vs {want}");
            }
            let far = Tensor::<1>::from_data(TensorData::new(vec![-1e6], [1]), &device);
            let floor = to_vec_f64(s.spike(far, SpikeForward::Smooth).inner())[0];
            assert!(floor.abs() < 1e-4, "{s:?}: S(-inf) - floor = {floor}");
        }
    }

    #[test]
    fn parameters_are_validated() {
        assert!(Surrogate::default().validate().is_ok());
        assert!(Surrogate::Arctan { alpha: 0.0 }.validate().is_err());
        assert!(Surrogate::Sigmoid { slope: f64::NAN }.validate().is_err());
    }

    #[test]
    fn toml_form() {
        #[derive(Deserialize)]
        struct W {
            surrogate: Surrogate,
        }
        let w: W = toml::from_str("surrogate = { kind = \"arctan\", alpha = 2.0 }").unwrap();
        assert_eq!(w.surrogate, Surrogate::Arctan { alpha: 2.0 });
        assert!(toml::from_str::<W>("surrogate = { kind = \"arctan\", slope = 2.0 }").is_err());
    }
}
