//! The paper's loss: hand-computed values, its gradient against finite differences, and the
//! silent-neuron paths (no NaN anywhere).

mod common;

use burn::tensor::{Int, Tensor, TensorData};
use common::*;
use spikeburn::ttfs::loss::{SILENT_LABEL_LOSS, TtfsLoss, predict};
use spikeburn::util::to_vec_f64;

fn labels(v: &[i64]) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &f64_device())
}

/// Hand calculation, ξ = 0.2, α = 0.005, β = 1, τs = 1, times (1, 2), label 0:
/// CE = −log(e^{−5}/(e^{−5} + e^{−10})) = log(1 + e^{−5}) = 0.006715348489…,
/// regulariser = 0.005·e¹ = 0.013591409142…, total 0.020306757631….
#[test]
fn hand_computed_value() {
    let d = f64_device();
    let out = TtfsLoss::default().forward(tensor2(&[1.0, 2.0], [1, 2], &d), labels(&[0]));
    let l = to_vec_f64(out.per_sample)[0];
    let expect = (1.0 + (-5.0f64).exp()).ln() + 0.005 * 1f64.exp();
    assert!((l - expect).abs() < 1e-12, "{l} vs {expect}");
    assert!((expect - 0.020_306_757_631).abs() < 1e-11);
}

#[test]
fn gradient_matches_finite_differences() {
    let d = f64_device();
    let loss = TtfsLoss { xi: 0.3, alpha: 0.01, beta: 1.5, tau_syn: 1.2 };
    let times = [1.1, 0.9, 2.0, 1.5, f64::INFINITY, 0.7];
    let y = [2i64, 0];
    let out = loss.forward(tensor2(&times, [2, 3], &d), labels(&y));
    let delta = to_vec_f64(out.delta);
    let mean = |t: &[f64]| {
        to_vec_f64(loss.forward(tensor2(t, [2, 3], &d), labels(&y)).per_sample.mean())[0]
    };
    let h = 1e-6;
    for k in (0..6).filter(|&k| times[k].is_finite()) {
        let (mut p, mut m) = (times, times);
        p[k] += h;
        m[k] -= h;
        let fd = (mean(&p) - mean(&m)) / (2.0 * h);
        assert!((fd - delta[k]).abs() < 1e-8, "entry {k}: {} vs {fd}", delta[k]);
    }
    assert_eq!(delta[4], 0.0, "silent neuron gets no gradient");
}

#[test]
fn silent_label_costs_constant_and_no_gradient() {
    let d = f64_device();
    let inf = f64::INFINITY;
    // Sample 0: label neuron silent; sample 1: every neuron silent.
    let out =
        TtfsLoss::default().forward(tensor2(&[inf, 1.0, inf, inf], [2, 2], &d), labels(&[0, 1]));
    assert_eq!(to_vec_f64(out.per_sample), vec![SILENT_LABEL_LOSS, SILENT_LABEL_LOSS]);
    let delta = to_vec_f64(out.delta);
    assert!(delta.iter().all(|v| *v == 0.0), "{delta:?}");
}

#[test]
fn prediction_is_earliest_spike_ties_lowest_none_when_silent() {
    let d = f64_device();
    let inf = f64::INFINITY;
    let t = tensor2(&[2.0, 1.0, 3.0, 1.5, 1.5, 2.2, inf, inf, inf], [3, 3], &d);
    assert_eq!(predict(t), vec![Some(1), Some(0), None]);
}
