//! The experiment's plots, each drawn twice with plotters, as PNG (for
//! reports and viewers) and SVG (for papers), and readable on its own: a
//! title that says what question it answers, axis labels with units, a
//! legend, 95 % intervals as error bars and the required error as a dashed
//! line. Every file is written atomically.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::element::ErrorBarOrientV;
use plotters::prelude::*;

use crate::report::{ReportError, encode_png, register_font, write_atomic};
use crate::scoring::MeanInterval;

/// One means (a camera configuration or a sensor) as a point: its position
/// on the x axis (intrusiveness score or cost) and its error.
#[derive(Debug, Clone, PartialEq)]
pub struct MeansPoint {
    /// Short label drawn beside the point.
    pub label: String,
    /// Cameras and sensors are drawn apart.
    pub camera: bool,
    /// Position on the x axis.
    pub x: f64,
    /// Error over seeds (a fraction).
    pub error: MeanInterval,
    /// On the Pareto frontier: joined by the frontier line.
    pub frontier: bool,
}

/// One curve of estimates against a numeric setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// Drawn solid for cameras, dashed markers for sensors.
    pub camera: bool,
    /// (x, error) pairs, in x order.
    pub points: Vec<(f64, MeanInterval)>,
}

/// The words on a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotText<'a> {
    /// The question the plot answers.
    pub title: &'a str,
    /// X axis, with its unit.
    pub x_desc: &'a str,
    /// Y axis, with its unit.
    pub y_desc: &'a str,
}

/// Size of every plot, pixels.
const SIZE: (u32, u32) = (1100, 700);
const CAMERA: RGBColor = RGBColor(31, 119, 180);
const SENSOR: RGBColor = RGBColor(214, 110, 20);
const FRONTIER: RGBColor = RGBColor(44, 160, 44);
const REQUIRED: RGBColor = RGBColor(200, 30, 30);
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 110, 20),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
];

/// Utility against intrusiveness: one point per means, cameras and sensors
/// apart, the Pareto frontier joined, the required error as a dashed line.
/// Writes `stem.png` and `stem.svg` and returns both paths.
pub fn frontier(
    stem: &Path,
    text: &PlotText,
    points: &[MeansPoint],
    required: Option<f64>,
    font: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let fig = Scatter::new(stem, text, points, required, true)?;
    render(stem, font, &Figure::Scatter(fig))
}

/// Error against cost (EUR): like [`frontier`], without the frontier line.
pub fn cost(
    stem: &Path,
    text: &PlotText,
    points: &[MeansPoint],
    required: Option<f64>,
    font: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let fig = Scatter::new(stem, text, points, required, false)?;
    render(stem, font, &Figure::Scatter(fig))
}

/// Error against a numeric setting (interval start, resolution, frame
/// rate): one line with error bars per curve, on a linear axis.
pub fn curves(
    stem: &Path,
    text: &PlotText,
    curves: &[Curve],
    required: Option<f64>,
    font: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let finite = |x: f64, e: &MeanInterval| x.is_finite() && e.mean.is_finite();
    let curves: Vec<Curve> = curves
        .iter()
        .map(|c| Curve { points: c.points.iter().copied().filter(|(x, e)| finite(*x, e)).collect(), ..c.clone() })
        .filter(|c| !c.points.is_empty())
        .collect();
    if curves.is_empty() {
        return Err(no_data(stem));
    }
    let xs: Vec<f64> = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)).collect();
    let ys: Vec<&MeanInterval> = curves.iter().flat_map(|c| c.points.iter().map(|p| &p.1)).collect();
    let fig = Lines { text: *text, y_max: y_top(&ys, required), x: span(&xs), curves, required };
    render(stem, font, &Figure::Lines(fig))
}

/// A plot, ready to draw on any backend.
enum Figure<'a> {
    Scatter(Scatter<'a>),
    Lines(Lines<'a>),
}

impl Figure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let text = match self {
            Self::Scatter(s) => s.text,
            Self::Lines(l) => l.text,
        };
        let area = area.titled(text.title, ("sans-serif", 22)).map_err(|e| e.to_string())?;
        match self {
            Self::Scatter(s) => s.draw(&area),
            Self::Lines(l) => l.draw(&area),
        }
    }
}

struct Lines<'a> {
    text: PlotText<'a>,
    y_max: f64,
    x: (f64, f64),
    curves: Vec<Curve>,
    required: Option<f64>,
}

impl Lines<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (lo, hi) = self.x;
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, 0f64..self.y_max)
            .map_err(|e| e.to_string())?;
        mesh(&mut chart, &self.text)?;
        self.series(&mut chart)?;
        legend(&mut chart)
    }

    fn series<'a, X: Ranged<ValueType = f64>, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    ) -> Result<(), String> {
        required_line(chart, self.required, self.x)?;
        for (k, c) in self.curves.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(c.points.iter().map(|(x, e)| (*x, e.mean)), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(format!("{} ({})", c.label, if c.camera { "camera" } else { "sensor" }))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart.draw_series(c.points.iter().map(|(x, e)| error_bar(*x, e, color))).map_err(|e| e.to_string())?;
            if c.camera {
                chart
                    .draw_series(c.points.iter().map(|(x, e)| Circle::new((*x, e.mean), 4, color.filled())))
                    .map_err(|e| e.to_string())?;
            } else {
                chart
                    .draw_series(c.points.iter().map(|(x, e)| TriangleMarker::new((*x, e.mean), 6, color.filled())))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

struct Scatter<'a> {
    text: PlotText<'a>,
    y_max: f64,
    x: (f64, f64),
    points: Vec<MeansPoint>,
    /// Frontier points in x order (empty when no frontier is drawn).
    front: Vec<MeansPoint>,
    required: Option<f64>,
}

impl<'a> Scatter<'a> {
    fn new(
        stem: &Path,
        text: &PlotText<'a>,
        points: &[MeansPoint],
        required: Option<f64>,
        with_frontier: bool,
    ) -> Result<Self, ReportError> {
        let points: Vec<MeansPoint> =
            points.iter().filter(|p| p.x.is_finite() && p.error.mean.is_finite()).cloned().collect();
        if points.is_empty() {
            return Err(no_data(stem));
        }
        let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
        let ys: Vec<&MeanInterval> = points.iter().map(|p| &p.error).collect();
        let y_max = y_top(&ys, required);
        let mut front: Vec<MeansPoint> = points.iter().filter(|p| with_frontier && p.frontier).cloned().collect();
        front.sort_by(|a, b| a.x.total_cmp(&b.x));
        // Room on the right for the labels beside the points.
        let (lo, hi) = span(&xs);
        Ok(Self { text: *text, y_max, x: (lo, hi + (hi - lo) * 0.12), points, front, required })
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (lo, hi) = self.x;
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, 0f64..self.y_max)
            .map_err(|e| e.to_string())?;
        mesh(&mut chart, &self.text)?;
        required_line(&mut chart, self.required, self.x)?;
        if let Some(last) = self.front.last() {
            // A step line: the best error reachable at each level of intrusion.
            let mut path = Vec::new();
            for (k, p) in self.front.iter().enumerate() {
                if k > 0 {
                    path.push((p.x, self.front[k - 1].error.mean));
                }
                path.push((p.x, p.error.mean));
            }
            path.push((hi, last.error.mean));
            chart
                .draw_series(std::iter::once(PathElement::new(path, FRONTIER.stroke_width(3))))
                .map_err(|e| e.to_string())?
                .label("Pareto frontier (nothing is better on both axes)")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], FRONTIER.stroke_width(3)));
        }
        let mut placed: Vec<(f64, f64)> = Vec::new();
        for camera in [true, false] {
            let of: Vec<&MeansPoint> = self.points.iter().filter(|p| p.camera == camera).collect();
            if of.is_empty() {
                continue;
            }
            let color = if camera { CAMERA } else { SENSOR };
            chart.draw_series(of.iter().map(|p| error_bar(p.x, &p.error, color))).map_err(|e| e.to_string())?;
            if camera {
                chart
                    .draw_series(of.iter().map(|p| Circle::new((p.x, p.error.mean), 6, color.filled())))
                    .map_err(|e| e.to_string())?
                    .label("camera configurations")
                    .legend(move |(x, y)| Circle::new((x + 6, y), 6, color.filled()));
            } else {
                chart
                    .draw_series(of.iter().map(|p| TriangleMarker::new((p.x, p.error.mean), 8, color.filled())))
                    .map_err(|e| e.to_string())?
                    .label("sensors")
                    .legend(move |(x, y)| TriangleMarker::new((x + 6, y), 8, color.filled()));
            }
            // Labels beside the points; one that would overlap another is
            // moved to the nearest free row inside the plot, up or down,
            // with a thin line back to its point.
            let (dx, dy) = ((hi - lo) / 80.0, self.y_max / 30.0);
            for p in &of {
                let y = label_row(p.x, p.error.mean, &placed, (dx * 12.0, dy), (dy * 0.5, self.y_max - dy));
                placed.push((p.x, y));
                if (y - p.error.mean).abs() > dy * 0.5 {
                    let lead = vec![(p.x, p.error.mean), (p.x + dx, y)];
                    chart
                        .draw_series(std::iter::once(PathElement::new(lead, color.mix(0.5).stroke_width(1))))
                        .map_err(|e| e.to_string())?;
                }
                let style = ("sans-serif", 13).into_font().color(&color);
                chart
                    .draw_series(std::iter::once(Text::new(p.label.clone(), (p.x + dx, y), style)))
                    .map_err(|e| e.to_string())?;
            }
        }
        legend(&mut chart)
    }
}

/// The row for a point's label: its own height if no placed label is
/// within `gap` (across, up or down), else the nearest free row a label
/// height up or down, alternately, kept within `bounds` so that no label
/// leaves the plot. Rows are tried as far as the plot goes; if none is
/// free the label keeps its own height.
fn label_row(x: f64, y: f64, placed: &[(f64, f64)], gap: (f64, f64), bounds: (f64, f64)) -> f64 {
    // Rows a whole label height apart do not overlap (rounding aside).
    let free =
        |row: f64| !placed.iter().any(|(px, py)| (px - x).abs() < gap.0 && (py - row).abs() < gap.1 * (1.0 - 1e-6));
    let start = y.clamp(bounds.0, bounds.1);
    if gap.1 <= 0.0 || !gap.1.is_finite() {
        return start;
    }
    let steps = ((bounds.1 - bounds.0) / gap.1).ceil() as i64 + 1;
    for k in 0..=steps {
        for row in [start + k as f64 * gap.1, start - k as f64 * gap.1] {
            if (bounds.0..=bounds.1).contains(&row) && free(row) {
                return row;
            }
        }
    }
    start
}

fn no_data(stem: &Path) -> ReportError {
    ReportError::Plot { path: stem.to_path_buf(), message: "no data to plot (no finite point)".into() }
}

/// The top of the y axis: above every interval and the required error.
fn y_top(ys: &[&MeanInterval], required: Option<f64>) -> f64 {
    let top = ys.iter().map(|e| e.high.max(e.mean)).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    (top.max(required.unwrap_or(0.0)) * 1.15).max(0.05)
}

/// X range with a margin.
fn span(xs: &[f64]) -> (f64, f64) {
    let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let pad = ((hi - lo) * 0.08).max(if hi.abs() > 1.0 { hi.abs() * 0.1 } else { 0.5 });
    (lo - pad, hi + pad)
}

type RangedCoordf64 = plotters::coord::types::RangedCoordf64;

fn mesh<'a, X: Ranged<ValueType = f64> + ValueFormatter<f64>, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    text: &PlotText,
) -> Result<(), String> {
    chart
        .configure_mesh()
        .x_desc(text.x_desc)
        .y_desc(text.y_desc)
        .y_label_formatter(&|v| format!("{:.0} %", v * 100.0))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(|e| e.to_string())
}

fn legend<'a, X: Ranged<ValueType = f64>, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| e.to_string())
}

/// The required error as a dashed horizontal line across `x`.
fn required_line<'a, X: Ranged<ValueType = f64>, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    required: Option<f64>,
    x: (f64, f64),
) -> Result<(), String> {
    let Some(r) = required.filter(|r| r.is_finite()) else { return Ok(()) };
    let n = 80;
    let at = |k: u32| x.0 + (x.1 - x.0) * f64::from(k) / f64::from(n);
    let dashes =
        (0..n).step_by(2).map(move |k| PathElement::new(vec![(at(k), r), (at(k + 1), r)], REQUIRED.stroke_width(2)));
    chart
        .draw_series(dashes)
        .map_err(|e| e.to_string())?
        .label(format!("required error ({:.0} %)", r * 100.0))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], REQUIRED.stroke_width(2)));
    Ok(())
}

fn error_bar(x: f64, e: &MeanInterval, color: RGBColor) -> ErrorBar<f64, f64, ErrorBarOrientV<f64, f64>> {
    ErrorBar::new_vertical(x, e.low.max(0.0), e.mean, e.high.max(e.mean), color.stroke_width(1), 8)
}

/// Draws the figure into a PNG buffer and an SVG string, then writes
/// `stem.png` and `stem.svg` atomically.
fn render(stem: &Path, font: &Path, fig: &Figure) -> Result<Vec<PathBuf>, ReportError> {
    register_font(font)?;
    let png_path = stem.with_extension("png");
    let svg_path = stem.with_extension("svg");
    let perr = |path: &Path, message: String| ReportError::Plot { path: path.to_path_buf(), message };
    let (w, h) = SIZE;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|m| perr(&png_path, m))?;
        root.present().map_err(|e| perr(&png_path, e.to_string()))?;
    }
    let mut png = Vec::new();
    encode_png(&mut png, w, h, &buf).map_err(|m| perr(&png_path, m))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|m| perr(&svg_path, m))?;
        root.present().map_err(|e| perr(&svg_path, e.to_string()))?;
    }
    write_atomic(&png_path, &png).map_err(|cause| ReportError::Io { path: png_path.clone(), cause })?;
    write_atomic(&svg_path, svg.as_bytes()).map_err(|cause| ReportError::Io { path: svg_path.clone(), cause })?;
    Ok(vec![png_path, svg_path])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::DEFAULT_FONT;

    fn est(mean: f64) -> MeanInterval {
        MeanInterval { n: 3, mean, low: mean - 0.02, high: mean + 0.03 }
    }

    fn points() -> Vec<MeansPoint> {
        vec![
            MeansPoint { label: "infrared ir-1".into(), camera: false, x: 0.2, error: est(0.18), frontier: true },
            MeansPoint { label: "pole · native".into(), camera: true, x: 2.4, error: est(0.12), frontier: true },
            MeansPoint { label: "pole · 160x120".into(), camera: true, x: 2.1, error: est(0.6), frontier: false },
        ]
    }

    const TEXT: PlotText = PlotText { title: "Which means meets it?", x_desc: "intrusiveness", y_desc: "error (%)" };

    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn crowded_labels_take_the_nearest_free_rows_and_stay_in_the_plot() {
        let (gap, bounds) = ((1.0, 0.05), (0.025, 0.95));
        // Thirteen points stacked near 10 %, as the frontier of an
        // experiment with many camera settings at one level: every label
        // gets its own row, all inside the plot, the nearest first.
        let mut placed: Vec<(f64, f64)> = Vec::new();
        for k in 0..13 {
            let row = label_row(2.0 + 0.01 * f64::from(k), 0.1, &placed, gap, bounds);
            assert!((bounds.0..=bounds.1).contains(&row), "label {k} at {row}");
            assert!(placed.iter().all(|(_, y)| (y - row).abs() >= 0.05 - 1e-9), "label {k} at {row} over {placed:?}");
            placed.push((2.0, row));
        }
        let near = |k: usize, want: f64| (placed[k].1 - want).abs() < 1e-9;
        assert!(near(0, 0.1) && near(1, 0.15) && near(2, 0.05) && near(3, 0.2), "{placed:?}");
        // A point far across the plot keeps its own height.
        assert!((label_row(8.0, 0.1, &placed, gap, bounds) - 0.1).abs() < 1e-9);
    }

    #[test]
    fn frontier_writes_a_png_and_an_svg_that_say_what_they_show() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let stem = dir.path().join("frontier");
        let written = frontier(&stem, &TEXT, &points(), Some(0.15), Path::new(DEFAULT_FONT))?;
        assert_eq!(written.len(), 2);
        assert_eq!(files(dir.path()), ["frontier.png", "frontier.svg"], "no temporary file is left");
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(dir.path().join("frontier.png"))?));
        let reader = decoder.read_info()?;
        assert_eq!((reader.info().width, reader.info().height), SIZE);
        let svg = std::fs::read_to_string(dir.path().join("frontier.svg"))?;
        for text in [
            "Which means meets it?",
            "intrusiveness",
            "error (%)",
            "sensors",
            "camera configurations",
            "Pareto frontier",
            "required error (15 %)",
            "pole · native",
        ] {
            assert!(svg.contains(text), "the SVG lacks `{text}`");
        }
        Ok(())
    }

    #[test]
    fn the_frontier_and_required_lines_are_drawn_only_when_asked() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let off: Vec<MeansPoint> = points().into_iter().map(|p| MeansPoint { frontier: false, ..p }).collect();
        frontier(&dir.path().join("a"), &TEXT, &off, None, Path::new(DEFAULT_FONT))?;
        let svg = std::fs::read_to_string(dir.path().join("a.svg"))?;
        assert!(!svg.contains("Pareto frontier") && !svg.contains("required error"));
        let green = format!("#{:02X}{:02X}{:02X}", FRONTIER.0, FRONTIER.1, FRONTIER.2);
        assert!(!svg.to_uppercase().contains(&green));
        frontier(&dir.path().join("b"), &TEXT, &points(), Some(0.1), Path::new(DEFAULT_FONT))?;
        let svg = std::fs::read_to_string(dir.path().join("b.svg"))?;
        assert!(svg.to_uppercase().contains(&green), "the frontier line is drawn");
        // The cost plot never draws a frontier, even for frontier points.
        cost(&dir.path().join("c"), &TEXT, &points(), Some(0.1), Path::new(DEFAULT_FONT))?;
        let svg = std::fs::read_to_string(dir.path().join("c.svg"))?;
        assert!(!svg.contains("Pareto frontier") && svg.contains("required error"));
        Ok(())
    }

    #[test]
    fn curves_draw_each_series_and_refuse_empty_or_non_finite_input() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let c = vec![
            Curve {
                label: "pole 10 fps".into(),
                camera: true,
                points: vec![(160.0, est(0.6)), (320.0, est(0.3)), (640.0, est(0.15))],
            },
            Curve { label: "ir-1".into(), camera: false, points: vec![(160.0, est(0.2)), (640.0, est(f64::NAN))] },
        ];
        curves(&dir.path().join("r"), &TEXT, &c, Some(0.2), Path::new(DEFAULT_FONT))?;
        let svg = std::fs::read_to_string(dir.path().join("r.svg"))?;
        assert!(svg.contains("pole 10 fps (camera)") && svg.contains("ir-1 (sensor)"));
        let empty = curves(&dir.path().join("e"), &TEXT, &[], None, Path::new(DEFAULT_FONT));
        assert!(empty.is_err());
        let nan = vec![MeansPoint { label: "x".into(), camera: true, x: f64::NAN, error: est(0.1), frontier: false }];
        assert!(frontier(&dir.path().join("n"), &TEXT, &nan, None, Path::new(DEFAULT_FONT)).is_err());
        assert!(!dir.path().join("e.png").exists() && !dir.path().join("n.svg").exists());
        Ok(())
    }
}
