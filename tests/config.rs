//! Configuration files: layered defaults, unknown keys and bad values rejected with messages
//! that name the file or the field, and the shipped model files load.

use std::path::Path;

use spikeburn::sampling::SampleConfig;
use spikeburn::train::{ConfigError, ExperimentConfig};
use spikeburn::ttfs::TauRatio;

fn parse(text: &str) -> Result<ExperimentConfig, ConfigError> {
    ExperimentConfig::from_toml_str(text, "test.toml")
}

fn invalid(text: &str, needle: &str) {
    match parse(text) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "error {msg:?} does not mention {needle:?}");
        }
        Ok(_) => panic!("accepted invalid config:\n{text}"),
    }
}

#[test]
fn empty_file_is_the_default() {
    assert_eq!(parse("").unwrap(), ExperimentConfig::default());
}

#[test]
fn partial_file_keeps_other_defaults() {
    let cfg = parse("seed = 3\n[training]\nepochs = 7\n").unwrap();
    assert_eq!(cfg.seed, 3);
    assert_eq!(cfg.training.epochs, 7);
    assert_eq!(cfg.training.batch_size, ExperimentConfig::default().training.batch_size);
    assert_eq!(cfg.network, ExperimentConfig::default().network);
}

#[test]
fn resolved_config_round_trips_through_toml() {
    let cfg = parse("[network]\ntau-ratio = \"double\"\ng-leak = 0.5\n").unwrap();
    assert_eq!(parse(&cfg.to_toml()).unwrap(), cfg);
}

#[test]
fn unknown_keys_are_errors() {
    invalid("sed = 3", "unknown field");
    invalid("[training]\nepoch = 3", "unknown field");
    invalid("[network]\nhiden = [10]", "unknown field");
    invalid("[optimizer]\nlr = 1", "unknown field");
}

#[test]
fn wrong_types_and_enum_values_are_errors() {
    invalid("[training]\nepochs = \"ten\"", "test.toml");
    invalid("[network]\ntau-ratio = \"triple\"", "unknown variant");
    invalid("dataset = \"cifar\"", "unknown variant");
}

#[test]
fn each_validation_rule_has_its_message() {
    invalid("[network]\nhidden = [0]", "zero-sized");
    invalid("[network]\nweight-init = [[1.0, 1.0]]", "weight-init has 1 entries");
    invalid("[network]\nweight-init = [[1.0, -1.0], [1.0, 1.0]]", "std");
    invalid("[network]\ntau-syn = 0.0", "tau-syn");
    invalid("[network]\ng-leak = -1.0", "g-leak");
    invalid("[network]\nv-th = 0.0\nv-leak = 0.5", "must exceed");
    invalid("[network]\nbias-times = [-1.0]", "bias-times");
    invalid("[training]\nbatch-size = 0", "batch-size");
    invalid("[training]\nlearning-rate = 0.0", "learning-rate");
    invalid("[training]\nlr-step = 0", "lr-step");
    invalid("[training]\nmax-missing = [0.3]", "max-missing has 1");
    invalid("[training]\ninput-noise = -0.1", "input-noise");
    invalid("[training]\nfrozen-layers = [2]", "frozen-layers names layer 2");
    invalid(
        "method = \"sampling\"\ndataset = \"mnist16\"\n[training]\nfrozen-layers = [0]",
        "frozen-layers",
    );
    assert_eq!(parse("[training]\nfrozen-layers = [0, 1]").unwrap().training.frozen_layers, [0, 1]);
    invalid("[loss]\nxi = 0.0", "loss.xi");
    invalid("rng = \"numpy\"", "unknown variant");
    invalid("rng = \"torch\"\nmethod = \"surrogate\"", "first-spike-time");
    assert_eq!(parse("rng = \"torch\"").unwrap().rng, spikeburn::train::RandomStream::Torch);
    let sg = "method = \"surrogate\"\n[surrogate]\n";
    invalid(&format!("{sg}dt = 0.0"), "surrogate.dt");
    invalid(&format!("{sg}steps = 0"), "surrogate.steps");
    invalid(&format!("{sg}logit-scale = -1.0"), "logit-scale");
    invalid(&format!("{sg}derivative = {{ kind = \"arctan\", alpha = 0.0 }}"), "positive");
    invalid(&format!("{sg}derivative = {{ kind = \"arctan\", slope = 1.0 }}"), "unknown field");
    invalid(
        &format!(
            "{sg}encoder = {{ kind = \"rate\", max-rate = 0.0, t-early = 0.1, t-late = 2.0 }}"
        ),
        "max-rate",
    );
    invalid(&format!("{sg}[surrogate.neuron]\ntau-mem = 0.0"), "tau-mem");
    invalid(&format!("{sg}[surrogate.neuron]\nv-th = 0.0\nv-reset = 0.5"), "v-reset");
}

#[test]
fn missing_file_names_the_path() {
    let err = ExperimentConfig::from_file(Path::new("no/such/config.toml")).unwrap_err();
    assert!(err.to_string().contains("no/such/config.toml"), "{err}");
}

#[test]
fn shipped_model_files_load() {
    let reference = ExperimentConfig::from_file(Path::new("models/yinyang-ttfs.toml")).unwrap();
    assert_eq!(reference.training.epochs, 300);
    assert_eq!(reference.training.batch_size, 150);
    assert_eq!(reference.network.weight_init, vec![[1.5, 0.8], [0.5, 0.8]]);
    assert_eq!(
        reference.layer_configs().iter().map(|l| (l.n_inputs, l.n_outputs)).collect::<Vec<_>>(),
        vec![(4, 120), (120, 3)]
    );
    let double = ExperimentConfig::from_file(Path::new("models/yinyang-ttfs-double.toml")).unwrap();
    assert_eq!(double.network.tau_ratio, TauRatio::Double);
    assert_eq!(double.layer_configs()[0].neuron().g_leak, 0.5);
    let sg = ExperimentConfig::from_file(Path::new("models/yinyang-surrogate.toml")).unwrap();
    assert_eq!(sg.method, spikeburn::train::Method::Surrogate);
    let layers = sg.surrogate_layer_configs();
    assert_eq!(
        layers.iter().map(|l| (l.n_inputs, l.n_outputs)).collect::<Vec<_>>(),
        [(4, 120), (120, 3)]
    );
    assert!(layers[0].spiking && !layers[1].spiking, "max-membrane readout: LI outputs");
    let sampling = ExperimentConfig::from_file(Path::new("models/mnist16-sampling.toml")).unwrap();
    assert_eq!(sampling.method, spikeburn::train::Method::Sampling);
    assert_eq!(sampling.network.hidden, vec![500]);
    // Every model file loads: `boltzmann-*` are `spikeburn sample` configs, the rest training
    // configs.
    let mut samplers = 0;
    for entry in std::fs::read_dir("models").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("boltzmann-") && name.ends_with(".toml") {
            SampleConfig::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            samplers += 1;
        } else if name.ends_with(".toml") {
            ExperimentConfig::from_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    assert!(samplers >= 3);
}

#[test]
fn sampling_method_rules() {
    let m = "method = \"sampling\"\ndataset = \"mnist16\"\n";
    assert!(parse(&format!("{m}[network]\nhidden = [50]")).is_ok());
    invalid("method = \"sampling\"", "image dataset");
    invalid(
        &format!(
            "{m}[network]\nhidden = [50, 50]\nweight-init = [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]\n[training]\nmax-missing = [0.3, 0.3, 0.0]"
        ),
        "one hidden layer",
    );
    invalid(&format!("{m}[sampling]\ntau = 0"), "sampling.tau");
    invalid(&format!("{m}[sampling]\nsleep-steps = 0"), "sleep-steps");
    invalid(&format!("{m}[sampling]\nreadout-steps = 0"), "readout-steps");
    invalid(&format!("{m}[sampling]\nmomentum = 1.0"), "momentum");
    invalid(&format!("{m}[sampling]\nbinarize-threshold = 1.0"), "binarize-threshold");
    invalid(&format!("{m}[sampling]\ntemperature = 1.0"), "unknown field");
}

fn invalid_sample(text: &str, needle: &str) {
    match SampleConfig::from_toml_str(text, "sample.toml") {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "error {msg:?} does not mention {needle:?}");
        }
        Ok(_) => panic!("accepted invalid sample config:\n{text}"),
    }
}

#[test]
fn sample_config_rules() {
    assert_eq!(SampleConfig::from_toml_str("", "x").unwrap(), SampleConfig::default());
    let cfg = SampleConfig::from_toml_str("[lif]\nnoise = { kind = \"sinusoidal\", rate = 6.0, amplitude = 3.0, frequency = 2.0, phase = 0.0, weight-exc = 0.001, weight-inh = 0.001 }", "x").unwrap();
    assert_eq!(SampleConfig::from_toml_str(&cfg.to_toml(), "x").unwrap(), cfg);
    invalid_sample("[machine]\nunits = 0", "machine.units");
    invalid_sample("[machine]\nunits = 21", "machine.units");
    invalid_sample("[machine]\nw-std = -1.0", "w-std");
    invalid_sample("[sampler]\nchains = 0", "sampler.chains");
    invalid_sample("[sampler]\ntau = 0", "sampler.tau");
    invalid_sample("[sampler]\nkind = \"gibbs\"\norder = \"synchronous\"", "synchronous Gibbs");
    invalid_sample("[sampler]\npseudo-count = -1.0", "pseudo-count");
    invalid_sample("[lif]\ndt = 0.2", "lif.dt");
    invalid_sample("[lif.neuron]\ntau-ref = 0.01", "tau-ref");
    invalid_sample("[lif]\ncalibration-points = 2", "calibration-points");
    invalid_sample(
        "[lif]\nnoise = { kind = \"sinusoidal\", rate = 1.0, amplitude = 3.0, frequency = 2.0, phase = 0.0, weight-exc = 0.001, weight-inh = 0.001 }",
        "amplitude",
    );
    invalid_sample(
        "[learning]\nquantisation = { weight-bits = 1, weight-max = 1.0 }",
        "weight-bits",
    );
    invalid_sample("[lif]\nnoise = { kind = \"poisson\", rate = 3.0 }", "missing field");
    invalid_sample("[sampler]\nsteps = 10\nburnin = 3", "unknown field");
    // `[chip]` runs LIF sampling networks on one chip.
    let lif = "[sampler]\nkind = \"lif\"\n";
    let cfg =
        SampleConfig::from_toml_str(&format!("{lif}[chip]\nprofile = \"bss2\""), "x").unwrap();
    assert_eq!(cfg.chip_instance().unwrap().unwrap().profile.name, "bss2");
    invalid_sample("[chip]\nprofile = \"bss2\"", "sampler.kind");
    invalid_sample(&format!("{lif}[chip]\nprofile = \"bss3\""), "bss3");
    invalid_sample(&format!("{lif}[chip]\nprofile = \"bss2\"\nmode = \"exact\""), "chip.mode");
    invalid_sample(&format!("{lif}[chip]\nprofile = \"bss2\"\ninstances = 3"), "chip.instances");
    invalid_sample(
        &format!("{lif}[chip]\nprofile = \"bss2\"\n[lif]\nchip-potential-unit = 0.0"),
        "chip-potential-unit",
    );
}

/// The `[feedback]` section: every rule parses, bad values and unknown keys name the key, and
/// the sampling method refuses a rule other than backprop.
#[test]
fn feedback_section_is_checked() {
    use spikeburn::train::FeedbackRuleName;
    for (name, rule) in [
        ("bp", FeedbackRuleName::Bp),
        ("fa", FeedbackRuleName::Fa),
        ("dfa", FeedbackRuleName::Dfa),
        ("sign", FeedbackRuleName::Sign),
        ("kp", FeedbackRuleName::Kp),
        ("sal", FeedbackRuleName::Sal),
    ] {
        let cfg = parse(&format!("[feedback]\nrule = \"{name}\"\n")).unwrap();
        assert_eq!(cfg.feedback.rule, rule);
        assert_eq!(rule.name(), name);
    }
    invalid("[feedback]\nrule = \"hebb\"\n", "hebb");
    invalid("[feedback]\nkp-decay = 1.0\n", "feedback.kp-decay");
    invalid("[feedback]\nkp-decay = nan\n", "feedback.kp-decay");
    invalid("[feedback]\nsal-every = 0\n", "feedback.sal-every");
    let cfg = parse("[feedback]\nrule = \"sal\"\nsal-every-batches = 25\n").unwrap();
    assert_eq!(cfg.feedback.sal_every_batches, 25);
    invalid("[feedback]\nsal-every-batches = -1\n", "sal-every-batches");
    invalid("[feedback]\nsal-coupling-rms = inf\n", "feedback.sal-coupling-rms");
    invalid("[feedback.sal]\neta = nan\n", "feedback.sal.eta");
    invalid("[feedback.sal]\ncopies = 0\n", "feedback.sal.");
    // A sleep allocates one network state per copy: a huge count is refused, not an abort.
    invalid(
        "[feedback.sal]\ncopies = 1000000000000\nsteps-per-update = 1\nupdates = 1\n",
        "at most 4096",
    );
    invalid("[feedback.sal]\nsteps-per-update = 1000000\nupdates = 1000000\n", "10^12");
    invalid("[feedback]\nangle = 3\n", "angle");
    invalid(
        "method = \"sampling\"\ndataset = \"mnist16\"\n[feedback]\nrule = \"fa\"\n",
        "wake–sleep",
    );
}

#[test]
/// `[chip]` runs first-spike-time and surrogate networks; the sampling method refuses it by
/// name, as does a profile that does not exist.
fn chip_section_is_checked_per_method() {
    let chip = "[chip]\nprofile = \"bss2\"\nmode = \"in-the-loop\"\n";
    for m in ["method = \"ttfs\"\n", "method = \"surrogate\"\n"] {
        let cfg = parse(&format!("{m}{chip}")).unwrap();
        assert_eq!(cfg.chips().unwrap().len(), 1, "{m}");
    }
    invalid(&format!("method = \"sampling\"\ndataset = \"mnist16\"\n{chip}"), "[chip]");
    invalid("method = \"surrogate\"\n[chip]\nprofile = \"bss3\"", "bss3");
}
