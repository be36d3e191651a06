//! Small line charts as SVG (D_KL against time on log–log axes, alignment angles against
//! epochs on linear ones), with no plotting dependency: two charts do not justify a plotting
//! stack with font handling.

use std::fmt::Write as _;
use std::path::Path;

use super::IoError;

/// One line of a chart: a name for the legend and its (x, y) points (non-positive values are
/// left out on log axes).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [&str; 8] =
    ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// How an axis maps values: linearly, or by decades (non-positive values are left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values, ticks at 1, 2 or 5 × 10^k steps.
    Linear,
    /// Decades, ticks at powers of ten.
    Log,
}

/// An axis fitted to its data: the range in axis units (log10 for [`Scale::Log`]) and ticks.
struct Axis {
    scale: Scale,
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
}

impl Axis {
    fn fit(scale: Scale, values: impl Iterator<Item = f64> + Clone) -> Self {
        let (min, max) =
            values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let (min, max) = if min.is_finite() { (min, max) } else { (0.0, 1.0) };
        match scale {
            Scale::Log => {
                let lo = min.max(1e-300).log10().floor();
                let hi = max.max(1e-300).log10().ceil().max(lo + 1.0);
                let ticks = (lo as i32..=hi as i32).map(|d| (f64::from(d), format!("1e{d}")));
                Self { scale, lo, hi, ticks: ticks.collect() }
            }
            Scale::Linear => {
                let span = if max > min { max - min } else { min.abs().max(1.0) };
                let raw = span / 5.0;
                let mag = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .map(|m| m * mag)
                    .find(|s| *s >= raw)
                    .unwrap_or(10.0 * mag);
                let lo = (min / step).floor() * step;
                let hi = ((max / step).ceil() * step).max(lo + step);
                let decimals = (-step.log10().floor()).max(0.0) as usize;
                let n = ((hi - lo) / step).round() as i64;
                let ticks = (0..=n).map(|i| {
                    let v = lo + i as f64 * step;
                    (v, format!("{v:.decimals$}"))
                });
                Self { scale, lo, hi, ticks: ticks.collect() }
            }
        }
    }

    /// The fraction `0..=1` of the axis at data value `v`.
    fn at(&self, v: f64) -> f64 {
        self.tick_at(if self.scale == Scale::Log { v.log10() } else { v })
    }

    /// The fraction of the axis at a tick (in axis units).
    fn tick_at(&self, u: f64) -> f64 {
        (u - self.lo) / (self.hi - self.lo)
    }
}

/// Whether `v` can be drawn on an axis of `scale`.
fn shows(scale: Scale, v: f64) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

/// Renders a log–log chart of `series` as an SVG document.
pub fn log_log_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    chart(title, x_label, y_label, [Scale::Log, Scale::Log], series)
}

/// Renders a line chart of `series` as an SVG document, the axes scaled as `scales` (x, y);
/// points an axis cannot show (non-finite, or non-positive on a log axis) are left out.
pub fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    scales: [Scale; 2],
    series: &[Series],
) -> String {
    let (w, h, left, right, top, bottom) = (860.0, 480.0, 80.0, 260.0, 40.0, 60.0);
    let shown = |&(x, y): &(f64, f64)| shows(scales[0], x) && shows(scales[1], y);
    let pts = series.iter().flat_map(|s| s.points.iter()).filter(|p| shown(p));
    let ax = Axis::fit(scales[0], pts.clone().map(|p| p.0));
    let ay = Axis::fit(scales[1], pts.map(|p| p.1));
    let (pw, ph) = (w - left - right, h - top - bottom);
    let sx = |f: f64| left + f * pw;
    let sy = |f: f64| top + (1.0 - f) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{title}</text>"#,
        left + pw / 2.0
    );
    for (u, label) in &ax.ticks {
        let x = sx(ax.tick_at(*u));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" stroke="#ddd"/>"##,
            top + ph
        );
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            top + ph + 18.0
        );
    }
    for (u, label) in &ay.ticks {
        let y = sy(ay.tick_at(*u));
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/>"##,
            left + pw
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{label}</text>"#,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{x_label}</text>"#,
        left + pw / 2.0,
        h - 18.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(20,{}) rotate(-90)" text-anchor="middle">{y_label}</text>"#,
        top + ph / 2.0
    );
    for (i, ser) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = ser
            .points
            .iter()
            .filter(|p| shown(p))
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(ax.at(x)), sy(ay.at(y))))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        let ly = top + 16.0 + 20.0 * i as f64;
        let lx = left + pw + 14.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"/>"#,
            lx + 22.0
        );
        let _ = writeln!(s, r#"<text x="{}" y="{}">{}</text>"#, lx + 28.0, ly + 4.0, ser.name);
    }
    s.push_str("</svg>\n");
    s
}

/// Writes [`log_log_chart`] to `path`.
///
/// # Errors
/// [`IoError`] naming the file.
pub fn write_log_log_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), IoError> {
    write_chart(path, &log_log_chart(title, x_label, y_label, series))
}

/// Writes a rendered chart (an SVG document) to `path`.
///
/// # Errors
/// [`IoError`] naming the file.
pub fn write_chart(path: &Path, svg: &str) -> Result<(), IoError> {
    super::write_atomic(path, svg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points land inside the plot area, one polyline per series, decades labelled.
    #[test]
    fn chart_has_a_line_per_series() {
        let svg = log_log_chart(
            "t",
            "x",
            "y",
            &[
                Series { name: "a".into(), points: vec![(1e2, 1e-1), (1e4, 1e-3)] },
                Series { name: "b".into(), points: vec![(1e3, 0.0), (1e4, 1e-2)] },
            ],
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">1e2<") && svg.contains(">1e4<") && svg.contains(">1e-3<"));
        // The zero y value is dropped: series b has one point.
        let b = svg.lines().filter(|l| l.starts_with("<polyline")).nth(1).unwrap();
        assert_eq!(b.matches(',').count(), 1);
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    /// Linear axes: ticks at round steps covering the data, a point at the data's corners
    /// lands on the plot's edges.
    #[test]
    fn linear_chart_ticks_cover_the_data() {
        let svg = chart(
            "t",
            "epoch",
            "angle",
            [Scale::Linear, Scale::Linear],
            &[Series { name: "a".into(), points: vec![(0.0, 0.0), (300.0, 90.0)] }],
        );
        for tick in [">0<", ">100<", ">300<", ">20<", ">80<"] {
            assert!(svg.contains(tick), "{tick} missing");
        }
        let line = svg.lines().find(|l| l.starts_with("<polyline")).unwrap();
        // x from 80 to 600 (860 − 260), y from 420 (480 − 60) to 40, with 0..300 and 0..100.
        assert!(line.contains("80.0,420.0") && line.contains("600.0,78.0"), "{line}");
        // Non-finite points are dropped, negative ones kept on a linear axis.
        let svg = chart(
            "t",
            "x",
            "y",
            [Scale::Linear, Scale::Linear],
            &[Series { name: "b".into(), points: vec![(1.0, -1.0), (2.0, f64::NAN), (3.0, 1.0)] }],
        );
        let line = svg.lines().find(|l| l.starts_with("<polyline")).unwrap();
        assert_eq!(line.matches(',').count(), 2, "{line}");
    }
}
