//! Charts as SVG and PNG, drawn with plotters: line charts on linear or log axes (alone or as a
//! grid of panels), a confusion matrix, and histograms of several groups. Text is set in DejaVu
//! Sans, compiled in (the `dejavu` crate), so no system font or library is needed.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, SegmentValue, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::IoError;

/// One line of a chart: a name for the legend and its (x, y) points (points an axis cannot
/// show — non-finite, or non-positive on a log axis — are left out).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// How an axis maps values: linearly, or by decades (non-positive values are left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Decades.
    Log,
}

/// A line chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Scales of the x and y axes.
    pub scales: [Scale; 2],
    /// The lines.
    pub series: Vec<Series>,
}

impl LineChart {
    /// A chart on linear axes.
    pub fn linear(title: &str, x_label: &str, y_label: &str, series: Vec<Series>) -> Self {
        Self::new(title, x_label, y_label, [Scale::Linear, Scale::Linear], series)
    }

    /// A chart with the given axis scales (x, y).
    pub fn new(
        title: &str,
        x_label: &str,
        y_label: &str,
        scales: [Scale; 2],
        series: Vec<Series>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            scales,
            series,
        }
    }

    /// The points an axis can show.
    fn shown(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let [sx, sy] = self.scales;
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(move |&(x, y)| shows(sx, x) && shows(sy, y))
    }
}

/// A square matrix of counts (a confusion matrix: rows the true class, columns the predicted
/// one; an extra last column may count samples without a prediction).
#[derive(Debug, Clone)]
pub struct Matrix {
    /// Title above the plot.
    pub title: String,
    /// Label of the columns (x axis).
    pub x_label: String,
    /// Label of the rows (y axis).
    pub y_label: String,
    /// Row names, top to bottom.
    pub rows: Vec<String>,
    /// Column names, left to right.
    pub columns: Vec<String>,
    /// Counts, `counts[row][column]`.
    pub counts: Vec<Vec<usize>>,
}

/// Histograms of several groups of values on one axis, each normalised to the fraction of its
/// own values per bin (groups of different sizes compare by shape).
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// The groups: legend text and values (non-finite values are left out).
    pub groups: Vec<(String, Vec<f64>)>,
    /// Number of bins over the finite values' range.
    pub bins: usize,
}

/// One layer of a raster panel: its name and each neuron's spike times (empty = silent).
pub type LayerSpikes = (String, Vec<Vec<f64>>);

/// One raster panel: its title and its layers, input side first.
pub type RasterSample = (String, Vec<LayerSpikes>);

/// Spike rasters of a few samples, a panel each: every layer's neurons stacked on the y axis
/// (input layer at the bottom), a dot at each spike time, a colour per layer.
#[derive(Debug, Clone)]
pub struct Raster {
    /// Title of the figure (above the first panel's own title).
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// The samples: a panel title and, per layer, its name and its neurons' spike times (a
    /// list per neuron; an empty list = silent).
    pub samples: Vec<RasterSample>,
}

/// Something that can be drawn into a file.
#[derive(Debug, Clone)]
pub enum Figure {
    /// One line chart.
    Lines(LineChart),
    /// Line charts as panels of a grid, `columns` wide.
    Grid {
        /// The panels, row by row.
        panels: Vec<LineChart>,
        /// Panels per row.
        columns: usize,
    },
    /// A matrix of counts.
    Matrix(Matrix),
    /// Histograms.
    Histogram(Histogram),
    /// Spike rasters.
    Raster(Raster),
}

/// Line colours, in order (matplotlib's first eight).
const COLOURS: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
];

const FONT: &str = "sans-serif";

/// Registers the compiled-in font once.
fn font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "the compiled-in DejaVu Sans font did not load".to_string())
    })
    .clone()
}

/// Whether `v` can be drawn on an axis of `scale`.
fn shows(scale: Scale, v: f64) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

/// The range of an axis holding `values`: a little wider than the data on a linear axis,
/// whole decades on a log axis, (0, 1) or (1, 10) without data.
fn fit(scale: Scale, values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (min, max) =
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    match scale {
        Scale::Log if min.is_finite() => {
            let lo = 10f64.powf(min.log10().floor());
            let hi = 10f64.powf(max.log10().ceil()).max(lo * 10.0);
            (lo, hi)
        }
        Scale::Log => (1.0, 10.0),
        Scale::Linear if min.is_finite() => {
            let pad = if max > min {
                0.03 * (max - min)
            } else if min != 0.0 {
                0.5 * min.abs()
            } else {
                0.5
            };
            (min - pad, max + pad)
        }
        Scale::Linear => (0.0, 1.0),
    }
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

/// Tick labels for an axis over `[lo, hi]`: on a linear axis as many decimals as a tenth of the
/// range needs (up to four; scientific notation below that); on a log axis plain numbers from
/// 0.01 to 9999, else powers of ten.
fn tick_label(scale: Scale, lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let step = (hi - lo).abs() / 10.0;
    let decimals = if step > 0.0 { (-step.log10().floor()).clamp(0.0, 9.0) as usize } else { 2 };
    move |v: &f64| match scale {
        Scale::Linear => {
            let v = if v.abs() < step * 1e-6 { 0.0 } else { *v };
            match decimals {
                _ if v == 0.0 => "0".to_string(),
                5.. => format!("{v:.1e}"),
                _ => format!("{v:.decimals$}"),
            }
        }
        Scale::Log if (1e-2..1e4).contains(&v.abs()) => {
            let s = format!("{v:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        Scale::Log => format!("{v:.0e}"),
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws the legend of `c`'s labelled series, in a framed box at `position`.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    c: &mut ChartContext<'a, DB, CT>,
    font_size: u32,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    c.configure_series_labels()
        .label_font((FONT, font_size))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(err)
}

/// Draws `chart` into `area` on the coordinate specs `x` and `y`.
fn lines_on<DB, X, Y>(
    area: &Area<'_, DB>,
    chart: &LineChart,
    (x, xr): (X, (f64, f64)),
    (y, yr): (Y, (f64, f64)),
    legend: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let [sx, sy] = chart.scales;
    let (fx, fy) = (tick_label(sx, xr.0, xr.1), tick_label(sy, yr.0, yr.1));
    let mut c = ChartBuilder::on(area)
        .caption(&chart.title, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(err)?;
    for (i, s) in chart.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<(f64, f64)> =
            s.points.iter().copied().filter(|&(a, b)| shows(sx, a) && shows(sy, b)).collect();
        c.draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(err)?
            .label(s.name.as_str())
            .legend(move |(a, b)| {
                PathElement::new(vec![(a, b), (a + 20, b)], colour.stroke_width(2))
            });
    }
    if chart.series.iter().any(|s| !s.name.is_empty()) {
        draw_legend(&mut c, 12, legend)?;
    }
    Ok(())
}

/// The legend box's size as fractions of the plot in `area` (7 px a character beside a 20 px
/// line sample, 18 px a row; a little generous, so a line just outside still clears it).
fn legend_size<DB: DrawingBackend>(area: &Area<'_, DB>, chart: &LineChart) -> (f64, f64) {
    let (w, h) = area.dim_in_pixel();
    let chars = chart.series.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    let plot = ((w as f64 - 100.0).max(1.0), (h as f64 - 100.0).max(1.0));
    (
        ((chars as f64 * 7.0 + 50.0) / plot.0).min(0.6),
        ((chart.series.len() as f64 * 18.0 + 16.0) / plot.1).min(0.6),
    )
}

/// Where the legend goes: a corner no line crosses ([`legend_corner`]); if every corner is
/// crossed, the upper right with the y axis raised by the legend's height, so the lines pass
/// below it. Returns the position and the y range.
fn legend_plan(
    chart: &LineChart,
    [xr, yr]: [(f64, f64); 2],
    size: (f64, f64),
) -> (SeriesLabelPosition, (f64, f64)) {
    let (corner, hits) = legend_corner(chart, [xr, yr], size);
    if hits == 0 {
        return (corner, yr);
    }
    let (y0, y1) = yr;
    let grow = 1.0 / (1.0 - size.1);
    let y1 = match chart.scales[1] {
        Scale::Linear => y0 + (y1 - y0) * grow,
        Scale::Log => (y0.ln() + (y1.ln() - y0.ln()) * grow).exp(),
    };
    (SeriesLabelPosition::UpperRight, (y0, y1))
}

/// The corner of the plot whose legend-sized box (`size`, fractions of the plot's width and
/// height) the lines cross least, with the number of line samples inside it: upper right, upper
/// left, lower right, lower left, in that order of preference among equals. Each segment is
/// sampled, so a sparse line through a corner counts.
fn legend_corner(
    chart: &LineChart,
    ranges: [(f64, f64); 2],
    size: (f64, f64),
) -> (SeriesLabelPosition, usize) {
    let unit = |scale: Scale, (lo, hi): (f64, f64), v: f64| match scale {
        Scale::Linear => (v - lo) / (hi - lo),
        Scale::Log => (v.ln() - lo.ln()) / (hi.ln() - lo.ln()),
    };
    let [sx, sy] = chart.scales;
    let corners = [
        (SeriesLabelPosition::UpperRight, (1.0 - size.0, 1.0), (1.0 - size.1, 1.0)),
        (SeriesLabelPosition::UpperLeft, (0.0, size.0), (1.0 - size.1, 1.0)),
        (SeriesLabelPosition::LowerRight, (1.0 - size.0, 1.0), (0.0, size.1)),
        (SeriesLabelPosition::LowerLeft, (0.0, size.0), (0.0, size.1)),
    ];
    let mut hits = [0usize; 4];
    for s in &chart.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|&&(a, b)| shows(sx, a) && shows(sy, b))
            .map(|&(a, b)| (unit(sx, ranges[0], a), unit(sy, ranges[1], b)))
            .collect();
        let samples = pts.windows(2).flat_map(|p| {
            (0..20).map(move |k| {
                let f = k as f64 / 20.0;
                (p[0].0 + f * (p[1].0 - p[0].0), p[0].1 + f * (p[1].1 - p[0].1))
            })
        });
        for (x, y) in samples.chain(pts.last().copied()) {
            for (n, (_, (x0, x1), (y0, y1))) in hits.iter_mut().zip(&corners) {
                if (*x0..=*x1).contains(&x) && (*y0..=*y1).contains(&y) {
                    *n += 1;
                }
            }
        }
    }
    let best = (0..4).min_by_key(|&i| (hits[i], i)).expect("four corners");
    (corners[best].0.clone(), hits[best])
}

fn draw_lines<DB: DrawingBackend>(area: &Area<'_, DB>, chart: &LineChart) -> Result<(), String> {
    let [sx, sy] = chart.scales;
    let xr @ (x0, x1) = fit(sx, chart.shown().map(|p| p.0));
    let yr = fit(sy, chart.shown().map(|p| p.1));
    let (legend, yr @ (y0, y1)) = legend_plan(chart, [xr, yr], legend_size(area, chart));
    match (sx, sy) {
        (Scale::Linear, Scale::Linear) => lines_on(area, chart, (x0..x1, xr), (y0..y1, yr), legend),
        (Scale::Linear, Scale::Log) => {
            lines_on(area, chart, (x0..x1, xr), ((y0..y1).log_scale(), yr), legend)
        }
        (Scale::Log, Scale::Linear) => {
            lines_on(area, chart, ((x0..x1).log_scale(), xr), (y0..y1, yr), legend)
        }
        (Scale::Log, Scale::Log) => {
            lines_on(area, chart, ((x0..x1).log_scale(), xr), ((y0..y1).log_scale(), yr), legend)
        }
    }
}

fn draw_matrix<DB: DrawingBackend>(area: &Area<'_, DB>, m: &Matrix) -> Result<(), String> {
    let (nr, nc) = (m.rows.len().max(1), m.columns.len().max(1));
    // A segmented range 0..n has n + 1 segments (0 to n inclusive).
    let mut c = ChartBuilder::on(area)
        .caption(&m.title, (FONT, 15))
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(56)
        .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())
        .map_err(err)?;
    let name = |names: &[String], v: &SegmentValue<usize>, flip: bool| match v {
        SegmentValue::CenterOf(k) | SegmentValue::Exact(k) if *k < names.len() => {
            names[if flip { names.len() - 1 - k } else { *k }].clone()
        }
        _ => String::new(),
    };
    c.configure_mesh()
        .disable_mesh()
        .x_desc(m.x_label.as_str())
        .y_desc(m.y_label.as_str())
        .x_labels(nc)
        .y_labels(nr)
        .x_label_formatter(&|v| name(&m.columns, v, false))
        .y_label_formatter(&|v| name(&m.rows, v, true))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(err)?;
    for (r, row) in m.counts.iter().enumerate() {
        let total = row.iter().sum::<usize>().max(1) as f64;
        let y = nr - 1 - r;
        for (k, &n) in row.iter().enumerate().take(nc) {
            let f = n as f64 / total;
            let shade = RGBColor(
                (255.0 - f * (255.0 - 0x1f as f64)) as u8,
                (255.0 - f * (255.0 - 0x77 as f64)) as u8,
                (255.0 - f * (255.0 - 0xb4 as f64)) as u8,
            );
            let cell = [
                (SegmentValue::Exact(k), SegmentValue::Exact(y)),
                (SegmentValue::Exact(k + 1), SegmentValue::Exact(y + 1)),
            ];
            c.draw_series([Rectangle::new(cell, shade.filled())]).map_err(err)?;
            let ink = if f > 0.5 { WHITE } else { BLACK };
            let style = TextStyle::from((FONT, 11).into_font()).color(&ink).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ),
            );
            c.draw_series([Text::new(
                n.to_string(),
                (SegmentValue::CenterOf(k), SegmentValue::CenterOf(y)),
                style,
            )])
            .map_err(err)?;
        }
    }
    Ok(())
}

/// Per group, the fraction of its finite values in each of `bins` bins over `[lo, hi]`.
fn bin_fractions(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let width = (hi - lo) / bins as f64;
    for v in &finite {
        let k = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let n = finite.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / n).collect()
}

fn draw_histogram<DB: DrawingBackend>(area: &Area<'_, DB>, h: &Histogram) -> Result<(), String> {
    let bins = h.bins.max(1);
    let all = h.groups.iter().flat_map(|g| g.1.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = fit(Scale::Linear, all);
    let fractions: Vec<Vec<f64>> =
        h.groups.iter().map(|g| bin_fractions(&g.1, lo, hi, bins)).collect();
    let top = fractions.iter().flatten().fold(0.0f64, |a, &b| a.max(b)).max(1e-3) * 1.1;
    let mut c = ChartBuilder::on(area)
        .caption(&h.title, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(h.x_label.as_str())
        .y_desc("fraction of the group")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(err)?;
    let width = (hi - lo) / bins as f64;
    for (i, ((name, values), fr)) in h.groups.iter().zip(&fractions).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let n = values.iter().filter(|v| v.is_finite()).count();
        let bars = fr.iter().enumerate().filter(|(_, f)| **f > 0.0).map(|(k, f)| {
            let x = lo + k as f64 * width;
            Rectangle::new([(x, 0.0), (x + width, *f)], colour.mix(0.45).filled())
        });
        c.draw_series(bars).map_err(err)?.label(format!("{name} (n = {n})")).legend(
            move |(a, b)| Rectangle::new([(a, b - 5), (a + 16, b + 5)], colour.mix(0.45).filled()),
        );
    }
    draw_legend(&mut c, 12, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// Panels per row of a raster figure.
const RASTER_COLUMNS: usize = 4;

fn draw_raster_panel<DB: DrawingBackend>(
    area: &Area<'_, DB>,
    title: &str,
    x_label: &str,
    layers: &[LayerSpikes],
    (t0, t1): (f64, f64),
    legend: bool,
) -> Result<(), String> {
    let neurons: usize = layers.iter().map(|l| l.1.len()).sum();
    let mut c = ChartBuilder::on(area)
        .caption(title, (FONT, 14))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(t0..t1, -0.5..neurons.max(1) as f64 - 0.5)
        .map_err(err)?;
    let fx = tick_label(Scale::Linear, t0, t1);
    c.configure_mesh()
        .x_desc(x_label)
        .y_desc("neuron")
        .x_label_formatter(&fx)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 11))
        .axis_desc_style((FONT, 12))
        .light_line_style(RGBColor(0xf2, 0xf2, 0xf2))
        .draw()
        .map_err(err)?;
    let mut offset = 0usize;
    for (i, (name, times)) in layers.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let dots: Vec<(f64, f64)> = times
            .iter()
            .enumerate()
            .flat_map(|(k, ts)| {
                ts.iter().filter(|t| t.is_finite()).map(move |&t| (t, (offset + k) as f64))
            })
            .collect();
        let fired = times.iter().filter(|ts| ts.iter().any(|t| t.is_finite())).count();
        let series = c
            .draw_series(dots.into_iter().map(|p| Circle::new(p, 2, colour.filled())))
            .map_err(err)?;
        if legend {
            series
                .label(format!("{name} ({fired} of {} fired)", times.len()))
                .legend(move |(a, b)| Circle::new((a + 8, b), 3, colour.filled()));
        }
        offset += times.len();
    }
    if legend {
        draw_legend(&mut c, 11, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}

fn draw_raster<DB: DrawingBackend>(root: &Area<'_, DB>, r: &Raster) -> Result<(), String> {
    let all = r
        .samples
        .iter()
        .flat_map(|s| s.1.iter())
        .flat_map(|l| l.1.iter().flatten().copied())
        .filter(|t| t.is_finite());
    let (lo, hi) = fit(Scale::Linear, all);
    let (lo, hi) = (lo.min(0.0), hi);
    let body = root.titled(&r.title, (FONT, 18)).map_err(err)?;
    let cols = RASTER_COLUMNS.min(r.samples.len().max(1));
    let rows = r.samples.len().div_ceil(cols).max(1);
    for (k, (area, (title, layers))) in
        body.split_evenly((rows, cols)).iter().zip(&r.samples).enumerate()
    {
        draw_raster_panel(area, title, &r.x_label, layers, (lo, hi), k == 0)?;
    }
    Ok(())
}

impl Figure {
    /// Pixel size of the figure.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Figure::Lines(_) | Figure::Histogram(_) => (860, 480),
            Figure::Grid { panels, columns } => {
                let cols = (*columns).clamp(1, panels.len().max(1));
                let rows = panels.len().div_ceil(cols).max(1);
                (520 * cols as u32, 340 * rows as u32)
            }
            Figure::Matrix(m) => {
                let n = m.rows.len().max(m.columns.len()) as u32;
                (180 + 56 * n.max(8), 150 + 50 * n.max(6))
            }
            Figure::Raster(r) => {
                let cols = RASTER_COLUMNS.min(r.samples.len().max(1));
                let rows = r.samples.len().div_ceil(cols).max(1);
                (400 * cols as u32, 40 + 420 * rows as u32)
            }
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<'_, DB>) -> Result<(), String> {
        font()?;
        root.fill(&WHITE).map_err(err)?;
        match self {
            Figure::Lines(c) => draw_lines(root, c)?,
            Figure::Grid { panels, columns } => {
                let cols = (*columns).clamp(1, panels.len().max(1));
                let rows = panels.len().div_ceil(cols).max(1);
                for (area, panel) in root.split_evenly((rows, cols)).iter().zip(panels) {
                    draw_lines(area, panel)?;
                }
            }
            Figure::Matrix(m) => draw_matrix(root, m)?,
            Figure::Histogram(h) => draw_histogram(root, h)?,
            Figure::Raster(r) => draw_raster(root, r)?,
        }
        root.present().map_err(err)
    }

    /// The figure as an SVG document.
    ///
    /// # Errors
    /// A message from the plotting library.
    pub fn svg(&self) -> Result<String, String> {
        let mut s = String::new();
        {
            let root = SVGBackend::with_string(&mut s, self.size()).into_drawing_area();
            self.draw(&root)?;
        }
        Ok(s)
    }

    /// The figure as RGB pixels, row-major `[height, width, 3]`, with its size.
    ///
    /// # Errors
    /// A message from the plotting library.
    pub fn rgb(&self) -> Result<(u32, u32, Vec<u8>), String> {
        let (w, h) = self.size();
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            self.draw(&root)?;
        }
        Ok((w, h, buf))
    }

    /// Writes `stem.svg` and `stem.png` (atomically each).
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write(&self, stem: &Path) -> Result<(), IoError> {
        let svg_path = stem.with_extension("svg");
        let svg = self.svg().map_err(|e| IoError::format(&svg_path, e))?;
        super::write_atomic(&svg_path, svg.as_bytes())?;
        let png_path = stem.with_extension("png");
        let (w, h, px) = self.rgb().map_err(|e| IoError::format(&png_path, e))?;
        super::image::write_rgb_png(&png_path, w as usize, h as usize, &px)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, points: &[(f64, f64)]) -> Series {
        Series { name: name.into(), points: points.to_vec() }
    }

    /// The texts of an SVG document written by plotters (each on the line after its tag).
    fn texts(svg: &str) -> Vec<String> {
        let lines: Vec<&str> = svg.lines().collect();
        lines
            .windows(2)
            .filter(|w| w[0].starts_with("<text"))
            .map(|w| w[1].trim().to_string())
            .collect()
    }

    /// The point lists of the polylines stroked in colour `k` of the palette (a series' line,
    /// then its legend sample).
    fn lines_in(svg: &str, k: usize) -> Vec<usize> {
        let RGBColor(r, g, b) = COLOURS[k];
        let stroke = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\"");
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&stroke))
            .map(|l| {
                let points = l.split("points=\"").nth(1).unwrap();
                points.split('"').next().unwrap().split_whitespace().count()
            })
            .collect()
    }

    /// The legend goes to the corner the lines leave free: upper right by default, elsewhere
    /// when a line runs through it (a rising line through the upper right, the SAL chart's
    /// case; a sparse line counts by its segments, not only its points).
    #[test]
    fn the_legend_avoids_the_lines() {
        let pos = |series: Vec<Series>, scales: [Scale; 2]| {
            let chart = LineChart::new("t", "x", "y", scales, series);
            let [sx, sy] = chart.scales;
            let ranges = [fit(sx, chart.shown().map(|p| p.0)), fit(sy, chart.shown().map(|p| p.1))];
            format!("{:?}", legend_corner(&chart, ranges, (0.3, 0.3)).0)
        };
        let lin = [Scale::Linear, Scale::Linear];
        assert_eq!(pos(vec![series("flat", &[(0.0, 0.0), (1.0, 0.0)])], lin), "UpperRight");
        let rising = series("rising", &[(0.0, 0.0), (1.0, 1.0)]);
        assert_eq!(pos(vec![rising], lin), "UpperLeft");
        // Log axis: only 2 points, the segment passes through the upper right.
        let sparse = series("sparse", &[(0.0, 1e-4), (1.0, 1e-1)]);
        assert_eq!(pos(vec![sparse], [Scale::Linear, Scale::Log]), "UpperLeft");
        // Lines along the top: the legend goes below.
        let top = series("top", &[(0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]);
        let bottom_left = series("low", &[(0.0, 0.0), (0.2, 0.0)]);
        assert_eq!(pos(vec![top, bottom_left], lin), "LowerRight");
        // Every corner crossed (lines along the top and the bottom, full width): the y axis is
        // raised by the legend's height and the legend sits above the lines, free.
        let lines = vec![
            series("top", &[(0.0, 1.0), (1.0, 1.0)]),
            series("bottom", &[(0.0, 0.0), (1.0, 0.0)]),
        ];
        let chart = LineChart::linear("t", "x", "y", lines);
        let ranges = [
            fit(Scale::Linear, chart.shown().map(|p| p.0)),
            fit(Scale::Linear, chart.shown().map(|p| p.1)),
        ];
        assert!(legend_corner(&chart, ranges, (0.3, 0.3)).1 > 0);
        let (p, yr) = legend_plan(&chart, ranges, (0.3, 0.3));
        assert_eq!(format!("{p:?}"), "UpperRight");
        assert!(yr.1 > ranges[1].1 && yr.0 == ranges[1].0, "{yr:?}");
        assert_eq!(
            legend_corner(&chart, [ranges[0], yr], (0.3, 0.3)).1,
            0,
            "the raised top is free"
        );
    }

    /// A log–log chart: one line per series, the legend, title and axis labels as text, decade
    /// ticks covering the data; a point a log axis cannot show is left out.
    #[test]
    fn line_chart_svg_has_its_lines_and_labels() {
        let chart = LineChart::new(
            "D_KL against time",
            "model time (ms)",
            "D_KL",
            [Scale::Log, Scale::Log],
            vec![
                series("gibbs", &[(1e2, 1e-1), (1e4, 1e-3)]),
                series("lif", &[(1e3, 0.0), (1e4, 1e-2), (3e4, 2e-2)]),
            ],
        );
        let svg = Figure::Lines(chart).svg().unwrap();
        let texts = texts(&svg);
        for text in ["D_KL against time", "model time (ms)", "D_KL", "gibbs", "lif"] {
            assert!(texts.iter().any(|t| t == text), "{text} missing: {texts:?}");
        }
        // Decade ticks over the data (x 1e2..1e5 fitted from 1e2..3e4; y 1e-3..1e-1).
        for tick in ["100", "1000", "1e4", "1e5", "0.1", "0.01"] {
            assert!(texts.iter().any(|t| t == tick), "tick {tick} missing: {texts:?}");
        }
        // A line and a legend sample per series; the zero y value is dropped: lif's line has
        // two points.
        assert_eq!(lines_in(&svg, 0), vec![2, 2]);
        assert_eq!(lines_in(&svg, 1), vec![2, 2]);
        assert_eq!(fit(Scale::Log, [1.5e-3, 0.2].into_iter()), (1e-3, 1.0));
    }

    /// Linear axes pad the data a little; no data gives a unit range. Tick labels carry the
    /// decimals the range needs, small ranges in scientific notation, zero as 0.
    #[test]
    fn linear_axes_cover_the_data() {
        let small = tick_label(Scale::Linear, 0.0, 5e-5);
        assert_eq!((small(&0.0), small(&2e-5)), ("0".to_string(), "2.0e-5".to_string()));
        let unit = tick_label(Scale::Linear, 0.0, 1.0);
        assert_eq!((unit(&0.5), unit(&0.0)), ("0.5".to_string(), "0".to_string()));
        let log = tick_label(Scale::Log, 1e-4, 1e5);
        assert_eq!(
            (log(&0.1), log(&1000.0), log(&1e-4), log(&1e5)),
            ("0.1".into(), "1000".into(), "1e-4".into(), "1e5".into())
        );
        let (lo, hi) = fit(Scale::Linear, [0.0, 300.0].into_iter());
        assert!(lo < 0.0 && lo > -20.0 && hi > 300.0 && hi < 320.0, "{lo} {hi}");
        assert_eq!(fit(Scale::Linear, std::iter::empty()), (0.0, 1.0));
        let (lo, hi) = fit(Scale::Linear, [2.0, 2.0].into_iter());
        assert!(lo < 2.0 && hi > 2.0);
    }

    /// The PNG has the figure's size, is not blank, and its pixels are those `rgb` drew.
    #[test]
    fn png_round_trip() {
        let fig = Figure::Grid {
            panels: vec![
                LineChart::linear(
                    "loss",
                    "epoch",
                    "loss",
                    vec![series("train", &[(1.0, 2.0), (2.0, 1.0)])],
                ),
                LineChart::linear(
                    "accuracy",
                    "epoch",
                    "%",
                    vec![series("val", &[(1.0, 50.0), (2.0, 90.0)])],
                ),
                LineChart::linear("empty", "epoch", "", vec![]),
            ],
            columns: 2,
        };
        assert_eq!(fig.size(), (1040, 680));
        let dir = std::env::temp_dir().join(format!("spikeburn-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stem = dir.join("curves");
        fig.write(&stem).unwrap();
        let dec = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(stem.with_extension("png")).unwrap(),
        ));
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (1040, 680));
        let (_, _, px) = fig.rgb().unwrap();
        assert_eq!(&buf[..px.len()], &px[..]);
        let dark = px.chunks(3).filter(|p| p.iter().all(|&c| c < 100)).count();
        assert!(dark > 1000, "text and axes drawn: {dark} dark pixels");
        let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
        assert!(svg.contains("accuracy") && svg.contains("train"));
        std::fs::remove_dir_all(dir).ok();
    }

    /// A raster draws one dot per finite spike time and names each layer with how many of its
    /// neurons fired.
    #[test]
    fn raster_has_a_dot_per_spike() {
        let inf = f64::INFINITY;
        let layers = vec![
            ("input".to_string(), vec![vec![0.1], vec![inf], vec![0.4]]),
            ("hidden".to_string(), vec![vec![1.0], vec![1.5]]),
            ("output".to_string(), vec![vec![inf], vec![2.0]]),
        ];
        let r = Raster {
            title: "rasters".into(),
            x_label: "time".into(),
            samples: vec![("sample 0".into(), layers.clone()), ("sample 1".into(), layers)],
        };
        let fig = Figure::Raster(r);
        assert_eq!(fig.size(), (800, 460));
        let svg = fig.svg().unwrap();
        let t = texts(&svg);
        for want in
            ["rasters", "sample 0", "sample 1", "input (2 of 3 fired)", "output (1 of 2 fired)"]
        {
            assert!(t.iter().any(|x| x == want), "{want} missing: {t:?}");
        }
        // 5 spikes per sample, 2 samples, plus the 3 legend dots.
        assert_eq!(svg.matches("<circle").count(), 13, "{svg}");
    }

    /// A confusion matrix prints every count in its cell; histograms normalise per group.
    #[test]
    fn matrix_and_histogram() {
        let m = Matrix {
            title: "confusion".into(),
            x_label: "predicted".into(),
            y_label: "true".into(),
            rows: vec!["0".into(), "1".into()],
            columns: vec!["0".into(), "1".into(), "none".into()],
            counts: vec![vec![17, 3, 0], vec![5, 23, 2]],
        };
        let cells = texts(&Figure::Matrix(m).svg().unwrap());
        for n in ["17", "3", "5", "23", "2", "none", "predicted", "true"] {
            assert!(cells.iter().any(|t| t == n), "{n} missing: {cells:?}");
        }
        // Every cell prints its count, a zero too: "0" is the one zero cell and the two axes'
        // first class.
        assert_eq!(cells.iter().filter(|t| *t == "0").count(), 3, "{cells:?}");
        assert_eq!(
            bin_fractions(&[0.0, 0.1, 0.9, 1.0, f64::INFINITY], 0.0, 1.0, 2),
            vec![0.5, 0.5]
        );
        let h = Histogram {
            title: "t".into(),
            x_label: "time".into(),
            groups: vec![("correct".into(), vec![1.0, 1.1, 1.2]), ("wrong".into(), vec![])],
            bins: 10,
        };
        let legend = texts(&Figure::Histogram(h).svg().unwrap());
        assert!(legend.iter().any(|t| t == "correct (n = 3)"), "{legend:?}");
        assert!(legend.iter().any(|t| t == "wrong (n = 0)"), "{legend:?}");
    }
}
