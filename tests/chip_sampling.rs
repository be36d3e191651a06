//! LIF sampling on an emulated chip ([`spikeburn::sampling::LifOnChip`]): the `ideal` chip
//! runs the experiment bit for bit as no chip; the per-neuron calibration measured on a chip
//! absorbs its threshold and leak offsets (the nominal calibration does not); on `bss2`,
//! calibrated there and trained with it in the loop, 5-unit machines reach D_KL ≤ 10⁻².

use std::path::Path;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use spikeburn::chip::{Chip, ChipConfig};
use spikeburn::sampling::{
    BoltzmannMachine, CalibrationSweep, LifOnChip, SampleConfig, Translation, calibrate, dkl_trace,
    run_sample,
};

fn config(chip: Option<&str>, seed: u64) -> SampleConfig {
    let mut cfg = SampleConfig::from_file(Path::new("models/boltzmann-5-lif.toml")).unwrap();
    cfg.seed = seed;
    cfg.chip.profile = chip.map(String::from);
    cfg.validate().unwrap();
    cfg
}

#[test]
/// With the `ideal` chip every figure of the run — calibration, open loop, learning curve,
/// the final D_KL trace — equals the run without a chip to the last bit.
fn ideal_chip_is_bit_identical() {
    let shorten = |mut cfg: SampleConfig| {
        cfg.sampler.steps = 20_000;
        cfg.learning.iterations = 20;
        cfg.lif.calibration_duration = 1000.0;
        cfg
    };
    let plain = run_sample(&shorten(config(None, 3)), |_| {}).unwrap();
    let ideal = run_sample(&shorten(config(Some("ideal"), 3)), |_| {}).unwrap();
    assert_eq!(plain.calibration, ideal.calibration);
    assert_eq!(plain.dkl_open_loop.map(f64::to_bits), ideal.dkl_open_loop.map(f64::to_bits));
    assert_eq!(plain.learning_trace, ideal.learning_trace);
    assert_eq!(plain.trace, ideal.trace);
    assert_eq!(plain.dkl.to_bits(), ideal.dkl.to_bits());
    assert!(plain.chip.is_none() && ideal.chip.is_some());
}

/// D_KL of a fresh 64 × 10 s run of `bm` on `chip` programmed through `host`.
fn open_loop(chip: &LifOnChip, host: &Translation, bm: &BoltzmannMachine, seed: u64) -> f64 {
    let target = bm.exact_distribution();
    let mut s = chip.network(host, bm, 64, seed);
    dkl_trace(&mut s, &target, 1000, &[100_000], 1.0)[0].1
}

#[test]
/// On a chip with the uncalibrated threshold and leak fixed pattern (threshold σ 0.86 mV and
/// mean offset 1.4 mV, leak σ 0.5 mV) the translation with the nominal neuron's calibration
/// samples far worse than the one calibrated on the chip, which samples as well as the ideal
/// chip: the per-neuron calibration absorbs the offsets. (With the τ, g_l and gain spreads as
/// well the calibrated open loop is 2.6·10⁻² against 9·10⁻³ on seed 0: the PSP shapes are
/// left to learning in the loop.)
fn calibration_on_the_chip_absorbs_the_offsets() {
    let cfg = config(None, 0);
    let l = &cfg.lif;
    let mut profile = ChipConfig::read_profile("bss2-uncalibrated").unwrap();
    let f = &mut profile.fixed_pattern;
    (f.tau_mem, f.tau_syn, f.g_leak, f.synapse_gain) = (0.0, 0.0, 0.0, 0.0);
    assert!(f.v_th > 0.08 && f.v_leak > 0.04 && f.v_th_mean > 0.1);
    let chip = Chip::draw(profile, 4, &[LifOnChip::shape(5)]);
    let on = LifOnChip::new(&l.neuron, 5, &chip, l.chip_potential_unit).unwrap();
    let sweep = CalibrationSweep {
        duration: l.calibration_duration,
        points: l.calibration_points,
        ..CalibrationSweep::around_estimate(&l.neuron, &l.noise)
    };
    let nominal = calibrate(&vec![l.neuron.clone(); 5], &l.noise, l.dt, &sweep, 1);
    let measured = on.calibrate(&l.noise, l.dt, &on.sweep(&l.neuron, &sweep), 1).unwrap();
    let host = |calibration| Translation {
        neurons: vec![l.neuron.clone(); 5],
        calibration,
        noise: l.noise.clone(),
        dt: l.dt,
        renewing: l.renewing,
    };
    let ideal = LifOnChip::new(
        &l.neuron,
        5,
        &Chip::draw(ChipConfig::read_profile("ideal").unwrap(), 0, &[(5, 5)]),
        10.0,
    )
    .unwrap();
    let mut worse = 0;
    for seed in 0..3 {
        let mut rng = SmallRng::seed_from_u64(500 + seed);
        let bm = BoltzmannMachine::random(5, 0.5, 1.0, &mut rng);
        let reference = open_loop(&ideal, &host(nominal.clone()), &bm, seed);
        let naive = open_loop(&on, &host(nominal.clone()), &bm, seed);
        let own = open_loop(&on, &host(measured.clone()), &bm, seed);
        println!(
            "seed {seed}: ideal chip {reference:.2e}, nominal {naive:.2e}, measured {own:.2e}"
        );
        assert!(own < 2.0 * reference + 5e-3, "seed {seed}: {own} against {reference}");
        worse += usize::from(naive > 3.0 * own);
    }
    assert_eq!(worse, 3, "the nominal calibration is far worse on every machine");
}

#[test]
/// `bss2`, calibrated on the chip and trained with it in the loop (`spikeburn sample
/// --config models/boltzmann-5-lif.toml --chip bss2`): D_KL ≤ 10⁻² on every seed.
fn bss2_in_the_loop_reaches_the_target() {
    for seed in 0..2 {
        let r = run_sample(&config(Some("bss2"), seed), |_| {}).unwrap();
        let open = r.dkl_open_loop.unwrap();
        println!("seed {seed}: open loop {open:.2e} → in the loop {:.2e}", r.dkl);
        assert!(r.dkl <= 1e-2, "seed {seed}: {}", r.dkl);
        assert!(r.dkl < open / 3.0, "seed {seed}: {} from {open}", r.dkl);
        assert_eq!(r.chip.as_ref().map(|c| c.profile.name.as_str()), Some("bss2"));
    }
}
