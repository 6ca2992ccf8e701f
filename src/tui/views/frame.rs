//! The frame around every view: header, tab bar, the view, the message line and the footer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::{ViewId, empty, help};
use crate::tui::app::App;
use crate::tui::keymap::Action;
use crate::tui::messages::Level;
use crate::tui::mode::Mode;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole screen. Pure: reads `app`, writes only the frame.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(app, frame, area);
        return;
    }
    let [header, tabs, body, message, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, frame, header);
    render_tabs(app, frame, tabs);
    render_view(app, frame, body);
    render_message(app, frame, message);
    render_footer(app, frame, footer);
    match &app.mode {
        Mode::Help { scroll } => help::render(frame, body, app, *scroll),
        Mode::Confirm(dialog, _) => dialog.render(frame, body, &app.theme),
        Mode::Form(form, _) => form.render(frame, body, &app.theme),
        Mode::Pager(pager) => {
            crate::tui::features::deploy::view::render_pager(frame, body, pager, &app.theme)
        }
        Mode::Logs => {
            if let Some(logs) = &app.deploy.logs {
                crate::tui::features::deploy::view::render_logs(frame, body, logs, &app.theme);
            }
        }
        Mode::Pick(picker, _) => picker.render(frame, body, &app.theme),
        Mode::Normal | Mode::Command { .. } | Mode::Filter { .. } => {}
    }
}

fn render_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let lines = vec![
        Line::styled("Terminal too small", app.theme.error).centered(),
        Line::styled(
            format!(
                "{}x{} here, aimdeck needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
                area.width, area.height
            ),
            app.theme.text,
        )
        .centered(),
        Line::styled("Enlarge the window, or press q to quit.", app.theme.muted).centered(),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let middle = Rect { y: area.y + top, height: area.height.saturating_sub(top).min(3), ..area };
    frame.render_widget(Paragraph::new(lines), middle);
}

fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let mut left = vec![
        Span::styled(" aimdeck ", theme.header.add_modifier(ratatui::style::Modifier::BOLD)),
        Span::styled(format!(" ctx: {} ", app.header.backend), theme.header),
        Span::styled(format!(" host: {} ", app.header.host), theme.header),
    ];
    if app.readonly {
        left.push(Span::styled(
            " READ-ONLY ",
            theme.header.add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    // Backends not answering well (slow, unreachable since when); their rows are the last known.
    for (backend, state) in app.deploy.backend_states(app.now.instant) {
        left.push(Span::styled(
            format!(" {backend}: {state} "),
            theme.header.add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    frame.render_widget(Block::new().style(theme.header), area);
    frame.render_widget(Line::from(left), area);
    frame
        .render_widget(Line::styled(format!("{} ", app.clock), theme.header).right_aligned(), area);
}

fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let mut spans = vec![Span::raw(" ")];
    for (i, view) in ViewId::TABS.iter().enumerate() {
        let style = if *view == app.view { theme.tab_active } else { theme.tab_inactive };
        spans.push(Span::styled(format!("{} {}", i + 1, view.title()), style));
        spans.push(Span::styled("  ", theme.muted));
    }
    frame.render_widget(Line::from(spans), area);
}

fn render_view(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let view = app.current();
    let table = &view.table;
    let mut title = vec![Span::styled(format!(" {} ", view.id.title()), theme.accent)];
    let count = if table.filter().is_empty() {
        format!("[{}] ", table.total())
    } else {
        format!("[{}/{}] /{} ", table.visible_len(), table.total(), table.filter())
    };
    title.push(Span::styled(count, theme.muted));
    if let Some(sort) = table.sort_label() {
        title.push(Span::styled(format!("sort: {sort} "), theme.muted));
    }
    if let Some(note) = crate::tui::placement_toggle::title_note(app.gpus.placement) {
        title.push(Span::styled(note, theme.warning));
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(Line::from(title));
    let (area, pull_area) = match (&app.cache.pull, view.id) {
        (Some(_), ViewId::Cache) if area.height > 12 => {
            let [top, bottom] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(7)]).areas(area);
            (top, Some(bottom))
        }
        _ => (area, None),
    };
    if let (Some(pull_area), Some(progress)) = (pull_area, &app.cache.pull) {
        crate::tui::features::cache::render_pull(frame, pull_area, progress, theme);
    }
    let block = if view.id == ViewId::Cache {
        block.title_bottom(
            Line::styled(crate::tui::features::cache::summary(&app.cache), theme.muted)
                .right_aligned(),
        )
    } else {
        block
    };
    let area =
        crate::tui::features::cluster::view::render_pane(&app.cluster, theme, frame, view.id, area);
    if table.total() == 0 {
        empty::render(frame, area, block, &view.empty_note, theme);
        return;
    }
    match (view.id, &app.gpus.update) {
        (ViewId::Gpus, Some(update)) if app.gpus.topology_full => {
            crate::tui::features::gpus::render_topology(
                frame,
                area,
                app.gpus.joined.as_deref().unwrap_or(&update.snapshot),
                theme,
            );
        }
        (ViewId::Gpus, Some(update)) => {
            let (table_area, detail, topology) =
                crate::tui::features::gpus::split(area, update.snapshot.gpus.len());
            let snapshot = app.gpus.joined.as_deref().unwrap_or(&update.snapshot);
            crate::tui::features::gpus::table::render(
                frame, table_area, block, table, snapshot, theme,
            );
            if let (Some(detail), Some(gpu)) =
                (detail, crate::tui::features::gpus::detail::selected(snapshot, table.selected()))
            {
                crate::tui::features::gpus::detail::render(frame, detail, gpu, theme);
            }
            if let Some(topology) = topology {
                crate::tui::features::gpus::render_topology(frame, topology, snapshot, theme);
            }
        }
        (ViewId::Cache, _) => {
            let wide = area.width >= 140;
            let [table_area, detail] = if wide {
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(area)
            } else {
                Layout::vertical([
                    Constraint::Fill(1),
                    Constraint::Length(area.height.saturating_sub(3) / 2),
                ])
                .areas(area)
            };
            // Damaged repos are not rows: they get their own pane under the table.
            let most = if wide { 8 } else { (area.height / 8).max(1) };
            let [table_area, warnings_area] = Layout::vertical([
                Constraint::Fill(1),
                Constraint::Length(crate::tui::features::cache::warnings_height(&app.cache, most)),
            ])
            .areas(table_area);
            table.render(frame, table_area, block, theme);
            if let Some(report) = app.cache.report.as_ref().filter(|_| warnings_area.height > 0) {
                crate::tui::features::cache::render_warnings(frame, warnings_area, report, theme);
            }
            if let Some(repo) = crate::tui::features::cache::selected_repo(&app.cache, &app.ctx()) {
                crate::tui::features::cache::render_detail(frame, detail, repo, &app.cache, theme);
            }
        }
        (ViewId::Recipes, _) => {
            let wide = area.width >= 140;
            let [table_area, detail] = if wide {
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(area)
            } else {
                Layout::vertical([
                    Constraint::Length(area.height.saturating_sub(3) / 2 + 1),
                    Constraint::Fill(1),
                ])
                .areas(area)
            };
            table.render(frame, table_area, block, theme);
            if let Some(loaded) = app.selected_recipe() {
                crate::tui::features::recipes::render_detail(
                    frame,
                    detail,
                    loaded,
                    &app.recipes,
                    theme,
                );
            }
        }
        (ViewId::Endpoints, _) => {
            crate::tui::features::endpoints::view::render(&app.ctx(), frame, area, block)
        }
        _ => table.render(frame, area, block, theme),
    }
}

fn render_message(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    match &app.mode {
        Mode::Command { input, candidates } => {
            let [prompt, field] =
                Layout::horizontal([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
            frame.render_widget(Span::styled(":", theme.accent), prompt);
            let mut input = input.clone();
            input.set_style(theme.text);
            frame.render_widget(input.widget(), field);
            if !candidates.is_empty() {
                let hint = format!("{} ", candidates.join("  "));
                frame.render_widget(Line::styled(hint, theme.muted).right_aligned(), area);
            }
        }
        Mode::Filter { input } => {
            let [prompt, field] =
                Layout::horizontal([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
            frame.render_widget(Span::styled("/", theme.accent), prompt);
            frame.render_widget(input.widget(), field);
        }
        _ => {
            if let Some(message) = &app.message {
                let (style, mark) = match message.level {
                    Level::Info => (theme.info, "●"),
                    Level::Warning => (theme.warning, "▲"),
                    Level::Error => (theme.error, "✗"),
                };
                frame.render_widget(Line::styled(format!(" {mark} {}", message.text), style), area);
            }
        }
    }
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let hints: Vec<(String, &str)> = match &app.mode {
        Mode::Command { .. } => {
            vec![("enter".into(), "run"), ("tab".into(), "complete"), ("esc".into(), "cancel")]
        }
        Mode::Filter { .. } => vec![("enter".into(), "keep filter"), ("esc".into(), "clear")],
        Mode::Help { .. } => vec![("j/k".into(), "scroll"), ("esc".into(), "close")],
        Mode::Confirm(..) => vec![("enter".into(), "confirm"), ("esc".into(), "cancel")],
        Mode::Pager(pager) if pager.create.is_some() => {
            vec![("enter".into(), "create"), ("j/k".into(), "scroll"), ("esc".into(), "cancel")]
        }
        Mode::Pager(_) => vec![("j/k".into(), "scroll"), ("esc".into(), "close")],
        Mode::Logs => vec![
            ("/".into(), "search"),
            ("n/N".into(), "next/prev"),
            ("G".into(), "follow"),
            ("w".into(), "wrap"),
            ("esc".into(), "close"),
        ],
        Mode::Form(..) => vec![
            ("tab".into(), "next field"),
            ("ctrl-s".into(), "submit"),
            ("esc".into(), "cancel"),
        ],
        Mode::Pick(..) => {
            vec![("j/k".into(), "move"), ("enter".into(), "switch"), ("esc".into(), "cancel")]
        }
        Mode::Normal if app.view == ViewId::Endpoints && app.endpoints.pane_open() => {
            crate::tui::features::endpoints::view::footer_hints(&app.ctx())
        }
        Mode::Normal => app
            .available_actions()
            .into_iter()
            .map(|action| (footer_keys(app, action), footer_word(action)))
            .collect(),
    };
    // Row actions are many: their keys share one hint, and `?` lists what each does.
    let (row_actions, hints): (Vec<_>, Vec<_>) = hints.into_iter().partition(|(keys, what)| {
        matches!(app.mode, Mode::Normal)
            && Action::ALL
                .iter()
                .any(|a| a.scope() == crate::tui::keymap::Scope::Resource && a.name() == *what)
            && keys.chars().count() == 1
    });
    let mut hints = hints;
    if row_actions.len() <= 2 {
        let quit = hints.pop();
        hints.extend(row_actions);
        hints.extend(quit);
    } else {
        let keys: Vec<String> = row_actions.into_iter().map(|(keys, _)| keys).collect();
        let quit = hints.pop();
        hints.push((keys.join(" "), "actions"));
        hints.extend(quit);
    }
    // A background benchmark's progress, right-aligned in every view: the hints give way to
    // it (`?` lists them all) up to three fifths of the line.
    let area = match &app.endpoints.bench_job {
        Some(job) => {
            let room = usize::from(area.width) * 3 / 5;
            let status = job.status_within(room.saturating_sub(1));
            let width = (crate::tui::widgets::text_width(&status) + 1).min(room) as u16;
            let [hints_area, status_area] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Length(width)]).areas(area);
            let status = crate::tui::widgets::cut_line(
                &Line::styled(status, theme.info),
                usize::from(width.saturating_sub(1)),
                crate::tui::widgets::Cut::End,
            );
            frame.render_widget(status, status_area);
            hints_area
        }
        None => area,
    };
    // Whole hints only: one cut in half reads as a different key.
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (keys, what) in hints {
        let what = format!(" {what}  ");
        let width = crate::tui::widgets::text_width(&keys) + crate::tui::widgets::text_width(&what);
        if used + width > usize::from(area.width) + 2 {
            break;
        }
        used += width;
        spans.push(Span::styled(keys, theme.accent));
        spans.push(Span::styled(what, theme.muted));
    }
    frame.render_widget(Line::from(spans).style(Style::default()), area);
}

/// The key to show for an action: its first, except that moving shows `j/k` (down/up).
fn footer_keys(app: &App, action: Action) -> String {
    if action == Action::Down {
        let first =
            |a: Action| app.keymap.keys_for(a).first().map(ToString::to_string).unwrap_or_default();
        return format!("{}/{}", first(Action::Down), first(Action::Up));
    }
    app.keymap.keys_for(action).first().map(ToString::to_string).unwrap_or_default()
}

/// One word per action for the footer (the help overlay has the full sentence).
fn footer_word(action: Action) -> &'static str {
    match action {
        Action::Help => "help",
        Action::CommandMode => "command",
        Action::NextView => "view",
        Action::Filter => "filter",
        Action::Down => "move",
        Action::SortNext => "sort",
        Action::Quit => "quit",
        other => other.name(),
    }
}
