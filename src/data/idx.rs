//! Reading IDX files (the MNIST format), gzip-compressed or plain, with every malformation
//! reported as an error that names the file.
//!
//! Layout: a big-endian magic `0x0000_08NN` (`08` = unsigned bytes, `NN` = number of
//! dimensions), one big-endian `u32` per dimension, then the data. Images are `idx3` (count,
//! rows, columns), labels `idx1` (count).

use std::io::Read;
use std::path::{Path, PathBuf};

/// Errors reading a dataset file or folder.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// No data folder was given.
    #[error(
        "dataset '{dataset}' needs a data folder: pass --data-dir DIR or set SPIKEBURN_DATA \
         (expected DIR/{subdir}/ with the official IDX file names; see datasets/README.md)"
    )]
    NoDataDir {
        /// Dataset name.
        dataset: String,
        /// Sub-folder expected inside the data folder.
        subdir: String,
    },
    /// The file does not exist (neither gzip-compressed nor plain).
    #[error("{path}: missing (looked for the file with and without .gz)")]
    Missing {
        /// The path looked for (with `.gz`).
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file's contents are not a valid IDX file of the expected kind.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

/// Find `dir/name.gz` or `dir/name`.
///
/// # Errors
/// [`DataError::Missing`] if neither exists.
pub fn locate(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let gz = dir.join(format!("{name}.gz"));
    let plain = dir.join(name);
    if gz.is_file() {
        Ok(gz)
    } else if plain.is_file() {
        Ok(plain)
    } else {
        Err(DataError::Missing { path: gz })
    }
}

/// Read an IDX file of unsigned bytes with `n_dims` dimensions (gzip detected by its magic).
///
/// # Errors
/// [`DataError`] naming the file: unreadable, corrupt gzip, wrong magic, wrong number of
/// dimensions, or a data length that disagrees with the header (truncated or trailing bytes).
pub fn read_idx(path: &Path, n_dims: usize) -> Result<IdxArray, DataError> {
    let raw =
        std::fs::read(path).map_err(|source| DataError::Read { path: path.into(), source })?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // The largest official file is 47 MB unpacked: a cap keeps a gzip bomb from filling
        // the memory.
        flate2::read::GzDecoder::new(raw.as_slice())
            .take(MAX_UNPACKED_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| DataError::Malformed {
                path: path.into(),
                reason: format!("corrupt gzip data: {e}"),
            })?;
        if out.len() as u64 > MAX_UNPACKED_BYTES {
            return Err(DataError::Malformed {
                path: path.into(),
                reason: format!(
                    "unpacks to more than {MAX_UNPACKED_BYTES} bytes: not an IDX file of MNIST's size"
                ),
            });
        }
        out
    } else {
        raw
    };
    parse_idx(&bytes, n_dims).map_err(|reason| DataError::Malformed { path: path.into(), reason })
}

/// The most bytes an IDX file may unpack to (10× the largest official file).
const MAX_UNPACKED_BYTES: u64 = 512 * 1024 * 1024;

/// Parse IDX bytes; the error is a sentence without the file name.
pub fn parse_idx(bytes: &[u8], n_dims: usize) -> Result<IdxArray, String> {
    let header_len = 4 + 4 * n_dims;
    if bytes.len() < 4 {
        return Err(format!("too short for an IDX header ({} bytes)", bytes.len()));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0800 | n_dims as u32;
    if magic != expected {
        return Err(format!(
            "bad magic number 0x{magic:08x}, expected 0x{expected:08x} (unsigned bytes, {n_dims} \
             dimensions)"
        ));
    }
    if bytes.len() < header_len {
        return Err(format!("truncated header: {} bytes, need {header_len}", bytes.len()));
    }
    let dims: Vec<usize> = (0..n_dims)
        .map(|d| {
            u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as usize
        })
        .collect();
    let body = &bytes[header_len..];
    let expected_len = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| {
        format!(
            "header promises {dims:?} values, more than can be addressed (file holds {})",
            body.len()
        )
    })?;
    if body.len() != expected_len {
        return Err(format!(
            "header promises {expected_len} values ({dims:?}), file holds {} ({})",
            body.len(),
            if body.len() < expected_len { "truncated" } else { "trailing bytes" }
        ));
    }
    Ok(IdxArray { dims, data: body.to_vec() })
}

/// Images and labels of one official split (e.g. `train` or `t10k`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// Pixels, `[count, rows, cols]` row-major, 0 = black.
    pub pixels: Vec<u8>,
    /// Class per image, 0–9.
    pub labels: Vec<u8>,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.pixels[i * n..(i + 1) * n]
    }
}

/// Read `{prefix}-images-idx3-ubyte[.gz]` and `{prefix}-labels-idx1-ubyte[.gz]` from `dir`.
///
/// # Errors
/// [`DataError`] naming the file: missing or malformed files, counts that disagree between the
/// two files, or a label above 9.
pub fn read_image_set(dir: &Path, prefix: &str) -> Result<ImageSet, DataError> {
    let images_path = locate(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = locate(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read_idx(&images_path, 3)?;
    let labels = read_idx(&labels_path, 1)?;
    if images.dims[0] != labels.dims[0] {
        return Err(DataError::Malformed {
            path: labels_path,
            reason: format!(
                "{} labels for {} images in {}",
                labels.dims[0],
                images.dims[0],
                images_path.display()
            ),
        });
    }
    if let Some((i, l)) = labels.data.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(DataError::Malformed {
            path: labels_path,
            reason: format!("label {l} at index {i} is not a class 0–9"),
        });
    }
    Ok(ImageSet {
        rows: images.dims[1],
        cols: images.dims[2],
        pixels: images.data,
        labels: labels.data,
    })
}
