//! Compact gauges for table cells and detail panes: a horizontal bar coloured by how full it
//! is, and a one-line sparkline of recent history.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

const EIGHTHS: [char; 9] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The style for a fill `fraction` in 0..=1: calm below 60 %, warning to 85 %, hot above.
pub fn level_style(fraction: f64, theme: &Theme) -> Style {
    if fraction >= 0.85 {
        theme.gauge_high
    } else if fraction >= 0.6 {
        theme.gauge_mid
    } else {
        theme.gauge_low
    }
}

/// A bar `width` cells wide filled to `fraction` (clamped to 0..=1), with eighth-cell steps.
pub fn bar_text(fraction: f64, width: usize) -> String {
    let fraction = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    let eighths = (fraction * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let mut text: String = std::iter::repeat_n('█', full.min(width)).collect();
    if full < width {
        text.push(EIGHTHS[eighths % 8]);
        text.extend(std::iter::repeat_n(' ', width - full - 1));
    }
    text
}

/// A bar followed by a label, e.g. `███▌      35%`. `None` shows `n/a` with an empty bar.
pub fn bar(fraction: Option<f64>, width: usize, label: &str, theme: &Theme) -> Line<'static> {
    match fraction {
        Some(f) => Line::from(vec![
            Span::styled(bar_text(f, width), level_style(f, theme)),
            Span::styled(format!(" {label}"), theme.text),
        ]),
        None => {
            Line::from(vec![Span::styled(format!("{}{}", "·".repeat(width), " n/a"), theme.muted)])
        }
    }
}

/// The newest `width` values as block characters scaled to `max` (or to the largest value).
pub fn sparkline_text<'a>(
    values: impl IntoIterator<Item = &'a f64>,
    width: usize,
    max: Option<f64>,
) -> String {
    let values: Vec<f64> = values.into_iter().copied().collect();
    let start = values.len().saturating_sub(width);
    let shown = &values[start..];
    let top = max.unwrap_or_else(|| shown.iter().copied().fold(0.0, f64::max));
    let mut text: String = shown
        .iter()
        .map(|&v| {
            if top <= 0.0 || !v.is_finite() {
                LEVELS[0]
            } else {
                LEVELS[(((v / top).clamp(0.0, 1.0)) * 7.0).round() as usize]
            }
        })
        .collect();
    // Right-align so the newest sample is always at the same place.
    let pad = width.saturating_sub(shown.len());
    text.insert_str(0, &" ".repeat(pad));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_eighths_and_clamp() {
        assert_eq!(bar_text(0.0, 4), "    ");
        assert_eq!(bar_text(1.0, 4), "████");
        assert_eq!(bar_text(0.5, 4), "██  ");
        assert_eq!(bar_text(0.5625, 4), "██▎ ");
        assert_eq!(bar_text(7.0, 2), "██");
        assert_eq!(bar_text(f64::NAN, 2), "  ");
    }

    #[test]
    fn sparkline_scales_to_max_and_right_aligns() {
        assert_eq!(sparkline_text(&[0.0, 50.0, 100.0], 5, Some(100.0)), "  ▁▅█");
        assert_eq!(sparkline_text(&[1.0, 2.0, 3.0, 4.0], 2, None), "▆█");
    }
}
