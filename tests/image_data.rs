//! MNIST-style data: the IDX reader on synthetic files (gzip and plain) and each of its error
//! paths, the 16×16 preprocessing against Pillow's output (the reference pipeline is
//! torchvision → Pillow), and, where the real files are present, the loaded splits.
//!
//! Real data is looked up in `SPIKEBURN_DATA`, then `datasets/`, then `../shared/datasets` beside
//! the repository;
//! under CI (`CI` set) its absence is a failure.

mod common;
use common::real_data_dir;

use std::io::Write;
use std::path::{Path, PathBuf};

use spikeburn::data::DatasetName;
use spikeburn::data::idx::{DataError, read_idx, read_image_set};
use spikeburn::data::images::{center_crop, encode_16x16, resize_bilinear};

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-idx-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(data);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A valid pair of files with `n` images of `rows × cols`, labels `i % 10`.
fn write_set(dir: &Path, prefix: &str, n: u32, rows: u32, cols: u32, gz: bool) {
    let pixels: Vec<u8> = (0..n * rows * cols).map(|i| (i % 251) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let images = idx_bytes(0x803, &[n, rows, cols], &pixels);
    let labels = idx_bytes(0x801, &[n], &labels);
    let (suffix, images, labels) =
        if gz { (".gz", gzip(&images), gzip(&labels)) } else { ("", images, labels) };
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{suffix}")), images).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{suffix}")), labels).unwrap();
}

fn message(e: DataError) -> String {
    e.to_string()
}

#[test]
fn reads_gzip_and_plain_files() {
    for gz in [true, false] {
        let dir = tmpdir(&format!("ok-{gz}"));
        write_set(&dir, "train", 5, 3, 2, gz);
        let set = read_image_set(&dir, "train").unwrap();
        assert_eq!((set.len(), set.rows, set.cols), (5, 3, 2));
        assert_eq!(set.labels, vec![0, 1, 2, 3, 4]);
        assert_eq!(set.image(1), &[6, 7, 8, 9, 10, 11]);
    }
}

#[test]
fn every_malformation_is_an_error_naming_the_file() {
    let dir = tmpdir("bad");
    let check = |name: &str, bytes: Vec<u8>, dims: usize, needle: &str| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = message(read_idx(&path, dims).unwrap_err());
        assert!(e.contains(name) && e.contains(needle), "{name}: {e}");
    };
    check("magic", idx_bytes(0x802, &[1, 1, 1], &[0]), 3, "bad magic number 0x00000802");
    check("labels-as-images", idx_bytes(0x801, &[1], &[0]), 3, "expected 0x00000803");
    check("truncated", idx_bytes(0x803, &[2, 2, 2], &[0; 7]), 3, "truncated");
    check("trailing", idx_bytes(0x803, &[1, 2, 2], &[0; 5]), 3, "trailing bytes");
    check("short-header", vec![0, 0, 8, 3, 0, 0], 3, "truncated header");
    check("tiny", vec![0, 0], 1, "too short");
    let mut corrupt = gzip(&idx_bytes(0x801, &[3], &[1, 2, 3]));
    let n = corrupt.len();
    corrupt.truncate(n - 6);
    check("corrupt.gz", corrupt, 1, "corrupt gzip");
}

#[test]
fn set_level_errors() {
    // Missing files.
    let dir = tmpdir("missing");
    let e = message(read_image_set(&dir, "train").unwrap_err());
    assert!(e.contains("train-images-idx3-ubyte.gz") && e.contains("missing"), "{e}");
    // Label out of range.
    let dir = tmpdir("label");
    write_set(&dir, "train", 2, 1, 1, false);
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_bytes(0x801, &[2], &[3, 12])).unwrap();
    let e = message(read_image_set(&dir, "train").unwrap_err());
    assert!(e.contains("train-labels-idx1-ubyte") && e.contains("label 12 at index 1"), "{e}");
    // Count mismatch.
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_bytes(0x801, &[3], &[1, 2, 3]))
        .unwrap();
    let e = message(read_image_set(&dir, "train").unwrap_err());
    assert!(e.contains("3 labels for 2 images"), "{e}");
}

#[test]
fn dataset_level_errors() {
    let e = message(DatasetName::Mnist16.load(None).unwrap_err());
    assert!(
        e.contains("--data-dir") && e.contains("SPIKEBURN_DATA") && e.contains("mnist/"),
        "{e}"
    );
    // Wrong image size.
    let root = tmpdir("root");
    let dir = root.join("fashion-mnist");
    std::fs::create_dir_all(&dir).unwrap();
    write_set(&dir, "train", 3, 10, 10, true);
    write_set(&dir, "t10k", 2, 10, 10, true);
    let e = message(DatasetName::Fashion16.load(Some(&root)).unwrap_err());
    assert!(e.contains("fashion-mnist") && e.contains("10×10, expected 28×28"), "{e}");
    // Right size, too few training images for the 50 000 / 10 000 split.
    write_set(&dir, "train", 3, 28, 28, true);
    write_set(&dir, "t10k", 2, 28, 28, true);
    let e = message(DatasetName::Fashion.load(Some(&root)).unwrap_err());
    assert!(e.contains("3 training images, expected 60000"), "{e}");
    // An empty test split: nothing to evaluate, so an error naming the file, not a run whose
    // test figures are all 0 (and whose sampling reports fail on empty images).
    write_set(&dir, "t10k", 0, 28, 28, true);
    let e = message(DatasetName::Fashion.load(Some(&root)).unwrap_err());
    assert!(e.contains("t10k-images-idx3-ubyte") && e.contains("no test images"), "{e}");
}

/// Pillow's outputs (see the fixture's header for how they were made).
fn pillow_cases() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let text = include_str!("fixtures/pillow_resize_16x16.txt");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (head, out) = l.split_once(" | ").unwrap();
            let mut it = head.split(' ');
            let name = it.next().unwrap().to_string();
            let input = it.map(|v| v.parse().unwrap()).collect();
            (name, input, out.split(' ').map(|v| v.parse().unwrap()).collect())
        })
        .collect()
}

#[test]
fn resize_matches_pillow_exactly() {
    let cases = pillow_cases();
    assert_eq!(cases.len(), 6);
    for (name, input, expected) in cases {
        assert_eq!(input.len(), 784);
        let got = resize_bilinear(&center_crop(&input, 28, 28, 24), 24, 24, 16, 16);
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn encoding_16x16_inverts_and_silences_black() {
    let (_, input, small) = pillow_cases().into_iter().find(|c| c.0 == "mnist-train-0").unwrap();
    let t = encode_16x16(&input);
    for (v, t) in small.iter().zip(&t) {
        if *v == 0 {
            assert!(t.is_infinite());
        } else {
            assert!((t - (0.15 + 1.85 * (1.0 - *v as f64 / 255.0))).abs() < 1e-12);
            assert!((0.15..2.0).contains(t));
        }
    }
}

#[test]
fn real_mnist16_and_fashion16_splits() {
    let Some(dir) = real_data_dir() else {
        eprintln!("skipped: no MNIST data (set SPIKEBURN_DATA)");
        return;
    };
    let mnist = DatasetName::Mnist16.load(Some(&dir)).unwrap();
    assert_eq!(
        (mnist.train.len(), mnist.validation.len(), mnist.test.len()),
        (50_000, 10_000, 10_000)
    );
    assert_eq!(mnist.train.n_inputs, 256);
    let mut counts = [0usize; 10];
    mnist.test.labels.iter().for_each(|&l| counts[l] += 1);
    assert_eq!(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    // The first training image's encoding is the Pillow pipeline's.
    let (_, input, _) = pillow_cases().into_iter().find(|c| c.0 == "mnist-train-0").unwrap();
    assert_eq!(&mnist.train.times[..256], encode_16x16(&input).as_slice());
    let fashion = DatasetName::Fashion16.load(Some(&dir)).unwrap();
    let mut counts = [0usize; 10];
    fashion.test.labels.iter().for_each(|&l| counts[l] += 1);
    assert_eq!(counts, [1000; 10]);
    let full = DatasetName::Mnist.load(Some(&dir)).unwrap();
    assert_eq!(full.validation.n_inputs, 784);
    assert!(full.validation.times.iter().all(|t| (0.15..=2.0).contains(t)));
}
