//! Neuron updates per second of every sampler on this CPU, for 5-unit and 794-unit networks
//! (794 = 784 pixels + 10 labels, full-resolution MNIST) with 1 and 256 parallel chains.
//!
//! - abstract neural sampling (host, fully connected, random-scan, τ = 20);
//! - LIF sampling (host, fully connected, conductance-based, renewing synapses, dt = 0.1 ms);
//! - the tensor RBM sampler (Burn, layer sweeps, τ = 10): 794 visible/label units ↔ 500 hidden
//!   (one update of all 1294 units per sweep).
//!
//! ```text
//! cargo run --release --example sampling_throughput
//! ```
//! Each case runs for at least `--seconds` (default 1) of wall time after a warm-up.

use std::time::Instant;

use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use spikeburn::sampling::{
    BoltzmannMachine, Calibration, CalibrationSweep, LayerState, LifSamplingNeuron, NeuralSampler,
    Noise, Sampler, SamplingRbmConfig, Translation, UpdateOrder, calibrate,
};
use spikeburn::util::StdRng;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Steps `step` until `seconds` have passed (after 3 warm-up steps); returns steps per second.
fn rate(seconds: f64, mut step: impl FnMut()) -> f64 {
    for _ in 0..3 {
        step();
    }
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed().as_secs_f64() < seconds {
        for _ in 0..10 {
            step();
        }
        n += 10;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let seconds: f64 = arg("--seconds").map_or(1.0, |s| s.parse().expect("--seconds S"));
    let threads = rayon::current_num_threads();
    println!("{threads} threads; neuron updates per second (one update = one unit, one step)\n");
    println!("| sampler | units | chains | steps/s | neuron updates/s |");
    println!("|---|---:|---:|---:|---:|");
    let row = |name: &str, units: usize, chains: usize, steps_per_s: f64| {
        println!(
            "| {name} | {units} | {chains} | {steps_per_s:.3e} | {:.3e} |",
            steps_per_s * (units * chains) as f64
        );
    };
    // One calibration of sbs's neuron serves every LIF network (identical neurons).
    let n = LifSamplingNeuron::default();
    let noise = Noise::default();
    let sweep =
        CalibrationSweep { duration: 2000.0, ..CalibrationSweep::around_estimate(&n, &noise) };
    let one = calibrate(std::slice::from_ref(&n), &noise, 0.1, &sweep, 1);
    for units in [5usize, 794] {
        // Couplings scaled so that the 794-unit machine's inputs stay of order 1.
        let w_std = if units == 5 { 1.0 } else { 1.0 / (units as f64).sqrt() };
        let bm = BoltzmannMachine::random(units, w_std, 1.0, &mut SmallRng::seed_from_u64(0));
        let calibration = Calibration {
            v_p05: vec![one.v_p05[0]; units],
            alpha: vec![one.alpha[0]; units],
            max_residual: vec![one.max_residual[0]; units],
            e_l: one.e_l.clone(),
            p_on: vec![],
        };
        let tr = Translation {
            neurons: vec![n.clone(); units],
            calibration,
            noise: noise.clone(),
            dt: 0.1,
            renewing: true,
        };
        for chains in [1usize, 256] {
            let mut s = NeuralSampler::new(bm.clone(), 20, UpdateOrder::RandomScan, chains, 1);
            row("abstract neural sampling (host)", units, chains, rate(seconds, || s.step()));
            let mut l = tr.network(&bm, chains, 1);
            row("LIF sampling, dt 0.1 ms (host)", units, chains, rate(seconds, || l.step()));
        }
    }
    let device = Device::default();
    device.seed(0);
    let rbm = SamplingRbmConfig::new(784, 10, 500)
        .with_weight_std(0.05)
        .init(&device, &mut StdRng::seed_from_u64(0));
    for chains in [1usize, 256] {
        let mut state =
            Some((LayerState::off(chains, 794, &device), LayerState::off(chains, 500, &device)));
        let steps = rate(seconds, || {
            let (vl, h) = state.take().expect("state");
            let (vl, h) = rbm.sweep(vl, h, None, 10);
            // Wait for the device so that the time is the sweep's.
            let _ = vl.z.clone().sum().into_scalar::<f32>();
            state = Some((vl, h));
        });
        row("tensor RBM sweep, 794 ↔ 500 (Burn flex)", 1294, chains, steps);
    }
}
