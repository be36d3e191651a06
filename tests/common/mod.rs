//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use spikeburn::ttfs::neuron::{NeuronParams, NeuronTensors, TauRatio};
use spikeburn::util::StdRng;

/// The default device configured for f64 (once per test binary: settings can be set only
/// before the first tensor is created).
pub fn f64_device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d = Device::default();
            d.configure(FloatDType::F64).expect("configure f64 before any tensor exists");
            d
        })
        .clone()
}

pub fn tensor2(values: &[f64], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

pub fn tensor1(values: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// Per-neuron parameters: each neuron gets its own τs, ϑ, E_l, g_l around the reference values.
pub fn varied_neurons(ratio: TauRatio, m: usize, rng: &mut StdRng) -> Vec<NeuronParams> {
    (0..m)
        .map(|_| {
            let base = NeuronParams::reference(ratio);
            NeuronParams {
                tau_syn: base.tau_syn * rng.random_range(0.7..1.4),
                v_th: base.v_th * rng.random_range(0.8..1.2),
                v_leak: rng.random_range(-0.1..0.1),
                g_leak: base.g_leak * rng.random_range(0.8..1.25),
                ..base
            }
        })
        .collect()
}

pub fn neuron_tensors(ps: &[NeuronParams], device: &Device) -> NeuronTensors {
    let col = |f: fn(&NeuronParams) -> f64| tensor1(&ps.iter().map(f).collect::<Vec<_>>(), device);
    NeuronTensors {
        tau_syn: col(|p| p.tau_syn),
        v_th: col(|p| p.v_th),
        v_leak: col(|p| p.v_leak),
        g_leak: col(|p| p.g_leak),
        ratio: ps[0].ratio,
    }
}

/// A random layer problem: input times in [0, 2] (some silent), weights that make most neurons
/// fire (mean ~ e/2 per input for a handful of inputs), some inhibitory.
pub struct Problem {
    pub batch: usize,
    pub n_in: usize,
    pub n_out: usize,
    pub times: Vec<f64>,
    pub weights: Vec<f64>,
}

pub fn random_problem(
    rng: &mut StdRng,
    batch: usize,
    n_in: usize,
    n_out: usize,
    silent: f64,
) -> Problem {
    let times =
        (0..batch * n_in)
            .map(|_| {
                if rng.random::<f64>() < silent {
                    f64::INFINITY
                } else {
                    rng.random_range(0.0..2.0)
                }
            })
            .collect();
    let scale = 4.0 / n_in as f64;
    let weights = (0..n_in * n_out).map(|_| scale * rng.random_range(-1.0..3.0)).collect();
    Problem { batch, n_in, n_out, times, weights }
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// The folder with the downloaded datasets (`DIR/mnist/`): `SPIKEBURN_DATA`, then `datasets/`,
/// then `../shared/datasets` beside the repository. `None` if none has MNIST; under CI (`CI`
/// set) that is a failure.
pub fn real_data_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SPIKEBURN_DATA").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets")),
    ];
    let found = candidates.into_iter().flatten().find(|d| d.join("mnist").is_dir());
    if found.is_none() && std::env::var_os("CI").is_some() {
        panic!("CI must provide the datasets: set SPIKEBURN_DATA or place ../shared/datasets");
    }
    found
}

/// What a finite-difference gradient check compared and what it left out, so that no check
/// passes on skipped or trivially zero entries: [`FdCount::assert_thorough`] prints one line
/// `checked N (M with |g| > floor), skipped K (reasons)` and fails if more than 1 % was skipped
/// or fewer than a minimum of entries had a gradient above the floor.
#[derive(Debug, Default)]
pub struct FdCount {
    /// Entries compared.
    pub checked: usize,
    /// Compared entries whose analytic gradient exceeds the floor.
    pub nonzero: usize,
    /// Entries skipped, with the reason for each.
    pub skipped: Vec<String>,
}

impl FdCount {
    /// A compared entry with analytic gradient `g`.
    pub fn compared(&mut self, g: f64, floor: f64) {
        self.checked += 1;
        self.nonzero += usize::from(g.abs() > floor);
    }

    /// A skipped entry and why.
    pub fn skip(&mut self, reason: String) {
        self.skipped.push(reason);
    }

    /// Adds another count.
    pub fn add(&mut self, other: FdCount) {
        self.checked += other.checked;
        self.nonzero += other.nonzero;
        self.skipped.extend(other.skipped);
    }

    /// Prints the line and checks the budget: at most 1 % skipped, at least `min_nonzero`
    /// entries with |g| above the floor.
    pub fn assert_thorough(&self, name: &str, floor: f64, min_nonzero: usize) {
        let total = self.checked + self.skipped.len();
        println!(
            "{name}: checked {} ({} with |g| > {floor:e}), skipped {} {:?}",
            self.checked,
            self.nonzero,
            self.skipped.len(),
            self.skipped
        );
        assert!(
            100 * self.skipped.len() <= total,
            "{name}: {} of {total} entries skipped (> 1 %): {:?}",
            self.skipped.len(),
            self.skipped
        );
        assert!(
            self.nonzero >= min_nonzero,
            "{name}: only {} entries with |g| > {floor:e} (need {min_nonzero})",
            self.nonzero
        );
    }
}
