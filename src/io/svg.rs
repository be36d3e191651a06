//! A small log–log line chart as SVG (D_KL against time), with no plotting dependency: the one
//! chart this crate draws does not justify a plotting stack with font handling.

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

/// Renders a log–log chart of `series` as an SVG document.
pub fn log_log_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let (w, h, left, right, top, bottom) = (860.0, 480.0, 80.0, 260.0, 40.0, 60.0);
    let pts = || series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| *x > 0.0 && *y > 0.0);
    let decade = |v: f64, up: bool| if up { v.log10().ceil() } else { v.log10().floor() };
    let (x0, x1) = (
        pts().map(|p| p.0).fold(f64::INFINITY, f64::min),
        pts().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = (
        pts().map(|p| p.1).fold(f64::INFINITY, f64::min),
        pts().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
    );
    let (lx0, lx1) = (
        decade(x0.max(1e-300), false),
        decade(x1.max(1e-300), true).max(decade(x0.max(1e-300), false) + 1.0),
    );
    let (ly0, ly1) = (
        decade(y0.max(1e-300), false),
        decade(y1.max(1e-300), true).max(decade(y0.max(1e-300), false) + 1.0),
    );
    let (pw, ph) = (w - left - right, h - top - bottom);
    let sx = |x: f64| left + (x.log10() - lx0) / (lx1 - lx0) * pw;
    let sy = |y: f64| top + (1.0 - (y.log10() - ly0) / (ly1 - ly0)) * ph;
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
    for d in lx0 as i32..=lx1 as i32 {
        let x = sx(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{top}" x2="{x}" y2="{}" stroke="#ddd"/>"##,
            top + ph
        );
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle">1e{d}</text>"#,
            top + ph + 18.0
        );
    }
    for d in ly0 as i32..=ly1 as i32 {
        let y = sy(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/>"##,
            left + pw
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">1e{d}</text>"#,
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
            .filter(|(x, y)| *x > 0.0 && *y > 0.0)
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
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
    std::fs::write(path, log_log_chart(title, x_label, y_label, series))
        .map_err(|e| IoError::os(path, e))
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
}
