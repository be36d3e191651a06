//! LIF sampling on an emulated chip ([`crate::chip::Chip`]): the same profiles and instances
//! as the first-spike-time and surrogate layers, applied to a network of sampling neurons.
//!
//! The chip is drawn for one layer of `(units, units)` (rows = presynaptic neurons, neurons =
//! postsynaptic). Per neuron (factors `1 + σ z`, offsets `σ z` plus the profile's mean
//! offset, after calibration's shrinking):
//! - τm times its factor, g_l times its factor (`C_m` follows, `C_m = g_l τm`), τs times its
//!   factor;
//! - ϑ plus its offset times the potential unit, and the reset with it (sbs's neuron resets just
//!   below its threshold; the profiles have no reset spread of their own);
//! - the leak: every programmed resting potential E_l is realised plus the neuron's offset times
//!   the potential unit.
//!
//! Per synapse: the coupling `W` is rounded to the chip's weight levels (63 levels of 1/30 on
//! `bss2`, saturating), translated to a synaptic weight by the host's [`Translation`], and
//! multiplied by the synapse's gain.
//!
//! The potential unit — what one unit of a threshold or leak offset is in mV — is the first-
//! spike-time neuron's ϑ − E_l for the ttfs layers; for sampling neurons it is a setting,
//! 10 mV by default (`[assumed]`: a threshold–rest distance of the order of a biological
//! neuron's; at `bss2`'s calibrated 8.6 % the threshold spread is then 0.86 mV, about one
//! activation width α ≈ 0.8 mV).
//!
//! The host knows the nominal neuron only. [`LifOnChip::calibrate`] measures each chip neuron's
//! activation in programmed units (the per-neuron calibration absorbs the threshold and leak
//! offsets and the τ and g_l spreads' effect on the activation); what it cannot see — each
//! neuron's own PSP shape and synapse gains, the weight rounding — is left to learning with the
//! chip in the loop. Trial-to-trial effects (threshold noise, jitter, spike loss, the clock) are
//! not applied to sampling networks: the background noise is the sampler's own randomness.

use super::boltzmann::BoltzmannMachine;
use super::lif::{
    Calibration, CalibrationError, CalibrationSweep, LifSampler, LifSamplingNeuron, Noise,
    Translation, try_calibrate,
};
use crate::chip::{Chip, ChipError, Weights};

/// The default potential unit of threshold and leak offsets, mV (`[assumed]`).
pub const DEFAULT_POTENTIAL_UNIT_MV: f64 = 10.0;

/// A network of `units` sampling neurons as one chip instance realises it.
#[derive(Debug, Clone, PartialEq)]
pub struct LifOnChip {
    /// The realised neurons.
    pub neurons: Vec<LifSamplingNeuron>,
    /// Per neuron: what the chip adds to every programmed resting potential, mV.
    pub leak_offset: Vec<f64>,
    /// Per synapse, row-major `[post, pre]` (the samplers' layout): factor on the weight.
    pub gains: Vec<f64>,
    /// The weight resolution, in units of the coupling `W`.
    pub weights: Weights,
}

impl LifOnChip {
    /// The chip shape a network of `units` neurons needs: one layer of `(units, units)`.
    pub fn shape(units: usize) -> (usize, usize) {
        (units, units)
    }

    /// `units` copies of `nominal` on `chip`, offsets in units of `potential_unit` mV.
    ///
    /// # Errors
    /// [`ChipError::Shape`] when the chip was drawn for another network.
    pub fn new(
        nominal: &LifSamplingNeuron,
        units: usize,
        chip: &Chip,
        potential_unit: f64,
    ) -> Result<Self, ChipError> {
        chip.check_shapes(&[Self::shape(units)])?;
        let p = &chip.layers[0];
        let neurons = (0..units)
            .map(|k| {
                let shift = p.v_th[k] * potential_unit;
                let tau_m = nominal.tau_m * p.tau_mem[k];
                LifSamplingNeuron {
                    tau_m,
                    c_m: nominal.g_l() * p.g_leak[k] * tau_m,
                    tau_syn: nominal.tau_syn * p.tau_syn[k],
                    v_th: nominal.v_th + shift,
                    v_reset: nominal.v_reset + shift,
                    ..nominal.clone()
                }
            })
            .collect();
        let gains = (0..units * units)
            .map(|idx| {
                let (post, pre) = (idx / units, idx % units);
                p.synapse_gain[pre * units + post]
            })
            .collect();
        Ok(Self {
            neurons,
            leak_offset: p.v_leak.iter().map(|o| o * potential_unit).collect(),
            gains,
            weights: chip.profile.weights,
        })
    }

    /// Number of neurons.
    pub fn units(&self) -> usize {
        self.neurons.len()
    }

    /// The calibration sweep of the chip's neurons, in realised resting potentials: `sweep`
    /// (planned for the nominal neuron) moved by the thresholds' mean offset and widened by
    /// three of their standard deviations on each side, so that every neuron's activation lies
    /// inside (the profile's spreads are the chip's specification, known to the host).
    pub fn sweep(&self, nominal: &LifSamplingNeuron, sweep: &CalibrationSweep) -> CalibrationSweep {
        let th: Vec<f64> = self.neurons.iter().map(|n| n.v_th - nominal.v_th).collect();
        let n = th.len() as f64;
        let mean = th.iter().sum::<f64>() / n;
        let sd = (th.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        CalibrationSweep {
            e_l_min: sweep.e_l_min + mean - 3.0 * sd,
            e_l_max: sweep.e_l_max + mean + 3.0 * sd,
            ..sweep.clone()
        }
    }

    /// Calibrates the chip's neurons as the host would on the real chip: sweeps the resting
    /// potentials (`sweep`, realised values; see [`sweep`](Self::sweep)) and fits each neuron's
    /// logistic activation, then states it in programmed units (realised minus the neuron's
    /// leak offset): a [`Translation`] of the nominal neurons with this calibration programs
    /// the chip.
    ///
    /// # Errors
    /// [`CalibrationError`] when a neuron's activation cannot be fitted inside the sweep.
    pub fn calibrate(
        &self,
        noise: &Noise,
        dt: f64,
        sweep: &CalibrationSweep,
        seed: u64,
    ) -> Result<Calibration, CalibrationError> {
        let mut cal = try_calibrate(&self.neurons, noise, dt, sweep, seed)?;
        for (v, o) in cal.v_p05.iter_mut().zip(&self.leak_offset) {
            *v -= o;
        }
        Ok(cal)
    }

    /// The machine `bm` with its couplings rounded to the chip's weight levels.
    pub fn quantised(&self, bm: &BoltzmannMachine) -> BoltzmannMachine {
        let w = bm.w.iter().map(|w| self.weights.quantise(*w)).collect();
        BoltzmannMachine::new(w, bm.b.clone())
    }

    /// What the chip realises when the host programs `bm` through `host` (the nominal
    /// neurons and the chip's calibration): synaptic weights `[post, pre]` (the rounded
    /// couplings translated, times the synapse gains) and resting potentials (programmed plus
    /// the leak offsets).
    ///
    /// # Panics
    /// If `bm` or `host` has another number of units than the chip.
    pub fn realise(&self, host: &Translation, bm: &BoltzmannMachine) -> (Vec<f64>, Vec<f64>) {
        assert_eq!(bm.units(), self.units(), "machine and chip differ in size");
        let (w, e_l) = host.to_lif(&self.quantised(bm));
        let w = w.iter().zip(&self.gains).map(|(w, g)| w * g).collect();
        let e_l = e_l.iter().zip(&self.leak_offset).map(|(e, o)| e + o).collect();
        (w, e_l)
    }

    /// `chains` chip networks sampling from `bm` as programmed through `host`, under `host`'s
    /// background.
    pub fn network(
        &self,
        host: &Translation,
        bm: &BoltzmannMachine,
        chains: usize,
        seed: u64,
    ) -> LifSampler {
        let (w, e_l) = self.realise(host, bm);
        let e_l = (0..chains).flat_map(|_| e_l.iter().copied()).collect();
        let neurons = self.neurons.clone();
        LifSampler::new(neurons, w, e_l, host.noise.clone(), host.renewing, host.dt, chains, seed)
    }

    /// Points running chip networks at a new machine (keeps their state).
    pub fn update(&self, host: &Translation, sampler: &mut LifSampler, bm: &BoltzmannMachine) {
        let (w, e_l) = self.realise(host, bm);
        sampler.set_network(w, &e_l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::ChipConfig;

    fn chip(units: usize, edit: impl FnOnce(&mut crate::chip::ChipProfile)) -> Chip {
        let mut p = ChipConfig::read_profile("ideal").unwrap();
        edit(&mut p);
        Chip::draw(p, 3, &[LifOnChip::shape(units)])
    }

    #[test]
    /// Every neuron carries its own factors and offsets: τm, g_l (C_m = g_l τm), τs, the
    /// threshold and reset shifted together, the leak offset; gains transposed to `[post, pre]`.
    fn neurons_carry_the_instance() {
        let nominal = LifSamplingNeuron::default();
        let c = chip(4, |p| {
            let f = &mut p.fixed_pattern;
            (f.tau_mem, f.tau_syn, f.v_th, f.v_leak, f.g_leak, f.synapse_gain) =
                (0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
        });
        let on = LifOnChip::new(&nominal, 4, &c, 10.0).unwrap();
        let p = &c.layers[0];
        for (k, n) in on.neurons.iter().enumerate() {
            assert!((n.tau_m - nominal.tau_m * p.tau_mem[k]).abs() < 1e-12);
            assert!((n.g_l() - nominal.g_l() * p.g_leak[k]).abs() < 1e-12);
            assert!((n.tau_syn - nominal.tau_syn * p.tau_syn[k]).abs() < 1e-12);
            assert!((n.v_th - nominal.v_th - 10.0 * p.v_th[k]).abs() < 1e-12);
            assert!((n.v_th - n.v_reset - (nominal.v_th - nominal.v_reset)).abs() < 1e-9);
            assert!((on.leak_offset[k] - 10.0 * p.v_leak[k]).abs() < 1e-12);
            assert!(n.tau_m != nominal.tau_m && n.v_th != nominal.v_th);
        }
        let (post, pre) = (1, 2);
        assert_eq!(on.gains[post * 4 + pre], p.synapse_gain[pre * 4 + post], "[post, pre]");
        let e = LifOnChip::new(&nominal, 5, &c, 10.0).unwrap_err();
        assert!(e.to_string().contains("(4, 4)"), "{e}");
    }

    #[test]
    /// The ideal chip realises the nominal neurons and exactly the host's translation.
    fn ideal_chip_realises_the_translation() {
        let nominal = LifSamplingNeuron::default();
        let on = LifOnChip::new(&nominal, 3, &chip(3, |_| {}), 10.0).unwrap();
        assert!(on.neurons.iter().all(|n| *n == nominal));
        let cal = Calibration {
            v_p05: vec![-50.6, -50.5, -50.7],
            alpha: vec![0.8, 0.79, 0.81],
            max_residual: vec![0.0; 3],
            e_l: vec![],
            p_on: vec![],
        };
        let host = Translation {
            neurons: vec![nominal; 3],
            calibration: cal,
            noise: Noise::default(),
            dt: 0.1,
            renewing: true,
        };
        let bm = BoltzmannMachine::new(
            vec![0.0, 0.7, -1.2, 0.7, 0.0, 0.3, -1.2, 0.3, 0.0],
            vec![0.1, -0.4, 0.9],
        );
        assert_eq!(on.realise(&host, &bm), host.to_lif(&bm));
    }

    #[test]
    /// Couplings are rounded to the chip's levels before translation; the gains multiply.
    fn weights_are_rounded_then_gained() {
        let nominal = LifSamplingNeuron::default();
        let c = chip(2, |p| {
            p.weights = Weights { bits: 6, levels_per_unit: 30.0 };
            p.fixed_pattern.synapse_gain = 0.1;
        });
        let on = LifOnChip::new(&nominal, 2, &c, 10.0).unwrap();
        let bm = BoltzmannMachine::new(vec![0.0, 0.512, 0.512, 0.0], vec![0.0, 0.0]);
        let q = on.quantised(&bm);
        assert_eq!(q.w[1], 15.0 / 30.0);
        let big = BoltzmannMachine::new(vec![0.0, 5.0, 5.0, 0.0], vec![0.0, 0.0]);
        assert_eq!(on.quantised(&big).w[1], 63.0 / 30.0, "saturates");
        let cal = Calibration {
            v_p05: vec![-50.6, -50.5],
            alpha: vec![0.8, 0.79],
            max_residual: vec![0.0; 2],
            e_l: vec![],
            p_on: vec![],
        };
        let host = Translation {
            neurons: vec![nominal; 2],
            calibration: cal,
            noise: Noise::default(),
            dt: 0.1,
            renewing: true,
        };
        let (w, _) = on.realise(&host, &bm);
        let (plain, _) = host.to_lif(&q);
        assert!((w[1] - plain[1] * on.gains[1]).abs() < 1e-15 && on.gains[1] != 1.0);
    }
}
