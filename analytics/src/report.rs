//! Outputs of a run: the counts table (CSV), the comparison plot (PNG, with
//! plotters) and a Markdown summary. Every file is written to a temporary
//! name and renamed, so an interrupted run never leaves a complete-looking
//! but partial file.

use std::io::Write;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::Serialize;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing a file failed.
    #[error("cannot write {}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// CSV encoding failed.
    #[error("cannot encode {}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Plotting failed.
    #[error("cannot draw {}: {message}", path.display())]
    Plot {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// No font for plot labels.
    #[error("no font for plot labels at {}: install the Debian package fonts-dejavu-core (scripts/setup.sh does)", path.display())]
    Font {
        /// Where the font was looked for.
        path: PathBuf,
    },
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// an atomic rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One row of `counts.csv`: a source's count next to the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountRow {
    /// Interval start, seconds.
    pub interval_start_s: u32,
    /// Interval end, seconds.
    pub interval_end_s: u32,
    /// Which source counted (`camera:<id>`, `infrared:<id>`).
    pub source: String,
    /// The counting line the count and the truth are for.
    pub line: String,
    /// Counted class.
    pub class: String,
    /// Crossing direction.
    pub direction: String,
    /// The source's count.
    pub count: u64,
    /// The ground-truth count.
    pub ground_truth: u64,
}

/// Writes `rows` as CSV (header from the row type's field names) through
/// [`write_atomic`]. An empty table still gets `empty_header`, since serde
/// writes the header only with the first row.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T], empty_header: &[&str]) -> Result<(), ReportError> {
    let csv_err = |e: &dyn std::fmt::Display| ReportError::Csv { path: path.to_path_buf(), message: e.to_string() };
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(empty_header).map_err(|e| csv_err(&e))?;
    }
    for r in rows {
        w.serialize(r).map_err(|e| csv_err(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| csv_err(&e))?;
    write_atomic(path, &bytes).map_err(|cause| ReportError::Io { path: path.to_path_buf(), cause })
}

/// Column names of `counts.csv`, in [`CountRow`] field order.
pub const COUNT_HEADER: [&str; 8] =
    ["interval_start_s", "interval_end_s", "source", "line", "class", "direction", "count", "ground_truth"];

/// Writes `counts.csv`.
pub fn write_counts_csv(path: &Path, rows: &[CountRow]) -> Result<(), ReportError> {
    write_csv(path, rows, &COUNT_HEADER)
}

/// The standard location of the label font (Debian's fonts-dejavu-core).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

pub(crate) fn register_font(font: &Path) -> Result<(), ReportError> {
    let bytes = std::fs::read(font).map_err(|_| ReportError::Font { path: font.to_path_buf() })?;
    // plotters keeps registered fonts for the process lifetime.
    let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, leaked)
        .map_err(|_| ReportError::Font { path: font.to_path_buf() })
}

/// One plotted series: a label and a count per interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Counts, one per interval.
    pub values: Vec<u64>,
}

/// Draws counts per interval as grouped bars (one panel per direction) to a PNG.
pub fn plot_counts(
    path: &Path,
    title: &str,
    interval_starts: &[u32],
    panels: &[(String, Vec<Series>)],
    font: &Path,
) -> Result<(), ReportError> {
    register_font(font)?;
    let perr = |e: &dyn std::fmt::Display| ReportError::Plot { path: path.to_path_buf(), message: e.to_string() };
    let (w, h) = (1000u32, 420u32 * panels.len().max(1) as u32 + 40);
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&e))?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| perr(&e))?;
        let areas = root.split_evenly((panels.len().max(1), 1));
        let colors = [BLACK, RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44)];
        for (area, (panel_title, series)) in areas.iter().zip(panels) {
            let max = series.iter().flat_map(|s| s.values.iter()).copied().max().unwrap_or(1).max(1);
            let n = interval_starts.len().max(1);
            let mut chart = ChartBuilder::on(area)
                .caption(panel_title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0u64..(max + max / 5 + 1))
                .map_err(|e| perr(&e))?;
            chart
                .configure_mesh()
                .x_desc("interval start (s)")
                .y_desc("crossings")
                .x_labels(n.min(20))
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && i >= 0.0 {
                        interval_starts.get(i as usize).map(|s| s.to_string()).unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .draw()
                .map_err(|e| perr(&e))?;
            // Grouped bars: one group per interval, one bar per series, so
            // equal counts stay visible side by side.
            let width = 0.8 / series.len().max(1) as f64;
            for (k, s) in series.iter().enumerate() {
                let color = colors[k % colors.len()];
                let offset = -0.4 + width * k as f64;
                chart
                    .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                        let x0 = i as f64 + offset;
                        Rectangle::new([(x0, 0), (x0 + width * 0.9, *v)], color.filled())
                    }))
                    .map_err(|e| perr(&e))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| perr(&e))?;
        }
        root.present().map_err(|e| perr(&e))?;
    }
    let mut png = Vec::new();
    encode_png(&mut png, w, h, &buf).map_err(|e| perr(&e))?;
    write_atomic(path, &png).map_err(|cause| ReportError::Io { path: path.to_path_buf(), cause })
}

pub(crate) fn encode_png(out: &mut Vec<u8>, w: u32, h: u32, rgb: &[u8]) -> Result<(), String> {
    encode(out, w, h, png::ColorType::Rgb, rgb)
}

/// Encodes 8-bit `pixels` of `color` as PNG into `out`.
fn encode(out: &mut Vec<u8>, w: u32, h: u32, color: png::ColorType, pixels: &[u8]) -> Result<(), String> {
    let mut enc = png::Encoder::new(out, w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

/// Size in bytes of an RGB8 image encoded as PNG (lossless): what shipping
/// a frame off the device costs, for the bytes-leaving-the-device measure.
/// 0 if the image cannot be encoded (wrong size).
pub fn png_size(w: u32, h: u32, rgb: &[u8]) -> u64 {
    let mut png = Vec::new();
    match encode_png(&mut png, w, h, rgb) {
        Ok(()) => png.len() as u64,
        Err(_) => 0,
    }
}

/// Decodes a PNG file into RGB8 pixels (grey, alpha and 16-bit expanded):
/// recorded frames, cached footage and test images all come in this way.
pub fn decode_png(path: &Path) -> Result<(u32, u32, Vec<u8>), String> {
    decode_png_with_alpha(path).map(|f| (f.width, f.height, f.rgb))
}

/// A decoded PNG: RGB pixels and, when the image has one, its alpha channel.
pub struct DecodedPng {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// RGB8 pixels, row by row.
    pub rgb: Vec<u8>,
    /// The alpha channel, one byte per pixel, when the image has one.
    pub alpha: Option<Vec<u8>>,
}

/// Like [`decode_png`], and also returns the alpha channel when the image
/// has one (the footage cache keeps the renderer's id buffer there).
pub fn decode_png_with_alpha(path: &Path) -> Result<DecodedPng, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| format!("{}: not a PNG: {e}", path.display()))?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or_else(|| format!("{}: image too large", path.display()))?];
    let info = reader.next_frame(&mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
    let pixels = &buf[..info.buffer_size()];
    let (rgb, alpha) = match info.color_type {
        png::ColorType::Rgb => (pixels.to_vec(), None),
        png::ColorType::Rgba => (
            pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
            Some(pixels.chunks_exact(4).map(|p| p[3]).collect()),
        ),
        png::ColorType::Grayscale => (pixels.iter().flat_map(|&g| [g, g, g]).collect(), None),
        png::ColorType::GrayscaleAlpha => (
            pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
            Some(pixels.chunks_exact(2).map(|p| p[1]).collect()),
        ),
        png::ColorType::Indexed => return Err(format!("{}: unexpanded palette image", path.display())),
    };
    Ok(DecodedPng { width: info.width, height: info.height, rgb, alpha })
}

/// Writes an RGB8 image as PNG (used for frame previews and debugging).
pub fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<(), ReportError> {
    write_encoded(path, w, h, png::ColorType::Rgb, rgb)
}

/// Writes an RGBA8 image as PNG: the footage cache keeps a frame's id buffer
/// in the alpha channel.
pub fn write_png_rgba(path: &Path, w: u32, h: u32, rgba: &[u8]) -> Result<(), ReportError> {
    write_encoded(path, w, h, png::ColorType::Rgba, rgba)
}

/// Encodes `pixels` and writes them atomically to `path`.
fn write_encoded(path: &Path, w: u32, h: u32, color: png::ColorType, pixels: &[u8]) -> Result<(), ReportError> {
    let mut png = Vec::new();
    encode(&mut png, w, h, color, pixels).map_err(|message| ReportError::Plot { path: path.to_path_buf(), message })?;
    write_atomic(path, &png).map_err(|cause| ReportError::Io { path: path.to_path_buf(), cause })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"x,y\n").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"x,y\n");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
        assert!(write_atomic(&dir.path().join("no/such/dir/a.csv"), b"x").is_err());
    }

    #[test]
    fn plot_is_a_png_of_the_requested_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("plot.png");
        let s = |l: &str, v: Vec<u64>| Series { label: l.into(), values: v };
        let panels = vec![("positive".to_string(), vec![s("truth", vec![3, 5, 4]), s("camera", vec![3, 4, 4])])];
        plot_counts(&p, "test", &[0, 15, 30], &panels, Path::new(DEFAULT_FONT)).expect("plot");
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
