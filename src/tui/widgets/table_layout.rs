//! Column widths for a table at the width it is drawn at, and cells cut to them. Ratatui's own
//! constraint solver gives spare width to every `Min` column alike (NAME and STATE kept 20 blank
//! columns while MODEL was cut to `meta-lla`) and cuts text on the right with no mark. Here each
//! column has a minimum, a wish (its widest cell), an order in which it gives width up, and a
//! side to cut on; spare width goes to the columns that gain from it (bars, sparklines), and
//! what is cut says so with an ellipsis on the side that matters least.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Which part of a cell's text survives when it is too wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cut {
    /// Keep the start: `llama-70b-prod…`.
    #[default]
    End,
    /// Keep the distinguishing end of an id: `…instruct-h100-fp8-tp4`.
    Start,
    /// A Hugging Face id: drop the organisation first (`…/Llama-3.3-70B-Instruct`), then
    /// cut the name's end.
    Model,
    /// A sparkline: keep the newest (rightmost) samples, no mark.
    Newest,
}

/// What one column asks of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// Never narrower than this while the column is shown.
    pub min: u16,
    /// Its widest cell (or title); more is only given to `grows` columns.
    pub wish: u16,
    /// Never wider than this.
    pub max: u16,
    /// Gives width up when the table is too narrow: higher first, 0 never (below `wish`).
    pub shrink: u8,
    /// Takes spare width up to `max` (bars, sparklines).
    pub grows: bool,
    /// Takes what is left once the growing columns have theirs (the last text column).
    pub fills: bool,
    /// May be hidden altogether when even the minimums do not fit.
    pub optional: bool,
}

/// Widths for `needs` in `available` cells with `spacing` between shown columns; `None` for a
/// hidden column. The result never exceeds `available` unless the non-optional minimums do.
pub fn widths(needs: &[Need], available: u16, spacing: u16) -> Vec<Option<u16>> {
    let mut shown: Vec<bool> = vec![true; needs.len()];
    let total_min = |shown: &[bool]| -> u32 {
        let count = shown.iter().filter(|s| **s).count() as u32;
        let mins: u32 =
            needs.iter().zip(shown).filter(|(_, s)| **s).map(|(n, _)| n.min as u32).sum();
        mins + spacing as u32 * count.saturating_sub(1)
    };
    // Hide optional columns, the rightmost first, until the minimums fit.
    for i in (0..needs.len()).rev() {
        if total_min(&shown) <= available as u32 {
            break;
        }
        if needs[i].optional {
            shown[i] = false;
        }
    }
    let count = shown.iter().filter(|s| **s).count() as u32;
    let room = (available as u32).saturating_sub(spacing as u32 * count.saturating_sub(1));
    let mut width: Vec<u32> =
        needs.iter().map(|n| n.wish.clamp(n.min, n.max.max(n.min)) as u32).collect();
    let used = |width: &[u32]| -> u32 {
        width.iter().zip(&shown).filter(|(_, s)| **s).map(|(w, _)| *w).sum()
    };
    // Too wide: the most willing columns give width up first, in proportion to what each has
    // above its minimum.
    let mut order: Vec<u8> = needs.iter().map(|n| n.shrink).filter(|s| *s > 0).collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    order.dedup();
    for level in order {
        let over = used(&width).saturating_sub(room);
        if over == 0 {
            break;
        }
        let group: Vec<usize> =
            (0..needs.len()).filter(|&i| shown[i] && needs[i].shrink == level).collect();
        let slack: u32 = group.iter().map(|&i| width[i] - needs[i].min as u32).sum();
        if slack == 0 {
            continue;
        }
        let take = over.min(slack);
        let mut taken = 0;
        for (k, &i) in group.iter().enumerate() {
            let own = width[i] - needs[i].min as u32;
            let share = if k + 1 == group.len() {
                (take - taken).min(own)
            } else {
                (take as u64 * own as u64 / slack as u64) as u32
            };
            width[i] -= share;
            taken += share;
        }
        // Rounding left a few cells: take them one by one from whoever still has slack.
        let mut rest = take - taken;
        while rest > 0 {
            let Some(&i) = group.iter().find(|&&i| width[i] > needs[i].min as u32) else { break };
            width[i] -= 1;
            rest -= 1;
        }
    }
    // Spare width: to the growing columns, evenly, up to their maximum; then what is left to
    // the filling ones.
    let mut spare = room.saturating_sub(used(&width));
    for filling in [false, true] {
        loop {
            let growing: Vec<usize> = (0..needs.len())
                .filter(|&i| shown[i] && width[i] < needs[i].max as u32)
                .filter(|&i| if filling { needs[i].fills } else { needs[i].grows })
                .collect();
            if spare == 0 || growing.is_empty() {
                break;
            }
            let each = (spare / growing.len() as u32).max(1);
            for i in growing {
                let add = each.min(needs[i].max as u32 - width[i]).min(spare);
                width[i] += add;
                spare -= add;
            }
        }
    }
    width.into_iter().zip(shown).map(|(w, s)| s.then_some(w.min(u16::MAX as u32) as u16)).collect()
}

/// The display width of `text`.
pub fn text_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `line` cut to `width` cells on the side `cut` says, each span keeping its style.
pub fn cut_line(line: &Line<'static>, width: usize, cut: Cut) -> Line<'static> {
    if line.width() <= width {
        return line.clone();
    }
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|span| span.content.chars().map(move |c| (c, line.style.patch(span.style))))
        .collect();
    let kept: Vec<(char, Style)> = match cut {
        Cut::End => keep_start(&chars, width, true),
        Cut::Start => keep_end(&chars, width, true),
        Cut::Newest => keep_end(&chars, width, false),
        Cut::Model => {
            let slash = chars.iter().position(|(c, _)| *c == '/');
            match slash {
                // `…/name`, cut at its end when even that is too wide.
                Some(at) if width >= 3 => {
                    let style = chars[at].1;
                    let mut out = vec![('…', style), ('/', style)];
                    out.extend(keep_start(&chars[at + 1..], width - 2, true));
                    out
                }
                _ => keep_start(&chars, width, true),
            }
        }
    };
    spans_of(&kept)
}

/// The first characters that fit in `width`, the last one an ellipsis when `mark` and cut.
fn keep_start(chars: &[(char, Style)], width: usize, mark: bool) -> Vec<(char, Style)> {
    let full: usize = chars.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
    if full <= width {
        return chars.to_vec();
    }
    let budget = if mark { width.saturating_sub(1) } else { width };
    let mut out = Vec::new();
    let mut used = 0;
    for &(c, style) in chars {
        let w = c.width().unwrap_or(0);
        if used + w > budget {
            break;
        }
        used += w;
        out.push((c, style));
    }
    if mark && width > 0 {
        let style = chars.get(out.len()).map(|(_, s)| *s).unwrap_or_default();
        out.push(('…', style));
    }
    out
}

/// The last characters that fit in `width`, the first one an ellipsis when `mark` and cut:
/// `keep_start` read from the other end.
fn keep_end(chars: &[(char, Style)], width: usize, mark: bool) -> Vec<(char, Style)> {
    let reversed: Vec<(char, Style)> = chars.iter().rev().copied().collect();
    let mut kept = keep_start(&reversed, width, mark);
    kept.reverse();
    kept
}

/// Characters back into spans, one per run of the same style.
fn spans_of(chars: &[(char, Style)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut current: Option<Style> = None;
    for &(c, style) in chars {
        if current.is_some_and(|s| s != style) {
            spans.push(Span::styled(std::mem::take(&mut text), current.unwrap_or_default()));
        }
        current = Some(style);
        text.push(c);
    }
    if let Some(style) = current {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(min: u16, wish: u16) -> Need {
        Need { min, wish, max: u16::MAX, shrink: 1, grows: false, fills: false, optional: false }
    }

    fn plain(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn columns_get_their_widest_cell_and_no_more_unless_they_grow() {
        let fixed = Need { shrink: 0, ..need(4, 4) };
        let bar = Need { grows: true, max: 30, ..need(11, 11) };
        let w = widths(&[need(4, 12), fixed, bar], 100, 1);
        assert_eq!(w, [Some(12), Some(4), Some(30)], "NAME keeps 12, the bar takes up to 30");
    }

    #[test]
    fn a_narrow_table_takes_width_from_the_most_willing_columns_first() {
        let name = Need { shrink: 1, ..need(8, 20) };
        let model = Need { shrink: 2, ..need(8, 34) };
        let fixed = Need { shrink: 0, ..need(6, 6) };
        // 20 + 34 + 6 + 2 spaces = 62 wanted, 50 there: MODEL gives the 12 up.
        assert_eq!(widths(&[name, model, fixed], 50, 1), [Some(20), Some(22), Some(6)]);
        // 30 there: MODEL goes to its minimum, then NAME gives the rest.
        assert_eq!(widths(&[name, model, fixed], 30, 1), [Some(14), Some(8), Some(6)]);
    }

    #[test]
    fn columns_of_the_same_willingness_shrink_in_proportion() {
        let w = widths(&[need(4, 24), need(4, 14)], 21, 1);
        assert_eq!(w.iter().flatten().sum::<u16>(), 20);
        assert_eq!(w, [Some(12), Some(8)]);
    }

    #[test]
    fn optional_columns_hide_when_even_the_minimums_do_not_fit() {
        let history = Need { optional: true, grows: true, max: 60, ..need(8, 8) };
        let w = widths(&[need(10, 10), history, need(10, 10)], 25, 1);
        assert_eq!(w, [Some(10), None, Some(10)]);
        assert_eq!(widths(&[need(10, 10), history, need(10, 10)], 40, 1)[1], Some(18));
    }

    #[test]
    fn model_ids_keep_their_name_and_ids_their_tail() {
        let model = Line::from("meta-llama/Llama-3.3-70B-Instruct");
        assert_eq!(plain(&cut_line(&model, 24, Cut::Model)), "…/Llama-3.3-70B-Instruct");
        assert_eq!(plain(&cut_line(&model, 14, Cut::Model)), "…/Llama-3.3-7…");
        assert_eq!(plain(&cut_line(&model, 40, Cut::Model)), "meta-llama/Llama-3.3-70B-Instruct");
        let id = Line::from("llama-3.1-70b-instruct-h100-fp8-tp4");
        assert_eq!(plain(&cut_line(&id, 16, Cut::Start)), "…ct-h100-fp8-tp4");
        assert_eq!(plain(&cut_line(&id, 10, Cut::End)), "llama-3.1…");
        assert_eq!(plain(&cut_line(&Line::from("▁▂▃▄▅▆▇█"), 3, Cut::Newest)), "▆▇█");
    }

    #[test]
    fn cutting_keeps_each_spans_style() {
        use ratatui::style::Color;
        let red = Style::new().fg(Color::Red);
        let line = Line::from(vec![Span::styled("████", red), Span::raw(" 100%")]);
        let cut = cut_line(&line, 6, Cut::End);
        assert_eq!(plain(&cut), "████ …");
        assert_eq!(cut.spans[0].style, red);
    }
}
