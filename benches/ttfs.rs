//! Criterion benchmarks of the exact first-spike-time layers and networks on the default device.
//!
//! `cargo bench --bench ttfs` (add `--features ndarray` and `-- ndarray` style filters to compare
//! backends once they are compiled in). Throughput is reported in samples per second.

use burn::tensor::{Device, Int, Tensor, TensorData};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use spikeburn::ttfs::{Compute, SpikeTimeLayerConfig, SpikeTimeNetwork, TtfsLoss};
use spikeburn::util::StdRng;

fn inputs(batch: usize, n: usize, rng: &mut StdRng, device: &Device) -> Tensor<2> {
    let v: Vec<f64> = (0..batch * n).map(|_| 0.15 + 1.85 * rng.random::<f64>()).collect();
    Tensor::from_data(TensorData::new(v, [batch, n]), device)
}

fn network(
    compute: Compute,
    sizes: &[usize],
    init: &[(f64, f64)],
    bias: &[f64],
    rng: &mut StdRng,
    device: &Device,
) -> SpikeTimeNetwork {
    SpikeTimeNetwork {
        layers: sizes
            .windows(2)
            .zip(init)
            .map(|(io, &(m, s))| {
                SpikeTimeLayerConfig::new(io[0], io[1])
                    .with_bias_times(bias.to_vec())
                    .with_weight_mean(m)
                    .with_weight_std(s)
                    .with_compute(compute)
                    .init(device, rng)
            })
            .collect(),
    }
}

/// One benchmarked network: layer sizes, weight init per layer, bias spike times, batch size.
struct Case {
    name: &'static str,
    sizes: &'static [usize],
    init: &'static [(f64, f64)],
    bias: &'static [f64],
    batch: usize,
}

fn bench_networks(c: &mut Criterion) {
    let device = Device::default();
    let mut rng = StdRng::seed_from_u64(0);
    let cases = [
        Case {
            name: "yinyang-4-120-3",
            sizes: &[4, 120, 3],
            init: &[(1.5, 0.8), (0.5, 0.8)],
            bias: &[0.9],
            batch: 150,
        },
        Case {
            name: "mnist16-256-246-10",
            sizes: &[256, 246, 10],
            init: &[(0.1, 0.4), (0.6, 0.8)],
            bias: &[],
            batch: 50,
        },
        Case {
            name: "mnist16-256-246-10",
            sizes: &[256, 246, 10],
            init: &[(0.1, 0.4), (0.6, 0.8)],
            bias: &[],
            batch: 256,
        },
    ];
    let mut group = c.benchmark_group("network");
    group.sample_size(10);
    for Case { name, sizes, init, bias, batch } in cases {
        for (label, compute) in [("kernel", Compute::Kernel), ("tensor", Compute::Tensor)] {
            let net = network(compute, sizes, init, bias, &mut StdRng::seed_from_u64(0), &device);
            let x = inputs(batch, sizes[0], &mut rng, &device);
            let n_classes = *sizes.last().expect("sizes") as i64;
            let labels: Vec<i64> = (0..batch as i64).map(|i| i % n_classes).collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch]), &device);
            let loss = TtfsLoss::default();
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{name}/{label}/forward"), batch),
                &x,
                |b, x| b.iter(|| net.forward(x.clone()).into_data()),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{name}/{label}/forward+backward"), batch),
                &x,
                |b, x| {
                    b.iter(|| {
                        let (_, _, g) = net.loss_and_grads(x.clone(), y.clone(), &loss, Some(0.2));
                        g.layers[0].weights.clone().into_data()
                    })
                },
            );
        }
    }
    group.finish();
}

/// One spike-time layer alone: forward, and forward + exact backward with δ = 1.
fn bench_layers(c: &mut Criterion) {
    let device = Device::default();
    let mut rng = StdRng::seed_from_u64(1);
    let mut group = c.benchmark_group("layer");
    group.sample_size(10);
    for (name, n_in, n_out, bias, batch) in [
        ("4-120", 4, 120, vec![0.9], 150),
        ("256-246", 256, 246, vec![], 50),
        ("256-246", 256, 246, vec![], 256),
    ] {
        for (label, compute) in [("kernel", Compute::Kernel), ("tensor", Compute::Tensor)] {
            let layer = SpikeTimeLayerConfig::new(n_in, n_out)
                .with_bias_times(bias.clone())
                .with_weight_mean(if n_in == 4 { 1.5 } else { 0.1 })
                .with_weight_std(if n_in == 4 { 0.8 } else { 0.4 })
                .with_compute(compute)
                .init(&device, &mut rng);
            let x = inputs(batch, n_in, &mut rng, &device);
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{name}/{label}/forward"), batch),
                &x,
                |b, x| b.iter(|| layer.forward(x.clone()).into_data()),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{name}/{label}/forward+backward"), batch),
                &x,
                |b, x| {
                    b.iter(|| {
                        let out = layer.forward(x.clone());
                        let g = layer.backward(x.clone(), out.clone(), out.ones_like(), Some(0.2));
                        g.weights.into_data()
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_layers, bench_networks);
criterion_main!(benches);
