//! D_KL(p* ‖ p̂) against time for every sampler on random 5-unit Boltzmann machines (sbs's draw),
//! median over seeds: exact Gibbs, abstract neural sampling (random-scan and synchronous, τ = 20
//! and τ = 3) and LIF sampling (open loop, with and without renewing synapses).
//!
//! Time is counted in refractory periods (τ steps for the abstract samplers, τ_ref = 10 ms for
//! LIF; Gibbs: one sweep), so that the samplers compare at equal numbers of "on" periods.
//!
//! ```text
//! cargo run --release --example dkl_vs_time -- [--seeds 5] [--out DIR]
//! ```
//! Writes `DIR/dkl_vs_time.csv` and `DIR/dkl_vs_time.svg` (default DIR: runs/dkl-vs-time).

use std::path::PathBuf;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use spikeburn::io::plot::{Figure, LineChart, Scale, Series};
use spikeburn::sampling::{
    BoltzmannMachine, CalibrationSweep, LifSamplingNeuron, NeuralSampler, Noise, Sampler,
    Translation, UpdateOrder, calibrate, dkl_trace, log_spaced,
};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// A sampler factory: (name, steps per refractory period, steps, build(bm, seed)).
type Build = Box<dyn Fn(&BoltzmannMachine, u64) -> Box<dyn Sampler>>;

fn main() {
    let seeds: u64 = arg("--seeds").map_or(5, |s| s.parse().expect("--seeds N"));
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "runs/dkl-vs-time".into()));
    std::fs::create_dir_all(&out).expect("output folder");

    let lif = |renewing: bool| {
        let n = LifSamplingNeuron::default();
        let noise = Noise::default();
        let sweep =
            CalibrationSweep { duration: 5000.0, ..CalibrationSweep::around_estimate(&n, &noise) };
        let cal = calibrate(&vec![n.clone(); 5], &noise, 0.1, &sweep, 1);
        Translation { neurons: vec![n; 5], calibration: cal, noise, dt: 0.1, renewing }
    };
    let (lif_renewing, lif_static) = (lif(true), lif(false));
    let abstract_sampler = |tau: u32, order: UpdateOrder| -> Build {
        Box::new(move |bm: &BoltzmannMachine, seed| {
            Box::new(NeuralSampler::new(bm.clone(), tau, order, 1, seed)) as Box<dyn Sampler>
        })
    };
    // 10⁴ refractory periods for every sampler.
    let periods = 10_000.0;
    let samplers: Vec<(&str, f64, Build)> = vec![
        ("Gibbs", 1.0, abstract_sampler(1, UpdateOrder::RandomScan)),
        ("neural, random-scan, τ=3", 3.0, abstract_sampler(3, UpdateOrder::RandomScan)),
        ("neural, random-scan, τ=20", 20.0, abstract_sampler(20, UpdateOrder::RandomScan)),
        ("neural, synchronous, τ=3", 3.0, abstract_sampler(3, UpdateOrder::Synchronous)),
        ("neural, synchronous, τ=20", 20.0, abstract_sampler(20, UpdateOrder::Synchronous)),
        (
            "LIF, renewing synapses",
            100.0,
            Box::new(move |bm: &BoltzmannMachine, seed| {
                Box::new(lif_renewing.network(bm, 1, seed)) as Box<dyn Sampler>
            }),
        ),
        (
            "LIF, static synapses",
            100.0,
            Box::new(move |bm: &BoltzmannMachine, seed| {
                Box::new(lif_static.network(bm, 1, seed)) as Box<dyn Sampler>
            }),
        ),
    ];
    let mut csv = String::from("sampler,periods,steps,median_dkl\n");
    let mut series = Vec::new();
    println!(
        "median D_KL over {seeds} seeds (K = 5, one chain) after 10, 100, 1000, 10000 refractory periods"
    );
    for (name, per, build) in &samplers {
        let steps = (periods * per) as usize;
        let checkpoints = log_spaced((*per as usize).max(10), steps, 40);
        let mut runs: Vec<Vec<f64>> = (0..seeds)
            .map(|seed| {
                let mut rng = SmallRng::seed_from_u64(1000 + seed);
                let bm = BoltzmannMachine::random(5, 1.0, 1.0, &mut rng);
                let target = bm.exact_distribution();
                let mut s = build(&bm, seed);
                dkl_trace(s.as_mut(), &target, 1000, &checkpoints, 1.0)
                    .iter()
                    .map(|x| x.1)
                    .collect()
            })
            .collect();
        let median: Vec<f64> = (0..checkpoints.len())
            .map(|i| {
                runs.sort_by(|a, b| a[i].total_cmp(&b[i]));
                runs[runs.len() / 2][i]
            })
            .collect();
        let points: Vec<(f64, f64)> =
            checkpoints.iter().zip(&median).map(|(&s, &d)| (s as f64 / per, d)).collect();
        for (&s, &(p, d)) in checkpoints.iter().zip(&points) {
            csv += &format!("{name},{p},{s},{d}\n");
        }
        let at = |p: f64| {
            points
                .iter()
                .min_by(|a, b| (a.0 - p).abs().total_cmp(&(b.0 - p).abs()))
                .map_or(f64::NAN, |x| x.1)
        };
        println!(
            "{name:<28} {:>9.2e} {:>9.2e} {:>9.2e} {:>9.2e}",
            at(10.0),
            at(100.0),
            at(1000.0),
            at(10_000.0)
        );
        series.push(Series { name: name.to_string(), points });
    }
    std::fs::write(out.join("dkl_vs_time.csv"), csv).expect("csv");
    let chart = LineChart::new(
        "Sampling quality, random 5-unit Boltzmann machines (median of seeds)",
        "time (refractory periods)",
        "D_KL(p* || p)",
        [Scale::Log, Scale::Log],
        series,
    );
    Figure::Lines(chart).write(&out.join("dkl_vs_time")).expect("chart");
    println!("wrote {} (.svg and .png)", out.join("dkl_vs_time").display());
}
