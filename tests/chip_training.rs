//! Training on an emulated chip, in f32 on the default device (its own test binary: the f64
//! tests configure the device once per binary): the `ideal` chip trains and tests bit for bit
//! as no chip in every mode; `aware` training meets a new chip every epoch.

use spikeburn::chip::{ChipConfig, ChipMode};
use spikeburn::data::DatasetName;
use spikeburn::train::{ExperimentConfig, train_and_test};
use spikeburn::ttfs::SpikeTimeNetwork;
use spikeburn::util::to_vec_f64;

#[test]
/// Training and testing with the `ideal` chip, in every mode, gives the numbers of training
/// without a chip to the last bit.
fn ideal_chip_is_bit_identical() {
    let mut data = DatasetName::Yinyang.load(None).unwrap();
    data.train = data.train.subset(&(0..600).collect::<Vec<_>>());
    data.validation = data.validation.subset(&(0..300).collect::<Vec<_>>());
    data.test = data.test.subset(&(0..300).collect::<Vec<_>>());
    let mut base = ExperimentConfig::default();
    base.training.epochs = 3;
    let device = burn::tensor::Device::default();
    let run = |cfg: &ExperimentConfig| {
        let r = train_and_test(cfg, &data, &device, &mut |_| {});
        let net = r.network.as_any().downcast_ref::<SpikeTimeNetwork>().unwrap();
        let w: Vec<Vec<f64>> = net.layers.iter().map(|l| to_vec_f64(l.weights.val())).collect();
        (w, r.history.iter().map(|m| (m.train_loss, m.val_accuracy)).collect::<Vec<_>>(), r.test)
    };
    let (w0, h0, t0) = run(&base);
    for mode in [ChipMode::OpenLoop, ChipMode::InTheLoop, ChipMode::Exact, ChipMode::Aware] {
        let mut cfg = base.clone();
        cfg.chip = ChipConfig { profile: Some("ideal".into()), mode, ..ChipConfig::default() };
        cfg.validate().unwrap();
        let (w, h, t) = run(&cfg);
        assert_eq!(w, w0, "{mode:?}: weights");
        assert_eq!(h, h0, "{mode:?}: history");
        assert_eq!(t.accuracy, t0.accuracy, "{mode:?}: test accuracy");
        assert_eq!(t.loss.to_bits(), t0.loss.to_bits(), "{mode:?}: test loss");
        let c = t.chip.expect("chip results");
        assert_eq!(c.accuracies, vec![t0.accuracy]);
        assert_eq!(c.ideal_accuracy, t0.accuracy);
    }
}

#[test]
/// `aware` training meets a new chip every epoch, none of them a test instance.
fn aware_training_redraws_the_chip_every_epoch() {
    use spikeburn::train::Learner;
    use spikeburn::train::ttfs::TtfsLearner;
    let cfg = ExperimentConfig {
        chip: ChipConfig {
            profile: Some("bss2".into()),
            mode: ChipMode::Aware,
            instances: 3,
            ..ChipConfig::default()
        },
        ..ExperimentConfig::default()
    };
    let device = burn::tensor::Device::default();
    let (mut learner, _) = TtfsLearner::seeded(&cfg, &device);
    let tests: Vec<u64> = cfg.chips().unwrap().iter().map(|c| c.seed).collect();
    let mut seen = Vec::new();
    for epoch in 1..=4 {
        let c = learner.trainer.chip.as_ref().unwrap();
        seen.push((c.chip.seed, c.chip.layers[0].v_th.clone()));
        learner.end_epoch(epoch);
    }
    for (k, (seed, v_th)) in seen.iter().enumerate() {
        assert!(!tests.contains(seed), "epoch {k} trains on a test chip");
        for (other, v) in &seen[k + 1..] {
            assert_ne!(seed, other);
            assert_ne!(v_th, v, "a new fixed pattern each epoch");
        }
    }
}
