//! No panic on any input: random and mutated inputs to every reader and parser a user can
//! reach — experiment and sampling configs (TOML), chip profiles and chip files, IDX dataset
//! files, the reference safetensors weights, burnpack checkpoints and `.npy` arrays — give a
//! clean error or a success, never a panic or an abort. (The command-line parser is driven the
//! same way in `src/bin/spikeburn.rs`'s unit tests.)
//!
//! Each property runs `PROPTEST_CASES` cases (256 by default; CI runs the default). To search
//! longer: `PROPTEST_CASES=20000 cargo test --release --test fuzz`.

use std::path::PathBuf;

use burn::tensor::Device;
use proptest::prelude::*;
use spikeburn::chip::{Chip, ChipProfile};
use spikeburn::data::idx;
use spikeburn::io::{npy, weights};
use spikeburn::sampling::SampleConfig;
use spikeburn::train::{ExperimentConfig, TrainingRng};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The shipped experiment configs and sampling configs, and the chip profiles.
fn seeds(prefix: &str) -> Vec<String> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(prefix)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

/// Values that broke validation before: non-finite, negative, zero, huge, wrong type.
const HOSTILE: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "0.0",
    "1e308",
    "-1e308",
    "1e-320",
    "18446744073709551615",
    "9999999999",
    "\"x\"",
    "[]",
    "[0]",
    "true",
    "{}",
    "-0.0",
    "4294967296",
];

/// A mutation of a TOML text: replace the `n`-th number with a hostile value, drop a line,
/// duplicate a line, or flip a byte.
#[derive(Debug, Clone)]
enum Mutation {
    Number(usize, usize),
    DropLine(usize),
    DuplicateLine(usize),
    Byte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..HOSTILE.len()).prop_map(|(n, v)| Mutation::Number(n, v)),
        1 => any::<usize>().prop_map(Mutation::DropLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
    ]
}

fn mutate(text: &str, m: &Mutation) -> String {
    match *m {
        Mutation::Number(n, v) => {
            // Spans of numbers (digits with sign, dot and exponent) after an `=` or in arrays.
            let bytes = text.as_bytes();
            let mut spans = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                let starts = bytes[i].is_ascii_digit()
                    && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'_');
                if starts {
                    let s = if i > 0 && bytes[i - 1] == b'-' { i - 1 } else { i };
                    let mut e = i;
                    while e < bytes.len()
                        && (bytes[e].is_ascii_alphanumeric() || b".+-_".contains(&bytes[e]))
                    {
                        e += 1;
                    }
                    spans.push((s, e));
                    i = e;
                } else {
                    i += 1;
                }
            }
            match spans.get(n % spans.len().max(1)) {
                Some(&(s, e)) => format!("{}{}{}", &text[..s], HOSTILE[v], &text[e..]),
                None => text.to_string(),
            }
        }
        Mutation::DropLine(n) | Mutation::DuplicateLine(n) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let k = n % lines.len();
                if matches!(m, Mutation::DropLine(_)) {
                    lines.remove(k);
                } else {
                    lines.insert(k, lines[k]);
                }
            }
            lines.join("\n")
        }
        Mutation::Byte(i, b) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let k = i % bytes.len();
                bytes[k] = b;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// A config that passes validation can be used: its derived values build without a panic.
fn use_experiment(cfg: &ExperimentConfig) {
    let _ = cfg.layer_configs();
    let _ = cfg.chip_shapes();
    let _ = cfg.model_definition();
    let text = cfg.to_toml();
    let again =
        ExperimentConfig::from_toml_str(&text, "roundtrip").expect("a valid config reloads");
    assert_eq!(&again, cfg, "a resolved config reloads as itself");
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Mutated shipped experiment configs: an error naming the problem, or a usable config.
    #[test]
    fn experiment_configs_never_panic(
        seed in 0usize..64,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let texts: Vec<String> =
            seeds("models").into_iter().filter(|t| !t.contains("[machine]")).collect();
        let mut text = texts[seed % texts.len()].clone();
        for m in &mutations {
            text = mutate(&text, m);
        }
        if let Ok(cfg) = ExperimentConfig::from_toml_str(&text, "fuzz.toml") {
            use_experiment(&cfg);
        }
    }

    /// Mutated sampling configs (`spikeburn sample`).
    #[test]
    fn sampling_configs_never_panic(
        seed in 0usize..64,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let texts: Vec<String> =
            seeds("models").into_iter().filter(|t| t.contains("[machine]")).collect();
        let mut text = texts[seed % texts.len()].clone();
        for m in &mutations {
            text = mutate(&text, m);
        }
        if let Ok(cfg) = SampleConfig::from_toml_str(&text, "fuzz.toml") {
            let again = SampleConfig::from_toml_str(&cfg.to_toml(), "roundtrip");
            prop_assert!(again.is_ok(), "a valid sampling config reloads: {again:?}");
        }
    }

    /// Arbitrary text as any config.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = ExperimentConfig::from_toml_str(&text, "fuzz.toml");
        let _ = SampleConfig::from_toml_str(&text, "fuzz.toml");
        let _ = ChipProfile::from_toml(&text, "fuzz.toml");
    }

    /// Mutated chip profiles.
    #[test]
    fn chip_profiles_never_panic(
        seed in 0usize..8,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let texts = seeds("models/chips");
        let mut text = texts[seed % texts.len()].clone();
        for m in &mutations {
            text = mutate(&text, m);
        }
        if let Ok(p) = ChipProfile::from_toml(&text, "fuzz.toml") {
            let _ = Chip::draw(p, 1, &[(3, 4), (5, 2)]);
        }
    }

    /// IDX files: random headers (any magic, any dimensions, up to 2³² each) and bodies.
    #[test]
    fn idx_bytes_never_panic(
        magic in prop_oneof![Just(0x0803u32), Just(0x0801u32), any::<u32>()],
        dims in proptest::collection::vec(prop_oneof![0u32..40, any::<u32>()], 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        n_dims in 1usize..4,
    ) {
        let mut bytes = magic.to_be_bytes().to_vec();
        for d in &dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend_from_slice(&body);
        if let Ok(a) = idx::parse_idx(&bytes, n_dims) {
            prop_assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        }
        // The same bytes gzip-looking (0x1f 0x8b) go through the decompressor.
        let path = tmp(&format!("idx-{}", std::thread::current().name().unwrap_or("t").len()));
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(&bytes);
        std::fs::write(&path, &gz).unwrap();
        let _ = idx::read_idx(&path, n_dims);
    }
}

/// A valid file's bytes with `edits` applied: byte overwrites, then an optional truncation.
fn corrupt(valid: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut b = valid.to_vec();
    for &(i, v) in edits {
        let k = i % b.len();
        b[k] = v;
    }
    if let Some(c) = cut {
        b.truncate(c % (b.len() + 1));
    }
    b
}

/// Edits that hit the header more often than the body (where the structure is).
fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    proptest::collection::vec((prop_oneof![0usize..200, any::<usize>()], any::<u8>()), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// The reference safetensors layout, corrupted.
    #[test]
    fn safetensors_files_never_panic(edits in edits(), cut in proptest::option::of(any::<usize>())) {
        let (valid, cfg, device) = valid_files();
        let path = tmp("fuzz.safetensors");
        std::fs::write(&path, corrupt(&valid.safetensors, &edits, cut)).unwrap();
        let _ = weights::load_reference_weights(&cfg.layer_configs(), &path, &device);
    }

    /// Burnpack checkpoints, corrupted: the loader and the metadata reader.
    #[test]
    fn checkpoints_never_panic(edits in edits(), cut in proptest::option::of(any::<usize>())) {
        let (valid, cfg, device) = valid_files();
        let path = tmp("fuzz.bpk");
        std::fs::write(&path, corrupt(&valid.checkpoint, &edits, cut)).unwrap();
        let _ = weights::checkpoint_metadata(&path);
        let _ = weights::load_checkpoint(&cfg.layer_configs(), &path, &device);
    }

    /// Chip files (`chip.json`), corrupted.
    #[test]
    fn chip_files_never_panic(edits in edits(), cut in proptest::option::of(any::<usize>())) {
        let (valid, _, _) = valid_files();
        let path = tmp("fuzz-chip.json");
        std::fs::write(&path, corrupt(&valid.chip, &edits, cut)).unwrap();
        let _ = Chip::load(&path);
    }

    /// `.npy` arrays, corrupted (shapes included).
    #[test]
    fn npy_files_never_panic(edits in edits(), cut in proptest::option::of(any::<usize>())) {
        let (valid, _, _) = valid_files();
        let path = tmp("fuzz.npy");
        std::fs::write(&path, corrupt(&valid.npy, &edits, cut)).unwrap();
        let _ = npy::read_f64(&path);
    }
}

struct Valid {
    safetensors: Vec<u8>,
    checkpoint: Vec<u8>,
    chip: Vec<u8>,
    npy: Vec<u8>,
}

/// Valid files of each kind, written once: a small Yin-Yang network (4-5-3) as safetensors
/// and burnpack, a bss2 chip for it, an array.
fn valid_files() -> (&'static Valid, ExperimentConfig, Device) {
    static VALID: std::sync::OnceLock<Valid> = std::sync::OnceLock::new();
    let mut cfg = ExperimentConfig::default();
    cfg.network.hidden = vec![5];
    let device = Device::default();
    let v = VALID.get_or_init(|| {
        let net = TrainingRng::new(&cfg).init_network(&cfg, &device);
        let st = tmp("valid.safetensors");
        weights::save_reference_weights(&net, &st).unwrap();
        let bpk = tmp("valid.bpk");
        weights::save_checkpoint(&net, &bpk, &[("spikeburn-model", "{\"method\":\"ttfs\"}")])
            .unwrap();
        let chip = Chip::draw(
            ChipProfile::read(std::path::Path::new("models/chips/bss2.toml")).unwrap(),
            3,
            &cfg.chip_shapes(),
        );
        let cj = tmp("valid-chip.json");
        chip.save(&cj).unwrap();
        let np = tmp("valid.npy");
        npy::write_f64(&np, &[1.0, f64::INFINITY, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        Valid {
            safetensors: std::fs::read(st).unwrap(),
            checkpoint: std::fs::read(bpk).unwrap(),
            chip: std::fs::read(cj).unwrap(),
            npy: std::fs::read(np).unwrap(),
        }
    });
    (v, cfg, device)
}
