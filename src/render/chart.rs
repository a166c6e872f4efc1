//! Charts of shares (0–100 %) against a numeric x axis: as terminal text
//! (one marker character per series, joined by dots) and as SVG for slides
//! (drawn by plotters).

use plotters::prelude::*;

/// Colours for series that have no colour of their own (matplotlib's
/// first six, which read apart on a projector).
pub const PALETTE: [(u8, u8, u8); 6] = [
    (31, 119, 180),
    (44, 160, 44),
    (255, 127, 14),
    (148, 103, 189),
    (214, 39, 40),
    (23, 190, 207),
];

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name in the legend.
    pub label: String,
    /// Its marker in the terminal chart.
    pub marker: char,
    /// Its colour in the SVG chart (RGB).
    pub color: (u8, u8, u8),
    /// Points (x, share in 0..=1), in increasing x.
    pub points: Vec<(f64, f64)>,
    /// Whether the points are joined by a line (else scattered).
    pub joined: bool,
    /// A 95 % interval (low, high) per point, drawn as error bars in the
    /// SVG chart; empty for none.
    pub intervals: Vec<(f64, f64)>,
}

/// A horizontal reference line (e.g. a chance level).
#[derive(Debug, Clone)]
pub struct Level {
    /// Its name in the legend.
    pub label: String,
    /// Its height, a share in 0..=1.
    pub y: f64,
    /// Its colour in the SVG chart.
    pub color: (u8, u8, u8),
}

/// A chart's axes and lines.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Title above it.
    pub title: String,
    /// Name of the x axis.
    pub x_label: String,
    /// Draw the x axis on a log₂ scale.
    pub log_x: bool,
    /// Draw the shares on a log₁₀ scale from 0.1 % to 100 %, in the SVG
    /// chart and as text (Schaeffer et al.'s view of exact match); a share
    /// of 0 sits on the bottom line, marked ≤0.1 %.
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
    /// Where the x axis is labelled (empty: at every joined series' x).
    pub ticks: Vec<f64>,
    /// Reference lines, drawn dashed (`-` on a terminal, under the series).
    pub levels: Vec<Level>,
}

impl Chart {
    fn x_range(&self) -> (f64, f64) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        if lo.is_finite() && hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 1.0, lo + 1.0)
        } else {
            (0.0, 1.0)
        }
    }

    /// A share's height in the SVG chart: percent, or log₁₀ percent.
    fn scale_y(&self, y: f64) -> f64 {
        if self.log_y {
            (100.0 * y).max(0.1).log10()
        } else {
            100.0 * y
        }
    }

    /// A share's height in the text chart, from 0 (bottom) to 1 (top).
    fn height(&self, y: f64) -> f64 {
        if self.log_y {
            (self.scale_y(y) + 1.0) / 3.0
        } else {
            y.clamp(0.0, 1.0)
        }
    }

    fn scale_x(&self, x: f64) -> f64 {
        if self.log_x {
            x.max(1e-9).log2()
        } else {
            x
        }
    }
}

/// Columns a terminal chart keeps beside its plot: the y labels and axis
/// on the left, room for the x axis's name on the right.
const BESIDE_PLOT: usize = 10;

/// Columns of plot that fit `style`'s width beside the axis labels, at
/// least 20 and at most `max`.
pub fn fit_width(style: &super::style::TerminalStyle, max: usize) -> usize {
    usize::from(style.width)
        .saturating_sub(BESIDE_PLOT)
        .clamp(20, max)
}

/// `chart` as terminal text: `height` rows from 0 % to 100 %, `width`
/// columns of plot, then the x labels and the legend.
pub fn text(chart: &Chart, width: usize, height: usize) -> String {
    let (lo, hi) = chart.x_range();
    let (lo, hi) = (chart.scale_x(lo), chart.scale_x(hi));
    let column = |x: f64| -> usize {
        (((chart.scale_x(x) - lo) / (hi - lo)) * (width - 1) as f64).round() as usize
    };
    // Rows of a height in 0..=1 (top row 0), and of a share.
    let row_at =
        |h: f64| -> usize { ((1.0 - h.clamp(0.0, 1.0)) * (height - 1) as f64).round() as usize };
    let row = |y: f64| row_at(chart.height(y));
    let mut grid = vec![vec![' '; width]; height];
    for level in &chart.levels {
        for cell in grid[row(level.y)].iter_mut().step_by(2) {
            *cell = '-';
        }
    }
    for series in chart.series.iter().filter(|s| s.joined) {
        for pair in series.points.windows(2) {
            let (c0, c1) = (column(pair[0].0), column(pair[1].0));
            let (h0, h1) = (chart.height(pair[0].1), chart.height(pair[1].1));
            for c in c0 + 1..c1 {
                let t = (c - c0) as f64 / (c1 - c0) as f64;
                if let Some(cell) = grid[row_at(h0 + t * (h1 - h0))]
                    .get_mut(c)
                    .filter(|cell| **cell == ' ' || **cell == '-')
                {
                    *cell = '·';
                }
            }
        }
    }
    for series in &chart.series {
        for &(x, y) in &series.points {
            grid[row(y)][column(x)] = series.marker;
        }
    }
    let mut out = format!("{}\n", chart.title);
    // On a log scale only the decades are labelled (the bottom one also
    // holds every share below it).
    let decades: Vec<(usize, &str)> = [
        (1.0, " 100%"),
        (0.1, "  10%"),
        (0.01, "   1%"),
        (0.001, "≤0.1%"),
    ]
    .into_iter()
    .map(|(y, label)| (row(y), label))
    .collect();
    for (r, cells) in grid.iter().enumerate() {
        let share = 1.0 - r as f64 / (height - 1) as f64;
        let label = if chart.log_y {
            decades
                .iter()
                .find(|d| d.0 == r)
                .map_or_else(|| " ".repeat(5), |d| d.1.to_string())
        } else if r % 2 == 0 || height <= 6 {
            format!("{:>4.0}%", 100.0 * share)
        } else {
            " ".repeat(5)
        };
        out.push_str(&format!(
            "{label} │{}\n",
            cells.iter().collect::<String>().trim_end()
        ));
    }
    out.push_str(&format!("{} └{}\n", " ".repeat(5), "─".repeat(width)));
    let mut axis = vec![' '; width + 16];
    let xs: Vec<f64> = if chart.ticks.is_empty() {
        let bits: std::collections::BTreeSet<u64> = chart
            .series
            .iter()
            .filter(|s| s.joined)
            .flat_map(|s| s.points.iter().map(|p| p.0.to_bits()))
            .collect();
        let xs: Vec<f64> = bits.into_iter().map(f64::from_bits).collect();
        if xs.len() <= 8 {
            xs
        } else {
            nice_ticks(xs[0], xs[xs.len() - 1], chart.log_x)
        }
    } else {
        chart.ticks.clone()
    };
    for x in xs {
        let label = format_x(x);
        let start = 7 + column(x);
        for (i, ch) in label.chars().enumerate() {
            if let Some(cell) = axis.get_mut(start + i) {
                *cell = ch;
            }
        }
    }
    // The axis's name beside its ticks, or under them, flush with the
    // chart's right edge, where both do not fit in the chart's width.
    let ticks = axis.iter().collect::<String>().trim_end().to_string();
    let total = width + BESIDE_PLOT;
    let name = textwrap::core::display_width(&chart.x_label);
    if textwrap::core::display_width(&ticks) + 2 + name <= total {
        out.push_str(&format!("{ticks}  {}\n", chart.x_label));
    } else {
        out.push_str(&format!(
            "{ticks}\n{}{}\n",
            " ".repeat(total.saturating_sub(name)),
            chart.x_label
        ));
    }
    // The legend, wrapped to the chart's width (entries kept whole).
    let mut line = String::new();
    for entry in chart
        .series
        .iter()
        .map(|s| format!("{} {}", s.marker, s.label))
        .chain(chart.levels.iter().map(|l| format!("- - {}", l.label)))
    {
        let wide = textwrap::core::display_width(&line) + 3 + textwrap::core::display_width(&entry);
        if !line.is_empty() && wide > width {
            out.push_str(&format!("{}{line}\n", " ".repeat(7)));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("   ");
        }
        line.push_str(&entry);
    }
    out.push_str(&format!("{}{line}\n", " ".repeat(7)));
    out
}

/// About six round tick values (1, 2 or 5 × 10^n apart; powers of ten on a
/// log axis) from `lo` to `hi`.
fn nice_ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if log {
        let mut ticks = vec![lo];
        let mut t = 10f64.powf(lo.max(1e-9).log10().ceil());
        while t <= hi {
            if t > lo {
                ticks.push(t);
            }
            t *= 10.0;
        }
        return ticks;
    }
    let raw = (hi - lo) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let mut t = (lo / step).ceil() * step;
    let mut ticks = Vec::new();
    while t <= hi + 1e-9 {
        ticks.push(t);
        t += step;
    }
    ticks
}

fn format_x(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// `charts` side by side as one SVG document.
pub fn svg(charts: &[Chart]) -> Result<String, String> {
    let mut out = String::new();
    {
        let width = 560 * charts.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut out, (width, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let panels = root.split_evenly((1, charts.len().max(1)));
        for (chart, area) in charts.iter().zip(panels) {
            draw(chart, &area).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    // The legend gets its own strip under the plot: it never covers data.
    let entries: Vec<(String, (u8, u8, u8), bool)> = chart
        .series
        .iter()
        .map(|s| (s.label.clone(), s.color, false))
        .chain(
            chart
                .levels
                .iter()
                .map(|l| (l.label.clone(), l.color, true)),
        )
        .collect();
    let (width, height) = area.dim_in_pixel();
    let per_row = ((width as usize).saturating_sub(24) / 260).max(1);
    let rows = entries.len().div_ceil(per_row);
    let (area, legend) = area.split_vertically(height.saturating_sub(22 * rows as u32 + 8));
    for (i, (label, (r, g, b), dashed)) in entries.iter().enumerate() {
        let color = RGBColor(*r, *g, *b);
        let (x, y) = (
            16 + 260 * (i % per_row) as i32,
            4 + 22 * (i / per_row) as i32 + 9,
        );
        let line: Vec<(i32, i32)> = if *dashed {
            vec![(x, y), (x + 6, y)]
        } else {
            vec![(x, y), (x + 20, y)]
        };
        legend.draw(&PathElement::new(line, color.stroke_width(2)))?;
        if *dashed {
            legend.draw(&PathElement::new(
                vec![(x + 12, y), (x + 20, y)],
                color.stroke_width(2),
            ))?;
        }
        legend.draw(&Text::new(
            label.clone(),
            (x + 28, y - 8),
            ("sans-serif", 15).into_font().color(&BLACK),
        ))?;
    }
    let area = &area;
    let (lo, hi) = chart.x_range();
    let (lo, hi) = (chart.scale_x(lo), chart.scale_x(hi));
    // Whole-number x (lengths, counts) gets whole-number ticks only.
    let whole = !chart.log_x
        && chart
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .all(|p| p.0.fract() == 0.0);
    let x_ticks = if whole {
        ((hi - lo).round() as usize + 1).min(12)
    } else {
        10
    };
    let mut context = ChartBuilder::on(area)
        .caption(&chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(lo..hi, if chart.log_y { -1.0..2.0 } else { 0.0..100.0 })?;
    let (log_x, log_y) = (chart.log_x, chart.log_y);
    context
        .configure_mesh()
        .x_desc(chart.x_label.as_str())
        .x_labels(x_ticks)
        .y_desc(if log_y { "% (log₁₀)" } else { "%" })
        .y_label_formatter(&|y| {
            if log_y {
                let percent = 10f64.powf(*y);
                if percent < 1.0 {
                    format!("{percent:.1}")
                } else {
                    format!("{percent:.0}")
                }
            } else {
                format!("{y:.0}")
            }
        })
        .x_label_formatter(&|x| {
            if log_x {
                format_x(2f64.powf(*x).round())
            } else if whole && x.fract() != 0.0 {
                String::new()
            } else {
                format_x(*x)
            }
        })
        .draw()?;
    for series in &chart.series {
        let (r, g, b) = series.color;
        let color = RGBColor(r, g, b);
        let points: Vec<(f64, f64)> = series
            .points
            .iter()
            .map(|&(x, y)| (chart.scale_x(x), chart.scale_y(y)))
            .collect();
        if series.joined {
            context.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
        }
        context.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        context.draw_series(series.points.iter().zip(&series.intervals).map(
            |(&(x, _), &(low, high))| {
                let x = chart.scale_x(x);
                PathElement::new(
                    vec![(x, chart.scale_y(low)), (x, chart.scale_y(high))],
                    color.stroke_width(1),
                )
            },
        ))?;
    }
    for level in &chart.levels {
        let (r, g, b) = level.color;
        let color = RGBColor(r, g, b);
        let y = chart.scale_y(level.y);
        let steps = 40;
        let dashes = (0..steps).step_by(2).map(move |i| {
            let at = |j: usize| lo + (hi - lo) * j as f64 / steps as f64;
            PathElement::new(vec![(at(i), y), (at(i + 1), y)], color.stroke_width(1))
        });
        context.draw_series(dashes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            title: "t".into(),
            x_label: "k".into(),
            log_x: false,
            log_y: false,
            series: vec![
                Series {
                    label: "flat".into(),
                    marker: 'F',
                    color: (0, 0, 0),
                    points: vec![(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)],
                    joined: true,
                    intervals: Vec::new(),
                },
                Series {
                    label: "falling".into(),
                    marker: 'D',
                    color: (0, 0, 0),
                    points: vec![(1.0, 1.0), (3.0, 0.0)],
                    joined: true,
                    intervals: Vec::new(),
                },
            ],
            ticks: Vec::new(),
            levels: Vec::new(),
        }
    }

    #[test]
    fn markers_sit_at_their_values_and_later_series_win_a_shared_cell() {
        let text = text(&chart(), 21, 11);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "t");
        // Top row: 100 %, D over F at x = 1, F at x = 2 and 3.
        assert_eq!(lines[1], " 100% │D·········F·········F");
        // Bottom row: 0 %, D at x = 3 (the last column).
        assert!(
            lines[11].starts_with("   0% │") && lines[11].ends_with('D'),
            "{text}"
        );
        assert!(lines[13].contains('1') && lines[13].contains('3'));
        assert!(lines[14].contains("F flat") && lines[14].contains("D falling"));
    }

    #[test]
    fn a_log_scale_puts_each_decade_on_its_labelled_row() {
        let chart = Chart {
            log_y: true,
            series: vec![Series {
                label: "exact".into(),
                marker: 'E',
                color: (0, 0, 0),
                points: vec![
                    (1.0, 0.0),
                    (2.0, 0.001),
                    (3.0, 0.01),
                    (4.0, 0.1),
                    (5.0, 1.0),
                ],
                joined: false,
                intervals: Vec::new(),
            }],
            ..chart()
        };
        let text = text(&chart, 9, 11);
        let lines: Vec<&str> = text.lines().skip(1).take(11).collect();
        // 3 decades over 10 row steps: 100 % on row 0, 10 % on row 3, 1 % on
        // row 7, 0.1 % (and 0) on row 10; the columns are x = 1 … 5.
        assert_eq!(lines[0], " 100% │        E", "{text}");
        assert_eq!(lines[3], "  10% │      E", "{text}");
        assert_eq!(lines[7], "   1% │    E", "{text}");
        assert_eq!(lines[10], "≤0.1% │E E", "{text}");
        for r in [1, 2, 4, 5, 6, 8, 9] {
            assert_eq!(lines[r], "      │", "row {r}: {text}");
        }
    }

    #[test]
    fn long_axes_get_round_ticks() {
        assert_eq!(
            nice_ticks(0.0, 3000.0, false),
            [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0]
        );
        assert_eq!(nice_ticks(1.0, 2500.0, true), [1.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn the_svg_names_every_series() {
        let svg = svg(&[chart()]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("flat") && svg.contains("falling"), "{svg}");
    }
}
