//! The charts of a run folder, as SVG and PNG: the learning curves (every column of
//! `metrics.csv` against the epoch, a panel each; per-layer columns such as `angle_l1`,
//! `angle_l2` share one), the test split's confusion matrix, and its times to decision for
//! correct and wrong predictions. The test split's per-sample results go to `predictions.csv`,
//! so `spikeburn plot RUN_DIR` redraws every chart from the folder alone (for a `sample`
//! folder: D_KL against time and the learning curve, from `dkl.csv` and `learning.csv`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::io::plot::{Figure, Histogram, LineChart, Matrix, Raster, RasterSample, Series};
use crate::io::{IoError, RunDir, files};

use super::evaluation::Evaluation;
use super::robustness::{parse_robustness_csv, robustness_chart, robustness_title};
use crate::sampling::experiment::{DKL_CHART, LEARNING_CHART, dkl_chart, learning_chart};

/// A `robustness` run folder's table.
pub const ROBUSTNESS_CSV: &str = "robustness.csv";
/// The stem of its chart.
pub const ROBUSTNESS_CHART: &str = "robustness";

/// The file stems of the charts (each written as `.svg` and `.png`).
pub mod charts {
    /// Learning curves.
    pub const CURVES: &str = "learning-curves";
    /// Confusion matrix of the test split.
    pub const CONFUSION: &str = "confusion";
    /// Times to decision on the test split, correct against wrong.
    pub const DECISIONS: &str = "decision-times";
}

/// The most columns a table may have: a `metrics.csv` gets a chart panel per column.
pub const MAX_COLUMNS: usize = 256;

/// The most classes a `predictions.csv` may name: its confusion matrix is classes².
pub const MAX_CLASSES: usize = 1000;

/// A CSV table of numbers with a header row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows (an empty cell reads as NaN).
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// Parses CSV text whose first line names the columns and whose cells are numbers or
    /// empty.
    ///
    /// # Errors
    /// A message naming the line and the cell that is not a number, a row of another width, or
    /// a header of more than [`MAX_COLUMNS`] columns.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().ok_or("no header line")?;
        let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
        if columns.len() > MAX_COLUMNS {
            return Err(format!(
                "line 1: {} columns, more than the {MAX_COLUMNS} a table may have",
                columns.len()
            ));
        }
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != columns.len() {
                return Err(format!(
                    "line {}: {} cells, the header names {}",
                    i + 2,
                    cells.len(),
                    columns.len()
                ));
            }
            let row = cells
                .iter()
                .zip(&columns)
                .map(|(c, name)| {
                    let c = c.trim();
                    if c.is_empty() {
                        Ok(f64::NAN)
                    } else {
                        c.parse::<f64>()
                            .map_err(|_| format!("line {}: {name} = {c:?} is not a number", i + 2))
                    }
                })
                .collect::<Result<Vec<f64>, String>>()?;
            rows.push(row);
        }
        Ok(Self { columns, rows })
    }

    /// The values of column `name`, if present.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[k]).collect())
    }
}

/// `name` without a per-layer suffix `_l<digits>`, and the suffix.
fn layer_group(name: &str) -> (&str, Option<&str>) {
    if let Some(pos) = name.rfind("_l") {
        let digits = &name[pos + 2..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return (&name[..pos], Some(&name[pos + 1..]));
        }
    }
    (name, None)
}

/// The learning curves of a `metrics.csv` table: loss (train, validation), accuracy (%), then a
/// panel for every other column (per-layer columns grouped), all against the epoch. `None`
/// without an `epoch` column or without rows.
pub fn learning_curves(table: &Table, title: &str) -> Option<Figure> {
    let epochs = table.column("epoch")?;
    if epochs.is_empty() {
        return None;
    }
    let line = |name: &str, col: &str, scale: f64| {
        table.column(col).map(|v| Series {
            name: name.to_string(),
            points: epochs.iter().zip(v).map(|(&e, y)| (e, scale * y)).collect(),
        })
    };
    let mut panels = Vec::new();
    let loss: Vec<Series> = [line("train", "train_loss", 1.0), line("validation", "val_loss", 1.0)]
        .into_iter()
        .flatten()
        .collect();
    panels.push(LineChart::linear(&format!("{title}: loss"), "epoch", "loss", loss));
    let acc: Vec<Series> =
        [line("train", "train_accuracy", 100.0), line("validation", "val_accuracy", 100.0)]
            .into_iter()
            .flatten()
            .collect();
    panels.push(LineChart::linear("accuracy", "epoch", "accuracy (%)", acc));
    let shown = ["epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy"];
    let mut groups: Vec<(String, Vec<Series>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for col in table.columns.iter().filter(|c| !shown.contains(&c.as_str())) {
        let (group, layer) = layer_group(col);
        let label = if col == "seconds" { "seconds per epoch" } else { group };
        let k = *index.entry(label.to_string()).or_insert_with(|| {
            groups.push((label.to_string(), Vec::new()));
            groups.len() - 1
        });
        if let Some(s) = line(&layer.map_or(String::new(), |_| col.replace('_', " ")), col, 1.0) {
            groups[k].1.push(s);
        }
    }
    for (name, series) in groups {
        let pretty = name.replace('_', " ");
        panels.push(LineChart::linear(&pretty, "epoch", &pretty, series));
    }
    Some(Figure::Grid { panels, columns: 3 })
}

/// The confusion matrix of `eval` on samples labelled `labels`: rows the true class, columns
/// the prediction, and a last column `none` for samples without one.
pub fn confusion(eval: &Evaluation, labels: &[usize], classes: usize, title: &str) -> Figure {
    let mut counts = vec![vec![0usize; classes + 1]; classes];
    for (p, &l) in eval.predictions.iter().zip(labels) {
        if l < classes {
            counts[l][p.filter(|&k| k < classes).unwrap_or(classes)] += 1;
        }
    }
    let names: Vec<String> = (0..classes).map(|k| k.to_string()).collect();
    let mut columns = names.clone();
    columns.push("none".into());
    let correct: usize = (0..classes).map(|k| counts[k][k]).sum();
    let n = labels.len().max(1);
    Figure::Matrix(Matrix {
        title: format!(
            "{title}: test confusion ({:.2} % of {} correct)",
            100.0 * correct as f64 / n as f64,
            labels.len()
        ),
        x_label: "predicted class".into(),
        y_label: "true class".into(),
        rows: names,
        columns,
        counts,
    })
}

/// Times to decision of `eval`'s samples, correct against wrong predictions. `None` when no
/// sample has one (a method that simulates no time).
pub fn decision_times(eval: &Evaluation, labels: &[usize], title: &str) -> Option<Figure> {
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for ((p, t), &l) in eval.predictions.iter().zip(&eval.decision_times).zip(labels) {
        if let (Some(p), Some(t)) = (p, t) {
            if *p == l { right.push(*t) } else { wrong.push(*t) }
        }
    }
    if right.is_empty() && wrong.is_empty() {
        return None;
    }
    Some(Figure::Histogram(Histogram {
        title: format!("{title}: time to decision on the test split"),
        x_label: "time to decision (model time units)".into(),
        groups: vec![("correct".into(), right), ("wrong".into(), wrong)],
        bins: 40,
    }))
}

/// Test samples drawn in a run folder's spike raster.
pub const RASTER_SAMPLES: usize = 8;

/// The stem of the spike-raster chart.
pub const RASTER: &str = "raster";

/// The name of layer `l` of `n` (the input counted as layer 0): `input`, `hidden k`, `output`.
pub fn layer_name(l: usize, n: usize) -> String {
    match l {
        0 => "input".into(),
        l if l + 1 == n => "output".into(),
        l => format!("hidden {l}"),
    }
}

/// Writes `raster.svg`/`.png` of `samples` (panel title, per layer its name and each neuron's
/// spike times) and returns the console line naming it.
///
/// # Errors
/// [`IoError`] naming the file.
pub fn write_raster(
    run: &RunDir,
    title: &str,
    x_label: &str,
    samples: Vec<RasterSample>,
) -> Result<Vec<String>, IoError> {
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let n = samples.len();
    let fig = Figure::Raster(Raster {
        title: format!("{title}: spikes of {n} test samples through every layer"),
        x_label: x_label.into(),
        samples,
    });
    fig.write(&run.file(RASTER))?;
    Ok(vec![format!("spike raster of {n} test samples: {RASTER}.svg, {RASTER}.png")])
}

/// `predictions.csv`: per test sample its label, prediction (empty: none) and time to decision
/// (empty: none).
pub fn predictions_csv(eval: &Evaluation, labels: &[usize]) -> String {
    let mut csv = String::from("sample,label,prediction,decision_time\n");
    for (i, ((p, t), l)) in
        eval.predictions.iter().zip(&eval.decision_times).zip(labels).enumerate()
    {
        let p = p.map_or(String::new(), |p| p.to_string());
        let t = t.map_or(String::new(), |t| t.to_string());
        writeln!(csv, "{i},{l},{p},{t}").expect("write to string");
    }
    csv
}

/// An evaluation's per-sample results read back from a `predictions.csv` table, with the
/// labels.
///
/// # Errors
/// A message naming the missing column or the bad value.
pub fn from_predictions(table: &Table) -> Result<(Evaluation, Vec<usize>), String> {
    let col = |n: &str| table.column(n).ok_or(format!("no column {n}"));
    let (labels, predictions, times) = (col("label")?, col("prediction")?, col("decision_time")?);
    let class = |v: f64, what: &str| {
        if v >= 0.0 && v.fract() == 0.0 && v < MAX_CLASSES as f64 {
            Ok(v as usize)
        } else {
            Err(format!("{what} {v} is not a class index (0 to {})", MAX_CLASSES - 1))
        }
    };
    let labels = labels.iter().map(|&v| class(v, "label")).collect::<Result<Vec<_>, _>>()?;
    let predictions = predictions
        .iter()
        .map(|&v| if v.is_nan() { Ok(None) } else { class(v, "prediction").map(Some) })
        .collect::<Result<Vec<_>, _>>()?;
    let decision_times = times.iter().map(|&t| t.is_finite().then_some(t)).collect();
    let correct = predictions.iter().zip(&labels).filter(|(p, l)| **p == Some(**l)).count();
    let eval = Evaluation {
        accuracy: correct as f64 / labels.len().max(1) as f64,
        predictions,
        decision_times,
        ..Evaluation::default()
    };
    Ok((eval, labels))
}

/// Writes the learning curves of `metrics` (the text of `metrics.csv`) and, given a test
/// evaluation with its labels, `predictions.csv`, the confusion matrix and the decision times
/// into `run`. Returns the chart files written (stems; each `.svg` and `.png`).
///
/// # Errors
/// [`IoError`] naming the file.
pub fn write_run_plots(
    run: &RunDir,
    title: &str,
    metrics: Option<&str>,
    test: Option<(&Evaluation, &[usize], usize)>,
) -> Result<Vec<String>, IoError> {
    let test = test.filter(|(e, l, _)| e.predictions.len() == l.len() && !l.is_empty());
    if let Some((eval, labels, _)) = test {
        run.write(files::PREDICTIONS, &predictions_csv(eval, labels))?;
    }
    draw_training_charts(run, title, metrics, test)
}

/// Draws the learning curves of `metrics` and the test split's charts into `run`.
fn draw_training_charts(
    run: &RunDir,
    title: &str,
    metrics: Option<&str>,
    test: Option<(&Evaluation, &[usize], usize)>,
) -> Result<Vec<String>, IoError> {
    let mut written = Vec::new();
    if let Some(text) = metrics {
        let table =
            Table::parse(text).map_err(|e| IoError::format(&run.file(files::METRICS), e))?;
        if let Some(fig) = learning_curves(&table, title) {
            fig.write(&run.file(charts::CURVES))?;
            written.push(charts::CURVES.to_string());
        }
    }
    if let Some((eval, labels, classes)) = test {
        confusion(eval, labels, classes, title).write(&run.file(charts::CONFUSION))?;
        written.push(charts::CONFUSION.to_string());
        if let Some(fig) = decision_times(eval, labels, title) {
            fig.write(&run.file(charts::DECISIONS))?;
            written.push(charts::DECISIONS.to_string());
        }
    }
    Ok(written)
}

/// Redraws every chart of an existing run folder from its `metrics.csv` and
/// `predictions.csv` (either may be absent); `classes` is read from the labels and
/// predictions. Returns the charts written.
///
/// # Errors
/// [`IoError`] naming the file that is unreadable or malformed, or a folder holding neither.
pub fn replot(dir: &Path) -> Result<Vec<String>, IoError> {
    let run = RunDir { path: dir.to_path_buf() };
    let read = |name: &str| -> Result<Option<String>, IoError> {
        let p = run.file(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(IoError::os(&p, e)),
        }
    };
    let metrics = read(files::METRICS)?;
    let predictions = read(files::PREDICTIONS)?;
    let (dkl, learning) = (read("dkl.csv")?, read("learning.csv")?);
    let robustness = read(ROBUSTNESS_CSV)?;
    if metrics.is_none() && predictions.is_none() && dkl.is_none() && robustness.is_none() {
        return Err(IoError::format(
            dir,
            format!(
                "no {}, {}, dkl.csv or {ROBUSTNESS_CSV} to plot: not a run folder",
                files::METRICS,
                files::PREDICTIONS
            ),
        ));
    }
    let summary =
        read(files::SUMMARY)?.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    // The network's name from the summary or the config, else the folder's.
    let from_config = read(files::CONFIG)?
        .and_then(|t| toml::from_str::<toml::Value>(&t).ok())
        .and_then(|v| v.get("name").and_then(|n| n.as_str().map(str::to_string)));
    let named =
        summary.as_ref().and_then(|v| v["name"].as_str().map(str::to_string)).or(from_config);
    let title = named.unwrap_or_else(|| {
        dir.file_name().map_or("run".into(), |n| n.to_string_lossy().to_string())
    });
    let test = match &predictions {
        Some(text) => {
            let path = run.file(files::PREDICTIONS);
            let table = Table::parse(text).map_err(|e| IoError::format(&path, e))?;
            Some(from_predictions(&table).map_err(|e| IoError::format(&path, e))?)
        }
        None => None,
    };
    let classes = test.as_ref().map_or(0, |(e, l)| {
        let top = e.predictions.iter().flatten().chain(l.iter()).max().copied().unwrap_or(0);
        top + 1
    });
    let test = test.as_ref().map(|(e, l)| (e, &l[..], classes));
    let mut written = draw_training_charts(&run, &title, metrics.as_deref(), test)?;
    // A `sample` folder: D_KL against time, and the learning curve when it learned.
    let pairs = |name: &str, text: &str| -> Result<Vec<(f64, f64)>, IoError> {
        let path = run.file(name);
        let t = Table::parse(text).map_err(|e| IoError::format(&path, e))?;
        if t.columns.len() != 2 {
            return Err(IoError::format(&path, format!("{} columns, expected 2", t.columns.len())));
        }
        Ok(t.rows.iter().map(|r| (r[0], r[1])).collect())
    };
    if let Some(text) = &dkl {
        let sampler = summary.as_ref().and_then(|v| v["sampler"].as_str()).unwrap_or("sampler");
        dkl_chart(&title, sampler, pairs("dkl.csv", text)?).write(&run.file(DKL_CHART))?;
        written.push(DKL_CHART.to_string());
    }
    if let Some(text) = &learning {
        learning_chart(&title, pairs("learning.csv", text)?).write(&run.file(LEARNING_CHART))?;
        written.push(LEARNING_CHART.to_string());
    }
    // A `robustness` folder: accuracy against the effect's level.
    if let Some(text) = &robustness {
        let path = run.file(ROBUSTNESS_CSV);
        let (effect, points) = parse_robustness_csv(text).map_err(|e| IoError::format(&path, e))?;
        let chips = points.first().map_or(0, |p| p.open_loop.len());
        let chart = robustness_chart(effect, &robustness_title(&title, effect, chips), &points);
        chart.write(&run.file(ROBUSTNESS_CHART))?;
        written.push(ROBUSTNESS_CHART.to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = "epoch,learning_rate,train_loss,train_accuracy,val_loss,val_accuracy,\
bumps,clipped_fraction,angle_l1,angle_l2,norm_ratio_l1,seconds
1,0.005,1.05,0.62,0.98,0.73,0,0,80,85,1,0.1
2,0.005,0.90,0.78,0.81,0.82,2,0,60,70,,0.1
";

    #[test]
    fn tables_parse_and_name_bad_cells() {
        let t = Table::parse(METRICS).unwrap();
        assert_eq!(t.columns.len(), 12);
        assert_eq!(t.column("val_accuracy").unwrap(), vec![0.73, 0.82]);
        assert!(t.column("norm_ratio_l1").unwrap()[1].is_nan());
        let e = Table::parse("epoch,loss\n1,x\n").unwrap_err();
        assert_eq!(e, "line 2: loss = \"x\" is not a number");
        let e = Table::parse("epoch,loss\n1\n").unwrap_err();
        assert!(e.contains("1 cells"), "{e}");
        assert!(Table::parse("").is_err());
        // A header that would make thousands of chart panels is refused.
        let wide = (0..300).map(|k| format!("c{k}")).collect::<Vec<_>>().join(",");
        let e = Table::parse(&wide).unwrap_err();
        assert_eq!(e, "line 1: 300 columns, more than the 256 a table may have");
    }

    /// Loss, accuracy, then one panel per other column, per-layer columns sharing a panel
    /// with a line per layer.
    #[test]
    fn learning_curves_group_layer_columns() {
        let t = Table::parse(METRICS).unwrap();
        let Some(Figure::Grid { panels, .. }) = learning_curves(&t, "run") else {
            panic!("a grid")
        };
        let titles: Vec<&str> = panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "run: loss",
                "accuracy",
                "learning rate",
                "bumps",
                "clipped fraction",
                "angle",
                "norm ratio",
                "seconds per epoch"
            ]
        );
        let angle = &panels[5];
        assert_eq!(angle.series.len(), 2);
        assert_eq!(angle.series[1].name, "angle l2");
        assert_eq!(angle.series[1].points, vec![(1.0, 85.0), (2.0, 70.0)]);
        assert_eq!(panels[1].series[1].points, vec![(1.0, 73.0), (2.0, 82.0)]);
        assert!(learning_curves(&Table::parse("epoch,x\n").unwrap(), "r").is_none());
    }

    fn eval(predictions: Vec<Option<usize>>, times: Vec<Option<f64>>) -> Evaluation {
        Evaluation { predictions, decision_times: times, ..Evaluation::default() }
    }

    #[test]
    fn confusion_counts_every_sample_once() {
        let e = eval(vec![Some(0), Some(1), None, Some(1), Some(2)], vec![None; 5]);
        let Figure::Matrix(m) = confusion(&e, &[0, 0, 1, 1, 2], 3, "r") else { panic!() };
        assert_eq!(m.counts, vec![vec![1, 1, 0, 0], vec![0, 1, 0, 1], vec![0, 0, 1, 0]]);
        assert!(m.title.contains("60.00 % of 5"), "{}", m.title);
        assert!(decision_times(&e, &[0, 0, 1, 1, 2], "r").is_none(), "no times, no chart");
    }

    /// predictions.csv round-trips, and the decision-time histogram splits correct and wrong.
    #[test]
    fn predictions_round_trip() {
        let e = eval(vec![Some(0), Some(1), None], vec![Some(1.5), Some(2.25), None]);
        let labels = [0, 0, 1];
        let csv = predictions_csv(&e, &labels);
        assert_eq!(csv, "sample,label,prediction,decision_time\n0,0,0,1.5\n1,0,1,2.25\n2,1,,\n");
        let (back, l) = from_predictions(&Table::parse(&csv).unwrap()).unwrap();
        assert_eq!(l, labels);
        assert_eq!(back.predictions, e.predictions);
        assert_eq!(back.decision_times, e.decision_times);
        assert!((back.accuracy - 1.0 / 3.0).abs() < 1e-12);
        let Some(Figure::Histogram(h)) = decision_times(&e, &labels, "r") else { panic!() };
        assert_eq!(h.groups[0].1, vec![1.5]);
        assert_eq!(h.groups[1].1, vec![2.25]);
        let bad = Table::parse("sample,label,prediction,decision_time\n0,1.5,0,\n").unwrap();
        assert!(from_predictions(&bad).unwrap_err().contains("label 1.5"));
        // A class index that would make a matrix of 10¹⁸ cells is refused, not allocated.
        let huge = Table::parse("sample,label,prediction,decision_time\n0,0,999999999,\n").unwrap();
        let e = from_predictions(&huge).unwrap_err();
        assert_eq!(e, "prediction 999999999 is not a class index (0 to 999)");
    }
}
