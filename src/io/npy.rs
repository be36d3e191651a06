//! Writing (and, for tests, reading) NumPy `.npy` files of little-endian float64 (format 1.0).

use std::path::Path;

use super::IoError;

/// Write a C-order float64 array.
///
/// # Errors
/// [`IoError::Os`] naming the path.
///
/// # Panics
/// If `data.len()` is not the product of `shape`.
pub fn write_f64(path: &Path, data: &[f64], shape: &[usize]) -> Result<(), IoError> {
    assert_eq!(data.len(), shape.iter().product::<usize>(), "data does not fill shape {shape:?}");
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text =
        if shape.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
    // 64 and ended by a newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + 8 * data.len());
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    super::write_atomic(path, &bytes)
}

/// Read a C-order little-endian float64 `.npy` file written by [`write_f64`] (or numpy):
/// returns the values and the shape.
///
/// # Errors
/// [`IoError`] naming the path if it cannot be read or is not such a file.
pub fn read_f64(path: &Path) -> Result<(Vec<f64>, Vec<usize>), IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    let bad = |m: &str| IoError::format(path, m.to_string());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (bad magic)"));
    }
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header =
        std::str::from_utf8(bytes.get(10..10 + header_len).ok_or_else(|| bad("truncated header"))?)
            .map_err(|_| bad("header is not UTF-8"))?;
    if !header.contains("'descr': '<f8'") || !header.contains("'fortran_order': False") {
        return Err(bad("only C-order little-endian float64 arrays are supported"));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| bad("no shape in header"))?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let body = &bytes[10 + header_len..];
    let bytes_needed = shape.iter().try_fold(8usize, |n, &d| n.checked_mul(d));
    if bytes_needed != Some(body.len()) {
        return Err(bad(&format!(
            "expected {} data bytes for shape {shape:?}, found {}",
            bytes_needed.map_or("more than can be addressed".into(), |n| n.to_string()),
            body.len()
        )));
    }
    let data =
        body.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
    Ok((data, shape))
}
