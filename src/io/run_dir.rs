//! Run folders: one folder per run (training, evaluation, sampling), holding its resolved
//! config, metrics, checkpoint, summary and reports; what goes in them is written by the
//! training layer ([`crate::train::report`]) and by each experiment.

use std::path::{Path, PathBuf};

use super::IoError;

/// File names inside a run folder.
pub mod files {
    /// The resolved configuration (every field, seed included).
    pub const CONFIG: &str = "config.toml";
    /// Per-epoch metrics.
    pub const METRICS: &str = "metrics.csv";
    /// The trained network, burnpack.
    pub const CHECKPOINT: &str = "model.bpk";
    /// The trained weights in the reference code's safetensors layout.
    pub const WEIGHTS: &str = "weights.safetensors";
    /// The summary.
    pub const SUMMARY: &str = "summary.json";
    /// The feedback matrices of a run trained with a rule other than backprop.
    pub const FEEDBACK: &str = "feedback.safetensors";
    /// The chip instance a network was trained and tested on (JSON, reloadable).
    pub const CHIP: &str = "chip.json";
}

/// A folder holding one run's outputs.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
}

impl RunDir {
    /// Use `out` (created if missing), or make a fresh `runs/<name>-<UTC time>` folder.
    ///
    /// # Errors
    /// [`IoError`] naming the folder.
    pub fn create(out: Option<&Path>, name: &str) -> Result<Self, IoError> {
        let path = match out {
            Some(p) => p.to_path_buf(),
            None => {
                let base = format!("{name}-{}", utc_timestamp());
                let mut candidate = Path::new("runs").join(&base);
                let mut k = 1;
                while candidate.exists() {
                    k += 1;
                    candidate = Path::new("runs").join(format!("{base}-{k}"));
                }
                candidate
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| IoError::os(&path, e))?;
        Ok(Self { path })
    }

    /// Path of a file in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Write a text file into the folder.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write(&self, name: &str, text: &str) -> Result<(), IoError> {
        let p = self.file(name);
        std::fs::write(&p, text).map_err(|e| IoError::os(&p, e))
    }

    /// `value` as pretty-printed JSON (no final newline) for the file `name` of this folder.
    ///
    /// # Errors
    /// [`IoError`] naming the file if `value` cannot be written as JSON.
    pub fn json(&self, name: &str, value: &impl serde::Serialize) -> Result<String, IoError> {
        serde_json::to_string_pretty(value)
            .map_err(|e| IoError::format(&self.file(name), format!("cannot write JSON: {e}")))
    }

    /// Write `value` as pretty-printed JSON with a final newline.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write_json(&self, name: &str, value: &impl serde::Serialize) -> Result<(), IoError> {
        self.write(name, &(self.json(name, value)? + "\n"))
    }
}

/// `YYYYMMDD-HHMMSS` in UTC, from the system clock.
fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2026-11-27 is day 20_784 since the epoch.
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
