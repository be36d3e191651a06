//! The sampling Boltzmann layer on real 16×16 MNIST: wake–sleep on neural-sampling states
//! learns a classifier whose *sampled* label activity classifies, completes occluded digits
//! better than the per-pixel baseline, and survives a checkpoint round trip.
//!
//! Needs the MNIST IDX files (SPIKEBURN_DATA, `datasets/` or `../shared/datasets`); under CI
//! their absence is a failure.

mod common;
use common::real_data_dir;

use std::path::Path;

use burn::tensor::Device;
use rand::SeedableRng;
use spikeburn::data::DatasetName;
use spikeburn::io::weights;
use spikeburn::train::sampling::{
    Occlusion, SamplingLearner, build_sampling_rbm, complete_images, evaluate_exact,
    evaluate_sampling, generate_per_class,
};
use spikeburn::train::{ExperimentConfig, TrainingRng, run_epochs};
use spikeburn::util::StdRng;

/// The sampling layers draw from the device's global random stream (`device.seed`): two tests
/// of this binary sampling at once would interleave their draws and neither would be
/// reproducible, so they take turns.
static DEVICE_STREAM: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn wake_sleep_learns_to_classify_and_complete() {
    let _turn = DEVICE_STREAM.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = real_data_dir() else {
        eprintln!("skipped: no MNIST data (set SPIKEBURN_DATA)");
        return;
    };
    let mut cfg =
        ExperimentConfig::from_file(Path::new("models/mnist16-sampling.toml")).expect("config");
    cfg.training.epochs = 4;
    cfg.sampling.readout_steps = 100;
    let data = DatasetName::Mnist16.load(Some(&dir)).expect("MNIST");
    let train = data.train.subset(&(0..20_000).collect::<Vec<_>>());
    let val = data.validation.subset(&(0..1000).collect::<Vec<_>>());
    let test = data.test.subset(&(0..2000).collect::<Vec<_>>());
    let device = Device::default();
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut learner = SamplingLearner::new(&cfg, Some(&train), &device, &mut rng);
    let before = evaluate_exact(&learner.rbm, &val, 1000, &cfg, &device).accuracy;
    let history = run_epochs(
        &cfg,
        &mut learner,
        &train,
        &val,
        &mut TrainingRng::Spikeburn(Box::new(rng)),
        &mut |_| {},
    )
    .expect("finite")
    .history;
    let rbm = learner.rbm;
    let sampled = evaluate_sampling(&rbm, &test, 1000, &cfg, &device);
    let exact = evaluate_exact(&rbm, &test, 1000, &cfg, &device);
    println!(
        "val {before:.3} → {:.3}; test sampled {:.3}, exact {:.3}, {:.0} spikes, decision {:?}",
        history.last().unwrap().val_accuracy,
        sampled.accuracy,
        exact.accuracy,
        sampled.mean_spikes,
        sampled.mean_decision_time
    );
    assert!(before < 0.3, "an untrained machine should not classify: {before}");
    // A short run (800 updates): measured 0.774 sampled, 0.798 exact (the shipped 10-epoch
    // config reaches 92.5 %, BENCHMARKS.md); an untrained machine 0.105.
    assert!(sampled.accuracy > 0.75, "sampled readout {}", sampled.accuracy);
    assert!((sampled.accuracy - exact.accuracy).abs() < 0.03, "sampling ≈ exact posterior");
    assert!(sampled.mean_spikes > 0.0 && sampled.mean_decision_time.is_some_and(|t| t >= 1.0));
    assert_eq!(exact.mean_decision_time, None, "the exact posterior simulates no time");

    let c = complete_images(&rbm, &test, 50, Occlusion::Bottom(8), 100, &cfg, &device);
    println!("completion error {:.3} (baseline {:.3})", c.error, c.baseline_error);
    assert!(c.error < 0.85 * c.baseline_error);
    // Occluded pixels start blank: a near-zero error would mean the truth leaked in.
    assert!(c.error > 0.02, "suspiciously perfect completion {}", c.error);
    let hits = c.inferred_labels.iter().zip(&test.labels).filter(|(a, b)| a == b).count();
    assert!(hits >= 25, "labels inferred from half digits: {hits}/50");

    // Sample by sample, the sampled readout decides as the exact posterior does.
    let classes = 10;
    let argmax = |o: &[f64]| spikeburn::readout::unique_argmax(o);
    let agree = (0..test.len())
        .filter(|&i| {
            let row = |e: &spikeburn::train::Evaluation| {
                e.outputs[i * classes..(i + 1) * classes].to_vec()
            };
            argmax(&row(&sampled)) == argmax(&row(&exact))
        })
        .count();
    println!("sampled and exact readout agree on {agree} of {}", test.len());
    // Measured 1809 of 2000: 100 readout steps leave the uncertain digits to chance.
    assert!(agree >= 1700, "sampled readout follows the exact posterior on {agree} of 2000");

    // Generated digits are digits of their class: the machine's own exact posterior, given
    // the generated image (on-time > ½), names the clamped label.
    let g = generate_per_class(&rbm, &cfg, &device);
    let pixels: Vec<f64> = g.iter().flatten().map(|&p| f64::from(p > 0.5)).collect();
    let v = burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(pixels, [classes, 256]),
        &device,
    );
    let lp = spikeburn::util::to_vec_f64(rbm.label_log_probs(v));
    let own: Vec<Option<usize>> =
        (0..classes).map(|c| argmax(&lp[c * classes..(c + 1) * classes])).collect();
    println!("generated digits classified as {own:?}");
    // After this short run (4 epochs of 20 000 images) generation is not yet class-specific
    // (measured: 3 of 10 generated digits classified as their label, the rest mostly 7s; the
    // shipped 10-epoch run generates all ten, docs/generated.png). Here the label must at
    // least move the image; class-specific generation is asserted on learnable prototypes in
    // the shipped configuration below.
    let dist: f64 = g[0].iter().zip(&g[1]).map(|(a, b)| (a - b).abs()).sum();
    assert!(dist > 10.0, "class 0 and 1 generate the same image ({dist})");

    // Checkpoint round trip: identical exact posterior.
    let path = std::env::temp_dir().join(format!("spikeburn-rbm-{}.bpk", std::process::id()));
    weights::save_checkpoint(&rbm, &path, &[]).unwrap();
    let fresh = build_sampling_rbm(&cfg, None, &device, &mut StdRng::seed_from_u64(99));
    let loaded = weights::load_checkpoint_into(fresh, &path).unwrap();
    let again = evaluate_exact(&loaded, &test, 1000, &cfg, &device);
    assert_eq!(again.accuracy, exact.accuracy);
    std::fs::remove_file(path).ok();
}

/// The class means of binarised training images, `[10][256]`.
fn class_means(train: &spikeburn::data::SpikeDataset, threshold: f64) -> Vec<Vec<f64>> {
    let bin = spikeburn::train::sampling::binarize(train, threshold);
    let mut means = vec![vec![0.0; 256]; 10];
    let mut counts = [0.0; 10];
    for (i, &l) in train.labels.iter().enumerate() {
        counts[l] += 1.0;
        for p in 0..256 {
            means[l][p] += bin[i * 256 + p];
        }
    }
    for (m, c) in means.iter_mut().zip(counts) {
        m.iter_mut().for_each(|x| *x /= c);
    }
    means
}

/// The shipped configuration as the README runs it (`spikeburn train --config
/// models/mnist16-sampling.toml`): the sampled readout classifies the test split at the
/// 92.5 % BENCHMARKS.md reports (within a point), and label-clamped generation draws a digit
/// of every class (each generated image lies nearest its own class's mean training image).
#[test]
fn shipped_configuration_classifies_and_generates_every_digit() {
    let _turn = DEVICE_STREAM.lock().unwrap_or_else(|e| e.into_inner());
    let Some(dir) = real_data_dir() else {
        eprintln!("skipped: no MNIST data (set SPIKEBURN_DATA)");
        return;
    };
    let cfg =
        ExperimentConfig::from_file(Path::new("models/mnist16-sampling.toml")).expect("config");
    let data = DatasetName::Mnist16.load(Some(&dir)).expect("MNIST");
    let device = Device::default();
    let run = spikeburn::train::train_and_test(&cfg, &data, &device, &mut |_| {}).expect("finite");
    let rbm = run.network.as_any().downcast_ref::<spikeburn::sampling::SamplingRbm>().unwrap();
    let exact = evaluate_exact(rbm, &data.test, 1000, &cfg, &device).accuracy;
    let means = class_means(&data.train, cfg.sampling.binarize_threshold);
    let nearest: Vec<usize> = generate_per_class(rbm, &cfg, &device)
        .iter()
        .map(|img| {
            let d = |m: &[f64]| img.iter().zip(m).map(|(x, y)| (x - y).powi(2)).sum::<f64>();
            (0..10).min_by(|&a, &b| d(&means[a]).total_cmp(&d(&means[b]))).unwrap()
        })
        .collect();
    println!(
        "shipped config: sampled {:.4}, exact {exact:.4}; generated digits nearest {nearest:?}",
        run.test.accuracy
    );
    assert!(run.test.accuracy > 0.915, "sampled readout {}", run.test.accuracy);
    assert!(exact > 0.915, "exact posterior {exact}");
    assert_eq!(nearest, (0..10).collect::<Vec<_>>(), "generated digits");
}
