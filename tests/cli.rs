//! The `spikeburn` binary end to end: train writes a complete run folder, eval reproduces the
//! test accuracy from the checkpoint and from the reference-layout weights, `--save-outputs`
//! writes the spike times, and user errors exit 1 with a message naming what was wrong.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use spikeburn::io::npy;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spikeburn"));
    c.env_remove("BURN_DEVICE");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-cli-{}", std::process::id()));
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
    assert_eq!(out.status.code(), Some(1), "expected exit 1");
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `spikeburn plot dir` after removing `removed` (files of `dir`): its output starts with
/// `listed` (the charts it names), and each removed file is back with the bytes it had.
fn plot_redraws(dir: &Path, removed: &[&str], listed: &str) {
    let before: Vec<Vec<u8>> =
        removed.iter().map(|f| std::fs::read(dir.join(f)).unwrap()).collect();
    for f in removed {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let text = ok(bin().arg("plot").arg(dir).output().unwrap());
    assert!(text.starts_with(listed), "{text}");
    for (f, bytes) in removed.iter().zip(before) {
        assert_eq!(std::fs::read(dir.join(f)).unwrap(), bytes, "{f} redrawn differently");
    }
}

/// `spikeburn eval` of a run folder's resolved config and checkpoint, writing into `out`, with
/// `extra` arguments; returns the test accuracy of its summary.
fn eval_checkpoint(run: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> f64 {
    ok(bin()
        .args(["eval", "--config"])
        .arg(run.join("config.toml"))
        .arg("--checkpoint")
        .arg(run.join("model.bpk"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap());
    summary(&out.join("summary.json"))["test_accuracy"].as_f64().unwrap()
}

#[test]
fn train_then_eval_from_checkpoint_and_weights() {
    let run = tmp("run");
    let text = ok(bin()
        .args(["train", "--epochs", "10", "--seed", "4", "--out"])
        .arg(&run)
        .output()
        .unwrap());
    assert!(text.contains("test accuracy"), "{text}");
    for f in ["config.toml", "metrics.csv", "model.bpk", "weights.safetensors", "summary.json"] {
        assert!(run.join(f).is_file(), "run folder lacks {f}");
    }
    let s = summary(&run.join("summary.json"));
    for key in ["test_accuracy", "val_accuracy", "epochs", "train_seconds", "device"] {
        assert!(!s[key].is_null(), "summary lacks {key}: {s}");
    }
    assert_eq!(s["epochs"], 10);
    assert_eq!(s["status"], "completed");
    assert_eq!(s["device"], "flex");
    let acc = s["test_accuracy"].as_f64().unwrap();
    // Above what a network whose hidden layer never learns reaches (the frozen-hidden control:
    // ≤ 0.857 after 10 epochs over seeds 0–4); measured 0.917 here.
    assert!(acc > 0.88, "10 epochs should learn beyond the frozen-hidden control, got {acc}");
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 11, "header + 10 epochs:\n{metrics}");
    let resolved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(resolved.contains("seed = 4") && resolved.contains("epochs = 10"), "{resolved}");

    // The charts, as SVG and PNG, and the test split per sample (accuracy as in the summary).
    for stem in ["learning-curves", "confusion", "decision-times", "raster"] {
        for ext in ["svg", "png"] {
            let f = run.join(format!("{stem}.{ext}"));
            assert!(std::fs::metadata(&f).is_ok_and(|m| m.len() > 1000), "no {}", f.display());
        }
    }
    let predictions = std::fs::read_to_string(run.join("predictions.csv")).unwrap();
    let rows: Vec<Vec<&str>> =
        predictions.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 1000);
    let right = rows.iter().filter(|r| r[1] == r[2]).count();
    assert_eq!(right as f64 / 1000.0, acc, "predictions.csv against the summary");
    let curves = std::fs::read_to_string(run.join("learning-curves.svg")).unwrap();
    assert!(curves.contains("accuracy") && curves.contains("validation"), "curves' labels");
    // `plot` redraws them from the folder alone.
    plot_redraws(
        &run,
        &["confusion.png", "learning-curves.svg"],
        "learning-curves, confusion, decision-times",
    );
    let e = failed(bin().arg("plot").arg(tmp("not-a-run")).output().unwrap());
    assert!(e.contains("not-a-run") && e.contains("no such run folder"), "{e}");
    std::fs::create_dir_all(tmp("empty-folder")).unwrap();
    let e = failed(bin().arg("plot").arg(tmp("empty-folder")).output().unwrap());
    assert!(e.contains("not a run folder"), "{e}");
    // A predictions.csv naming an impossible class is refused, naming the file and the value.
    let forged = tmp("forged-predictions");
    std::fs::create_dir_all(&forged).unwrap();
    std::fs::write(
        forged.join("predictions.csv"),
        "sample,label,prediction,decision_time\n0,0,5000,\n",
    )
    .unwrap();
    let e = failed(bin().arg("plot").arg(&forged).output().unwrap());
    assert!(e.contains("predictions.csv") && e.contains("prediction 5000 is not a class"), "{e}");

    let config = run.join("config.toml");
    let eval_dir = tmp("eval-ckpt");
    assert_eq!(eval_checkpoint(&run, &eval_dir, &[]), acc);
    assert!(eval_dir.join("confusion.svg").is_file() && eval_dir.join("predictions.csv").is_file());
    assert_eq!(std::fs::read_to_string(eval_dir.join("predictions.csv")).unwrap(), predictions);

    let eval_w = tmp("eval-weights");
    let npy_path = tmp("outputs.npy");
    ok(bin()
        .args(["eval", "--config"])
        .arg(&config)
        .arg("--weights")
        .arg(run.join("weights.safetensors"))
        .arg("--out")
        .arg(&eval_w)
        .arg("--save-outputs")
        .arg(&npy_path)
        .output()
        .unwrap());
    assert_eq!(summary(&eval_w.join("summary.json"))["test_accuracy"].as_f64().unwrap(), acc);
    let (times, shape) = npy::read_f64(&npy_path).unwrap();
    assert_eq!(shape, vec![1000, 3]);
    assert!(times.iter().all(|t| !t.is_nan()));
    assert!(times.iter().filter(|t| t.is_finite()).count() > 1500);
}

/// The surrogate-gradient method through the same commands and run-folder outputs.
#[test]
fn surrogate_train_then_eval_from_checkpoint() {
    let run = tmp("run-surrogate");
    let text = ok(bin()
        .args(["train", "--config", "models/yinyang-surrogate.toml", "--epochs", "2", "--out"])
        .arg(&run)
        .output()
        .unwrap());
    assert!(text.contains("test accuracy") && text.contains("spikes per sample"), "{text}");
    for f in ["config.toml", "metrics.csv", "model.bpk", "summary.json", "raster.svg"] {
        assert!(run.join(f).is_file(), "run folder lacks {f}");
    }
    // The raster shows the inputs and the hidden layer; the leaky-integrator readout has no
    // spikes and is left out.
    let raster = std::fs::read_to_string(run.join("raster.svg")).unwrap();
    assert!(raster.contains("input (") && raster.contains("hidden 1 ("), "raster legend");
    assert!(!raster.contains("output ("), "no spikes to show for an LI readout");
    let s = summary(&run.join("summary.json"));
    assert_eq!(s["method"], "surrogate");
    let acc = s["test_accuracy"].as_f64().unwrap();
    // This test is about the commands and the run folder (learning against the frozen-hidden
    // control is asserted in tests/surrogate_training.rs); the bound is still above that
    // control after the same 2 epochs (0.782; measured here 0.87).
    assert!(acc > 0.82, "2 epochs should learn, got {acc}");
    assert!(s["test_mean_spikes"].as_f64().unwrap() > 0.0, "{s}");
    let decision = s["test_decision_time"].as_f64().unwrap();
    assert!(decision > 0.0 && decision <= 3.0, "decision time within the 3.0 window: {s}");

    assert_eq!(eval_checkpoint(&run, &tmp("eval-surrogate"), &[]), acc);
    let e = failed(
        bin()
            .args([
                "eval",
                "--config",
                "models/yinyang-surrogate.toml",
                "--weights",
                "w.safetensors",
            ])
            .output()
            .unwrap(),
    );
    assert!(e.contains("--checkpoint"), "{e}");
}

#[test]
fn dump_config_prints_resolved_toml() {
    let text = ok(bin()
        .args(["dump-config", "--config", "models/yinyang-ttfs.toml", "--epochs", "9"])
        .args(["--rng", "torch", "--seed", "2000"])
        .output()
        .unwrap());
    assert!(text.contains("epochs = 9") && text.contains("batch-size = 150"), "{text}");
    assert!(text.contains("rng = \"torch\"") && text.contains("seed = 2000"), "{text}");
}

#[test]
fn user_errors_exit_1_with_a_clear_message() {
    let e = failed(bin().args(["train", "--config", "no/such.toml"]).output().unwrap());
    assert!(e.contains("no/such.toml"), "{e}");
    assert_eq!(e.matches("os error").count(), 1, "the OS error once: {e}");

    let bad = tmp("bad.toml");
    std::fs::write(&bad, "[training]\nepoch = 3\n").unwrap();
    let e = failed(bin().args(["train", "--config"]).arg(&bad).output().unwrap());
    assert!(e.contains("bad.toml") && e.contains("unknown field"), "{e}");

    let e = failed(
        bin()
            .args(["train", "--config", "models/yinyang-surrogate.toml", "--rng", "torch"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("first-spike-time"), "{e}");

    let e = failed(bin().args(["eval", "--checkpoint", "missing.bpk"]).output().unwrap());
    assert!(e.contains("missing.bpk"), "{e}");

    // A device whose backend is not compiled into this build.
    #[cfg(not(feature = "wgpu"))]
    {
        let e =
            failed(bin().args(["train", "--epochs", "1", "--device", "wgpu"]).output().unwrap());
        assert!(e.contains("--features wgpu"), "{e}");
    }
    let e =
        failed(bin().env("BURN_DEVICE", "tpu").args(["train", "--epochs", "1"]).output().unwrap());
    assert!(e.contains("unknown device 'tpu'"), "{e}");
}

/// A run whose weights turn NaN (here the first weight bump, `bump-value = nan`, which the
/// config check still lets through) stops with exit 1 naming the epoch and batch, and leaves a
/// summary saying so, the completed epochs' metrics and no network: nothing broken is reported
/// as a result.
#[test]
fn a_diverging_run_fails_and_saves_no_network() {
    // A finite bump (it passes validation) that is infinite in f32: the first bump diverges.
    let cfg = tmp("huge-bump.toml");
    std::fs::write(
        &cfg,
        "[network]\nweight-init = [[-1.0, 0.01], [-1.0, 0.01]]\n[training]\nbump-value = 1e308\n",
    )
    .unwrap();
    let run = tmp("diverged");
    let e = failed(
        bin()
            .args(["train", "--epochs", "2", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap(),
    );
    assert!(e.contains("diverged in epoch 1, after batch 1 of"), "{e}");
    assert!(e.contains("layer 1 weights hold NaN or inf") && e.contains("no network"), "{e}");
    let s = summary(&run.join("summary.json"));
    assert_eq!(s["status"], "diverged");
    assert_eq!((s["diverged_epoch"].as_u64(), s["diverged_batch"].as_u64()), (Some(1), Some(1)));
    assert_eq!(s["epochs_completed"].as_u64(), Some(0));
    assert!(s.get("test_accuracy").is_none(), "no test figure for a diverged run");
    assert!(!run.join("model.bpk").exists(), "no network saved");
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1, "header only: no epoch completed\n{metrics}");
}

#[test]
fn bench_reports_rates_and_epoch_estimate() {
    let text = ok(bin().args(["bench", "--batches", "5"]).output().unwrap());
    assert!(text.contains("images/s") && text.contains("epoch estimate"), "{text}");
    let rate: f64 = text
        .lines()
        .find(|l| l.starts_with("train:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no train rate in {text}"));
    assert!(rate > 100.0, "implausible training rate {rate} images/s");
}

/// `spikeburn sample` with the shipped config: summary.json has D_KL and samples/s, the D_KL
/// trace falls, and a LIF run learns in the loop, writes its calibration, and a second run that
/// loads that calibration reproduces the open-loop D_KL exactly.
#[test]
fn sample_writes_dkl_and_rates() {
    let out = tmp("sample");
    ok(bin()
        .args(["sample", "--config", "models/boltzmann-5.toml", "--steps", "50000", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    let s = summary(&out.join("summary.json"));
    let dkl = s["dkl"].as_f64().unwrap();
    assert!(dkl > 0.0 && dkl < 1e-2, "{s}");
    assert!(s["samples_per_second"].as_f64().unwrap() > 1e4);
    let csv = std::fs::read_to_string(out.join("dkl.csv")).unwrap();
    let first: f64 = csv.lines().nth(1).unwrap().split(',').nth(1).unwrap().parse().unwrap();
    assert!(first > 10.0 * dkl, "D_KL should fall: {csv}");
    // Its chart, and `plot` redraws it identically from dkl.csv.
    let chart = std::fs::read_to_string(out.join("dkl.svg")).unwrap();
    assert!(chart.contains("boltzmann-5: D_KL") && out.join("dkl.png").is_file());
    plot_redraws(&out, &["dkl.svg"], "dkl (.svg and .png)");

    let lif = tmp("sample-lif");
    let args = ["sample", "--config", "models/boltzmann-5-lif.toml", "--steps", "20000"];
    let text = ok(bin().args(args).arg("--out").arg(&lif).output().unwrap());
    assert!(text.contains("calibrated 5 neurons"), "{text}");
    let s = summary(&lif.join("summary.json"));
    let (open, closed) = (s["dkl_open_loop"].as_f64().unwrap(), s["dkl"].as_f64().unwrap());
    assert!(closed < open, "learning in the loop should help: {s}");

    // Reuse the calibration: same seed, same open-loop measurement.
    let cfg = std::fs::read_to_string("models/boltzmann-5-lif.toml").unwrap();
    let cfg = cfg.replace(
        "[lif]\n",
        &format!("[lif]\ncalibration-file = {:?}\n", lif.join("calibration.json")),
    );
    let cfg_path = tmp("lif-reuse.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let again = tmp("sample-lif-again");
    let text = ok(bin()
        .args(["sample", "--steps", "20000", "--config"])
        .arg(&cfg_path)
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap());
    assert!(!text.contains("calibrated 5 neurons"), "{text}");
    assert_eq!(summary(&again.join("summary.json"))["dkl_open_loop"], s["dkl_open_loop"]);

    let bad = tmp("bad-sample.toml");
    std::fs::write(&bad, "[sampler]\nkind = \"gibbs\"\norder = \"synchronous\"\n").unwrap();
    let e = failed(bin().args(["sample", "--config"]).arg(&bad).output().unwrap());
    assert!(e.contains("synchronous Gibbs"), "{e}");
    std::fs::write(&bad, "[lif]\ncalibration-file = \"nope.json\"\n[sampler]\nkind = \"lif\"\n")
        .unwrap();
    let e = failed(bin().args(["sample", "--config"]).arg(&bad).output().unwrap());
    assert!(e.contains("nope.json"), "{e}");
}

/// The MNIST sampling classifier from the CLI (1 epoch, short readout): the run folder has the
/// checkpoint, summary, completions and generated digits; eval from the checkpoint reproduces
/// the sampled test accuracy exactly. Needs the MNIST files (skipped without them, except
/// under CI).
#[test]
fn sampling_classifier_train_then_eval() {
    let Some(data) = common::real_data_dir() else {
        eprintln!("skipped: no MNIST data");
        return;
    };
    let cfg = std::fs::read_to_string("models/mnist16-sampling.toml")
        .unwrap()
        .replace("readout-steps = 400", "readout-steps = 40")
        .replace("readout-burn-in = 50", "readout-burn-in = 10");
    let cfg_path = tmp("sampling.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let run = tmp("run-sampling");
    let text = ok(bin()
        .args(["train", "--epochs", "1", "--data-dir"])
        .arg(&data)
        .arg("--config")
        .arg(&cfg_path)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap());
    assert!(text.contains("exact label posterior"), "{text}");
    for f in ["config.toml", "metrics.csv", "model.bpk", "summary.json", "sampling.json"] {
        assert!(run.join(f).is_file(), "run folder lacks {f}");
    }
    for f in ["completions.png", "generated.png"] {
        let bytes = std::fs::read(run.join(f)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{f} is not a PNG");
    }
    let s = summary(&run.join("summary.json"));
    assert_eq!(s["method"], "sampling");
    let acc = s["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.7, "one epoch should classify: {acc}");
    let data_args = ["--data-dir".as_ref(), data.as_os_str()];
    assert_eq!(eval_checkpoint(&run, &tmp("eval-sampling"), &data_args), acc);
}

/// `--feedback fa` trains through fixed random feedback: the summary records the rule, the run
/// folder holds the matrix, `metrics.csv` has the per-layer alignment columns (the angle of a
/// fixed random B to a moving W is far from 0°), and the checkpoint evaluates as usual.
#[test]
fn feedback_rule_from_the_command_line() {
    let run = tmp("feedback-fa");
    ok(bin()
        .args(["train", "--epochs", "2", "--feedback", "fa", "--out"])
        .arg(&run)
        .output()
        .unwrap());
    assert_eq!(summary(&run.join("summary.json"))["feedback"], "fa");
    assert!(run.join("feedback.safetensors").is_file());
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
    for col in ["angle_l1", "norm_ratio_l1", "sign_agreement_l1", "delta_angle_l1"] {
        assert!(header.contains(&col), "metrics.csv lacks {col}: {header:?}");
    }
    let last: Vec<f64> =
        metrics.lines().last().unwrap().split(',').map(|v| v.parse().unwrap()).collect();
    let angle = last[header.iter().position(|c| *c == "angle_l1").unwrap()];
    assert!(angle > 20.0 && angle < 160.0, "angle of a fixed random B: {angle}");
    let accuracy = eval_checkpoint(&run, &tmp("feedback-fa-eval"), &[]);
    assert!(accuracy > 0.4, "{accuracy}");
    let out = bin().args(["train", "--epochs", "1", "--feedback", "hebb"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("hebb"), "{err}");
}

#[test]
/// Training on an emulated chip writes `chip.json` and the chip's results into `summary.json`;
/// `eval` on the saved chip (`--chip-file`) and on the resolved config (profile and seed)
/// gives the test accuracy of the training run; a profile that does not exist is an error.
fn chip_in_the_loop_train_then_eval_on_the_same_chip() {
    let run = tmp("chip-run");
    let text = ok(bin()
        .args(["train", "--epochs", "3", "--chip", "bss2", "--chip-seed", "5"])
        .args(["--chip-mode", "in-the-loop", "--chip-instances", "2", "--out"])
        .arg(&run)
        .output()
        .unwrap());
    assert!(text.contains("chip bss2 (in-the-loop, seed 5)"), "{text}");
    let s = summary(&run.join("summary.json"));
    let chip = &s["chip"];
    assert_eq!(chip["profile"], "bss2");
    assert_eq!(chip["seed"], 5);
    assert_eq!(chip["mode"], "in-the-loop");
    let accs = chip["accuracies"].as_array().unwrap();
    assert_eq!(accs.len(), 2);
    let test = s["test_accuracy"].as_f64().unwrap();
    assert_eq!(accs[0].as_f64().unwrap(), test);
    assert!(run.join("chip.json").exists());
    let from_file = eval_checkpoint(
        &run,
        &tmp("chip-eval-file"),
        &[
            "--chip-file".as_ref(),
            run.join("chip.json").as_os_str(),
            "--chip-instances".as_ref(),
            "1".as_ref(),
        ],
    );
    assert_eq!(from_file, test, "the saved chip gives the same test accuracy");
    let from_config = eval_checkpoint(&run, &tmp("chip-eval-config"), &[]);
    assert_eq!(from_config, test, "profile and seed redraw the same chip");
    let err = failed(bin().args(["train", "--chip", "bss3"]).output().unwrap());
    assert!(err.contains("bss3") && err.contains("built-in"), "{err}");
    let err = failed(bin().args(["train", "--chip-mode", "exact"]).output().unwrap());
    assert!(err.contains("chip.mode"), "{err}");
}

#[test]
/// `robustness` sweeps one effect over chip instances from a checkpoint: a CSV row per level
/// (the level-0 ideal chip at the network's own accuracy, more jitter never better on average
/// here), the chart, and a bad level refused before anything runs.
fn robustness_sweeps_an_effect() {
    let run = tmp("rob-train");
    ok(bin().args(["train", "--epochs", "20", "--out"]).arg(&run).output().unwrap());
    let test = summary(&run.join("summary.json"))["test_accuracy"].as_f64().unwrap();
    let out = tmp("rob");
    let text = ok(bin()
        .args(["robustness", "--effect", "jitter", "--levels", "0,0.3", "--chips", "2"])
        .arg("--checkpoint")
        .arg(run.join("model.bpk"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    assert!(text.contains("jitter 0.3: open loop"), "{text}");
    let csv = std::fs::read_to_string(out.join("robustness.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    let mean = |r: &[&str]| r[2].parse::<f64>().unwrap();
    assert_eq!(mean(&rows[0]), test, "level 0 is the ideal network");
    assert!(mean(&rows[1]) < test, "jitter of 0.3 τs costs accuracy: {csv}");
    let chart = std::fs::read_to_string(out.join("robustness.svg")).unwrap();
    assert!(chart.contains("<polyline") && out.join("robustness.png").is_file());
    // `plot` redraws it identically from robustness.csv (the title from config.toml).
    plot_redraws(&out, &["robustness.svg"], "robustness (.svg and .png)");
    let err = failed(
        bin()
            .args(["robustness", "--effect", "spike-loss", "--levels", "0,2", "--checkpoint"])
            .arg(run.join("model.bpk"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("spike-loss level 2"), "{err}");
}

#[test]
/// A surrogate network on the chip through the same commands: trained with the exact chip
/// gradient, evaluated on its saved chip at the training run's accuracy, and swept by
/// `robustness` (level 0 at the network's own accuracy, jitter of 0.3 τs costing accuracy).
fn surrogate_on_the_chip_train_eval_and_robustness() {
    let run = tmp("chip-surrogate");
    let text = ok(bin()
        .args(["train", "--config", "models/yinyang-surrogate.toml", "--epochs", "2"])
        .args(["--chip", "bss2", "--chip-mode", "exact", "--chip-instances", "2", "--out"])
        .arg(&run)
        .output()
        .unwrap());
    assert!(text.contains("chip bss2 (exact, seed 0)"), "{text}");
    let s = summary(&run.join("summary.json"));
    let test = s["test_accuracy"].as_f64().unwrap();
    assert_eq!(s["chip"]["accuracies"][0].as_f64().unwrap(), test);
    let file = run.join("chip.json");
    let extra = ["--chip-file".as_ref(), file.as_os_str()];
    let from_file = eval_checkpoint(&run, &tmp("chip-surrogate-eval"), &extra);
    assert_eq!(from_file, test, "the saved chip gives the same test accuracy");

    let ideal = tmp("chip-surrogate-ideal");
    ok(bin()
        .args(["train", "--config", "models/yinyang-surrogate.toml", "--epochs", "3", "--out"])
        .arg(&ideal)
        .output()
        .unwrap());
    let acc = summary(&ideal.join("summary.json"))["test_accuracy"].as_f64().unwrap();
    let out = tmp("chip-surrogate-rob");
    ok(bin()
        .args(["robustness", "--config", "models/yinyang-surrogate.toml", "--effect", "jitter"])
        .args(["--levels", "0,0.3", "--chips", "2", "--checkpoint"])
        .arg(ideal.join("model.bpk"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    let csv = std::fs::read_to_string(out.join("robustness.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let mean = |r: &[&str]| r[2].parse::<f64>().unwrap();
    assert_eq!(mean(&rows[0]), acc, "level 0 is the ideal network");
    assert!(mean(&rows[1]) < acc, "jitter of 0.3 τs costs accuracy: {csv}");
}

#[test]
/// `sample --chip`: the LIF network calibrated and trained on the chip, `chip.json` and the
/// chip's profile and seed in the run folder; the saved chip (`--chip-file`) gives the same
/// D_KL; a chip for a sampler that has none, or a profile that does not exist, is an error.
fn sample_on_the_chip_and_again_from_its_file() {
    let run = tmp("sample-chip");
    let text = ok(bin()
        .args(["sample", "--config", "models/boltzmann-5-lif.toml", "--steps", "20000"])
        .args(["--chip", "bss2", "--chip-seed", "3", "--out"])
        .arg(&run)
        .output()
        .unwrap());
    assert!(text.contains("on chip bss2 (seed 3)"), "{text}");
    let s = summary(&run.join("summary.json"));
    assert_eq!(s["chip"]["profile"], "bss2");
    assert_eq!(s["chip"]["seed"], 3);
    let again = tmp("sample-chip-file");
    ok(bin()
        .args(["sample", "--config", "models/boltzmann-5-lif.toml", "--steps", "20000"])
        .arg("--chip-file")
        .arg(run.join("chip.json"))
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap());
    assert_eq!(summary(&again.join("summary.json"))["dkl"], s["dkl"], "the same chip");
    let err = failed(bin().args(["sample", "--chip", "bss2"]).output().unwrap());
    assert!(err.contains("sampler.kind"), "{err}");
    let err = failed(
        bin()
            .args(["sample", "--config", "models/boltzmann-5-lif.toml", "--chip", "bss3"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("bss3"), "{err}");
}
