//! The `[chip]` section of an experiment: which chip a network meets, and how training uses it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Chip, ChipProfile};
use crate::config::ConfigError;

/// The profiles built into the binary (`models/chips/`), by name.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("ideal", include_str!("../../models/chips/ideal.toml")),
    ("bss2", include_str!("../../models/chips/bss2.toml")),
    ("bss2-uncalibrated", include_str!("../../models/chips/bss2-uncalibrated.toml")),
];

/// How training uses the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ChipMode {
    /// Train the ideal network; evaluate it on the chip instances.
    #[default]
    OpenLoop,
    /// Forward on the emulated instance; the ideal model's gradient at the chip's observed spike
    /// times (the method Göltz, Kriener et al. 2021 used on the real chip).
    InTheLoop,
    /// Forward on the emulated instance; the exact gradient of the instance's own
    /// heterogeneous model.
    Exact,
    /// Hardware-aware training: forward on a chip drawn afresh from the profile every epoch
    /// (never one of the test instances), the in-the-loop gradient; the network learns to
    /// live with the profile's imperfections rather than with one chip.
    Aware,
}

/// The seed of the chip an `aware` run trains on in `epoch` (from 0): far from the test
/// instances' `seed + k`.
pub fn aware_seed(seed: u64, epoch: usize) -> u64 {
    seed ^ 0xA5A5_0000_0000_0000_u64.wrapping_add((epoch as u64 + 1).wrapping_mul(0x9E37_79B9))
}

impl ChipMode {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            ChipMode::OpenLoop => "open-loop",
            ChipMode::InTheLoop => "in-the-loop",
            ChipMode::Exact => "exact",
            ChipMode::Aware => "aware",
        }
    }
}

/// `[chip]`: absent `profile` and `file` = no chip (the network as it is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct ChipConfig {
    /// A built-in profile (`ideal`, `bss2`, `bss2-uncalibrated`) or a profile file (TOML).
    pub profile: Option<String>,
    /// A saved chip instance (`chip.json` of a run folder): the chip the network met in
    /// training. Takes the place of `profile` and `seed`.
    pub file: Option<String>,
    /// Seed of the training chip's fixed pattern; test instance `k` has seed `seed + k`.
    pub seed: u64,
    /// How training uses the chip.
    pub mode: ChipMode,
    /// Number of chip instances the test split is evaluated on (the first is the training
    /// chip; mean ± std over all go into `summary.json`).
    pub instances: usize,
}

impl Default for ChipConfig {
    fn default() -> Self {
        Self { profile: None, file: None, seed: 0, mode: ChipMode::OpenLoop, instances: 1 }
    }
}

impl ChipConfig {
    /// Whether the network meets a chip.
    pub fn is_active(&self) -> bool {
        self.profile.is_some() || self.file.is_some()
    }

    /// The profile `name` names: a built-in one, else a file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file or the bad value.
    pub fn read_profile(name: &str) -> Result<ChipProfile, ConfigError> {
        match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => ChipProfile::from_toml(text, &format!("built-in chip profile {n}")),
            None if Path::new(name).exists() => ChipProfile::read(Path::new(name)),
            None => Err(ConfigError::Invalid(format!(
                "chip.profile = \"{name}\": neither a built-in profile ({}) nor a file",
                BUILT_IN.map(|(n, _)| n).join(", ")
            ))),
        }
    }

    /// The chips of a network with layers of `(rows, neurons)`: the training chip, then the
    /// other test instances (`instances` in all). Without a chip, none.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for inconsistent settings, a profile or chip file that cannot
    /// be read, or a chip file drawn for another network.
    pub fn chips(&self, shapes: &[(usize, usize)]) -> Result<Vec<Chip>, ConfigError> {
        if self.instances == 0 {
            return Err(ConfigError::Invalid("chip.instances must be at least 1".into()));
        }
        let first = match (&self.profile, &self.file) {
            (None, None) => {
                if self.mode != ChipMode::OpenLoop {
                    return Err(ConfigError::Invalid(format!(
                        "chip.mode = \"{}\" needs a chip: set chip.profile or chip.file",
                        self.mode.name()
                    )));
                }
                return Ok(Vec::new());
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "chip.profile and chip.file both set: a chip file carries its profile".into(),
                ));
            }
            (Some(name), None) => Chip::draw(Self::read_profile(name)?, self.seed, shapes),
            (None, Some(path)) => {
                let chip =
                    Chip::load(Path::new(path)).map_err(|e| ConfigError::Invalid(e.to_string()))?;
                chip.check_shapes(shapes)
                    .map_err(|e| ConfigError::Invalid(format!("chip.file = \"{path}\": {e}")))?;
                chip
            }
        };
        let mut chips = vec![first];
        for k in 1..self.instances as u64 {
            let c = &chips[0];
            chips.push(Chip::draw(c.profile.clone(), c.seed.wrapping_add(k), shapes));
        }
        Ok(chips)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// Every built-in profile parses; `ideal` is ideal and the others are not.
    fn built_in_profiles_parse() {
        for (name, _) in BUILT_IN {
            let p = ChipConfig::read_profile(name).expect(name);
            assert_eq!(p.is_ideal(), name == "ideal", "{name}");
        }
    }

    #[test]
    /// Bad settings are refused with the key named; instances get consecutive seeds.
    fn chips_are_resolved_or_refused() {
        let shapes = [(3, 4), (5, 2)];
        let none = ChipConfig::default();
        assert!(none.chips(&shapes).unwrap().is_empty());
        let bad = ChipConfig { mode: ChipMode::InTheLoop, ..ChipConfig::default() };
        assert!(bad.chips(&shapes).unwrap_err().to_string().contains("chip.mode"));
        let unknown = ChipConfig { profile: Some("bss3".into()), ..ChipConfig::default() };
        assert!(unknown.chips(&shapes).unwrap_err().to_string().contains("bss3"));
        let zero =
            ChipConfig { profile: Some("bss2".into()), instances: 0, ..ChipConfig::default() };
        assert!(zero.chips(&shapes).unwrap_err().to_string().contains("instances"));
        let both = ChipConfig {
            profile: Some("bss2".into()),
            file: Some("chip.json".into()),
            ..ChipConfig::default()
        };
        assert!(both.chips(&shapes).unwrap_err().to_string().contains("both"));
        let three = ChipConfig {
            profile: Some("bss2".into()),
            seed: 7,
            instances: 3,
            ..Default::default()
        };
        let chips = three.chips(&shapes).unwrap();
        assert_eq!(chips.iter().map(|c| c.seed).collect::<Vec<_>>(), [7, 8, 9]);
        assert_ne!(chips[0].layers, chips[1].layers);
        assert_eq!(chips[0], Chip::draw(chips[0].profile.clone(), 7, &shapes));
        // A chip file is the training chip; one drawn for another network is refused.
        let path = std::env::temp_dir().join(format!("spikeburn-chip-{}.json", std::process::id()));
        chips[1].save(&path).unwrap();
        let file = ChipConfig {
            file: Some(path.display().to_string()),
            instances: 2,
            ..ChipConfig::default()
        };
        let loaded = file.chips(&shapes).unwrap();
        assert_eq!(loaded[0], chips[1]);
        assert_eq!(loaded[1], chips[2]);
        let err = file.chips(&[(3, 4)]).unwrap_err().to_string();
        assert!(err.contains("chip.file") && err.contains("(3, 4)"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }
}
