//! Resuming a run bit for bit (issue 14): a run stopped at an epoch boundary or in the middle
//! of an epoch and continued from its saved state ends in exactly the state of the run that
//! never stopped — weights, Adam's moments, the bump state, feedback matrices and counters,
//! every random stream — and with the same per-epoch metrics. Covered: first-spike-time
//! training with input noise on spikeburn's and on PyTorch's stream, Kolen–Pollack feedback on
//! an emulated chip in the loop, an `aware` chip with SAL's batch schedule, and a surrogate
//! network with feedback alignment on a chip; plus the states that must be refused.

use std::cell::Cell;
use std::path::Path;

use burn::tensor::Device;
use spikeburn::chip::{ChipConfig, ChipMode};
use spikeburn::data::{DatasetName, SpikeDataset, Splits};
use spikeburn::train::{
    Control, EpochMetrics, ExperimentConfig, FeedbackRuleName, LearnerState, RandomStream, Session,
    Stopped, TrainingState, run_epochs_with, train_and_test_with,
};

/// Yin-Yang cut to `train` / 200 / 200 samples.
fn yinyang(train: usize) -> Splits {
    let mut data = DatasetName::Yinyang.load(None).unwrap();
    data.train = data.train.subset(&(0..train).collect::<Vec<_>>());
    data.validation = data.validation.subset(&(0..200).collect::<Vec<_>>());
    data.test = data.test.subset(&(0..200).collect::<Vec<_>>());
    data
}

/// What a run ends with: the learner's full state and the metrics (seconds left out).
struct End {
    state: LearnerState,
    history: Vec<EpochMetrics>,
}

/// An epoch's metrics without the wall-clock seconds, each f64 as bits.
type Bits = (usize, Vec<u64>, usize, Vec<(String, u64)>);

/// The metrics without the wall-clock seconds, each f64 as bits.
fn metrics(h: &[EpochMetrics]) -> Vec<Bits> {
    h.iter()
        .map(|m| {
            let v = [
                m.learning_rate,
                m.train_loss,
                m.train_accuracy,
                m.val_loss,
                m.val_accuracy,
                m.clipped_fraction,
            ];
            let extra = m.extra.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect();
            (m.epoch, v.iter().map(|x| x.to_bits()).collect(), m.bumps, extra)
        })
        .collect()
}

/// Runs `cfg` from `resume` (or from the start), stopping after `stop_at` batches of this
/// session if given; every saved state goes into `states`.
fn run(
    cfg: &ExperimentConfig,
    data: &Splits,
    resume: Option<&TrainingState>,
    stop_at: Option<usize>,
    states: &mut Vec<TrainingState>,
) -> End {
    let device = Device::default();
    let (mut learner, mut rng) = cfg.method.kind().learner(cfg, &data.train, &device);
    if let Some(s) = resume {
        learner.restore_state(&s.learner, s.position.history.len()).expect("restores");
    }
    let batches = Cell::new(0usize);
    let stop = || {
        batches.set(batches.get() + 1);
        stop_at == Some(batches.get())
    };
    let mut sink = |s: Result<&TrainingState, &str>| states.push(s.expect("a state").clone());
    let control = Control {
        resume: resume.map(|s| s.position.clone()),
        checkpoint_every: 1,
        on_checkpoint: Some(&mut sink),
        stop: &stop,
    };
    let r = run_epochs_with(
        cfg,
        learner.as_mut(),
        &data.train,
        &data.validation,
        &mut rng,
        control,
        &mut |_| {},
    )
    .expect("finite");
    End { state: learner.save_state().expect("a state"), history: r.history }
}

/// The run without a stop, and resumed from the state after epoch `k` and from a stop after
/// `mid` batches (inside an epoch): all three end identically.
fn resumes_bit_for_bit(cfg: &ExperimentConfig, data: &Splits, k: usize, mid: usize) {
    let mut states = Vec::new();
    let whole = run(cfg, data, None, None, &mut states);
    assert_eq!(states.len(), cfg.training.epochs, "one state per epoch");
    assert_eq!(whole.history.len(), cfg.training.epochs);
    let boundary = states[k - 1].clone();
    assert_eq!((boundary.position.epoch, boundary.position.batch), (k + 1, 0));

    // Through its file, as `train --resume` reads it.
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("spikeburn-resume-test-{pid}-{}", cfg.name));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.safetensors", cfg.name));
    boundary.save(&file).unwrap();
    let boundary = TrainingState::load(&file).unwrap();
    let resumed = run(cfg, data, Some(&boundary), None, &mut Vec::new());
    let diff = resumed.state.differences(&whole.state);
    assert!(diff.is_empty(), "{}: resumed after epoch {k}: {diff:?} differ", cfg.name);
    assert_eq!(metrics(&resumed.history), metrics(&whole.history), "{}", cfg.name);

    let mut stopped = Vec::new();
    let first = run(cfg, data, None, Some(mid), &mut stopped);
    assert!(first.history.len() < cfg.training.epochs);
    let at = stopped.last().expect("the stop saved a state").clone();
    assert!(at.position.batch > 0, "{}: the stop is inside an epoch", cfg.name);
    at.save(&file).unwrap();
    let at = TrainingState::load(&file).unwrap();
    let resumed = run(cfg, data, Some(&at), None, &mut Vec::new());
    let diff = resumed.state.differences(&whole.state);
    assert!(diff.is_empty(), "{}: resumed after {mid} batches: {diff:?} differ", cfg.name);
    assert_eq!(metrics(&resumed.history), metrics(&whole.history), "{}", cfg.name);
    let _ = std::fs::remove_dir_all(&dir);
}

fn ttfs(epochs: usize) -> ExperimentConfig {
    let mut cfg = ExperimentConfig::default();
    cfg.training.epochs = epochs;
    cfg.training.batch_size = 50;
    cfg.training.input_noise = 0.05;
    cfg.training.lr_step = 2; // the schedule moves during the run
    cfg
}

/// The first-spike-time network with input noise, on spikeburn's stream and on PyTorch's
/// (whose Mersenne Twister is replayed, not saved).
#[test]
fn first_spike_time_runs_resume_bit_for_bit() {
    let data = yinyang(400);
    let cfg = ttfs(4);
    resumes_bit_for_bit(&cfg, &data, 2, 13);
    let mut torch = ttfs(3);
    torch.name = "torch".into();
    torch.rng = RandomStream::Torch;
    torch.validate().unwrap();
    resumes_bit_for_bit(&torch, &data, 1, 11);
}

/// Kolen–Pollack feedback (its matrices change every batch) on a bss2 chip in the loop (trial
/// noise on every batch), and SAL's batch schedule (counters, pending rates) on an `aware`
/// chip (a new chip every epoch).
#[test]
fn feedback_and_chip_state_resume_bit_for_bit() {
    let data = yinyang(300);
    let mut kp = ttfs(3);
    kp.name = "kp-in-the-loop".into();
    kp.feedback.rule = FeedbackRuleName::Kp;
    kp.chip = ChipConfig {
        profile: Some("bss2".into()),
        mode: ChipMode::InTheLoop,
        ..ChipConfig::default()
    };
    kp.validate().unwrap();
    resumes_bit_for_bit(&kp, &data, 1, 8);
    let mut sal = ttfs(3);
    sal.name = "sal-aware".into();
    sal.feedback.rule = FeedbackRuleName::Sal;
    sal.feedback.sal_every_batches = 4;
    sal.chip =
        ChipConfig { profile: Some("bss2".into()), mode: ChipMode::Aware, ..ChipConfig::default() };
    sal.validate().unwrap();
    resumes_bit_for_bit(&sal, &data, 2, 9);
}

/// A surrogate-gradient network (Burn's optimizer record, parameter ids, the encoder's
/// stream) with feedback alignment on a chip in the loop.
#[test]
fn surrogate_runs_resume_bit_for_bit() {
    let data = yinyang(200);
    let mut cfg = ExperimentConfig::from_file(Path::new("models/yinyang-surrogate.toml")).unwrap();
    cfg.training.epochs = 3;
    cfg.training.lr_step = 1;
    cfg.feedback.rule = FeedbackRuleName::Fa;
    cfg.chip = ChipConfig {
        profile: Some("bss2".into()),
        mode: ChipMode::InTheLoop,
        ..ChipConfig::default()
    };
    cfg.validate().unwrap();
    resumes_bit_for_bit(&cfg, &data, 1, 6);
}

/// A state that does not continue the run is refused, naming why: another configuration
/// (the first differing line), another training split, a finished run; a sampling run says
/// it has no state.
#[test]
fn states_of_other_runs_are_refused() {
    let data = yinyang(200);
    let mut cfg = ttfs(2);
    cfg.training.checkpoint_every = 1;
    let device = Device::default();
    let mut states = Vec::new();
    let mut sink = |s: Result<&TrainingState, &str>| states.push(s.unwrap().clone());
    let session = Session { resume: None, on_checkpoint: Some(&mut sink) };
    let done = train_and_test_with(&cfg, &data, &device, session, &mut |_| {}).unwrap();
    assert_eq!(done.history.len(), 2);
    let refuse = |cfg: &ExperimentConfig, data: &Splits, state: &TrainingState| {
        let session = Session { resume: Some(state.clone()), on_checkpoint: None };
        match train_and_test_with(cfg, data, &device, session, &mut |_| {}) {
            Err(e @ Stopped::CannotResume(_)) => e.to_string(),
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("resumed"),
        }
    };
    let e = refuse(&cfg, &data, &states[1]);
    assert!(e.contains("finished all its 2 epochs"), "{e}");
    let mut other = cfg.clone();
    other.seed = 5;
    let e = refuse(&other, &data, &states[0]);
    assert!(e.contains("configuration differs") && e.contains("seed = 0"), "{e}");
    let e = refuse(&cfg, &yinyang(150), &states[0]);
    assert!(e.contains("training split differs"), "{e}");
    // The same state resumes (one more epoch) and ends where the whole run did.
    let session = Session { resume: Some(states[0].clone()), on_checkpoint: None };
    let resumed = train_and_test_with(&cfg, &data, &device, session, &mut |_| {}).unwrap();
    assert_eq!(metrics(&resumed.history), metrics(&done.history));
    assert_eq!(resumed.test.loss.to_bits(), done.test.loss.to_bits());

    let mut sampling =
        ExperimentConfig::from_file(Path::new("models/mnist16-sampling.toml")).unwrap();
    sampling.training.epochs = 1;
    let images = SpikeDataset { n_inputs: 256, times: vec![0.5; 256 * 20], labels: vec![3; 20] };
    let (learner, _) = sampling.method.kind().learner(&sampling, &images, &device);
    let why = learner.save_state().unwrap_err();
    assert!(why.contains("sampling method cannot be resumed"), "{why}");
}
