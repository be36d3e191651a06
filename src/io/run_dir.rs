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
    /// The run's full training state, for `spikeburn train --resume`.
    pub const RESUME: &str = "resume.safetensors";
    /// The test split per sample: label, prediction, time to decision (`spikeburn plot`).
    pub const PREDICTIONS: &str = "predictions.csv";
}

/// A folder holding one run's outputs.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
}

/// What may happen to an `--out` folder that already holds files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse it (the default): a run never mixes its files with another run's.
    Refuse,
    /// Replace it (`--force`): the earlier run's files are removed first. Only a folder that
    /// is a run folder (it holds a `config.toml` or `summary.json`) is ever removed.
    Replace,
}

impl RunDir {
    /// Use `out`, or make a fresh `runs/<name>-<UTC time>` folder (`name` sanitised: letters,
    /// digits, `.`, `_` and `-` only, so a name can never point outside `runs/`).
    ///
    /// An `out` folder that exists must be empty, unless `existing` is
    /// [`Existing::Replace`] and it is a run folder, whose files are then removed.
    ///
    /// # Errors
    /// [`IoError`] naming the folder: it holds files (and may not or cannot be replaced), or it
    /// cannot be created.
    pub fn create(out: Option<&Path>, name: &str, existing: Existing) -> Result<Self, IoError> {
        let path = match out {
            Some(p) => {
                prepare_existing(p, existing)?;
                p.to_path_buf()
            }
            None => {
                let base = format!("{}-{}", sanitise_name(name), utc_timestamp());
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

    /// An existing run folder (one that holds a `config.toml`), to continue a run in it.
    ///
    /// # Errors
    /// [`IoError`] naming the folder if it is not a run folder.
    pub fn existing(path: &Path) -> Result<Self, IoError> {
        if !path.join(files::CONFIG).is_file() {
            let why = if path.is_dir() { "no config.toml in it" } else { "no such folder" };
            return Err(IoError::format(path, format!("not a run folder ({why})")));
        }
        Ok(Self { path: path.to_path_buf() })
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
        write_atomic(&self.file(name), text.as_bytes())
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

/// Checks (and with [`Existing::Replace`] empties) an `--out` folder before a run uses it.
fn prepare_existing(p: &Path, existing: Existing) -> Result<(), IoError> {
    let entries = match std::fs::read_dir(p) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if p.is_file() => {
            return Err(IoError::format(p, format!("is a file, not a run folder ({e})")));
        }
        Err(e) => return Err(IoError::os(p, e)),
    };
    let mut names: Vec<String> =
        entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into()).collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let is_run = names.iter().any(|n| n == files::CONFIG || n == files::SUMMARY);
    let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    match existing {
        Existing::Refuse => Err(IoError::format(
            p,
            format!(
                "the folder already holds files ({shown}{}): a run writes into an empty or new \
                 folder; choose another --out, or pass --force to replace {}",
                if names.len() > 5 { ", …" } else { "" },
                if is_run { "that run" } else { "them (only a run folder is replaced)" }
            ),
        )),
        Existing::Replace if !is_run => Err(IoError::format(
            p,
            format!(
                "--force replaces run folders only (with config.toml or summary.json); this \
                 folder holds {shown}: choose another --out"
            ),
        )),
        Existing::Replace => {
            std::fs::remove_dir_all(p).map_err(|e| IoError::os(p, e))?;
            Ok(())
        }
    }
}

/// `name` as a single safe path component: letters, digits, `.`, `_` and `-` kept, anything
/// else (`/`, `\`, spaces, control characters) becomes `-`; no leading `.` (no `..`, no hidden
/// folder), at most 80 characters, `run` if nothing is left.
pub fn sanitise_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' })
        .take(80)
        .collect();
    let trimmed = kept.trim_start_matches(['.', '-']);
    if trimmed.is_empty() { "run".into() } else { trimmed.into() }
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, synced, then renamed
/// over `path`, so that a crash or a full disk leaves either the old file or the new one,
/// never a truncated one.
///
/// # Errors
/// [`IoError`] naming `path` (the temporary file is removed on failure).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    use std::io::Write as _;
    let tmp = temp_beside(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        IoError::os(path, e)
    })
}

/// A temporary file name in `path`'s folder (`.NAME.tmp-PID`), for [`write_atomic`] and
/// writers that need a path (the checkpoint store).
pub fn temp_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map_or("file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
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
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("spikeburn-rundir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    /// Names that would leave `runs/` or hide the folder are made safe; plain names are kept.
    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise_name("yinyang-ttfs_2.5"), "yinyang-ttfs_2.5");
        assert_eq!(sanitise_name("../../etc/x"), "etc-x");
        assert_eq!(sanitise_name("a b/c\\d"), "a-b-c-d");
        assert_eq!(sanitise_name(".."), "run");
        assert_eq!(sanitise_name(""), "run");
        assert_eq!(sanitise_name(&"x".repeat(500)).len(), 80);
    }

    /// A new or empty folder is used; one with files is refused unless replaced, and only a
    /// run folder is ever replaced.
    #[test]
    fn an_existing_folder_is_refused_or_replaced() {
        let p = scratch("existing");
        RunDir::create(Some(&p), "x", Existing::Refuse).unwrap();
        RunDir::create(Some(&p), "x", Existing::Refuse).unwrap();
        std::fs::write(p.join(files::SUMMARY), "{}").unwrap();
        let e = RunDir::create(Some(&p), "x", Existing::Refuse).unwrap_err().to_string();
        assert!(e.contains("summary.json") && e.contains("--force"), "{e}");
        assert!(p.join(files::SUMMARY).exists(), "a refused folder is left alone");
        RunDir::create(Some(&p), "x", Existing::Replace).unwrap();
        assert!(!p.join(files::SUMMARY).exists(), "--force removes the earlier run");
        std::fs::write(p.join("thesis.tex"), "mine").unwrap();
        let e = RunDir::create(Some(&p), "x", Existing::Replace).unwrap_err().to_string();
        assert!(e.contains("run folders only"), "{e}");
        assert!(p.join("thesis.tex").exists());
        let _ = std::fs::remove_dir_all(&p);
    }

    /// The atomic write replaces the file whole and leaves no temporary file; a failed one
    /// leaves the old file.
    #[test]
    fn atomic_writes_replace_whole_files() {
        let p = scratch("atomic");
        std::fs::create_dir_all(&p).unwrap();
        let f = p.join("a.txt");
        write_atomic(&f, b"one").unwrap();
        write_atomic(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&p).unwrap().count(), 1, "no temporary file left");
        assert!(write_atomic(&p.join("missing/b.txt"), b"x").is_err());
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2026-11-27 is day 20_784 since the epoch.
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
