//! Video files for `camtwin analyse --video`: probed with ffprobe and decoded
//! with ffmpeg (Debian's package, installed by the set-up) into raw RGB
//! frames read one at a time from a pipe, so memory stays that of one frame
//! whatever the clip's length. ffmpeg stops at the first decoding error
//! (`-xerror`), so a damaged or cut-off file ends the run with an error that
//! names it; a file that ends before the length its header announces, or in
//! the middle of a frame, is an error too, never a hang or a silently short
//! run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use camtwin_analytics::frame::{Frame, FrameLease};
use camtwin_analytics::pipeline::FrameProducer;

/// What ffprobe says about a video's first stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: f64,
    /// Length, seconds (0 when the container does not say).
    pub duration_s: f64,
}

/// Reads a video's size, frame rate and length.
pub fn probe(path: &Path) -> Result<VideoInfo> {
    if !path.is_file() {
        bail!("{}: no such video file", path.display());
    }
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate"])
        .args(["-show_entries", "format=duration", "-of", "default=noprint_wrappers=1"])
        .arg(path)
        .output()
        .context("cannot run ffprobe: install ffmpeg (scripts/setup-system.sh does)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::trim));
    let (Some(w), Some(h)) = (field("width"), field("height")) else {
        let why = String::from_utf8_lossy(&out.stderr);
        bail!("{}: not a video ffmpeg can read: {}", path.display(), why.lines().next().unwrap_or("no video stream"));
    };
    let fps = field("avg_frame_rate")
        .and_then(|r| {
            let (n, d) = r.split_once('/')?;
            let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
            (d > 0.0 && n > 0.0).then(|| n / d)
        })
        .with_context(|| format!("{}: the video has no frame rate", path.display()))?;
    Ok(VideoInfo {
        width: w.parse().with_context(|| format!("{}: bad width `{w}`", path.display()))?,
        height: h.parse().with_context(|| format!("{}: bad height `{h}`", path.display()))?,
        fps,
        duration_s: field("duration").and_then(|d| d.parse().ok()).unwrap_or(0.0),
    })
}

/// Decodes a video into frames through an ffmpeg child process.
pub struct VideoFile {
    path: PathBuf,
    child: Child,
    stdout: ChildStdout,
    size: (u32, u32),
    fps: f64,
    next: u64,
    done: bool,
    /// Frames the container announces (from its duration), when it says.
    expected: Option<u64>,
}

impl VideoFile {
    /// Starts decoding `path`, whose size and frame rate `info` gives.
    pub fn open(path: &Path, info: &VideoInfo) -> Result<Self> {
        let mut child = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-xerror", "-i"])
            .arg(path)
            .args(["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run ffmpeg: install ffmpeg (scripts/setup-system.sh does)")?;
        let stdout = child.stdout.take().context("ffmpeg gave no output pipe")?;
        Ok(Self {
            path: path.to_path_buf(),
            child,
            stdout,
            size: (info.width, info.height),
            fps: info.fps,
            next: 0,
            done: false,
            expected: (info.duration_s > 0.0).then(|| (info.duration_s * info.fps).round() as u64),
        })
    }

    /// Waits for ffmpeg and turns a failure into an error naming the file.
    fn finish(&mut self) -> Option<Result<Frame, String>> {
        self.done = true;
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        match self.child.wait() {
            Ok(status) if status.success() => match self.expected {
                // Containers round their duration: one frame of slack.
                Some(expected) if self.next + 1 < expected => Some(Err(format!(
                    "{}: the video ends after {} of the {expected} frames its header announces: it is cut off",
                    self.path.display(),
                    self.next
                ))),
                _ => None,
            },
            Ok(status) => Some(Err(format!(
                "{}: decoding stopped after {} frames ({status}): {}",
                self.path.display(),
                self.next,
                stderr.lines().next().unwrap_or("no message")
            ))),
            Err(e) => Some(Err(format!("{}: ffmpeg: {e}", self.path.display()))),
        }
    }
}

impl FrameProducer for VideoFile {
    fn next_frame(&mut self, lease: FrameLease) -> Option<Result<Frame, String>> {
        if self.done {
            return None;
        }
        let need = self.size.0 as usize * self.size.1 as usize * 3;
        let mut rgb = vec![0u8; need];
        let mut got = 0;
        while got < need {
            match self.stdout.read(&mut rgb[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Err(format!("{}: reading decoded frames: {e}", self.path.display()))),
            }
        }
        if got == 0 {
            return self.finish();
        }
        if got < need {
            let cut = format!(
                "{}: the video ends in the middle of frame {} ({got} of {need} bytes): is it cut off?",
                self.path.display(),
                self.next
            );
            return Some(Err(match self.finish() {
                Some(Err(e)) => format!("{cut} ({e})"),
                _ => cut,
            }));
        }
        let index = self.next;
        self.next += 1;
        Some(Ok(Frame::new(index, index as f64 / self.fps, self.size.0, self.size.1, rgb, lease)))
    }
}

impl Drop for VideoFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
