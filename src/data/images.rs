//! Image preprocessing of the paper's MNIST pipeline, reproduced exactly: torchvision's
//! `CenterCrop(24)` and `Resize((16, 16))` on PIL images, i.e. Pillow's antialiased bilinear
//! resampling in 8-bit fixed point, then `ToTensor` (`/255`).

/// Crop the centre `size × size` block of a `rows × cols` image (torchvision's offsets:
/// `round((rows − size)/2)`, `round((cols − size)/2)`).
///
/// # Panics
/// If `size` exceeds the image or the pixel count does not match.
pub fn center_crop(img: &[u8], rows: usize, cols: usize, size: usize) -> Vec<u8> {
    assert_eq!(img.len(), rows * cols, "image is not {rows}×{cols}");
    assert!(size <= rows && size <= cols, "crop {size} larger than {rows}×{cols}");
    let top = ((rows - size) as f64 / 2.0).round() as usize;
    let left = ((cols - size) as f64 / 2.0).round() as usize;
    (0..size)
        .flat_map(|r| img[(top + r) * cols + left..(top + r) * cols + left + size].iter().copied())
        .collect()
}

/// Pillow's fixed-point precision for 8-bit resampling (`Resample.c`: `32 − 8 − 2`).
const PRECISION_BITS: u32 = 22;

/// Per output pixel: first input index and integer weights, as Pillow's `precompute_coeffs`
/// and `normalize_coeffs_8bpc` compute them for the bilinear (triangle) filter, support 1.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i64>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale; // bilinear support 1.0 × filterscale
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize; // C truncation
            let xmax = (((center + support + 0.5) as i64).min(in_size as i64) as usize) - xmin;
            let mut k: Vec<f64> = (0..xmax)
                .map(|x| {
                    let t = ((x + xmin) as f64 - center + 0.5) * ss;
                    if t.abs() < 1.0 { 1.0 - t.abs() } else { 0.0 }
                })
                .collect();
            let ww: f64 = k.iter().sum();
            if ww != 0.0 {
                k.iter_mut().for_each(|v| *v /= ww);
            }
            let fixed = k
                .iter()
                .map(|&v| {
                    let s = v * (1u64 << PRECISION_BITS) as f64;
                    if v < 0.0 { (s - 0.5) as i64 } else { (s + 0.5) as i64 }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resize an 8-bit grey image with Pillow's `Image.BILINEAR` (antialiased when shrinking):
/// a horizontal pass, rounded to 8 bits, then a vertical pass.
///
/// # Panics
/// If the pixel count does not match.
pub fn resize_bilinear(
    img: &[u8],
    rows: usize,
    cols: usize,
    out_rows: usize,
    out_cols: usize,
) -> Vec<u8> {
    assert_eq!(img.len(), rows * cols, "image is not {rows}×{cols}");
    let half = 1i64 << (PRECISION_BITS - 1);
    let horizontal = coefficients(cols, out_cols);
    let mut tmp = vec![0u8; rows * out_cols];
    for r in 0..rows {
        for (x, (xmin, k)) in horizontal.iter().enumerate() {
            let acc = k
                .iter()
                .enumerate()
                .fold(half, |s, (j, w)| s + img[r * cols + xmin + j] as i64 * w);
            tmp[r * out_cols + x] = clip8(acc);
        }
    }
    let vertical = coefficients(rows, out_rows);
    let mut out = vec![0u8; out_rows * out_cols];
    for (y, (ymin, k)) in vertical.iter().enumerate() {
        for x in 0..out_cols {
            let acc = k
                .iter()
                .enumerate()
                .fold(half, |s, (j, w)| s + tmp[(ymin + j) * out_cols + x] as i64 * w);
            out[y * out_cols + x] = clip8(acc);
        }
    }
    out
}

/// The paper's 16×16 MNIST encoding of one 28×28 image: crop 24, resize 16×16, `p = v/255`,
/// invert, spike at `0.15 + 1.85·(1 − p)`; black pixels (which would spike at exactly 2.0) do not
/// spike at all (`+∞`).
pub fn encode_16x16(img28: &[u8]) -> Vec<f64> {
    let small = resize_bilinear(&center_crop(img28, 28, 28, 24), 24, 24, 16, 16);
    small
        .iter()
        .map(|&v| if v == 0 { f64::INFINITY } else { 0.15 + 1.85 * (1.0 - v as f64 / 255.0) })
        .collect()
}

/// The paper's full-resolution encoding: `p = v/256`, invert, spike at `0.15 + 1.85·(1 − p)`;
/// every pixel spikes (no "late = silent" rule).
pub fn encode_full(img: &[u8]) -> Vec<f64> {
    img.iter().map(|&v| 0.15 + 1.85 * (1.0 - v as f64 / 256.0)).collect()
}
