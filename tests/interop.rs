//! Weight files: the reference code's safetensors layout (f64 and f32) and Burn checkpoints,
//! round trips and every error path (each naming the file).

use std::collections::HashMap;
use std::path::PathBuf;

use burn::tensor::Device;
use rand::SeedableRng;
use safetensors::{Dtype, tensor::TensorView};
use spikeburn::data::DatasetName;
use spikeburn::io::weights::{
    load_checkpoint, load_reference_weights, save_checkpoint, save_reference_weights,
};
use spikeburn::train::ExperimentConfig;
use spikeburn::train::ttfs::build_network;
use spikeburn::util::StdRng;
use spikeburn::util::to_vec_f64;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn setup() -> (ExperimentConfig, Device, spikeburn::ttfs::SpikeTimeNetwork, burn::tensor::Tensor<2>)
{
    let cfg = ExperimentConfig::default();
    let device = Device::default();
    let net = build_network(&cfg, &device, &mut StdRng::seed_from_u64(5));
    let data = DatasetName::Yinyang.load(None).expect("generated");
    let idx: Vec<usize> = (0..64).collect();
    let (x, _) = data.test.batch(&idx, &device);
    (cfg, device, net, x)
}

/// A file in the reference layout written by hand, as the authors' export would write it.
fn write_reference_file(path: &PathBuf, layers: &[(Vec<f64>, [usize; 2])], f32_values: bool) {
    let bufs: Vec<(String, Vec<u8>, Vec<usize>)> = layers
        .iter()
        .enumerate()
        .map(|(i, (v, s))| {
            let bytes = if f32_values {
                v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect()
            } else {
                v.iter().flat_map(|x| x.to_le_bytes()).collect()
            };
            (format!("layers.{i}.weights"), bytes, s.to_vec())
        })
        .collect();
    let dtype = if f32_values { Dtype::F32 } else { Dtype::F64 };
    let views: Vec<(String, TensorView<'_>)> = bufs
        .iter()
        .map(|(n, b, s)| (n.clone(), TensorView::new(dtype, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None::<HashMap<String, String>>).unwrap())
        .unwrap();
}

#[test]
fn safetensors_round_trip_gives_identical_outputs() {
    let (cfg, device, net, x) = setup();
    let path = tmp("roundtrip.safetensors");
    save_reference_weights(&net, &path).unwrap();
    let loaded = load_reference_weights(&cfg.layer_configs(), &path, &device).unwrap();
    assert_eq!(to_vec_f64(net.forward(x.clone())), to_vec_f64(loaded.forward(x)));
}

#[test]
fn reference_layout_f64_and_f32_files_load() {
    let (cfg, device, net, x) = setup();
    let layers: Vec<(Vec<f64>, [usize; 2])> =
        net.layers.iter().map(|l| (to_vec_f64(l.weights.val()), l.weights.val().dims())).collect();
    for f32_values in [false, true] {
        let path = tmp(&format!("reference-{f32_values}.safetensors"));
        write_reference_file(&path, &layers, f32_values);
        let loaded = load_reference_weights(&cfg.layer_configs(), &path, &device).unwrap();
        let (a, b) = (to_vec_f64(net.forward(x.clone())), to_vec_f64(loaded.forward(x.clone())));
        assert_eq!(a, b, "f32 file: {f32_values}");
    }
}

/// A safetensors file assembled byte by byte, as `safetensors.torch.save_file` lays it out and
/// independently of any writer in this crate or the safetensors crate: an 8-byte little-endian
/// header length, the JSON header (`__metadata__` as PyTorch writes it, then per tensor its
/// dtype, shape and byte range in the buffer), padded with spaces to a multiple of 8, then the
/// raw little-endian values.
fn hand_built_file(tensors: &[(&str, &[f64], [usize; 2])], f32_values: bool) -> Vec<u8> {
    let (dtype, width) = if f32_values { ("F32", 4) } else { ("F64", 8) };
    let mut entries = vec![r#""__metadata__":{"format":"pt"}"#.to_string()];
    let mut data = Vec::new();
    for (name, values, [r, c]) in tensors {
        let start = data.len();
        for v in *values {
            if f32_values {
                data.extend((*v as f32).to_le_bytes());
            } else {
                data.extend(v.to_le_bytes());
            }
        }
        assert_eq!(data.len() - start, r * c * width);
        entries.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":[{r},{c}],"data_offsets":[{start},{}]}}"#,
            data.len()
        ));
    }
    let mut header = format!("{{{}}}", entries.join(","));
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// A 1(+1 bias)–2(+1 bias)–3 network from a hand-built file: every weight lands where the
/// reference layout puts it (`[n_inputs + n_bias, n_outputs]`, input rows first, then the bias
/// row), in f64 and f32 (values exact in both), and the network computes with them: one
/// output neuron's spike time equals the scalar oracle's for the same weights.
#[test]
fn hand_built_reference_file_loads_into_the_right_places() {
    let mut cfg = ExperimentConfig::default();
    cfg.network.hidden = vec![2];
    cfg.dataset = DatasetName::Yinyang;
    let mut layers = cfg.layer_configs();
    layers[0].n_inputs = 1; // the file's architecture: 1 input
    let w0 = [3.0, 2.0, 0.5, -0.5]; // rows: input 0, bias; columns: hidden 0, 1
    let w1 = [1.0, 0.5, 2.5, 0.75, 1.25, -1.0, 0.5, 0.5, 0.5]; // rows: hidden 0, 1, bias
    let device = Device::default();
    for f32_values in [false, true] {
        let path = tmp(&format!("hand-built-{f32_values}.safetensors"));
        let tensors =
            [("layers.0.weights", &w0[..], [2, 2]), ("layers.1.weights", &w1[..], [3, 3])];
        std::fs::write(&path, hand_built_file(&tensors, f32_values)).unwrap();
        let net = load_reference_weights(&layers, &path, &device).unwrap();
        assert_eq!(to_vec_f64(net.layers[0].weights.val()), w0, "f32: {f32_values}");
        assert_eq!(to_vec_f64(net.layers[1].weights.val()), w1, "f32: {f32_values}");
        // Hidden neuron 0 of input time 0.2 (bias spike at 0.9): the oracle with its weights.
        let x = burn::tensor::Tensor::<2>::from_data(
            burn::tensor::TensorData::new(vec![0.2], [1, 1]),
            &device,
        );
        let hidden = to_vec_f64(net.layers[0].forward(x));
        let p = spikeburn::ttfs::NeuronParams::reference(cfg.network.tau_ratio);
        let oracle = spikeburn::ttfs::scalar::first_spike_time(&p, &[0.2, 0.9], &[3.0, 0.5]);
        assert!(
            oracle.is_finite() && (hidden[0] - oracle).abs() < 1e-5,
            "{} vs {oracle}",
            hidden[0]
        );
    }
}

#[test]
fn reference_weights_errors_name_the_file_and_problem() {
    let (cfg, device, net, _) = setup();
    let layers = cfg.layer_configs();
    let err =
        |path: &PathBuf| load_reference_weights(&layers, path, &device).unwrap_err().to_string();

    let missing = tmp("absent.safetensors");
    assert!(err(&missing).contains("absent.safetensors"));

    let garbage = tmp("garbage.safetensors");
    std::fs::write(&garbage, b"not a safetensors file at all").unwrap();
    let e = err(&garbage);
    assert!(e.contains("garbage.safetensors") && e.contains("not a safetensors file"), "{e}");

    let w0 = (to_vec_f64(net.layers[0].weights.val()), [5, 120]);
    let one_layer = tmp("one-layer.safetensors");
    write_reference_file(&one_layer, std::slice::from_ref(&w0), false);
    let e = err(&one_layer);
    assert!(e.contains("one-layer.safetensors") && e.contains("layers.1.weights"), "{e}");

    let wrong_shape = tmp("wrong-shape.safetensors");
    write_reference_file(&wrong_shape, &[w0.clone(), (vec![0.0; 120 * 3], [120, 3])], false);
    let e = err(&wrong_shape);
    assert!(e.contains("[120, 3]") && e.contains("[121, 3]"), "{e}");

    let too_many = tmp("too-many.safetensors");
    let w1 = (vec![0.0; 121 * 3], [121, 3]);
    write_reference_file(&too_many, &[w0, w1.clone(), w1], false);
    assert!(err(&too_many).contains("more layers"));
}

#[test]
fn checkpoint_round_trip_and_architecture_mismatch() {
    let (cfg, device, net, x) = setup();
    let path = tmp("model.bpk");
    save_checkpoint(&net, &path, &[]).unwrap();
    let loaded = load_checkpoint(&cfg.layer_configs(), &path, &device).unwrap();
    assert_eq!(to_vec_f64(net.forward(x.clone())), to_vec_f64(loaded.forward(x)));

    let mut other = cfg.clone();
    other.network.hidden = vec![30];
    let e = load_checkpoint(&other.layer_configs(), &path, &device).unwrap_err().to_string();
    assert!(e.contains("model.bpk"), "{e}");

    let e = load_checkpoint(&cfg.layer_configs(), &tmp("nothing.bpk"), &device)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nothing.bpk"), "{e}");
}
