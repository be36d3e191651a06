//! The emulated chip in first-spike-time training and testing: the training chip of a run
//! ([`ChipSession`]), evaluation on a chip instance ([`evaluate_on_chip`]), and a trained
//! network tested on its chip instances and saved with its chip ([`ChipTested`]).

use std::any::Any;

use crate::util::StdRng;
use burn::tensor::Device;
use rand::SeedableRng;

use super::config::{ChipMode, ExperimentConfig};
use super::evaluation::{ChipResults, Evaluation};
use super::model::TrainedModel;
use super::surrogate::evaluate_surrogate_with;
use super::ttfs::evaluate_with;
use crate::chip::{Chip, ChipError};
use crate::data::{SpikeDataset, Splits};
use crate::error_path::ErrorPath;
use crate::io::{IoError, RunDir, files};
use crate::surrogate::{SurrogateNetwork, SurrogateOnChip};
use crate::ttfs::SpikeTimeNetwork;
use crate::ttfs::loss::TtfsLoss;
use crate::ttfs::on_chip::OnChip;

/// The seed of a chip's trial noise: stream 0 for the training batches, 1 for every evaluation
/// (each evaluation starts it afresh, so that one is reproducible and epochs compare).
fn trial_seed(chip_seed: u64, stream: u64) -> u64 {
    let mut z = chip_seed ^ 0x5DEE_CE66_D1CE_5EED ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A network's view on one chip instance: what a [`ChipSession`] holds for a model kind.
pub trait ChipView: Sized {
    /// The network the view is of.
    type Network;

    /// `network` on `chip`.
    ///
    /// # Errors
    /// [`ChipError`] if the chip was drawn for other layer shapes.
    fn view(network: &Self::Network, chip: &Chip) -> Result<Self, ChipError>;
}

impl ChipView for OnChip {
    type Network = SpikeTimeNetwork;

    fn view(network: &SpikeTimeNetwork, chip: &Chip) -> Result<Self, ChipError> {
        OnChip::new(network, chip)
    }
}

impl ChipView for SurrogateOnChip {
    type Network = SurrogateNetwork;

    fn view(network: &SurrogateNetwork, chip: &Chip) -> Result<Self, ChipError> {
        SurrogateOnChip::new(network, chip)
    }
}

/// The chip a run trains with (first-spike-time networks: [`OnChip`]; surrogate networks:
/// [`SurrogateOnChip`]).
#[derive(Debug)]
pub struct ChipSession<V: ChipView = OnChip> {
    /// The training chip.
    pub chip: Chip,
    /// The network's view on it.
    pub view: V,
    /// How training uses it.
    pub mode: ChipMode,
    /// The trial noise of the training batches.
    pub noise: StdRng,
    /// The `[chip]` seed (an `aware` run draws its epochs' chips from it).
    pub base_seed: u64,
}

impl<V: ChipView> ChipSession<V> {
    /// The session of `network` on `chip`.
    ///
    /// # Panics
    /// If the chip was drawn for other layer shapes (configurations are checked when they are
    /// resolved, [`ExperimentConfig::chips`]).
    pub fn new(network: &V::Network, chip: Chip, mode: ChipMode) -> Self {
        let view = V::view(network, &chip).unwrap_or_else(|e| panic!("{e}"));
        let noise = StdRng::seed_from_u64(trial_seed(chip.seed, 0));
        let base_seed = chip.seed;
        let mut session = Self { chip, view, mode, noise, base_seed };
        if mode == ChipMode::Aware {
            session.redraw(network, 0);
        }
        session
    }

    /// Whether training runs the chip (in the loop or exact) rather than the ideal network.
    pub fn in_training(&self) -> bool {
        self.mode != ChipMode::OpenLoop
    }

    /// Saves what the session holds that changes during training: the trial-noise stream.
    pub fn save_state(&self, state: &mut super::resume::LearnerState) {
        state.put_rng("chip.noise", &self.noise);
    }

    /// Continues from [`Self::save_state`], `completed` epochs into the run (an `aware` run
    /// draws that epoch's chip again).
    ///
    /// # Errors
    /// If the state holds no trial-noise stream.
    pub fn restore_state(
        &mut self,
        network: &V::Network,
        state: &super::resume::LearnerState,
        completed: usize,
    ) -> Result<(), String> {
        self.noise = state.rng("chip.noise")?;
        if self.mode == ChipMode::Aware {
            self.redraw(network, completed);
        }
        Ok(())
    }

    /// `aware` training: the chip after `epoch` epochs (0 before the first), drawn afresh from
    /// the same profile; the trial noise stream runs on.
    pub fn redraw(&mut self, network: &V::Network, epoch: usize) {
        let seed = crate::chip::aware_seed(self.base_seed, epoch);
        let chip = Chip::draw(self.chip.profile.clone(), seed, &self.chip.shapes());
        self.view = V::view(network, &chip).unwrap_or_else(|e| panic!("{e}"));
        self.chip = chip;
    }
}

/// The training chip of a run with `test_chips` (the first is the training chip), for any
/// mode but open loop.
pub fn training_session<V: ChipView>(
    network: &V::Network,
    test_chips: &[Chip],
    mode: ChipMode,
) -> Option<ChipSession<V>> {
    let first = test_chips.first().filter(|_| mode != ChipMode::OpenLoop)?;
    Some(ChipSession::new(network, first.clone(), mode))
}

/// Evaluate `net` on `chip` (its fixed pattern, weight levels and trial noise) on all of
/// `data`, in batches of `batch_size`.
///
/// # Panics
/// If the chip was drawn for other layer shapes.
pub fn evaluate_on_chip(
    net: &SpikeTimeNetwork,
    chip: &Chip,
    data: &SpikeDataset,
    batch_size: usize,
    loss: &TtfsLoss,
    device: &Device,
) -> Evaluation {
    let view = OnChip::new(net, chip).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = StdRng::seed_from_u64(trial_seed(chip.seed, 1));
    evaluate_with(data, batch_size, loss, device, |x| view.forward_trace(net, x, &mut rng).observed)
}

/// Evaluate the surrogate network `net` on `chip` (its fixed pattern, weight levels and trial
/// noise) on all of `data`, in batches of `batch_size`.
///
/// # Panics
/// If the chip was drawn for other layer shapes.
pub fn evaluate_surrogate_on_chip(
    net: &SurrogateNetwork,
    chip: &Chip,
    data: &SpikeDataset,
    batch_size: usize,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Evaluation {
    let view = SurrogateOnChip::new(net, chip).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = StdRng::seed_from_u64(trial_seed(chip.seed, 1));
    evaluate_surrogate_with(net, data, batch_size, cfg, device, |x| {
        view.forward(net, x, &ErrorPath::Backprop, &mut rng)
    })
}

/// A trained network and the chip instances it is tested on: the first is
/// the chip it trained with, saved as `chip.json` beside the network.
#[derive(Debug)]
pub struct ChipTested {
    /// The trained network (possibly with its feedback matrices).
    pub model: Box<dyn TrainedModel>,
    /// The test chips, the training chip first.
    pub chips: Vec<Chip>,
}

impl TrainedModel for ChipTested {
    /// The evaluation on the first chip, with every instance's accuracy and the ideal
    /// network's in [`Evaluation::chip`].
    fn test(&self, data: &SpikeDataset, cfg: &ExperimentConfig, device: &Device) -> Evaluation {
        let ideal = self.model.test(data, cfg, device);
        let on =
            |c| self.model.test_on_chip(c, data, cfg, device).expect("a model that runs on a chip");
        let mut evals = self.chips.iter().map(on);
        let mut first = evals.next().expect("at least one chip");
        let accuracies = std::iter::once(first.accuracy).chain(evals.map(|e| e.accuracy)).collect();
        first.chip =
            Some(ChipResults::new(&self.chips[0], cfg.chip.mode, accuracies, ideal.accuracy));
        first
    }

    fn save(&self, run: &RunDir, cfg: &ExperimentConfig) -> Result<(), IoError> {
        self.model.save(run, cfg)?;
        let path = run.file(files::CHIP);
        self.chips[0].save(&path).map_err(|e| IoError::format(&path, e.to_string()))
    }

    fn write_reports(
        &self,
        cfg: &ExperimentConfig,
        data: &Splits,
        device: &Device,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        let mut lines = self.model.write_reports(cfg, data, device, run)?;
        lines.push(format!("chip instance written to {}", run.file(files::CHIP).display()));
        Ok(lines)
    }

    fn as_any(&self) -> &dyn Any {
        self.model.as_any()
    }
}

/// `model` tested on `chips` (itself without a chip).
pub fn with_chips(model: Box<dyn TrainedModel>, chips: Vec<Chip>) -> Box<dyn TrainedModel> {
    if chips.is_empty() { model } else { Box::new(ChipTested { model, chips }) }
}
