//! A run whose loss or weights stop being finite stops with an error naming the epoch and the
//! batch, instead of testing, saving and reporting a broken network (issue 14: `bump-value =
//! nan`, `learning-rate = inf` and the like used to end with exit 0 and a NaN model). The
//! values here are set on the config directly, past validation, so the guard itself is tested.

use std::path::Path;

use spikeburn::data::{DatasetName, Splits};
use spikeburn::train::{ExperimentConfig, train_and_test};

/// Yin-Yang cut to 300 / 100 / 100 samples.
fn yinyang() -> Splits {
    let mut data = DatasetName::Yinyang.load(None).unwrap();
    data.train = data.train.subset(&(0..300).collect::<Vec<_>>());
    data.validation = data.validation.subset(&(0..100).collect::<Vec<_>>());
    data.test = data.test.subset(&(0..100).collect::<Vec<_>>());
    data
}

fn diverges(cfg: &ExperimentConfig, data: &Splits) -> spikeburn::train::Diverged {
    let device = burn::tensor::Device::default();
    match train_and_test(cfg, data, &device, &mut |_| {}) {
        Ok(r) => panic!("trained to {:?} without diverging", r.history.last()),
        Err(spikeburn::train::Stopped::Diverged(d)) => d,
        Err(other) => panic!("expected divergence, got {other}"),
    }
}

/// An infinite learning rate: Adam's first step makes the weights infinite or NaN, and the run
/// stops after that batch, for the exact layers and for surrogate BPTT.
#[test]
fn an_infinite_learning_rate_stops_after_the_first_batch() {
    let data = yinyang();
    let mut ttfs = ExperimentConfig::default();
    ttfs.training.epochs = 2;
    ttfs.training.learning_rate = f64::INFINITY;
    let mut surrogate =
        ExperimentConfig::from_file(Path::new("models/yinyang-surrogate.toml")).unwrap();
    surrogate.training.epochs = 2;
    surrogate.training.learning_rate = f64::INFINITY;
    for cfg in [ttfs, surrogate] {
        let d = diverges(&cfg, &data);
        let name = cfg.method.name();
        assert_eq!((d.epoch, d.batch, d.history.len()), (1, Some(1), 0), "{name}: {d}");
        assert!(d.what.contains("weights hold NaN or inf"), "{name}: {d}");
    }
}

/// A NaN weight bump (the example of issue 14) kills the weights at the first bump; the run
/// stops in that epoch with the earlier epochs kept, rather than training on to a NaN model.
#[test]
fn a_nan_weight_bump_stops_at_the_first_bump() {
    let data = yinyang();
    let mut cfg = ExperimentConfig::default();
    cfg.training.epochs = 3;
    cfg.training.bump_value = f64::NAN;
    // Every sample missing an output spike: the very first batch bumps.
    cfg.network.weight_init = vec![[-1.0, 0.01], [-1.0, 0.01]];
    let d = diverges(&cfg, &data);
    assert_eq!((d.epoch, d.batch, d.history.len()), (1, Some(1), 0), "{d}");
    assert!(d.what.contains("layer 1 weights"), "{d}");
}

/// The same network with finite values trains through: the guard does not fire on a healthy run.
#[test]
fn a_healthy_run_is_not_stopped() {
    let data = yinyang();
    let mut cfg = ExperimentConfig::default();
    cfg.training.epochs = 2;
    let device = burn::tensor::Device::default();
    let r = train_and_test(&cfg, &data, &device, &mut |_| {}).expect("a finite run");
    assert_eq!(r.history.len(), 2);
}
