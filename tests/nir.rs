//! NIR export and import: files written by other libraries (the NIR repository's examples in
//! ../shared/fixtures/nir or tests/fixtures/nir), the exact LIF trace every NIR platform
//! reproduced, round trips of spikeburn's shipped networks, the meaning of an exported graph
//! (simulated at a fine step it gives the exact layers' spike times), and bad files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use spikeburn::io::nir::simulate::{SimOptions, SpikeInput, simulate};
use spikeburn::io::nir::{self, NodeKind, convert};
use spikeburn::surrogate::SurrogateNetwork;
use spikeburn::train::{ExperimentConfig, NetworkSource, TrainedModel};
use spikeburn::ttfs::SpikeTimeNetwork;
use spikeburn::util::to_vec_f64;

fn fixtures() -> PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/nir");
    assert!(shared.is_dir(), "the NIR fixtures are missing: {}", shared.display());
    shared
}

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-nir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn neurons<'a>(g: &'a nir::Graph, name: &str) -> &'a nir::Neurons {
    match &g.nodes[name].kind {
        NodeKind::Neurons(n) => n,
        k => panic!("{name} is a {}", k.type_name()),
    }
}

#[test]
fn the_nir_repositorys_example_files_load() {
    let dir = fixtures();
    let (g, w) = nir::read(&dir.join("lif_norse.nir")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(g.version, "0.1.1");
    let lif = neurons(&g, "1");
    assert_eq!(lif.type_name(), "LIF");
    assert!(
        (lif.tau_mem[0] - 0.0025).abs() < 1e-9
            && (lif.v_threshold.as_ref().unwrap()[0] - 0.1).abs() < 1e-7
    );
    assert_eq!(lif.v_reset, Some(vec![0.0]), "an absent v_reset is NIR's default 0");
    assert!(matches!(g.nodes["0"].kind, NodeKind::Affine { .. }));

    let (g, _) = nir::read(&dir.join("lif_rockpool.nir")).unwrap();
    assert_eq!(neurons(&g, "1_LIFNeuronTorch").type_name(), "LIF");
    assert!(matches!(g.nodes["0_LinearTorch"].kind, NodeKind::Linear { .. }));

    let (g, _) = nir::read(&dir.join("two_lif_neurons.nir")).unwrap();
    assert_eq!(g.edges.len(), 5);
    assert_eq!(neurons(&g, "lif2").v_threshold, Some(vec![20.0]));

    // The recurrent braille network: float32 weights, float64 neurons, a recurrent edge.
    let (g, _) = nir::read(&dir.join("braille_noDelay_noBias_subtract.nir")).unwrap();
    let lif1 = neurons(&g, "lif1.lif");
    assert_eq!((lif1.type_name(), lif1.len()), ("CubaLIF", 40));
    assert_eq!(lif1.w_in.as_ref().unwrap()[0], 4.0);
    assert!(g.edges.contains(&("lif1.lif".into(), "lif1.w_rec".into())));
    assert!(g.edges.contains(&("lif1.w_rec".into(), "lif1.lif".into())));
    match &g.nodes["fc1"].kind {
        NodeKind::Linear { weight } => {
            assert_eq!(weight.shape, vec![40, 12]);
            assert!((weight.data[0] - (-0.070_523_68)).abs() < 1e-7, "{}", weight.data[0]);
        }
        k => panic!("fc1 is {}", k.type_name()),
    }
    // It simulates (recurrent edge as a one-step delay) and its neurons fire on a drive.
    let steps: Vec<Vec<f64>> =
        (0..200).map(|t| vec![if t % 5 == 0 { 1.0 } else { 0.0 }; 12]).collect();
    let inputs = BTreeMap::from([("input".to_string(), steps)]);
    let opts = SimOptions { dt: 1e-4, spikes: SpikeInput::Pulse, first_spike_only: false };
    let trace = simulate(&g, &inputs, opts).unwrap();
    assert_eq!(trace.outputs["output"].len(), 200);
    assert!(trace.outputs["lif1.lif"].iter().flatten().any(|&s| s == 1.0), "no hidden spike");
}

/// The NIR paper's exact LIF trace: Norse's LIF neuron (τ = 2.5 ms, ϑ = 0.1, reset to 0) driven
/// through Affine(w = 1) by the spikes of column 0, simulated with dt = 0.1 ms and each spike
/// held as a unit input over its step; column 1 is the potential after each step, column 2 the
/// output spikes. Reproduced to rounding, spike steps included (the crossing lies inside the
/// step and the rest of the step is integrated from the reset).
#[test]
fn the_lif_neuron_reproduces_the_exact_trace() {
    let dir = fixtures();
    let text = std::fs::read_to_string(dir.join("lif_exact.csv")).unwrap();
    let rows: Vec<Vec<f64>> =
        text.lines().map(|l| l.split(',').map(|x| x.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 1000);
    let (g, _) = nir::read(&dir.join("lif_norse.nir")).unwrap();
    let inputs = BTreeMap::from([("input".to_string(), rows.iter().map(|r| vec![r[0]]).collect())]);
    let opts = SimOptions { dt: 1e-4, spikes: SpikeInput::Pulse, first_spike_only: false };
    let trace = simulate(&g, &inputs, opts).unwrap();
    let v = &trace.v["1"];
    let spikes = &trace.outputs["1"];
    let mut n_spikes = 0;
    for (t, row) in rows.iter().enumerate() {
        // The file's own rounding: Norse's parameters are float32 (τ = 0.0024999999441…).
        assert!((v[t][0] - row[1]).abs() < 1e-8, "step {t}: v = {}, exact {}", v[t][0], row[1]);
        assert_eq!(spikes[t][0], row[2], "step {t}: spike");
        n_spikes += row[2] as usize;
    }
    assert!(n_spikes >= 4, "the trace has {n_spikes} spikes");
}

fn load(stem: &str) -> (ExperimentConfig, Box<dyn TrainedModel>) {
    let cfg = ExperimentConfig::from_file(&models().join(format!("{stem}.toml"))).unwrap();
    let source = NetworkSource::Checkpoint(models().join(format!("{stem}.bpk")));
    let model = cfg.method.kind().load(&cfg, &source, &Device::default()).unwrap();
    (cfg, model)
}

fn round_trip(stem: &str) -> (Box<dyn TrainedModel>, Box<dyn TrainedModel>, nir::Graph) {
    let (cfg, model) = load(stem);
    let graph = spikeburn::train::nir::export_nir(model.as_ref(), &cfg, 1e-3).unwrap();
    let path = tmp(&format!("{stem}.nir"));
    nir::write(&graph, &path).unwrap();
    let (back, warnings) = nir::read(&path).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(back, graph, "{stem}: the graph read back differs from the one written");
    let cfg2 = spikeburn::train::nir::config_of(&back, &path).unwrap();
    assert_eq!(cfg2, cfg, "{stem}: the configuration carried in the graph");
    let again =
        cfg.method.kind().load(&cfg, &NetworkSource::Nir(path), &Device::default()).unwrap();
    (model, again, graph)
}

fn same(a: Tensor<1>, b: Tensor<1>, what: &str) {
    let (a, b) = (to_vec_f64(a), to_vec_f64(b));
    assert_eq!(a, b, "{what}");
}

fn flat(t: Tensor<2>) -> Tensor<1> {
    let n = t.dims().iter().product::<usize>();
    t.reshape([n])
}

#[test]
fn a_first_spike_time_network_round_trips_exactly() {
    let (a, b, graph) = round_trip("yinyang-ttfs-double");
    let a = a.as_any().downcast_ref::<SpikeTimeNetwork>().unwrap();
    let b = b.as_any().downcast_ref::<SpikeTimeNetwork>().unwrap();
    for (k, (x, y)) in a.layers.iter().zip(&b.layers).enumerate() {
        same(flat(x.weights.val()), flat(y.weights.val()), &format!("layer {k} weights"));
        same(x.tau_syn.val(), y.tau_syn.val(), "tau_syn");
        same(x.v_th.val(), y.v_th.val(), "v_th");
        same(x.v_leak.val(), y.v_leak.val(), "v_leak");
        same(x.g_leak.val(), y.g_leak.val(), "g_leak");
        assert_eq!(x.bias_times, y.bias_times);
    }
    // The mapping: τ in seconds, τ_mem = 2τ_syn, r = 1/g_l, w_in = τ_syn, weights out × in.
    let lif0 = neurons(&graph, "lif0");
    assert_eq!(lif0.tau_syn.as_ref().unwrap()[0], 1e-3);
    assert_eq!(lif0.tau_mem[0], 2e-3);
    assert_eq!(lif0.r[0], 2.0);
    assert_eq!(lif0.w_in.as_ref().unwrap()[0], 1e-3);
    let w = to_vec_f64(a.layers[0].weights.val());
    match &graph.nodes["fc0"].kind {
        NodeKind::Linear { weight } => {
            assert_eq!(weight.shape, vec![120, 4]);
            assert_eq!(weight.data[4 + 2], w[2 * 120 + 1], "NIR [out, in] = spikeburn [in, out]ᵀ");
        }
        k => panic!("fc0 is {}", k.type_name()),
    }
    assert_eq!(
        graph.nodes["bias0"].metadata[convert::keys::BIAS_TIMES],
        nir::Meta::Numbers(nir::Array::vector(vec![0.9 * 1e-3]))
    );
}

#[test]
fn a_surrogate_network_round_trips_exactly() {
    let (a, b, graph) = round_trip("mnist16-surrogate");
    let a = a.as_any().downcast_ref::<SurrogateNetwork>().unwrap();
    let b = b.as_any().downcast_ref::<SurrogateNetwork>().unwrap();
    for (k, (x, y)) in a.layers.iter().zip(&b.layers).enumerate() {
        same(flat(x.weights.val()), flat(y.weights.val()), &format!("layer {k} weights"));
        let (p, q) = (x.cell.parameters(), y.cell.parameters());
        for (name, s, t) in [
            ("tau_mem_inv", p.tau_mem_inv, q.tau_mem_inv),
            ("tau_syn_inv", p.tau_syn_inv, q.tau_syn_inv),
            ("v_th", p.v_th, q.v_th),
            ("v_leak", p.v_leak, q.v_leak),
            ("v_reset", p.v_reset, q.v_reset),
        ] {
            let (s, t) = (to_vec_f64(s), to_vec_f64(t));
            for (u, v) in s.iter().zip(&t) {
                assert!((u - v).abs() <= 1e-6 * u.abs(), "layer {k} {name}: {u} vs {v}");
            }
        }
    }
    assert_eq!(neurons(&graph, "lif0").type_name(), "CubaLIF");
    assert_eq!(neurons(&graph, "lif1").type_name(), "CubaLI", "the max-membrane output layer");
    assert_eq!(graph.meta_text("reset"), Some("Subtract"));
}

/// A graph of another method's layers is refused with the layer and node type: the surrogate
/// network's leaky-integrator output (CubaLI) read as a first-spike-time network of the same
/// sizes (256–246–10).
#[test]
fn a_graph_of_another_neuron_kind_is_refused() {
    let (cfg, model) = load("mnist16-surrogate");
    let graph = spikeburn::train::nir::export_nir(model.as_ref(), &cfg, 1e-3).unwrap();
    let path = tmp("surrogate-as-ttfs.nir");
    nir::write(&graph, &path).unwrap();
    let ttfs = ExperimentConfig::from_file(&models().join("mnist16-ttfs.toml")).unwrap();
    let e = ttfs.method.kind().load(&ttfs, &NetworkSource::Nir(path), &Device::default());
    let e = e.unwrap_err().to_string();
    assert!(
        e.contains("surrogate-as-ttfs.nir")
            && e.contains("layer 1: a first-spike-time layer spikes (CubaLIF), got CubaLI"),
        "{e}"
    );
}

#[test]
fn the_sampling_machine_has_no_nir_form() {
    let (cfg, model) = load("mnist16-sampling");
    let e = spikeburn::train::nir::export_nir(model.as_ref(), &cfg, 1e-3).unwrap_err();
    assert!(e.contains("sampling method's networks have no NIR form"), "{e}");
}

/// What an exported graph means: NIR's equations with unit-impulse spikes, simulated at a step of
/// 2.5·10⁻⁴ time units with each neuron firing once and never reset, give the exact layers' output
/// spike times of the shipped Yin-Yang network (within the step: inputs land on the grid).
#[test]
fn a_simulated_export_gives_the_exact_spike_times() {
    let (cfg, model) = load("yinyang-ttfs-double");
    let net = model.as_any().downcast_ref::<SpikeTimeNetwork>().unwrap();
    let unit = 1e-3;
    let graph = spikeburn::train::nir::export_nir(model.as_ref(), &cfg, unit).unwrap();
    let data = cfg.dataset.load(None).unwrap().test;
    let n_in = data.n_inputs;
    let samples = 12;
    let times: Vec<f64> = data.times[..samples * n_in].to_vec();
    let exact = to_vec_f64(net.forward(Tensor::from_data(
        TensorData::new(times.clone(), [samples, n_in]),
        &Device::default(),
    )));
    // Input times land on the grid (±dt/2); a hidden neuron near threshold can stretch that a few
    // times (at 10⁻³ the largest difference is 3.3·10⁻³, at 2.5·10⁻⁴ it is 6·10⁻⁴: it shrinks with dt).
    let dt_units = 2.5e-4;
    let steps = (4.0 / dt_units) as usize;
    let at = |t: f64| (t / dt_units).round() as usize;
    let mut compared = 0;
    for s in 0..samples {
        let mut input = vec![vec![0.0; n_in]; steps];
        for i in 0..n_in {
            let t = times[s * n_in + i];
            if t.is_finite() {
                input[at(t)][i] = 1.0;
            }
        }
        let mut inputs = BTreeMap::from([("input".to_string(), input)]);
        for (k, layer) in net.layers.iter().enumerate() {
            let mut b = vec![vec![0.0; layer.bias_times.len()]; steps];
            for (j, &t) in layer.bias_times.iter().enumerate() {
                b[at(t)][j] = 1.0;
            }
            inputs.insert(format!("bias{k}"), b);
        }
        let opts =
            SimOptions { dt: dt_units * unit, spikes: SpikeInput::Impulse, first_spike_only: true };
        let trace = simulate(&graph, &inputs, opts).unwrap();
        let out = &trace.first_spike["lif1"];
        for c in 0..3 {
            let want = exact[s * 3 + c];
            let got = out[c] / unit;
            if want.is_finite() {
                assert!(
                    (got - want).abs() < 4.0 * dt_units,
                    "sample {s} class {c}: NIR {got}, exact {want}"
                );
                compared += 1;
            } else {
                assert!(got > 3.0, "sample {s} class {c}: NIR fires at {got}, exact is silent");
            }
        }
    }
    assert!(compared >= 2 * samples, "only {compared} output spikes compared");
}

#[test]
fn bad_files_give_errors_that_name_them() {
    let e = nir::read(Path::new("/no/such/net.nir")).unwrap_err().to_string();
    assert!(e.contains("/no/such/net.nir") && e.contains("no such NIR file"), "{e}");

    let text = tmp("text.nir");
    std::fs::write(&text, "not hdf5").unwrap();
    let e = nir::read(&text).unwrap_err().to_string();
    assert!(e.contains("text.nir") && e.contains("not an HDF5 file"), "{e}");

    // Every truncation of a real file is an error, never a panic.
    let bytes = std::fs::read(fixtures().join("lif_norse.nir")).unwrap();
    let cut = tmp("cut.nir");
    for len in [100, 1000, 4000, 9000, bytes.len() / 2] {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        assert!(nir::read(&cut).is_err(), "a file cut to {len} bytes was accepted");
    }

    // A node type spikeburn does not read is named with its node.
    let mut fb = hdf5_pure::FileBuilder::new();
    fb.create_dataset("version").with_vlen_strings(&["1.0.8"]).with_shape(&[]);
    let mut node = fb.create_group("node");
    node.create_dataset("type").with_vlen_strings(&["NIRGraph"]).with_shape(&[]);
    let mut nodes = node.create_group("nodes");
    let mut conv = nodes.create_group("conv1");
    conv.create_dataset("type").with_vlen_strings(&["Conv2d"]).with_shape(&[]);
    nodes.add_group(conv.finish());
    node.add_group(nodes.finish());
    fb.add_group(node.finish());
    let path = tmp("conv.nir");
    fb.write(&path).unwrap();
    let e = nir::read(&path).unwrap_err().to_string();
    assert!(e.contains("node 'conv1'") && e.contains("Conv2d is not supported"), "{e}");

    // The recurrent braille network does not become a (feed-forward) spikeburn network.
    let (cfg, _) = load("yinyang-ttfs-double");
    let source = NetworkSource::Nir(fixtures().join("braille_noDelay_noBias_subtract.nir"));
    let e = cfg.method.kind().load(&cfg, &source, &Device::default()).unwrap_err().to_string();
    assert!(e.contains("also fed by 'lif1.w_rec'") && e.contains("feed-forward"), "{e}");

    // A foreign graph does not become a spikeburn network: its LIF neurons have no synapse.
    let source = NetworkSource::Nir(fixtures().join("lif_norse.nir"));
    let e = cfg.method.kind().load(&cfg, &source, &Device::default()).unwrap_err().to_string();
    assert!(e.contains("lif_norse.nir"), "{e}");
}

fn spikeburn(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_spikeburn"))
        .env_remove("BURN_DEVICE")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), text)
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// Through the CLI: export the shipped Yin-Yang network, import the file into a run folder,
/// evaluate that: the recorded test accuracy.
#[test]
fn export_import_eval_through_the_cli() {
    let nir_file = tmp("cli-yinyang.nir");
    let bpk = models().join("yinyang-ttfs-double.bpk");
    let (ok, text) = spikeburn(&[
        os("export"),
        os("--checkpoint"),
        bpk.as_os_str(),
        os("-o"),
        nir_file.as_os_str(),
    ]);
    assert!(ok, "{text}");
    let (ok, text) = spikeburn(&[os("import"), nir_file.as_os_str()]);
    assert!(ok && text.contains("lif0: CubaLIF (120 neurons)"), "{text}");
    let run = tmp("cli-imported");
    let (ok, text) =
        spikeburn(&[os("import"), nir_file.as_os_str(), os("-o"), run.as_os_str(), os("--force")]);
    assert!(ok, "{text}");
    let out = tmp("cli-imported-eval");
    let (ok, text) = spikeburn(&[
        os("eval"),
        os("--config"),
        run.join("config.toml").as_os_str(),
        os("--checkpoint"),
        run.join("model.bpk").as_os_str(),
        os("--out"),
        out.as_os_str(),
        os("--force"),
    ]);
    assert!(ok, "{text}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let recorded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(models().join("yinyang-ttfs-double.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["test_accuracy"], recorded["test_accuracy"], "{text}");
    assert_eq!(
        summary["test_loss"].as_f64().map(|x| (x * 1e6).round()),
        recorded["test_loss"].as_f64().map(|x| (x * 1e6).round())
    );
}

#[test]
fn the_cli_simulates_the_lif_neuron_and_refuses_what_it_cannot_do() {
    let dir = fixtures();
    let exact = std::fs::read_to_string(dir.join("lif_exact.csv")).unwrap();
    let input: String =
        exact.lines().map(|l| l.split(',').next().unwrap().to_string() + "\n").collect();
    let input_file = tmp("lif-input.csv");
    std::fs::write(&input_file, input).unwrap();
    let trace_file = tmp("lif-trace.csv");
    let (ok, text) = spikeburn(&[
        os("import"),
        dir.join("lif_norse.nir").as_os_str(),
        os("--simulate"),
        input_file.as_os_str(),
        os("--dt"),
        os("1e-4"),
        os("--spikes"),
        os("pulse"),
        os("--trace"),
        trace_file.as_os_str(),
    ]);
    assert!(ok, "{text}");
    let trace = std::fs::read_to_string(&trace_file).unwrap();
    let mut lines = trace.lines();
    assert_eq!(lines.next(), Some("step,1.v0,1.spike0"));
    for (t, (got, want)) in lines.zip(exact.lines()).enumerate() {
        let g: Vec<f64> = got.split(',').map(|x| x.parse().unwrap()).collect();
        let w: Vec<f64> = want.split(',').map(|x| x.parse().unwrap()).collect();
        assert!((g[1] - w[1]).abs() < 1e-8 && g[2] == w[2], "step {t}: {got} vs {want}");
    }

    let (ok, text) = spikeburn(&[
        os("export"),
        os("--checkpoint"),
        models().join("mnist16-sampling.bpk").as_os_str(),
        os("-o"),
        tmp("s.nir").as_os_str(),
    ]);
    assert!(!ok && text.contains("no NIR form"), "{text}");
    let (ok, text) = spikeburn(&[
        os("import"),
        dir.join("lif_norse.nir").as_os_str(),
        os("-o"),
        tmp("foreign").as_os_str(),
    ]);
    assert!(!ok && text.contains("carries no spikeburn configuration"), "{text}");
    let bad = tmp("bad-input.csv");
    std::fs::write(&bad, "0\nx\n").unwrap();
    let (ok, text) = spikeburn(&[
        os("import"),
        dir.join("lif_norse.nir").as_os_str(),
        os("--simulate"),
        bad.as_os_str(),
    ]);
    assert!(!ok && text.contains("bad-input.csv:2"), "{text}");
    std::fs::write(&bad, "0,1\n").unwrap();
    let (ok, text) = spikeburn(&[
        os("import"),
        dir.join("lif_norse.nir").as_os_str(),
        os("--simulate"),
        bad.as_os_str(),
    ]);
    assert!(!ok && text.contains("takes 1 values per step; step 0 has 2"), "{text}");
    let (ok, text) = spikeburn(&[
        os("export"),
        os("--checkpoint"),
        os("/no/model.bpk"),
        os("-o"),
        tmp("x.nir").as_os_str(),
    ]);
    assert!(!ok && text.contains("/no/model.bpk"), "{text}");
}

/// Corrupted copies of a real file (a few bytes overwritten, deterministic positions) read as a
/// graph or as an error naming the file, and never reach the parser's panic guard.
#[test]
fn corrupted_files_are_errors_not_crashes() {
    let bytes = std::fs::read(fixtures().join("braille_noDelay_noBias_subtract.nir")).unwrap();
    let path = tmp("corrupt.nir");
    let mut seed: u64 = 2026;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    let mut errors = 0;
    for trial in 0..300 {
        let mut b = bytes.clone();
        for _ in 0..1 + trial % 8 {
            let pos = next() as usize % b.len();
            b[pos] = next() as u8;
        }
        std::fs::write(&path, &b).unwrap();
        if let Err(e) = nir::read(&path) {
            let e = e.to_string();
            assert!(e.contains("corrupt.nir"), "{e}");
            assert!(!e.contains("the parser failed"), "trial {trial}: the HDF5 parser panicked");
            errors += 1;
        }
    }
    assert!(errors > 10, "only {errors} of 300 corrupted files were refused");
}
