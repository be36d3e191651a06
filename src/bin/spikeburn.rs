//! The `spikeburn` command line: train, evaluate and inspect spiking networks.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, FloatDType};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use spikeburn::data::{DatasetName, Splits};
use spikeburn::device::DeviceChoice;
use spikeburn::io::{Existing, RunDir, files, npy};
use spikeburn::sampling::{SampleConfig, run_sample};
use spikeburn::train::evaluation::mean_std;
use spikeburn::train::report::metrics_csv;
use spikeburn::train::robustness::{Effect, Sweep, robustness, robustness_chart, robustness_csv};
use spikeburn::train::{
    ChipMode, Evaluation, ExperimentConfig, FeedbackRuleName, Method, NetworkSource, Precision,
    RandomStream, Session, Stopped, TrainEvent, TrainingState, bench, evaluate_saved,
    request_interrupt, train_and_test_with, write_diverged, write_interrupted,
};
use spikeburn::util::check_memory;

/// Spiking neural networks on Burn: exact first-spike-time training and friends.
#[derive(Debug, Parser)]
#[command(name = "spikeburn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a network; with no arguments, the default Yin-Yang model.
    Train(TrainCmd),
    /// Evaluate a trained network on the test split.
    Eval(EvalCmd),
    /// Measure training and evaluation images/s of a configuration and estimate an epoch.
    Bench(BenchCmd),
    /// Sample from a Boltzmann machine (neural, Gibbs or LIF sampling; optionally learning with
    /// the sampler in the loop) and measure D_KL against exact enumeration.
    Sample(SampleCmd),
    /// Sweep one chip effect: test accuracy (mean ± std over chip instances) against its level,
    /// open loop and optionally trained with the chip in the loop; CSV and SVG chart.
    Robustness(RobustnessCmd),
    /// Print the resolved configuration (defaults < file < flags) as TOML.
    DumpConfig(ConfigArgs),
    /// Redraw the charts of a run folder (learning curves, confusion matrix, decision times;
    /// SVG and PNG) from its metrics.csv and predictions.csv.
    Plot(PlotCmd),
    /// Write a trained network as a NIR graph (the Neuromorphic Intermediate Representation, read
    /// by snnTorch, Norse, Rockpool, Lava, Spyx, sinabs and the BrainScaleS-2 software).
    Export(ExportCmd),
    /// Read a NIR graph: describe it, turn a graph written by spikeburn back into a run folder
    /// (config.toml and model.bpk), or simulate it on inputs from a CSV file.
    Import(ImportCmd),
}

/// File formats `spikeburn export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    /// NIR (HDF5).
    Nir,
}

#[derive(Debug, Args)]
struct ExportCmd {
    /// The trained network (a burnpack checkpoint written by `spikeburn train`).
    #[arg(long, value_name = "PATH")]
    checkpoint: PathBuf,
    /// Its configuration (default: config.toml beside the checkpoint, else the checkpoint's
    /// name with .toml, as models/X.bpk and models/X.toml).
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// The format.
    #[arg(long, value_enum, default_value = "nir")]
    format: ExportFormat,
    /// The file to write (replaced if it exists).
    #[arg(short, long, value_name = "FILE.nir")]
    output: PathBuf,
    /// Seconds per model time unit (NIR files carry seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 1e-3)]
    time_unit: f64,
}

/// How `spikeburn import --simulate` feeds spikes to neurons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SpikeReading {
    /// A unit-area impulse at the start of the step (NIR's equations; spikeburn's exports).
    Impulse,
    /// The value held for the whole step (the NIR paper's exact LIF trace).
    Pulse,
}

#[derive(Debug, Args)]
struct ImportCmd {
    /// The NIR file.
    #[arg(value_name = "FILE.nir")]
    file: PathBuf,
    /// Write a run folder (config.toml, model.bpk) for the network; it must be new or empty.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the `--out` folder if it holds an earlier run.
    #[arg(long)]
    force: bool,
    /// The network's configuration, for a graph that carries none.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Simulate the graph: one row per time step, one column per value of its Input node.
    #[arg(long, value_name = "INPUT.csv", conflicts_with = "out")]
    simulate: Option<PathBuf>,
    /// The simulation's time step, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1e-4, requires = "simulate")]
    dt: f64,
    /// How simulated neurons read spikes.
    #[arg(long, value_enum, default_value = "impulse", requires = "simulate")]
    spikes: SpikeReading,
    /// Where the simulation's trace goes (CSV: per step, each neuron node's potentials and
    /// spikes); default: standard output.
    #[arg(long, value_name = "TRACE.csv", requires = "simulate")]
    trace: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct PlotCmd {
    /// The run folder (written by train or eval).
    #[arg(value_name = "RUN_DIR")]
    dir: PathBuf,
}

#[derive(Debug, Args)]
struct RobustnessCmd {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// The effect to sweep (alone, on top of the `--chip` profile, `ideal` by default).
    #[arg(long, value_enum)]
    effect: Effect,
    /// Its levels, comma-separated (e.g. 0,0.02,0.05).
    #[arg(long, value_delimiter = ',', required = true, num_args = 1..)]
    levels: Vec<f64>,
    /// Chip instances per level.
    #[arg(long, default_value_t = 10)]
    chips: usize,
    /// Also train a network with the chip in the loop at every level.
    #[arg(long)]
    retrain: bool,
    /// The ideally trained network (a burnpack checkpoint); trained first if absent.
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// Run folder (default: a fresh folder under runs/); it must be new or empty.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the `--out` folder if it holds an earlier run (its files are removed first).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct SampleCmd {
    /// Sampling configuration TOML (e.g. models/boltzmann-5.toml; any field may be left out).
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Override the seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the recorded steps per chain.
    #[arg(long)]
    steps: Option<usize>,
    /// Override the number of chains.
    #[arg(long)]
    chains: Option<usize>,
    /// Override the standard deviation of the random couplings (machine.w-std).
    #[arg(long)]
    w_std: Option<f64>,
    /// Run the LIF network on an emulated chip: a built-in profile (ideal, bss2,
    /// bss2-uncalibrated) or a profile file; calibrated there, learning in the loop.
    #[arg(long, value_name = "PROFILE", conflicts_with = "chip_file")]
    chip: Option<String>,
    /// A saved chip instance (`chip.json` of a sampling run folder).
    #[arg(long, value_name = "chip.json")]
    chip_file: Option<PathBuf>,
    /// Override the seed of the chip's fixed pattern.
    #[arg(long, value_name = "SEED")]
    chip_seed: Option<u64>,
    /// Run folder (default: a fresh folder under runs/); it must be new or empty.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the `--out` folder if it holds an earlier run (its files are removed first).
    #[arg(long)]
    force: bool,
}

fn run_sample_cmd(cmd: &SampleCmd) -> Result<()> {
    let mut cfg = match &cmd.config {
        Some(p) => SampleConfig::from_file(p)?,
        None => SampleConfig::default(),
    };
    if let Some(s) = cmd.seed {
        cfg.seed = s;
    }
    if let Some(s) = cmd.steps {
        cfg.sampler.steps = s;
    }
    if let Some(c) = cmd.chains {
        cfg.sampler.chains = c;
    }
    if let Some(w) = cmd.w_std {
        cfg.machine.w_std = w;
    }
    if let Some(p) = &cmd.chip {
        (cfg.chip.profile, cfg.chip.file) = (Some(p.clone()), None);
    }
    if let Some(f) = &cmd.chip_file {
        (cfg.chip.file, cfg.chip.profile) = (Some(f.display().to_string()), None);
    }
    if let Some(s) = cmd.chip_seed {
        cfg.chip.seed = s;
    }
    cfg.validate()?;
    let (need, how) = cfg.memory_estimate();
    check_memory(&format!("sampling {}", cfg.name), need, &how)?;
    let run = create_run(cmd.out.as_deref(), &cfg.name, existing(cmd.force))?;
    run.write(files::CONFIG, &cfg.to_toml())?;
    println!(
        "sampling {} ({} units, {:?} sampler, {} chains × {} steps), seed {}",
        cfg.name,
        cfg.machine.units,
        cfg.sampler.kind,
        cfg.sampler.chains,
        cfg.sampler.steps,
        cfg.seed
    );
    let report = run_sample(&cfg, |line| println!("{line}"))?;
    report.write(&cfg, &run)?;
    println!(
        "D_KL {:.3e} (marginals {:.3e}){}; {:.3e} samples/s, {:.3e} neuron updates/s; τ_int {:.1} \
         steps, ESS {:.0}; run folder {}",
        report.dkl,
        report.marginal_dkl,
        report.dkl_open_loop.map_or(String::new(), |d| format!(", open loop {d:.3e}")),
        report.samples_per_second,
        report.neuron_updates_per_second,
        report.tau_int,
        report.ess,
        run.path.display()
    );
    Ok(())
}

#[derive(Debug, Args)]
struct BenchCmd {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Training batches to time (after one warm-up batch).
    #[arg(long, default_value_t = 50)]
    batches: usize,
}

/// Where the configuration comes from, and the flags that override it.
#[derive(Debug, Args)]
struct ConfigArgs {
    /// TOML configuration (any field may be left out; unknown keys are errors).
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Override the number of epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Override the seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the random stream: `torch` replays the reference PyTorch run of the same seed
    /// (first-spike-time training only).
    #[arg(long, value_enum)]
    rng: Option<RandomStream>,
    /// Override the precision.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
    /// Override the dataset.
    #[arg(long, value_enum)]
    dataset: Option<DatasetName>,
    /// Override the feedback rule: how the error reaches the hidden layers (first-spike-time
    /// and surrogate networks).
    #[arg(long, value_enum, value_name = "RULE")]
    feedback: Option<FeedbackRuleName>,
    /// Run on an emulated chip: a built-in profile (ideal, bss2, bss2-uncalibrated) or a
    /// profile file (first-spike-time and surrogate networks).
    #[arg(long, value_name = "PROFILE", conflicts_with = "chip_file")]
    chip: Option<String>,
    /// A saved chip instance (`chip.json` of a run folder) instead of a profile and seed.
    #[arg(long, value_name = "chip.json")]
    chip_file: Option<PathBuf>,
    /// Override the seed of the chip's fixed pattern.
    #[arg(long, value_name = "SEED")]
    chip_seed: Option<u64>,
    /// Override how training uses the chip.
    #[arg(long, value_enum, value_name = "MODE")]
    chip_mode: Option<ChipMode>,
    /// Override the number of chip instances the test split is evaluated on.
    #[arg(long, value_name = "K")]
    chip_instances: Option<usize>,
}

/// The compute device and the data location.
#[derive(Debug, Args)]
struct RuntimeArgs {
    /// Compute device (default: $BURN_DEVICE, else flex).
    #[arg(long, value_enum)]
    device: Option<DeviceChoice>,
    /// Folder with downloaded datasets: DIR/mnist/, DIR/fashion-mnist/ (default:
    /// $SPIKEBURN_DATA). Yin-Yang needs none.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct TrainCmd {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Run folder (default: a fresh folder under runs/); it must be new or empty.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the `--out` folder if it holds an earlier run (its files are removed first).
    #[arg(long)]
    force: bool,
    /// Continue an interrupted run in its folder from its saved state (resume.safetensors),
    /// bit for bit as if it had never stopped; its config.toml says how (no --config or
    /// override flags).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "force"])]
    resume: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EvalCmd {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// A burnpack checkpoint written by `spikeburn train`.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "weights",
        required_unless_present = "weights"
    )]
    checkpoint: Option<PathBuf>,
    /// Weights in the reference PyTorch code's safetensors layout (`layers.{i}.weights`).
    #[arg(long, value_name = "FILE.safetensors")]
    weights: Option<PathBuf>,
    /// Folder for summary.json and the reports (default: a fresh folder under runs/); it
    /// must be new or empty.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the `--out` folder if it holds an earlier run (its files are removed first).
    #[arg(long)]
    force: bool,
    /// Also write the test outputs (samples × classes, float64): first-spike times (+inf =
    /// silent), or for surrogate-gradient networks the readout scores. An existing file is
    /// replaced only with --force, and never the network being evaluated.
    #[arg(long, value_name = "FILE.npy")]
    save_outputs: Option<PathBuf>,
}

impl ConfigArgs {
    /// No configuration file and no overrides.
    fn none() -> Self {
        Self {
            config: None,
            epochs: None,
            seed: None,
            rng: None,
            precision: None,
            dataset: None,
            feedback: None,
            chip: None,
            chip_file: None,
            chip_seed: None,
            chip_mode: None,
            chip_instances: None,
        }
    }

    /// Whether a configuration file or any override is given.
    fn any(&self) -> bool {
        let Self {
            config,
            epochs,
            seed,
            rng,
            precision,
            dataset,
            feedback,
            chip,
            chip_file,
            chip_seed,
            chip_mode,
            chip_instances,
        } = self;
        config.is_some()
            || epochs.is_some()
            || seed.is_some()
            || rng.is_some()
            || precision.is_some()
            || dataset.is_some()
            || feedback.is_some()
            || chip.is_some()
            || chip_file.is_some()
            || chip_seed.is_some()
            || chip_mode.is_some()
            || chip_instances.is_some()
    }

    fn resolve(&self) -> Result<ExperimentConfig> {
        let mut cfg = match &self.config {
            Some(path) => ExperimentConfig::from_file(path)?,
            None => ExperimentConfig::default(),
        };
        if let Some(e) = self.epochs {
            cfg.training.epochs = e;
        }
        if let Some(s) = self.seed {
            cfg.seed = s;
        }
        if let Some(r) = self.rng {
            cfg.rng = r;
        }
        if let Some(p) = self.precision {
            cfg.precision = p;
        }
        if let Some(d) = self.dataset {
            cfg.dataset = d;
        }
        if let Some(f) = self.feedback {
            cfg.feedback.rule = f;
        }
        if let Some(p) = &self.chip {
            cfg.chip.profile = Some(p.clone());
            cfg.chip.file = None;
        }
        if let Some(f) = &self.chip_file {
            cfg.chip.file = Some(f.display().to_string());
            cfg.chip.profile = None;
        }
        if let Some(s) = self.chip_seed {
            cfg.chip.seed = s;
        }
        if let Some(m) = self.chip_mode {
            cfg.chip.mode = m;
        }
        if let Some(k) = self.chip_instances {
            cfg.chip.instances = k;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// [`Self::resolve`] for a command that runs the network: sizes the machine cannot hold
    /// are refused here, with the estimate, before anything is allocated.
    fn resolve_runnable(&self) -> Result<ExperimentConfig> {
        let cfg = self.resolve()?;
        let (need, how) = cfg.memory_estimate();
        check_memory(&format!("the network of {}", cfg.name), need, &how)?;
        Ok(cfg)
    }
}

impl RuntimeArgs {
    fn device(&self, precision: Precision) -> Result<(DeviceChoice, Device)> {
        let choice = match self.device {
            Some(d) => d,
            None => DeviceChoice::from_env()?,
        };
        let mut device = choice.device()?;
        if precision == Precision::F64 {
            device
                .configure(FloatDType::F64)
                .map_err(|e| anyhow::anyhow!("device {choice} cannot compute in f64: {e:?}"))?;
        }
        Ok((choice, device))
    }

    fn data(&self, dataset: DatasetName) -> Result<Splits> {
        let dir =
            self.data_dir.clone().or_else(|| std::env::var_os("SPIKEBURN_DATA").map(PathBuf::from));
        Ok(dataset.load(dir.as_deref())?)
    }
}

/// The run folder, configuration and saved state of `train --resume DIR`.
fn resumed_run(
    dir: &std::path::Path,
    args: &ConfigArgs,
) -> Result<(RunDir, ExperimentConfig, TrainingState)> {
    if args.any() {
        bail!(
            "--resume continues the run as its {} says: it takes no --config or override flags",
            dir.join(files::CONFIG).display()
        );
    }
    let run = RunDir::existing(dir)?;
    let summary = run.file(files::SUMMARY);
    if let Ok(text) = std::fs::read_to_string(&summary)
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        && json.get("status").and_then(|s| s.as_str()) == Some("completed")
    {
        bail!("{}: the run is completed; there is nothing to resume", summary.display());
    }
    let cfg = ConfigArgs { config: Some(run.file(files::CONFIG)), ..ConfigArgs::none() }
        .resolve_runnable()?;
    let state_file = run.file(files::RESUME);
    if !state_file.is_file() {
        bail!(
            "{}: no saved state to resume from (a run saves one every training.checkpoint-every \
             epochs and when interrupted; a sampling run saves none)",
            state_file.display()
        );
    }
    let state = TrainingState::load(&state_file)?;
    Ok((run, cfg, state))
}

fn run_train(cmd: &TrainCmd) -> Result<()> {
    let (run, cfg, resume) = match &cmd.resume {
        Some(dir) => {
            let (run, cfg, state) = resumed_run(dir, &cmd.config)?;
            (run, cfg, Some(state))
        }
        None => {
            let cfg = cmd.config.resolve_runnable()?;
            let run = create_run(cmd.out.as_deref(), &cfg.name, existing(cmd.force))?;
            (run, cfg, None)
        }
    };
    let (choice, device) = cmd.runtime.device(cfg.precision)?;
    let data = cmd.runtime.data(cfg.dataset)?;
    if resume.is_none() {
        run.write(files::CONFIG, &cfg.to_toml())?;
    }
    let (done_epochs, done_batches) =
        resume.as_ref().map_or((0, 0), |s| (s.position.history.len(), s.position.batch));
    let batches = data.train.len().div_ceil(cfg.training.batch_size);
    println!(
        "{} {} on {} ({} train / {} val / {} test), device {choice}, {} epochs, seed {}",
        if resume.is_some() { "resuming" } else { "training" },
        cfg.name,
        cfg.dataset.name(),
        data.train.len(),
        data.validation.len(),
        data.test.len(),
        cfg.training.epochs,
        cfg.seed
    );
    if resume.is_some() {
        println!("  from epoch {}, after batch {done_batches} of {batches}", done_epochs + 1);
    }
    let total = (cfg.training.epochs as u64).saturating_mul(batches as u64);
    let bar = progress_bar(total);
    if let Some(b) = &bar {
        b.set_position((done_epochs * batches + done_batches) as u64);
    }
    // metrics.csv is rewritten (atomically) after every epoch: an interrupted run keeps the
    // epochs it finished. A failed write is reported once and training goes on; the final
    // write then reports the error.
    let mut history = resume.as_ref().map_or_else(Vec::new, |s| s.position.history.clone());
    let mut metrics_warned = false;
    let mut on_event = |e: TrainEvent<'_>| {
        if let TrainEvent::Epoch(m) = &e {
            history.push((*m).clone());
            if let Err(err) = run.write(files::METRICS, &metrics_csv(&history))
                && !std::mem::replace(&mut metrics_warned, true)
            {
                eprintln!("warning: {err} (training goes on)");
            }
        }
        match (e, &bar) {
            (TrainEvent::Batch { .. }, Some(b)) => b.inc(1),
            (TrainEvent::Batch { .. }, None) => {}
            (TrainEvent::Epoch(m), Some(b)) => b.set_message(format!(
                "epoch {}/{}  val {:.3}",
                m.epoch, cfg.training.epochs, m.val_accuracy
            )),
            (TrainEvent::Epoch(m), None) => println!(
                "epoch {:>4}  loss {:.4}  train {:.3}  val {:.3}  bumps {}  {:.2}s",
                m.epoch, m.train_loss, m.train_accuracy, m.val_accuracy, m.bumps, m.seconds
            ),
        }
    };
    // The full state (resume.safetensors) after every checkpoint-every epochs and when
    // interrupted; a failed write or a method without one is reported once.
    let (mut saved, mut state_warned) = (None::<(usize, usize)>, false);
    let state_file = run.file(files::RESUME);
    let mut on_checkpoint = |s: Result<&TrainingState, &str>| {
        let result = s.map_err(str::to_string).and_then(|s| {
            s.save(&state_file).map_err(|e| e.to_string())?;
            Ok((s.position.epoch, s.position.batch))
        });
        match result {
            Ok(at) => saved = Some(at),
            Err(why) if !std::mem::replace(&mut state_warned, true) => {
                eprintln!("warning: no resume state: {why} (training goes on)");
            }
            Err(_) => {}
        }
    };
    let session = Session { resume, on_checkpoint: Some(&mut on_checkpoint) };
    let result = train_and_test_with(&cfg, &data, &device, session, &mut on_event);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let dir = run.path.display();
    let result = match result {
        Ok(r) => r,
        Err(Stopped::Diverged(d)) => {
            write_diverged(&cfg, &d, choice.name(), &run)?;
            let last = match saved {
                Some((epoch, 0)) => format!(
                    "; the state after epoch {} is in {} (the run resumes from it, and would \
                     diverge again with the same configuration)",
                    epoch - 1,
                    files::RESUME
                ),
                _ => String::new(),
            };
            bail!("{d}{last}; run folder {dir}");
        }
        Err(e @ Stopped::CannotResume(_)) => bail!("{e} ({dir})"),
        Err(stopped @ Stopped::Interrupted { .. }) => {
            write_interrupted(&cfg, &stopped, choice.name(), &run)?;
            let resume = match saved {
                Some(_) => format!("; continue it with: spikeburn train --resume {dir}"),
                None => "; it cannot be resumed (no saved state)".into(),
            };
            return Err(anyhow::Error::new(Interrupted(format!(
                "{stopped}: the network after that batch is in model.bpk (untested), the \
                 completed epochs in metrics.csv{resume}; run folder {dir}"
            ))));
        }
    };
    for line in result.write(&cfg, &data, &device, choice.name(), &run)? {
        println!("{line}");
    }
    let (train_seconds, test) = (result.train_seconds, &result.test);
    println!(
        "test accuracy {:.2} % (loss {:.4}) after {} epochs in {:.1} s; {}; run folder {}",
        100.0 * test.accuracy,
        test.loss,
        cfg.training.epochs,
        train_seconds,
        activity(test),
        run.path.display()
    );
    print_chip(test);
    Ok(())
}

/// `--force` as what a run may do to an `--out` folder that holds files.
fn existing(force: bool) -> Existing {
    if force { Existing::Replace } else { Existing::Refuse }
}

/// The chip line: every instance's accuracy, their mean ± std, and the ideal network's.
fn print_chip(e: &Evaluation) {
    if let Some(c) = &e.chip {
        let each: Vec<String> = c.accuracies.iter().map(|a| format!("{:.2}", 100.0 * a)).collect();
        println!(
            "chip {} ({}, seed {}): {:.2} ± {:.2} % over {} instance(s) [{}]; ideal network {:.2} %",
            c.profile,
            c.mode,
            c.seed,
            100.0 * c.accuracy_mean,
            100.0 * c.accuracy_std,
            c.accuracies.len(),
            each.join(", "),
            100.0 * c.ideal_accuracy
        );
    }
}

/// Spikes per sample and time to decision, for the summary lines.
fn activity(e: &Evaluation) -> String {
    let decision = e
        .mean_decision_time
        .map_or("no decision".to_string(), |t| format!("decision after {t:.3} time units"));
    format!("{:.1} spikes per sample, {decision}", e.mean_spikes)
}

fn run_eval(cmd: &EvalCmd) -> Result<()> {
    let cfg = cmd.config.resolve_runnable()?;
    let (choice, device) = cmd.runtime.device(cfg.precision)?;
    let data = cmd.runtime.data(cfg.dataset)?;
    let (source, network) = match (&cmd.checkpoint, &cmd.weights) {
        (Some(c), None) => (NetworkSource::Checkpoint(c.clone()), c),
        (None, Some(w)) => (NetworkSource::ReferenceWeights(w.clone()), w),
        _ => bail!("give exactly one of --checkpoint and --weights"),
    };
    if let Some(out) = &cmd.save_outputs {
        check_outputs_file(out, network, cmd.force)?;
    }
    let run = create_run(cmd.out.as_deref(), &format!("{}-eval", cfg.name), existing(cmd.force))?;
    let result = evaluate_saved(&cfg, &source, &data, &device)?;
    let test = &result.test;
    for line in result.write(&cfg, &data, &device, choice.name(), &run)? {
        println!("{line}");
    }
    if let Some(path) = &cmd.save_outputs {
        let classes = cfg.dataset.n_classes();
        npy::write_f64(path, &test.outputs, &[data.test.len(), classes])?;
    }
    println!(
        "test accuracy {:.2} % (loss {:.4}) on {} samples; {}; summary in {}",
        100.0 * test.accuracy,
        test.loss,
        data.test.len(),
        activity(test),
        run.file(files::SUMMARY).display()
    );
    print_chip(test);
    Ok(())
}

/// `--save-outputs FILE` may not be the network being evaluated, nor replace a file without
/// `--force`.
fn check_outputs_file(out: &std::path::Path, network: &std::path::Path, force: bool) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    let same = match (out.canonicalize(), network.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        bail!(
            "--save-outputs {} is the network being evaluated; write the outputs to another file",
            out.display()
        );
    }
    if !force {
        bail!(
            "--save-outputs {} exists; choose another file, or pass --force to replace it",
            out.display()
        );
    }
    Ok(())
}

/// A bar over all training batches on a terminal; `None` (plain lines per epoch) otherwise.
fn progress_bar(batches: u64) -> Option<ProgressBar> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(batches);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {percent:>3}% eta {eta} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    Some(bar)
}

fn run_robustness(cmd: &RobustnessCmd) -> Result<()> {
    let cfg = cmd.config.resolve_runnable()?;
    if !matches!(cfg.method, Method::Ttfs | Method::Surrogate) {
        bail!(
            "robustness sweeps run first-spike-time and surrogate networks (method = \"ttfs\" or \
             \"surrogate\"), not the {} method",
            cfg.method.name()
        );
    }
    let effect = cmd.effect;
    let sweep =
        Sweep { effect, levels: cmd.levels.clone(), chips: cmd.chips, retrain: cmd.retrain };
    sweep.validate()?;
    let (_, device) = cmd.runtime.device(cfg.precision)?;
    let data = cmd.runtime.data(cfg.dataset)?;
    let run = create_run(
        cmd.out.as_deref(),
        &format!("{}-robustness-{}", cfg.name, effect.name()),
        existing(cmd.force),
    )?;
    run.write(files::CONFIG, &cfg.to_toml())?;
    let mut ideal_cfg = cfg.clone();
    ideal_cfg.chip = Default::default();
    let loaded = match &cmd.checkpoint {
        Some(path) => {
            let source = NetworkSource::Checkpoint(path.clone());
            Some(cfg.method.kind().load(&ideal_cfg, &source, &device)?)
        }
        None => None,
    };
    let ideal = loaded.as_deref();
    let sweep =
        Sweep { effect, levels: cmd.levels.clone(), chips: cmd.chips, retrain: cmd.retrain };
    let points = robustness(&cfg, &sweep, ideal, &data, &device, &run, &mut |p| {
        let (m, s) = mean_std(&p.open_loop);
        let retrained = p.retrained.as_deref().map_or(String::new(), |v| {
            let (rm, rs) = mean_std(v);
            format!(", trained in the loop {:.2} ± {:.2} %", 100.0 * rm, 100.0 * rs)
        });
        println!(
            "{} {}: open loop {:.2} ± {:.2} %{retrained}",
            effect.name(),
            p.level,
            100.0 * m,
            100.0 * s
        );
    })?;
    run.write(spikeburn::train::plots::ROBUSTNESS_CSV, &robustness_csv(effect, &points))?;
    let title = spikeburn::train::robustness::robustness_title(&cfg.name, effect, cmd.chips);
    robustness_chart(effect, &title, &points)
        .write(&run.file(spikeburn::train::plots::ROBUSTNESS_CHART))?;
    println!("robustness.csv, robustness.svg and robustness.png in {}", run.path.display());
    Ok(())
}

fn run_bench(cmd: &BenchCmd) -> Result<()> {
    let cfg = cmd.config.resolve_runnable()?;
    if cmd.batches == 0 {
        bail!("--batches must be at least 1");
    }
    let (choice, device) = cmd.runtime.device(cfg.precision)?;
    let data = cmd.runtime.data(cfg.dataset)?;
    let sizes: Vec<String> = cfg.layer_configs().iter().map(|l| l.n_outputs.to_string()).collect();
    let how = cfg.method.kind().describe(&cfg);
    println!(
        "{}: {} {}-{}, batch {}, device {choice}, {how}, {}",
        cfg.name,
        cfg.dataset.name(),
        cfg.dataset.n_inputs(),
        sizes.join("-"),
        cfg.training.batch_size,
        cfg.precision.name(),
    );
    let base = spikeburn::util::rss_bytes().filter(|_| spikeburn::util::reset_peak_rss());
    let r = bench(&cfg, &data.train, &data.validation, &device, cmd.batches);
    println!("train: {:.0} images/s ({} batches)", r.train_images_per_second, r.train_batches);
    println!(
        "eval:  {:.0} images/s ({} validation images)",
        r.eval_images_per_second,
        data.validation.len()
    );
    println!(
        "epoch estimate: {:.1} s ({} training + {} validation images); {} epochs ≈ {:.1} min",
        r.epoch_seconds,
        data.train.len(),
        data.validation.len(),
        cfg.training.epochs,
        r.epoch_seconds * cfg.training.epochs as f64 / 60.0
    );
    if let (Some(base), Some(peak)) = (base, spikeburn::util::peak_rss_bytes()) {
        let mib = |b: u64| b as f64 / 1048576.0;
        println!(
            "peak memory: {:.0} MiB while training and evaluating, {:.0} MiB above the {:.0} MiB \
             held before (data, network)",
            mib(peak),
            mib(peak.saturating_sub(base)),
            mib(base)
        );
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Train(cmd) => run_train(cmd),
        Command::Eval(cmd) => run_eval(cmd),
        Command::Bench(cmd) => run_bench(cmd),
        Command::Sample(cmd) => run_sample_cmd(cmd),
        Command::Robustness(cmd) => run_robustness(cmd),
        Command::DumpConfig(args) => {
            print!("{}", args.resolve()?.to_toml());
            Ok(())
        }
        Command::Plot(cmd) => {
            if !cmd.dir.is_dir() {
                bail!("{}: no such run folder", cmd.dir.display());
            }
            let charts = spikeburn::train::plots::replot(&cmd.dir)?;
            if charts.is_empty() {
                bail!("{}: nothing to plot (metrics.csv has no epochs)", cmd.dir.display());
            }
            println!("{} (.svg and .png) in {}", charts.join(", "), cmd.dir.display());
            Ok(())
        }
        Command::Export(cmd) => run_export(cmd),
        Command::Import(cmd) => run_import(cmd),
    }
}

/// The configuration of a checkpoint: `--config`, else config.toml beside it, else its name
/// with .toml.
fn config_for_checkpoint(checkpoint: &Path, config: Option<&Path>) -> Result<ExperimentConfig> {
    let path = match config {
        Some(c) => c.to_path_buf(),
        None => {
            let beside = checkpoint.with_file_name("config.toml");
            let named = checkpoint.with_extension("toml");
            if beside.is_file() {
                beside
            } else if named.is_file() {
                named
            } else {
                bail!(
                    "{}: no config.toml beside the checkpoint and no {}; give its configuration \
                     with --config",
                    checkpoint.display(),
                    named.display()
                );
            }
        }
    };
    Ok(ExperimentConfig::from_file(&path)?)
}

fn run_export(cmd: &ExportCmd) -> Result<()> {
    let ExportFormat::Nir = cmd.format;
    let cfg = config_for_checkpoint(&cmd.checkpoint, cmd.config.as_deref())?;
    // The configured precision: an f64 network is read, and written, without rounding.
    let (_, device) = RuntimeArgs { device: None, data_dir: None }.device(cfg.precision)?;
    let model = cfg.method.kind().load(
        &cfg,
        &NetworkSource::Checkpoint(cmd.checkpoint.clone()),
        &device,
    )?;
    let graph = spikeburn::train::nir::export_nir(model.as_ref(), &cfg, cmd.time_unit)
        .map_err(|m| anyhow::anyhow!("{}: {m}", cmd.checkpoint.display()))?;
    spikeburn::io::nir::write(&graph, &cmd.output)?;
    println!(
        "{} → {} (NIR {}, {} nodes; one model time unit = {} s)",
        cmd.checkpoint.display(),
        cmd.output.display(),
        graph.version,
        graph.nodes.len(),
        cmd.time_unit
    );
    Ok(())
}

fn run_import(cmd: &ImportCmd) -> Result<()> {
    use spikeburn::io::nir::{self, simulate};
    let (graph, warnings) = nir::read(&cmd.file)?;
    for w in &warnings {
        eprintln!("warning: {}: {w}", cmd.file.display());
    }
    if let Some(input) = &cmd.simulate {
        let values = read_csv_rows(input)?;
        let data_inputs: Vec<&String> = graph
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n.kind, nir::NodeKind::Input { .. }))
            .map(|(k, _)| k)
            .collect();
        let [name] = data_inputs.as_slice() else {
            bail!(
                "{}: --simulate drives one Input node; the graph has {}",
                cmd.file.display(),
                data_inputs.len()
            );
        };
        let inputs = std::iter::once(((*name).clone(), values)).collect();
        let opts = simulate::SimOptions {
            dt: cmd.dt,
            spikes: match cmd.spikes {
                SpikeReading::Impulse => simulate::SpikeInput::Impulse,
                SpikeReading::Pulse => simulate::SpikeInput::Pulse,
            },
            first_spike_only: graph.meta_text(nir::convert::keys::NEURONS) == Some("first-spike"),
        };
        let trace = simulate::simulate(&graph, &inputs, opts)
            .map_err(|m| anyhow::anyhow!("{}: {m}", input.display()))?;
        let csv = trace_csv(&trace);
        match &cmd.trace {
            Some(path) => spikeburn::io::write_atomic(path, csv.as_bytes())?,
            None => print!("{csv}"),
        }
        return Ok(());
    }
    let Some(out) = &cmd.out else {
        for line in nir::convert::describe(&graph) {
            println!("{line}");
        }
        return Ok(());
    };
    let cfg = match &cmd.config {
        Some(path) => ExperimentConfig::from_file(path)?,
        None => spikeburn::train::nir::config_of(&graph, &cmd.file).map_err(anyhow::Error::msg)?,
    };
    let (_, device) = RuntimeArgs { device: None, data_dir: None }.device(cfg.precision)?;
    let model = cfg.method.kind().load(&cfg, &NetworkSource::Nir(cmd.file.clone()), &device)?;
    let run = create_run(Some(out), &cfg.name, existing(cmd.force))?;
    spikeburn::io::write_atomic(&run.file(files::CONFIG), cfg.to_toml().as_bytes())?;
    model.save(&run, &cfg)?;
    println!(
        "{} → {} ({} network; evaluate with spikeburn eval --config {} --checkpoint {})",
        cmd.file.display(),
        run.path.display(),
        cfg.method.name(),
        run.file(files::CONFIG).display(),
        run.file(files::CHECKPOINT).display()
    );
    Ok(())
}

/// A CSV file of numbers, one row per line (no header).
fn read_csv_rows(path: &Path) -> Result<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Result<Vec<f64>, _> = line.split(',').map(|x| x.trim().parse::<f64>()).collect();
        match row {
            Ok(r) => rows.push(r),
            Err(e) => {
                bail!("{}:{}: {e} (expected numbers separated by commas)", path.display(), i + 1)
            }
        }
    }
    Ok(rows)
}

/// A simulation trace as CSV: a header, then one row per step with each neuron node's
/// potentials and outputs.
fn trace_csv(trace: &spikeburn::io::nir::simulate::Trace) -> String {
    use std::fmt::Write as _;
    let neuron_nodes: Vec<&String> = trace.v.keys().collect();
    let mut header = vec!["step".to_string()];
    for name in &neuron_nodes {
        let n = trace.v[*name].first().map_or(0, Vec::len);
        let spiking = trace.first_spike.contains_key(*name);
        for j in 0..n {
            header.push(format!("{name}.v{j}"));
            if spiking {
                header.push(format!("{name}.spike{j}"));
            }
        }
    }
    let mut out = header.join(",") + "\n";
    let steps = neuron_nodes.first().map_or(0, |n| trace.v[*n].len());
    for t in 0..steps {
        let mut row = vec![t.to_string()];
        for name in &neuron_nodes {
            let spiking = trace.first_spike.contains_key(*name);
            for (j, v) in trace.v[*name][t].iter().enumerate() {
                row.push(format!("{v:e}"));
                if spiking {
                    row.push(format!("{}", trace.outputs[*name][t][j]));
                }
            }
        }
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

/// A run ended by SIGINT, SIGTERM or SIGHUP, its state written: exit status 130.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Interrupted(String);

/// SIGINT, SIGTERM and SIGHUP ask a training run to stop after the batch it is in and write
/// what it has; a second signal ends the process at once (exit 130).
fn install_interrupt_handler() {
    let seen = std::sync::atomic::AtomicBool::new(false);
    let handler = move || {
        if seen.swap(true, std::sync::atomic::Ordering::SeqCst) {
            eprintln!("\nsecond interrupt: stopping now, without writing the run's state");
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: finishing the current batch, then writing the run's state");
        request_interrupt();
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!(
            "warning: cannot handle interrupts ({e}); an interrupted run keeps only its metrics"
        );
    }
}

/// The run folder this process made (absent before the command), if any.
static NEW_RUN_DIR: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// [`RunDir::create`], remembering a folder the command makes, so that a command that fails
/// before writing anything of its run leaves no empty run folder behind.
fn create_run(out: Option<&Path>, name: &str, existing: Existing) -> Result<RunDir> {
    let fresh = out.is_none_or(|p| !p.exists());
    let run = RunDir::create(out, name, existing)?;
    if fresh && let Ok(mut slot) = NEW_RUN_DIR.lock() {
        *slot = Some(run.path.clone());
    }
    Ok(run)
}

/// After a failed command: removes the run folder it made if the folder holds nothing of the
/// run (nothing, or only the resolved config.toml), and returns it.
fn discard_unused_run_dir() -> Option<PathBuf> {
    let path = NEW_RUN_DIR.lock().ok()?.take()?;
    let unused =
        std::fs::read_dir(&path).ok()?.all(|e| e.is_ok_and(|e| e.file_name() == files::CONFIG));
    (unused && std::fs::remove_dir_all(&path).is_ok()).then_some(path)
}

fn main() {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Train(_)) {
        install_interrupt_handler();
    }
    if let Err(e) = run(cli).context("spikeburn failed") {
        eprintln!("error: {}", report(&e));
        if let Some(dir) = discard_unused_run_dir() {
            eprintln!("(removed {}: the run had written nothing into it)", dir.display());
        }
        let interrupted = e.chain().any(|c| c.downcast_ref::<Interrupted>().is_some());
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}

/// The error and its causes joined by `: `, each cause once: errors that already print their
/// source (`"{path}: {source}"`) would otherwise show it twice.
fn report(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn eval_needs_a_checkpoint_or_weights() {
        assert!(Cli::try_parse_from(["spikeburn", "eval"]).is_err());
        assert!(
            Cli::try_parse_from(["spikeburn", "eval", "--checkpoint", "a", "--weights", "b"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["spikeburn", "eval", "--checkpoint", "a"]).is_ok());
    }

    /// `sample` draws from spikeburn's generator only: no `--rng` flag that would do nothing.
    #[test]
    fn sample_has_no_rng_flag() {
        assert!(Cli::try_parse_from(["spikeburn", "sample", "--rng", "torch"]).is_err());
        assert!(Cli::try_parse_from(["spikeburn", "train", "--rng", "torch"]).is_ok());
    }

    /// Each cause is printed once, also when an error's own message already holds its source;
    /// causes that add something are kept.
    #[test]
    fn error_report_names_each_cause_once() {
        let os = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        let io = spikeburn::io::IoError::Os { path: "a/b.toml".into(), source: os };
        let e = anyhow::Error::new(io).context("spikeburn failed");
        assert_eq!(report(&e), "spikeburn failed: a/b.toml: No such file (os error 2)");
        let plain = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(report(&plain), "outer: middle: inner");
    }

    /// Random command lines from the CLI's own words and hostile values parse to a command or
    /// a clean clap error, and a parsed config resolves or errors: never a panic.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "train",
            "eval",
            "bench",
            "sample",
            "robustness",
            "dump-config",
            "--config",
            "--epochs",
            "--seed",
            "--rng",
            "--precision",
            "--dataset",
            "--feedback",
            "--chip",
            "--chip-file",
            "--chip-seed",
            "--chip-mode",
            "--chip-instances",
            "--device",
            "--data-dir",
            "--out",
            "--force",
            "--checkpoint",
            "--weights",
            "--save-outputs",
            "--batches",
            "--steps",
            "--chains",
            "--w-std",
            "--effect",
            "--levels",
            "--retrain",
            "torch",
            "f64",
            "mnist16",
            "bss2",
            "nan",
            "inf",
            "-1",
            "0",
            "1e308",
            "18446744073709551616",
            "99999999999999",
            "",
            "=",
            "--",
            "models/yinyang-ttfs.toml",
            "/nonexistent",
            "jitter",
            "0,0.1,nan",
            "sal",
            "exact",
            "flex",
            "ü∂",
        ];

        proptest! {
            #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn command_lines_never_panic(picks in proptest::collection::vec(0..WORDS.len(), 0..8)) {
                let args = std::iter::once("spikeburn").chain(picks.iter().map(|&i| WORDS[i]));
                if let Ok(cli) = Cli::try_parse_from(args) {
                    let config = match &cli.command {
                        Command::Train(c) => Some(&c.config),
                        Command::Eval(c) => Some(&c.config),
                        Command::Bench(c) => Some(&c.config),
                        Command::Robustness(c) => Some(&c.config),
                        Command::DumpConfig(c) => Some(c),
                        Command::Sample(_)
                        | Command::Plot(_)
                        | Command::Export(_)
                        | Command::Import(_) => None,
                    };
                    if let Some(c) = config {
                        let _ = c.resolve_runnable();
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_device_is_rejected() {
        assert!(Cli::try_parse_from(["spikeburn", "train", "--device", "tpu"]).is_err());
    }
}
