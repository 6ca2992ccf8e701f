//! One column of a `DataTable`: its title, its width rule, and what it asks of the layout
//! (`table_layout::widths`).

use ratatui::layout::Constraint;

use crate::tui::widgets::table_layout::{Cut, Need, text_width};

/// A column: its title, its width rule and how its cells are cut (`table_layout`).
/// `Length(n)` is exactly `n` cells; `Min(n)` is at least `n` and as wide as its widest cell;
/// `Fill` is as wide as its widest cell, gives width up first and takes what is left over.
#[derive(Debug, Clone)]
pub struct Column {
    pub title: &'static str,
    pub width: Constraint,
    pub cut: Cut,
    /// Takes spare width up to this (bars, sparklines); `None`: only its widest cell.
    pub grow_to: Option<u16>,
    /// May be hidden when the table is too narrow for every column's minimum.
    pub optional: bool,
    /// Gives width up before the other text columns (a model id or a state that is cut
    /// well), so the row's name stays whole.
    pub shrinks_first: bool,
}

impl Column {
    pub fn new(title: &'static str, width: Constraint) -> Column {
        Column { title, width, cut: Cut::End, grow_to: None, optional: false, shrinks_first: false }
    }

    /// Cuts its cells on this side (`Cut::Model` for model ids, `Cut::Start` for ids).
    pub fn cut(mut self, cut: Cut) -> Column {
        self.cut = cut;
        self
    }

    /// Takes spare width up to `max` cells: its bars and sparklines are drawn that wide.
    pub fn grows_to(mut self, max: u16) -> Column {
        self.grow_to = Some(max);
        self
    }

    /// May be hidden on a narrow screen.
    pub fn optional(mut self) -> Column {
        self.optional = true;
        self
    }

    /// Gives width up before the other text columns.
    pub fn shrinks_first(mut self) -> Column {
        self.shrinks_first = true;
        self
    }

    /// What the layout needs to know, `widest` being the widest cell shown (title included).
    pub(super) fn need(&self, widest: u16) -> Need {
        let title = text_width(self.title) as u16 + 2; // room for the sort arrow
        let (min, wish, max, shrink) = match self.width {
            Constraint::Length(n) => (n, n, n, 0),
            Constraint::Min(n) => {
                (n, widest.max(n), u16::MAX, if self.shrinks_first { 2 } else { 1 })
            }
            Constraint::Max(n) => (title.min(n), widest.min(n), n, 1),
            _ => (title.min(6), widest, u16::MAX, 3),
        };
        let max = self.grow_to.map(|g| g.max(min)).unwrap_or(max);
        Need {
            min,
            wish: wish.max(title.min(max)),
            max,
            shrink,
            grows: self.grow_to.is_some(),
            fills: matches!(self.width, Constraint::Fill(_)),
            optional: self.optional,
        }
    }
}
