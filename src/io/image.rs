//! PNG images: grayscale (pattern completions, generated digits) and RGB (charts).

use std::path::Path;

use super::IoError;

/// Writes `pixels` (row-major `[height, width]`, 0 = black, 255 = white) as an 8-bit grayscale
/// PNG.
///
/// # Errors
/// [`IoError`] naming the file.
///
/// # Panics
/// If `pixels.len() != width · height`.
pub fn write_gray_png(
    path: &Path,
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<(), IoError> {
    assert_eq!(pixels.len(), width * height, "pixels must be {height}×{width}");
    write_png(path, width, height, png::ColorType::Grayscale, pixels)
}

/// Encodes 8-bit `pixels` of `color` as a PNG and writes it atomically to `path`.
fn write_png(
    path: &Path,
    width: usize,
    height: usize,
    color: png::ColorType,
    pixels: &[u8],
) -> Result<(), IoError> {
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, width as u32, height as u32);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| IoError::format(path, e.to_string()))?;
    writer.write_image_data(pixels).map_err(|e| IoError::format(path, e.to_string()))?;
    writer.finish().map_err(|e| IoError::format(path, e.to_string()))?;
    super::write_atomic(path, &bytes)
}

/// Writes `pixels` (row-major `[height, width, 3]`, 8-bit RGB) as a PNG.
///
/// # Errors
/// [`IoError`] naming the file, also when `pixels` does not hold `width · height` pixels.
pub fn write_rgb_png(
    path: &Path,
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<(), IoError> {
    if pixels.len() != width * height * 3 {
        return Err(IoError::format(
            path,
            format!("{} bytes are not {height}×{width} RGB pixels", pixels.len()),
        ));
    }
    write_png(path, width, height, png::ColorType::Rgb, pixels)
}

/// Tiles images of `[size, size]` values in [0, 1] (1 = white) into a grid of `rows × cols`
/// cells, each scaled up `scale` times with a 1-cell-pixel gray border; `None` images leave a
/// cell gray. Returns (width, height, pixels).
pub fn tile(
    images: &[Option<Vec<f64>>],
    size: usize,
    cols: usize,
    scale: usize,
) -> (usize, usize, Vec<u8>) {
    let rows = images.len().div_ceil(cols.max(1));
    let cell = size * scale + 2;
    let (w, h) = (cols * cell, rows * cell);
    let mut px = vec![128u8; w * h];
    for (n, img) in images.iter().enumerate() {
        let Some(img) = img else { continue };
        let (r0, c0) = ((n / cols) * cell + 1, (n % cols) * cell + 1);
        for y in 0..size * scale {
            for x in 0..size * scale {
                let v = img[(y / scale) * size + x / scale].clamp(0.0, 1.0);
                px[(r0 + y) * w + c0 + x] = (v * 255.0).round() as u8;
            }
        }
    }
    (w, h, px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip() {
        let (w, h, px) = tile(&[Some(vec![0.0, 1.0, 0.5, 1.0]), None], 2, 2, 2);
        assert_eq!((w, h), (12, 6));
        // Cell 0: pixel (0,0) scaled to 2×2 black at offset 1.
        assert_eq!(px[w + 1], 0);
        assert_eq!(px[w + 3], 255);
        let path = std::env::temp_dir().join(format!("spikeburn-png-{}.png", std::process::id()));
        write_gray_png(&path, w, h, &px).unwrap();
        let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (12, 6));
        assert_eq!(&buf[..w * h], &px[..]);
        std::fs::remove_file(path).ok();
    }
}
