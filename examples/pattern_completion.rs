//! Pattern completion with a trained sampling Boltzmann layer: occluded 16×16 MNIST test digits
//! (bottom half, right half, or 50 % random pixels) are completed by neural sampling; prints the
//! completion error against sampling time and the per-pixel baseline, and writes one PNG per
//! occlusion (rows: originals, what the sampler saw with hidden pixels gray, completions).
//!
//! ```text
//! spikeburn train --config models/mnist16-sampling.toml --out runs/rbm
//! cargo run --release --example pattern_completion -- --checkpoint runs/rbm/model.bpk \
//!     [--config models/mnist16-sampling.toml] [--data-dir DIR] [--out DIR] [--images 16]
//! ```
//! The data folder comes from `--data-dir` or `SPIKEBURN_DATA`.

use std::path::PathBuf;

use burn::tensor::Device;
use rand::SeedableRng;
use spikeburn::io::weights;
use spikeburn::train::ExperimentConfig;
use spikeburn::train::sampling::{Occlusion, build_sampling_rbm, complete_images};
use spikeburn::util::StdRng;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> anyhow::Result<()> {
    let config = arg("--config").unwrap_or_else(|| "models/mnist16-sampling.toml".into());
    let cfg = ExperimentConfig::from_file(config.as_ref())?;
    let checkpoint = arg("--checkpoint")
        .ok_or_else(|| anyhow::anyhow!("give --checkpoint (spikeburn train)"))?;
    let data_dir = arg("--data-dir")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SPIKEBURN_DATA").map(PathBuf::from));
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "runs/pattern-completion".into()));
    let images: usize = arg("--images").map_or(16, |s| s.parse().expect("--images N"));
    std::fs::create_dir_all(&out)?;
    let data = cfg.dataset.load(data_dir.as_deref())?;
    let device = Device::default();
    let rbm = build_sampling_rbm(&cfg, None, &device, &mut StdRng::seed_from_u64(cfg.seed));
    let rbm = weights::load_checkpoint_into(rbm, checkpoint.as_ref())?;
    let side = (cfg.dataset.n_inputs() as f64).sqrt().round() as usize;
    let occlusions = [
        ("bottom-half", Occlusion::Bottom(side / 2)),
        ("right-half", Occlusion::Right(side / 2)),
        ("random-50", Occlusion::Random { fraction: 0.5, seed: 7 }),
    ];
    println!(
        "pixel error on the hidden pixels of {} test digits (τ = {}, after {} burn-in steps)",
        500, cfg.sampling.readout_tau, cfg.sampling.readout_burn_in
    );
    println!("| occlusion | baseline | 10 steps | 30 | 100 | 300 | 1000 | labels right (1000) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, occlusion) in occlusions {
        let mut line = String::new();
        let mut baseline = 0.0;
        let mut labels = 0;
        for steps in [10, 30, 100, 300, 1000] {
            let c = complete_images(&rbm, &data.test, 500, occlusion, steps, &cfg, &device);
            baseline = c.baseline_error;
            line += &format!(" {:.1} % |", 100.0 * c.error);
            labels =
                c.inferred_labels.iter().zip(&data.test.labels).filter(|(a, b)| a == b).count();
        }
        println!("| {name} | {:.1} % |{line} {labels}/500 |", 100.0 * baseline);
        let c = complete_images(&rbm, &data.test, images, occlusion, 1000, &cfg, &device);
        let path = out.join(format!("completion-{name}.png"));
        c.write_png(&path)?;
    }
    println!("images in {}", out.display());
    Ok(())
}
