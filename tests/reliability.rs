//! Issue 14's hostile inputs, each refused with an error that names what was wrong: non-finite
//! and out-of-range config values (one finiteness check for every key), NaN/inf in weight files
//! and checkpoints, a checkpoint evaluated under a config that describes another network, run
//! folders that would mix two runs, a run name that leaves `runs/`, and a run killed mid-way
//! that keeps the epochs it finished.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use burn::tensor::{Device, Tensor, TensorData};
use spikeburn::config::ConfigError;
use spikeburn::io::weights;
use spikeburn::sampling::SampleConfig;
use spikeburn::train::{ExperimentConfig, TrainingRng};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spikeburn"));
    c.env_remove("BURN_DEVICE");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-reliability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn ok(out: Output) -> String {
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "command failed:\n{text}");
    text
}

fn failed(out: Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "expected exit 1:\n{err}");
    err
}

fn experiment_error(toml: &str) -> String {
    match ExperimentConfig::from_toml_str(toml, "test.toml") {
        Err(ConfigError::Invalid(m)) => m,
        other => panic!("expected an invalid-config error for {toml:?}, got {other:?}"),
    }
}

fn sample_error(toml: &str) -> String {
    match SampleConfig::from_toml_str(toml, "test.toml") {
        Err(ConfigError::Invalid(m)) => m,
        other => panic!("expected an invalid-config error for {toml:?}, got {other:?}"),
    }
}

/// Every example of the issue: NaN passed `x < 0` checks, inf passed `x > 0` checks, and some
/// keys were not checked at all. Each error names the key and the value.
#[test]
fn non_finite_and_out_of_range_values_name_the_key() {
    let cases = [
        ("[training]\nbump-value = nan", "training.bump-value = NaN"),
        ("[training]\nlearning-rate = inf", "training.learning-rate = inf"),
        ("[training]\nlr-gamma = inf", "training.lr-gamma = inf"),
        ("[training]\nadam-beta1 = 1.0", "adam-beta1 and adam-beta2 must be in [0, 1)"),
        ("[training]\nadam-beta2 = nan", "training.adam-beta2 = NaN"),
        ("[training]\nadam-epsilon = 0.0", "adam-epsilon must be positive"),
        ("[training]\nmax-missing = [0.3, 1.5]", "max-missing entries are fractions"),
        ("[training]\nmax-dw-norm = -inf", "training.max-dw-norm = -inf"),
        ("[network]\nweight-init = [[1.5, inf], [0.5, 0.8]]", "network.weight-init[0][1] = inf"),
        ("[loss]\nalpha = -1.0", "loss.alpha must be ≥ 0"),
        ("[loss]\nalpha = nan", "loss.alpha = NaN"),
        (
            "method = \"sampling\"\ndataset = \"mnist16\"\n[sampling]\nweight-std = nan",
            "sampling.weight-std = NaN",
        ),
        (
            "method = \"sampling\"\ndataset = \"mnist16\"\n[sampling]\nweight-std = -1.0",
            "sampling.weight-std must be in [0, 100]",
        ),
    ];
    for (toml, want) in cases {
        let e = experiment_error(toml);
        assert!(e.contains(want), "{toml:?}: {e}");
    }
    let cases = [
        ("[learning]\nclip = -1.0", "learning.clip must be positive"),
        ("[learning]\noptimizer = { kind = \"adam\", lr = nan }", "learning.optimizer.lr = NaN"),
        ("[learning]\noptimizer = { kind = \"sgd\", lr = 1.0, decay = 0.0 }", "lr (and decay)"),
        ("[machine]\nw-std = 1e308", "must be at most 100"),
        ("[sampler]\npseudo-count = inf", "sampler.pseudo-count = inf"),
        (
            "[sampler]\nkind = \"lif\"\nchains = 1\n[lif]\nnoise = { kind = \"ensemble\", \
             sources = 2, weight-exc = 0.001, weight-inh = 0.001 }",
            "sampler.chains must be ≥ 2",
        ),
    ];
    for (toml, want) in cases {
        let e = sample_error(toml);
        assert!(e.contains(want), "{toml:?}: {e}");
    }
    // The shipped configurations all pass.
    for entry in std::fs::read_dir("models").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.extension().is_some_and(|e| e == "toml") {
            let r = if name.starts_with("boltzmann") {
                SampleConfig::from_file(&path).map(|_| ())
            } else {
                ExperimentConfig::from_file(&path).map(|_| ())
            };
            assert!(r.is_ok(), "{name}: {r:?}");
        }
    }
}

/// A `--weights` file and a checkpoint holding NaN or inf are refused, naming the tensor.
#[test]
fn non_finite_weight_files_are_refused() {
    let device = Device::default();
    let cfg = ExperimentConfig::default();
    let layers = cfg.layer_configs();
    let named: Vec<(String, Tensor<2>)> = layers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (rows, cols) = (c.n_inputs + c.bias_times.len(), c.n_outputs);
            let mut v = vec![0.1; rows * cols];
            if i == 1 {
                v[cols + 2] = f64::NAN;
            }
            let w = Tensor::<2>::from_data(TensorData::new(v, [rows, cols]), &device);
            (format!("layers.{i}.weights"), w)
        })
        .collect();
    let path = tmp("nan.safetensors");
    weights::save_named(&named, &path).unwrap();
    let e = weights::load_reference_weights(&layers, &path, &device).unwrap_err().to_string();
    assert!(e.contains("'layers.1.weights' holds NaN at row 1, column 2"), "{e}");

    let mut net = TrainingRng::new(&cfg).init_network(&cfg, &device);
    let w = net.layers[0].weights.val();
    let [r, c] = w.dims();
    let mut v = spikeburn::util::to_vec_f64(w);
    v[5] = f64::INFINITY;
    net.layers[0] =
        layers[0].init_with_weights(Tensor::from_data(TensorData::new(v, [r, c]), &device));
    let path = tmp("inf.bpk");
    weights::save_checkpoint(&net, &path, &[]).unwrap();
    let fresh = TrainingRng::new(&cfg).init_network(&cfg, &device);
    let e = weights::load_checkpoint_into(fresh, &path).unwrap_err().to_string();
    assert!(e.contains("holds a NaN or infinite value (element 5)"), "{e}");
}

/// A trained Yin-Yang run folder (1 epoch), trained once per test binary.
fn trained_run() -> &'static Path {
    static RUN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let run = tmp("trained");
        ok(bin().args(["train", "--epochs", "1", "--out"]).arg(&run).output().unwrap());
        run
    })
}

/// `eval --config C --checkpoint M` with a C that describes another network (a threshold of 5
/// instead of 1, another τ regime) is refused naming the key, instead of running with the
/// checkpoint's weights and recording C's parameters.
#[test]
fn a_checkpoint_under_another_network_config_is_refused() {
    let run = trained_run();
    let ckpt = run.join("model.bpk");
    let base = std::fs::read_to_string(run.join("config.toml")).unwrap();
    for (from, to, key) in [
        ("v-th = 1.0", "v-th = 5.0", "network.v-th = 1.0, the configuration says 5.0"),
        ("tau-ratio = \"double\"", "tau-ratio = \"equal\"", "network.tau-ratio = \"double\""),
    ] {
        assert!(base.contains(from), "{from} in\n{base}");
        let cfg = tmp(&format!("other-{}.toml", key.len()));
        std::fs::write(&cfg, base.replace(from, to)).unwrap();
        let e = failed(
            bin()
                .args(["eval", "--config"])
                .arg(&cfg)
                .arg("--checkpoint")
                .arg(&ckpt)
                .arg("--out")
                .arg(tmp(&format!("eval-other-{}", key.len())))
                .output()
                .unwrap(),
        );
        assert!(e.contains(key) && e.contains("config.toml of its run folder"), "{e}");
    }
    // A config that differs only in how it trains (epochs, learning rate) evaluates.
    let cfg = tmp("same-network.toml");
    std::fs::write(&cfg, base.replace("learning-rate = 0.005", "learning-rate = 0.1")).unwrap();
    ok(bin()
        .args(["eval", "--config"])
        .arg(&cfg)
        .arg("--checkpoint")
        .arg(&ckpt)
        .arg("--out")
        .arg(tmp("eval-same"))
        .output()
        .unwrap());
}

/// `train --out` into an existing run and `eval --out` into a training folder are refused and
/// leave the folder as it was; `--force` replaces a run folder; `--save-outputs` never
/// overwrites the checkpoint it evaluates, nor any file without `--force`.
#[test]
fn run_folders_are_never_mixed_or_overwritten() {
    let run = trained_run();
    let before = std::fs::read(run.join("summary.json")).unwrap();
    let e = failed(bin().args(["train", "--epochs", "1", "--out"]).arg(run).output().unwrap());
    assert!(e.contains("already holds files") && e.contains("--force"), "{e}");
    let e = failed(
        bin()
            .args(["eval", "--checkpoint"])
            .arg(run.join("model.bpk"))
            .arg("--out")
            .arg(run)
            .output()
            .unwrap(),
    );
    assert!(e.contains("already holds files"), "{e}");
    assert_eq!(std::fs::read(run.join("summary.json")).unwrap(), before, "summary kept");

    let ckpt = run.join("model.bpk");
    let ckpt_bytes = std::fs::read(&ckpt).unwrap();
    let e = failed(
        bin()
            .args(["eval", "--checkpoint"])
            .arg(&ckpt)
            .arg("--save-outputs")
            .arg(&ckpt)
            .arg("--force")
            .arg("--out")
            .arg(tmp("eval-self"))
            .output()
            .unwrap(),
    );
    assert!(e.contains("is the network being evaluated"), "{e}");
    assert_eq!(std::fs::read(&ckpt).unwrap(), ckpt_bytes, "checkpoint untouched");
    let existing = tmp("outputs.npy");
    std::fs::write(&existing, "keep").unwrap();
    let e = failed(
        bin()
            .args(["eval", "--checkpoint"])
            .arg(&ckpt)
            .arg("--save-outputs")
            .arg(&existing)
            .arg("--out")
            .arg(tmp("eval-existing"))
            .output()
            .unwrap(),
    );
    assert!(e.contains("exists") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep");

    // --force replaces an earlier run folder whole.
    let again = tmp("again");
    ok(bin().args(["train", "--epochs", "1", "--out"]).arg(&again).output().unwrap());
    std::fs::write(again.join("stale.txt"), "from the earlier run").unwrap();
    ok(bin().args(["train", "--epochs", "2", "--force", "--out"]).arg(&again).output().unwrap());
    assert!(!again.join("stale.txt").exists(), "the earlier run's files are gone");
    let metrics = std::fs::read_to_string(again.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "header + 2 epochs of the new run");
}

/// A config `name` with `../` makes a folder inside `runs/`, not outside it.
#[test]
fn run_names_stay_inside_runs() {
    let cwd = tmp("cwd");
    std::fs::create_dir_all(cwd.join("sub")).unwrap();
    let cwd = cwd.join("sub");
    std::fs::write(cwd.join("c.toml"), "name = \"../../escaped\"\n").unwrap();
    ok(bin()
        .current_dir(&cwd)
        .args(["train", "--epochs", "1", "--config", "c.toml"])
        .output()
        .unwrap());
    let runs: Vec<String> = std::fs::read_dir(cwd.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert!(runs.len() == 1 && runs[0].starts_with("escaped-"), "{runs:?}");
    let parent: Vec<String> = std::fs::read_dir(cwd.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert_eq!(parent, ["sub"], "nothing written outside the working folder's runs/");
}

/// A command that fails before writing anything of its run (a missing calibration file, an
/// unknown device, a missing checkpoint) leaves no empty run folder behind; one that wrote
/// results keeps them, and a folder that existed before is never removed.
#[test]
fn failed_commands_leave_no_empty_run_folders() {
    let cwd = tmp("cwd-failed");
    std::fs::create_dir_all(&cwd).unwrap();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    std::fs::write(
        cwd.join("lif.toml"),
        "[lif]\ncalibration-file = \"nope.json\"\n[sampler]\nkind = \"lif\"\n",
    )
    .unwrap();
    let e =
        failed(bin().current_dir(&cwd).args(["sample", "--config", "lif.toml"]).output().unwrap());
    assert!(e.contains("nope.json") && e.contains("the run had written nothing into it"), "{e}");
    let e = failed(
        bin()
            .current_dir(&cwd)
            .env("BURN_DEVICE", "tpu")
            .args(["train", "--epochs", "1"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("tpu"), "{e}");
    let e = failed(
        bin()
            .current_dir(&cwd)
            .args(["eval", "--checkpoint", "missing.bpk", "--config"])
            .arg(models.join("yinyang-ttfs-double.toml"))
            .output()
            .unwrap(),
    );
    assert!(e.contains("missing.bpk"), "{e}");
    let left: Vec<_> = std::fs::read_dir(cwd.join("runs"))
        .map_or_else(|_| vec![], |d| d.map(|e| e.unwrap().file_name()).collect());
    assert!(left.is_empty(), "run folders left behind: {left:?}");
    // An --out folder the user made is kept, empty as it was.
    let mine = cwd.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    failed(
        bin()
            .current_dir(&cwd)
            .env("BURN_DEVICE", "tpu")
            .args(["train", "--epochs", "1", "--out", "mine"])
            .output()
            .unwrap(),
    );
    assert!(mine.is_dir(), "a folder that existed before the command is never removed");
}

/// A run killed (SIGKILL: no chance to clean up) after its first epochs keeps them in
/// metrics.csv; `--epochs 10^12` starts training instead of aborting on a 72 TB allocation.
#[test]
fn a_killed_run_keeps_its_finished_epochs() {
    let run = tmp("killed");
    let mut child = bin()
        .args(["train", "--epochs", "1000000000000", "--out"])
        .arg(&run)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let done = line.trim_start().starts_with("epoch    2");
        seen.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed");
    assert!(seen.iter().any(|l| l.contains("epoch    2")), "two epochs ran:\n{seen:?}");
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let rows = metrics.lines().count() - 1;
    assert!(rows >= 2, "the finished epochs are on disk:\n{metrics}");
    assert!(metrics.lines().nth(1).unwrap().starts_with("1,"), "{metrics}");
}

/// Sizes no machine here can hold are refused before anything is allocated, with the
/// estimate and its terms (they used to abort on the allocation); every shipped config fits.
#[test]
fn sizes_beyond_the_memory_are_refused_with_an_estimate() {
    let cfg = tmp("huge.toml");
    std::fs::write(&cfg, "[network]\nhidden = [4294967296]\n").unwrap();
    let e = failed(bin().args(["train", "--config"]).arg(&cfg).output().unwrap());
    assert!(e.contains("would need at least") && e.contains("synapses × 4 values"), "{e}");
    assert!(e.contains("available: make it smaller"), "{e}");
    std::fs::write(&cfg, "method = \"surrogate\"\n[surrogate]\nsteps = 1000000000000\n").unwrap();
    let e = failed(bin().args(["bench", "--config"]).arg(&cfg).output().unwrap());
    assert!(e.contains("1000000000000 steps"), "{e}");
    std::fs::write(&cfg, "[sampler]\nchains = 100000000000\n").unwrap();
    let e = failed(bin().args(["sample", "--config"]).arg(&cfg).output().unwrap());
    assert!(e.contains("100000000000 chains"), "{e}");
    for entry in std::fs::read_dir("models").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let (need, how) = if name.starts_with("boltzmann") {
                SampleConfig::from_file(&path).unwrap().memory_estimate()
            } else {
                ExperimentConfig::from_file(&path).unwrap().memory_estimate()
            };
            assert!(need < 1 << 30, "{name}: {need} bytes ({how})");
        }
    }
}

/// SIGINT or SIGTERM during training: the batch in progress finishes, then the network after
/// it (model.bpk, loadable by eval), the completed epochs' metrics.csv and a summary marked
/// `interrupted` are written, and the exit status is 130.
#[test]
fn an_interrupted_run_writes_its_state_and_exits_130() {
    for signal in ["-INT", "-TERM"] {
        let run = tmp(&format!("interrupted{signal}"));
        let mut child = bin()
            .args(["train", "--epochs", "100000", "--out"])
            .arg(&run)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.trim_start().starts_with("epoch    2") {
                break;
            }
        }
        let sent = Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap();
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signal}: {err}");
        assert!(err.contains("training interrupted in epoch"), "{err}");
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s["status"], "interrupted", "{s}");
        let completed = s["epochs_completed"].as_u64().unwrap();
        assert!(completed >= 2, "{s}");
        assert_eq!(s["interrupted_epoch"].as_u64(), Some(completed + 1), "{s}");
        let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        assert_eq!(metrics.lines().count() as u64, completed + 1, "{metrics}");
        // The interrupted network evaluates (it is the network after the last batch).
        let text = ok(bin()
            .args(["eval", "--config"])
            .arg(run.join("config.toml"))
            .arg("--checkpoint")
            .arg(run.join("model.bpk"))
            .arg("--out")
            .arg(tmp(&format!("eval-interrupted{signal}")))
            .output()
            .unwrap());
        assert!(text.contains("test accuracy"), "{text}");
    }
}

/// The metrics.csv rows without the wall-clock seconds (the last column).
fn metrics_without_seconds(run: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    text.lines().map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string()).collect()
}

/// `train --resume`: a run interrupted by SIGINT and resumed ends with a model.bpk byte for
/// byte the one of the run that was never interrupted, and the same metrics and test result;
/// a completed run, a folder that is not a run and override flags are refused by name.
#[test]
fn an_interrupted_run_resumes_to_the_same_bytes() {
    let whole = tmp("resume-whole");
    let cut = tmp("resume-cut");
    let args = ["train", "--epochs", "30", "--seed", "3", "--out"];
    ok(bin().args(args).arg(&whole).output().unwrap());
    let mut child =
        bin().args(args).arg(&cut).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.trim_start().starts_with("epoch    3") {
            break;
        }
    }
    let sent = Command::new("kill").arg("-INT").arg(child.id().to_string()).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("spikeburn train --resume"), "{err}");
    assert!(cut.join("resume.safetensors").is_file());
    let text = ok(bin().arg("train").arg("--resume").arg(&cut).output().unwrap());
    assert!(text.contains("resuming") && text.contains("test accuracy"), "{text}");
    let bytes = |run: &Path| std::fs::read(run.join("model.bpk")).unwrap();
    assert!(bytes(&cut) == bytes(&whole), "model.bpk differs from the uninterrupted run's");
    assert_eq!(metrics_without_seconds(&cut), metrics_without_seconds(&whole));
    let acc = |run: &Path| {
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap())
                .unwrap();
        (s["status"].clone(), s["test_accuracy"].clone(), s["test_loss"].clone())
    };
    assert_eq!(acc(&cut), acc(&whole));
    assert_eq!(acc(&cut).0, "completed");

    let err = failed(bin().arg("train").arg("--resume").arg(&cut).output().unwrap());
    assert!(err.contains("completed; there is nothing to resume"), "{err}");
    let err =
        failed(bin().args(["train", "--epochs", "5", "--resume"]).arg(&cut).output().unwrap());
    assert!(err.contains("takes no --config or override flags"), "{err}");
    let err = failed(bin().arg("train").arg("--resume").arg(tmp("no-such-run")).output().unwrap());
    assert!(err.contains("not a run folder"), "{err}");
    // A state file that is not one is refused, naming it.
    let fake = tmp("resume-fake");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::copy(whole.join("config.toml"), fake.join("config.toml")).unwrap();
    std::fs::write(fake.join("resume.safetensors"), b"\x08\0\0\0\0\0\0\0{}      ").unwrap();
    let err = failed(bin().arg("train").arg("--resume").arg(&fake).output().unwrap());
    assert!(
        err.contains("resume.safetensors") && err.contains("not a spikeburn run state"),
        "{err}"
    );
}
