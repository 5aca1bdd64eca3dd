//! Drawing one chart with plotters. In: a [`Chart`] (series, threshold lines, marks, axis
//! titles). Out: SVG text or PNG bytes. The text font (DejaVu Sans) ships in the binary, so
//! charts render the same on a machine without fonts.

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::glyphs;
use super::ticks::{Ticked, log_ticks, nice_ticks, short};

/// The font every chart's text is drawn with.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

type Point = (f64, f64);

/// Width and height of the pictures, in pixels.
pub const SIZE: (u32, u32) = (1200, 800);

/// What a chart shows.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// X axis title, with its unit.
    pub x_label: String,
    /// Y axis title, with its unit.
    pub y_label: String,
    /// Log scale on y (values ≤ 0 are left out).
    pub y_log: bool,
    /// Where an unbounded x value (rate `inf`) is drawn, and its tick label.
    pub x_unbounded: Option<(f64, String)>,
    /// Data lines.
    pub series: Vec<Series>,
    /// Horizontal threshold lines (SLOs).
    pub hlines: Vec<Rule>,
    /// Vertical lines (capacity).
    pub vlines: Vec<Rule>,
    /// Single highlighted points (capacity).
    pub marks: Vec<Mark>,
    /// Extra lines of text under the legend.
    pub notes: Vec<String>,
}

/// One data line.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Palette index.
    pub color: usize,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// Point marker.
    pub marker: Marker,
    /// Points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// Point markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled triangle.
    Triangle,
    /// No marker: a line only.
    None,
}

/// A horizontal or vertical line across the plot.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Legend text.
    pub label: String,
    /// Position on its axis.
    pub at: f64,
    /// What it marks (sets colour and dashes).
    pub kind: RuleKind,
}

/// What a rule marks, which sets its colour and dash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// An SLO threshold on a summary statistic (red, long dashes).
    Slo,
    /// A per-request SLO threshold, bench_serving's goodput (dark red, short dashes).
    SloPerRequest,
    /// A capacity (green, dotted).
    Capacity,
}

/// A highlighted point.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Legend text.
    pub label: String,
    /// Position.
    pub at: (f64, f64),
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];
const SLO_RED: RGBColor = RGBColor(214, 39, 40);
const CAPACITY_GREEN: RGBColor = RGBColor(0, 140, 60);
/// Width of the legend panel on the right, in pixels.
const LEGEND_WIDTH: u32 = 350;
/// Longest legend text in the large font; a legend with a longer one is drawn in the small
/// font, where `LEGEND_CHARS_SMALL` fit; longer ones end in "…".
const LEGEND_CHARS: usize = 36;
const LEGEND_CHARS_SMALL: usize = 44;
const GRID: RGBColor = RGBColor(225, 225, 225);

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn rule_style(kind: RuleKind) -> (RGBColor, u32, u32) {
    match kind {
        RuleKind::Slo => (SLO_RED, 12, 6),
        RuleKind::SloPerRequest => (RGBColor(150, 20, 20), 5, 5),
        RuleKind::Capacity => (CAPACITY_GREEN, 4, 4),
    }
}

/// Register the shipped font under the family plotters asks for (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            // The font is compiled in; failing to parse it is a build defect.
            eprintln!("warning: the built-in plot font could not be loaded");
        }
    });
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String> {
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(fail)?;
    }
    Ok(out)
}

/// The chart as PNG bytes.
pub fn png(chart: &Chart) -> Result<Vec<u8>> {
    register_font();
    let (w, h) = SIZE;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let backend = glyphs::Crisp {
            inner: BitMapBackend::with_buffer(&mut buf, SIZE),
            font: ab_glyph::FontRef::try_from_slice(FONT)?,
        };
        let root = backend.into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(fail)?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| anyhow!("bad PNG buffer"))?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

fn fail<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("cannot draw the chart: {e}")
}

/// The plotted y of a value: itself, or log10 on a log axis (`None` when not drawable).
fn y_of(chart: &Chart, v: f64) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if chart.y_log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

fn ranges(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let xs = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(chart.vlines.iter().map(|r| r.at))
        .chain(chart.marks.iter().map(|m| m.at.0))
        .chain(chart.x_unbounded.iter().map(|u| u.0))
        .filter(|x| x.is_finite());
    let x_hi = xs.fold(0.0f64, f64::max);
    let x_hi = if x_hi > 0.0 { x_hi * 1.08 } else { 1.0 };
    let ys: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(chart.hlines.iter().map(|r| r.at))
        .chain(chart.marks.iter().map(|m| m.at.1))
        .filter_map(|v| y_of(chart, v))
        .collect();
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let y = if ys.is_empty() {
        (0.0, 1.0)
    } else if chart.y_log {
        let pad = ((hi - lo) * 0.08).max(0.05);
        (lo - pad, hi + pad)
    } else {
        let hi = if hi > 0.0 { hi * 1.1 } else { 1.0 };
        (lo.min(0.0), hi)
    };
    ((0.0, x_hi), y)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Chart) -> Result<()> {
    root.fill(&WHITE).map_err(fail)?;
    let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let ((x_lo, x_hi), (y_lo, y_hi)) = ranges(c);
    let mut x_ticks = match &c.x_unbounded {
        Some((pos, _)) => nice_ticks(x_lo, pos / 1.3, 7.0),
        None => nice_ticks(x_lo, x_hi, 8.0),
    };
    if let Some((pos, _)) = &c.x_unbounded {
        let finite = c
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(c.vlines.iter().map(|r| r.at))
            .any(|x| x < pos * 0.999);
        x_ticks.retain(|t| finite && *t < pos * 0.9);
        x_ticks.push(*pos);
    }
    let y_ticks = if c.y_log {
        log_ticks(y_lo, y_hi)
    } else {
        nice_ticks(y_lo, y_hi, 8.0)
    };
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&c.title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(
            Ticked::new(x_lo, x_hi, x_ticks),
            Ticked::new(y_lo, y_hi, y_ticks),
        )
        .map_err(fail)?;
    let unbounded = c.x_unbounded.clone();
    let x_fmt = move |v: &f64| match &unbounded {
        Some((pos, label)) if (v - pos).abs() < pos * 1e-6 => label.clone(),
        _ => short(*v),
    };
    let log = c.y_log;
    let y_fmt = move |v: &f64| short(if log { 10f64.powf(*v) } else { *v });
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 17))
        .axis_desc_style(("sans-serif", 20))
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()
        .map_err(fail)?;

    let across = |r: &Rule| Some(([(x_lo, y_of(c, r.at)?), (x_hi, y_of(c, r.at)?)], r.kind));
    let up = |r: &Rule| ([(r.at, y_lo), (r.at, y_hi)], r.kind);
    let rules = c.hlines.iter().filter_map(across);
    for (ends, kind) in rules.chain(c.vlines.iter().map(up)) {
        let (col, dash, gap) = rule_style(kind);
        let line = DashedLineSeries::new(ends, dash, gap, col.stroke_width(2));
        chart.draw_series(line).map_err(fail)?;
    }
    for s in &c.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(x, y)| Some((x, y_of(c, y)?)))
            .filter(|p| p.0.is_finite())
            .collect();
        let style = color(s.color).stroke_width(3);
        // Points at the unbounded position hang off the line by a dotted link: the axis
        // is broken between the largest finite load and `inf`.
        let split = c
            .x_unbounded
            .as_ref()
            .map_or(f64::INFINITY, |u| u.0 * 0.999);
        let (line, hang): (Vec<Point>, Vec<Point>) = pts.iter().partition(|p| p.0 < split);
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(line.clone(), 10, 6, style))
                .map_err(fail)?;
        } else {
            chart
                .draw_series(LineSeries::new(line.clone(), style))
                .map_err(fail)?;
        }
        if let Some(last) = line.last() {
            for p in &hang {
                chart
                    .draw_series(DashedLineSeries::new(
                        [*last, *p],
                        3,
                        5,
                        color(s.color).stroke_width(2),
                    ))
                    .map_err(fail)?;
            }
        }
        let fill = color(s.color).filled();
        match s.marker {
            Marker::Circle => {
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 5, fill)))
                    .map_err(fail)?;
            }
            Marker::Triangle => {
                chart
                    .draw_series(pts.iter().map(|p| TriangleMarker::new(*p, 7, fill)))
                    .map_err(fail)?;
            }
            Marker::None => {}
        }
    }
    for m in &c.marks {
        let Some(y) = y_of(c, m.at.1) else { continue };
        chart
            .draw_series([
                Circle::new((m.at.0, y), 11, CAPACITY_GREEN.stroke_width(3)),
                Circle::new((m.at.0, y), 3, CAPACITY_GREEN.filled()),
            ])
            .map_err(fail)?;
    }
    legend(&legend_area, c)
}

/// The legend, drawn by hand in the right-hand panel so it never covers the data.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Chart) -> Result<()> {
    let entries = c.series.len() + c.hlines.len() + c.vlines.len() + c.marks.len();
    let labels = (c.series.iter().map(|s| &s.name))
        .chain(c.hlines.iter().chain(&c.vlines).map(|r| &r.label))
        .chain(c.marks.iter().map(|m| &m.label));
    let long = labels.into_iter().any(|l| l.chars().count() > LEGEND_CHARS);
    let small = entries > 22 || long;
    let step: i32 = if entries > 22 { 22 } else { 30 };
    let font = ("sans-serif", if small { 14 } else { 17 }).into_font();
    let max = if small {
        LEGEND_CHARS_SMALL
    } else {
        LEGEND_CHARS
    };
    let text = |s: &str, y: i32| {
        let s = if s.chars().count() > max {
            let cut: String = s.chars().take(max - 1).collect();
            format!("{cut}…")
        } else {
            s.to_owned()
        };
        Text::new(s, (58, y - 9), font.clone())
    };
    let mut y = 70;
    for s in &c.series {
        let col = color(s.color);
        let pieces = if s.dashed {
            vec![[(6, y), (18, y)], [(32, y), (46, y)]]
        } else {
            vec![[(6, y), (46, y)]]
        };
        for p in pieces {
            area.draw(&PathElement::new(p, col.stroke_width(3)))
                .map_err(fail)?;
        }
        match s.marker {
            Marker::Circle => area.draw(&Circle::new((26, y), 5, col.filled())),
            Marker::Triangle => area.draw(&TriangleMarker::new((26, y), 7, col.filled())),
            Marker::None => Ok(()),
        }
        .map_err(fail)?;
        area.draw(&text(&s.name, y)).map_err(fail)?;
        y += step;
    }
    for r in c.hlines.iter().chain(&c.vlines) {
        let (col, dash, gap) = rule_style(r.kind);
        let mut x = 6;
        while x < 46 {
            let end = (x + dash as i32).min(46);
            area.draw(&PathElement::new(
                vec![(x, y), (end, y)],
                col.stroke_width(2),
            ))
            .map_err(fail)?;
            x += (dash + gap) as i32;
        }
        area.draw(&text(&r.label, y)).map_err(fail)?;
        y += step;
    }
    for m in &c.marks {
        area.draw(&Circle::new((26, y), 9, CAPACITY_GREEN.stroke_width(3)))
            .map_err(fail)?;
        area.draw(&text(&m.label, y)).map_err(fail)?;
        y += step;
    }
    y += step / 2;
    let note_font = ("sans-serif", 15).into_font().color(&RGBColor(90, 90, 90));
    for n in &c.notes {
        area.draw(&Text::new(n.clone(), (6, y - 9), note_font.clone()))
            .map_err(fail)?;
        y += 22;
    }
    Ok(())
}
