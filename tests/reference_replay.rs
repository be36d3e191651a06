//! spikeburn replays the reference PyTorch implementation's Yin-Yang run step by step.
//!
//! With `rng = "torch"` and the reference's torch seed 2000, spikeburn draws the same initial
//! weights and the same batch order as the authors' code (`experiment_configs/yin_yang.yaml`,
//! float64). The reference logs its validation accuracy before training and after every epoch
//! (design notes `ttfs.md` §11): 0.250, then 0.601, 0.699, 0.836, 0.856, ... The first values are
//! only reproduced if the initial weights, the batch order, the forward pass, the exact
//! gradients and Adam all agree with the reference; from epoch 4 on, weight bumping too (most
//! batches are bumped). A wrong stream or a changed dynamic moves them by several percent.
//! Clipping barely triggers in this configuration (see the test).

mod common;

use common::f64_device;
use spikeburn::train::{ExperimentConfig, Precision, RandomStream, TrainingRng, evaluate, train};

/// Validation accuracy logged by the reference code (design notes `ttfs.md` §11, the paper
/// config cut to 10 epochs): before training, then after epochs 1–10.
const REFERENCE_VALIDATION: [f64; 11] =
    [0.250, 0.601, 0.699, 0.836, 0.856, 0.871, 0.883, 0.879, 0.887, 0.893, 0.901];

#[test]
fn torch_seed_2000_replays_the_reference_validation_trajectory() {
    let mut cfg =
        ExperimentConfig::from_file(std::path::Path::new("models/yinyang-ttfs.toml")).unwrap();
    cfg.rng = RandomStream::Torch;
    cfg.seed = 2000;
    cfg.precision = Precision::F64;
    cfg.training.epochs = 10;
    let device = f64_device();
    let data = cfg.dataset.load(None).unwrap();

    let untrained = TrainingRng::new(&cfg).init_network(&cfg, &device);
    let before =
        evaluate(&untrained, &data.validation, cfg.training.batch_size_eval, &cfg.loss, &device);
    assert_eq!(before.accuracy, REFERENCE_VALIDATION[0], "initial weights differ from torch's");

    let out = train(&cfg, &data.train, &data.validation, &device, &mut |_| {}).expect("finite");
    let val: Vec<f64> = out.history.iter().map(|m| m.val_accuracy).collect();
    for m in &out.history {
        println!(
            "epoch {}: val {} bumps {} clipped {}",
            m.epoch, m.val_accuracy, m.bumps, m.clipped_fraction
        );
    }
    // Epochs 1 and 2 agree to the sample; after that, summation-order differences between
    // PyTorch and Burn start to show (epoch 3: 0.834 against 0.836) and grow slowly (at most
    // 0.010 by epoch 10, measured).
    assert_eq!(val[..2], REFERENCE_VALIDATION[1..3], "validation trajectory {val:?}");
    for (epoch, (v, r)) in val.iter().zip(&REFERENCE_VALIDATION[1..]).enumerate() {
        let tol = if epoch < 4 { 0.003 } else { 0.012 };
        assert!((v - r).abs() <= tol, "epoch {}: {v} against the reference's {r}", epoch + 1);
    }
    // The exact agreement is in epochs without weight bumping or clipping; from epoch 4 on most
    // batches are spent on bumping (19–27 of 34 per epoch), and the run still tracks the
    // reference's log: the reference bumps the same way. Clipping (max-dw-norm 0.2) is rare in
    // this configuration: one (sample, neuron) column in epoch 9, so this replay checks it only
    // weakly (clipping itself: tests/gradients_f64.rs and tests/kernel.rs).
    assert!(out.history[..3].iter().all(|m| m.bumps == 0 && m.clipped_fraction == 0.0));
    assert!(out.history[3..].iter().all(|m| m.bumps >= 15), "bumping from epoch 4 on");
    assert!(out.history.iter().any(|m| m.clipped_fraction > 0.0), "clipping happened");
}

#[test]
fn the_torch_stream_differs_from_spikeburns_and_is_deterministic() {
    let mut cfg =
        ExperimentConfig::from_file(std::path::Path::new("models/yinyang-ttfs.toml")).unwrap();
    cfg.seed = 2000;
    let device = f64_device();
    let weights = |cfg: &ExperimentConfig| {
        let net = TrainingRng::new(cfg).init_network(cfg, &device);
        spikeburn::util::to_vec_f64(net.layers[0].weights.val())
    };
    let spikeburn_stream = weights(&cfg);
    cfg.rng = RandomStream::Torch;
    let torch_stream = weights(&cfg);
    assert_ne!(spikeburn_stream, torch_stream);
    assert_eq!(torch_stream, weights(&cfg));
}
