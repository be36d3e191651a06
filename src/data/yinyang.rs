//! The Yin-Yang dataset (Kriener, Göltz, Petrovici 2021), generated bit-for-bit like the
//! reference numpy code (`dataset.py` of lkriener/yin_yang_data_set): no download.
//!
//! Points are drawn uniformly in the unit square, kept inside the disc of radius `r_big = 0.5`
//! around (0.5, 0.5), and labelled yin (0), yang (1) or dot (2). Each sample first draws its goal
//! class, then redraws points until one of that class appears, so the classes are balanced in
//! expectation. Features are `(x, y, 1 − x, 1 − y)`.
//!
//! The random numbers are numpy's legacy `RandomState(seed)`: MT19937 seeded with
//! `init_genrand(seed)`; `randint(3)` repeats `next_u32 & 3` until it is ≤ 2, `rand()` is
//! `((next_u32 >> 5)·2²⁶ + (next_u32 >> 6)) / 2⁵³`, `x` is drawn before `y`.
//!
//! ```
//! use spikeburn::data::yinyang::{YinYang, Split};
//! let train = YinYang::generate(Split::Train.size(), Split::Train.seed());
//! assert_eq!(train.labels[0], 2);
//! assert!((train.points[0].0 - 0.680308).abs() < 1e-6);
//! assert_eq!(train.class_counts(), [1681, 1702, 1617]);
//! ```

use rand_mt::Mt;

/// Radius of the eyes (the dots).
pub const R_SMALL: f64 = 0.1;
/// Radius of the whole disc.
pub const R_BIG: f64 = 0.5;

/// The reference splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 5000 samples, seed 42.
    Train,
    /// 1000 samples, seed 41.
    Validation,
    /// 1000 samples, seed 40.
    Test,
}

impl Split {
    /// Number of samples in the reference split.
    pub fn size(self) -> usize {
        match self {
            Split::Train => 5000,
            Split::Validation | Split::Test => 1000,
        }
    }

    /// Seed of the reference split.
    pub fn seed(self) -> u32 {
        match self {
            Split::Train => 42,
            Split::Validation => 41,
            Split::Test => 40,
        }
    }
}

/// Generated points and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct YinYang {
    /// `(x, y)` per sample, in `[0, 1)²`.
    pub points: Vec<(f64, f64)>,
    /// Class per sample: 0 yin, 1 yang, 2 dot.
    pub labels: Vec<usize>,
}

/// numpy's legacy `RandomState` draws on top of MT19937.
struct NumpyRandomState(Mt);

impl NumpyRandomState {
    fn new(seed: u32) -> Self {
        Self(Mt::new(seed))
    }

    /// `randint(3)`: masked rejection sampling with mask 3.
    fn randint3(&mut self) -> usize {
        loop {
            let u = self.0.next_u32() & 3;
            if u <= 2 {
                return u as usize;
            }
        }
    }

    /// `rand()`: a double with 53 random bits.
    fn rand(&mut self) -> f64 {
        let a = (self.0.next_u32() >> 5) as f64;
        let b = (self.0.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

/// Class of a point inside the disc: 2 (dot), 1 (yang) or 0 (yin).
pub fn classify(x: f64, y: f64) -> usize {
    let d_right = ((x - 1.5 * R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt();
    let d_left = ((x - 0.5 * R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt();
    let criterion1 = d_right <= R_SMALL;
    let criterion2 = d_left > R_SMALL && d_left <= 0.5 * R_BIG;
    let criterion3 = y > R_BIG && d_right > 0.5 * R_BIG;
    let is_yin = criterion1 || criterion2 || criterion3;
    let is_circles = d_right < R_SMALL || d_left < R_SMALL;
    if is_circles {
        2
    } else if is_yin {
        1
    } else {
        0
    }
}

impl YinYang {
    /// Generate `size` samples from `seed` exactly as the reference does.
    pub fn generate(size: usize, seed: u32) -> Self {
        let mut rng = NumpyRandomState::new(seed);
        let mut points = Vec::with_capacity(size);
        let mut labels = Vec::with_capacity(size);
        for _ in 0..size {
            let goal = rng.randint3();
            loop {
                let x = rng.rand() * 2.0 * R_BIG;
                let y = rng.rand() * 2.0 * R_BIG;
                if ((x - R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt() > R_BIG {
                    continue;
                }
                if classify(x, y) == goal {
                    points.push((x, y));
                    labels.push(goal);
                    break;
                }
            }
        }
        Self { points, labels }
    }

    /// The reference split.
    pub fn split(split: Split) -> Self {
        Self::generate(split.size(), split.seed())
    }

    /// Samples per class `[yin, yang, dot]`.
    pub fn class_counts(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for &l in &self.labels {
            counts[l] += 1;
        }
        counts
    }

    /// Features `(x, y, 1 − x, 1 − y)` per sample.
    pub fn features(&self) -> Vec<[f64; 4]> {
        self.points.iter().map(|&(x, y)| [x, y, 1.0 - x, 1.0 - y]).collect()
    }
}
