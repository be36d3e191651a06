//! Weight files: the reference code's safetensors layout (f64 and f32) and Burn checkpoints,
//! round trips and every error path (each naming the file).

use std::collections::HashMap;
use std::path::PathBuf;

use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use safetensors::{Dtype, tensor::TensorView};
use spikeburn::data::DatasetName;
use spikeburn::io::weights::{
    load_checkpoint, load_reference_weights, save_checkpoint, save_reference_weights,
};
use spikeburn::train::ExperimentConfig;
use spikeburn::train::ttfs::build_network;
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
    save_checkpoint(&net, &path).unwrap();
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
