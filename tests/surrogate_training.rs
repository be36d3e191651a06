//! Every readout and encoder of the surrogate-gradient method trains end to end on Yin-Yang:
//! a few epochs lift validation accuracy well above chance (1/3) with finite losses. (The
//! accuracy targets themselves are measured by release runs: BENCHMARKS.md.)

use std::path::Path;

use burn::tensor::Device;
use spikeburn::data::{DatasetName, LatencyEncoder};
use spikeburn::surrogate::{Encoder, Readout};
use spikeburn::train::{ExperimentConfig, train_surrogate};

fn short(readout: Readout, encoder: Encoder) -> f64 {
    let mut cfg = ExperimentConfig::from_file(Path::new("models/yinyang-surrogate.toml")).unwrap();
    cfg.training.epochs = 3;
    cfg.surrogate.readout = readout;
    cfg.surrogate.encoder = encoder;
    if readout != Readout::MaxMembrane {
        // Spiking outputs: counts and first-spike times are on another scale than potentials.
        cfg.surrogate.logit_scale = match readout {
            Readout::SpikeCount => 0.5,
            _ => 5.0,
        };
    }
    cfg.validate().unwrap();
    let data = DatasetName::Yinyang.load(None).unwrap();
    let device = Device::default();
    let out = train_surrogate(&cfg, &data.train, &data.validation, &device, &mut |_| {});
    assert!(out.history.iter().all(|m| m.train_loss.is_finite()), "{readout:?} {encoder:?}");
    out.history.last().unwrap().val_accuracy
}

#[test]
fn every_readout_learns() {
    for readout in [Readout::MaxMembrane, Readout::SpikeCount, Readout::FirstSpike] {
        let acc = short(readout, Encoder::Latency);
        assert!(acc > 0.6, "{readout:?}: validation accuracy {acc} after 3 epochs");
    }
}

#[test]
fn rate_coded_inputs_learn() {
    let acc = short(Readout::MaxMembrane, Encoder::rate_for(LatencyEncoder::REFERENCE, 10.0));
    assert!(acc > 0.6, "rate code: validation accuracy {acc} after 3 epochs");
}
