//! The Yin-Yang generator reproduces the reference numpy generator (`ttfs.md` §9): first samples,
//! labels and class counts of all three splits, and the spike-time encoding.

use spikeburn::data::yinyang::{Split, YinYang, classify};
use spikeburn::data::{DatasetName, LatencyEncoder};

#[test]
fn first_training_samples_match_reference() {
    let train = YinYang::split(Split::Train);
    let expected =
        [((0.680308, 0.450499), 2), ((0.097672, 0.684233), 1), ((0.755361, 0.425156), 2)];
    for (k, ((x, y), label)) in expected.into_iter().enumerate() {
        let (px, py) = train.points[k];
        assert!((px - x).abs() < 5e-7 && (py - y).abs() < 5e-7, "sample {k}: ({px}, {py})");
        assert_eq!(train.labels[k], label, "sample {k}");
    }
}

#[test]
fn class_counts_match_reference_for_every_split() {
    assert_eq!(YinYang::split(Split::Train).class_counts(), [1681, 1702, 1617]);
    assert_eq!(YinYang::split(Split::Validation).class_counts(), [316, 336, 348]);
    assert_eq!(YinYang::split(Split::Test).class_counts(), [350, 316, 334]);
}

/// The class rule written from the symbol's geometry, independently of `classify`: in the
/// disc of radius ½ about (½, ½), the two eyes (radius 0.1 about (¼, ½) and (¾, ½)) are class
/// 2; the S-curve is made of the half-discs of radius ¼ about the same centres, so a point
/// within ¼ of the left centre is 1, within ¼ of the right centre is 0, and any other point is
/// 1 above the horizontal diameter and 0 below it.
fn symbol_class(x: f64, y: f64) -> usize {
    let dist = |cx: f64| ((x - cx).powi(2) + (y - 0.5).powi(2)).sqrt();
    let (left, right) = (dist(0.25), dist(0.75));
    if left < 0.1 || right < 0.1 {
        2
    } else if left <= 0.25 {
        1
    } else if right <= 0.25 {
        0
    } else {
        usize::from(y > 0.5)
    }
}

/// Every generated point of every split lies in the disc and carries the class its position
/// has by [`symbol_class`]; the rule is point-symmetric (yin ↔ yang under (x, y) → (1 − x,
/// 1 − y)), and `classify` agrees with it on a dense grid too.
#[test]
fn every_point_is_inside_the_disc_and_labelled_by_its_region() {
    for split in [Split::Train, Split::Validation, Split::Test] {
        let data = YinYang::split(split);
        for (&(x, y), &l) in data.points.iter().zip(&data.labels) {
            assert!(((x - 0.5).powi(2) + (y - 0.5).powi(2)).sqrt() <= 0.5);
            assert_eq!(symbol_class(x, y), l, "{split:?} ({x}, {y})");
        }
    }
    let n = 401;
    let mut inside = 0;
    for i in 0..n {
        for j in 0..n {
            // Off the grid's exact boundary hits (radii 0.1, 0.25 and y = ½ fall on grid lines).
            let (x, y) = ((i as f64 + 0.37) / n as f64, (j as f64 + 0.61) / n as f64);
            if ((x - 0.5).powi(2) + (y - 0.5).powi(2)).sqrt() > 0.5 {
                continue;
            }
            inside += 1;
            let c = symbol_class(x, y);
            assert_eq!(classify(x, y), c, "({x}, {y})");
            let mirrored = symbol_class(1.0 - x, 1.0 - y);
            assert_eq!(mirrored, if c == 2 { 2 } else { 1 - c }, "symmetry at ({x}, {y})");
        }
    }
    assert!(inside > 120_000);
}

#[test]
fn classify_known_regions() {
    assert_eq!(classify(0.25, 0.5), 2, "left eye");
    assert_eq!(classify(0.75, 0.5), 2, "right eye");
    assert_eq!(classify(0.5, 0.9), 1, "top half outside the eyes' discs is yang (1)");
    assert_eq!(classify(0.5, 0.1), 0, "bottom half is yin (0)");
}

#[test]
fn encoding_is_reference_latency_code() {
    let splits = DatasetName::Yinyang.load(None).expect("generated");
    let train = YinYang::split(Split::Train);
    let (x, y) = train.points[0];
    let row = &splits.train.times[0..4];
    for (got, v) in row.iter().zip([x, y, 1.0 - x, 1.0 - y]) {
        assert!((got - (0.15 + 1.85 * v)).abs() < 1e-12);
    }
    assert_eq!(LatencyEncoder::REFERENCE.encode(0.0), 0.15);
    assert_eq!(LatencyEncoder::REFERENCE.encode(1.0), 2.0);
    assert_eq!(
        (splits.train.len(), splits.validation.len(), splits.test.len()),
        (5000, 1000, 1000)
    );
}

#[test]
fn generation_is_deterministic_and_seed_dependent() {
    assert_eq!(YinYang::generate(50, 7), YinYang::generate(50, 7));
    assert_ne!(YinYang::generate(50, 7), YinYang::generate(50, 8));
}
