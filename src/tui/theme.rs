//! Themes: YAML files of named colours. The built-ins (`themes/*.yaml`) are embedded in the
//! binary; a name can also be a file in `~/.config/aimdeck/themes/` or a path. `NO_COLOR` gives
//! a monochrome theme whose styles use only bold/reverse/dim, so no colour escape is ever sent.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::config::{ConfigError, parse_yaml_file};

pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.yaml")),
    ("light", include_str!("../../themes/light.yaml")),
    ("high-contrast", include_str!("../../themes/high-contrast.yaml")),
];

pub const DEFAULT_THEME: &str = "dark";

/// A colour as written in a theme file, checked by `ratatui::style::Color`'s own parser.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ThemeColor(Color);

impl<'de> Deserialize<'de> for ThemeColor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Color::from_str(&text).map(ThemeColor).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{text}` is not a colour (a name like `cyan`, `#rrggbb`, or 0-255)"
            ))
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    text: ThemeColor,
    muted: ThemeColor,
    accent: ThemeColor,
    header_fg: ThemeColor,
    header_bg: ThemeColor,
    border: ThemeColor,
    border_focused: ThemeColor,
    selection_fg: ThemeColor,
    selection_bg: ThemeColor,
    tab_active: ThemeColor,
    tab_inactive: ThemeColor,
    ok: ThemeColor,
    warning: ThemeColor,
    error: ThemeColor,
    info: ThemeColor,
    gauge_low: ThemeColor,
    gauge_mid: ThemeColor,
    gauge_high: ThemeColor,
    link_fast: ThemeColor,
    link_medium: ThemeColor,
    link_slow: ThemeColor,
}

/// Ready-made styles for every role the views draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub accent: Style,
    pub header: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selection: Style,
    pub tab_active: Style,
    pub tab_inactive: Style,
    pub ok: Style,
    pub warning: Style,
    pub error: Style,
    pub info: Style,
    pub gauge_low: Style,
    pub gauge_mid: Style,
    pub gauge_high: Style,
    pub link_fast: Style,
    pub link_medium: Style,
    pub link_slow: Style,
}

impl From<ThemeFile> for Theme {
    fn from(file: ThemeFile) -> Self {
        let fg = |c: ThemeColor| Style::new().fg(c.0);
        Theme {
            name: file.name,
            text: fg(file.text),
            muted: fg(file.muted),
            accent: fg(file.accent).add_modifier(Modifier::BOLD),
            header: Style::new().fg(file.header_fg.0).bg(file.header_bg.0),
            border: fg(file.border),
            border_focused: fg(file.border_focused),
            selection: Style::new()
                .fg(file.selection_fg.0)
                .bg(file.selection_bg.0)
                .add_modifier(Modifier::BOLD),
            tab_active: fg(file.tab_active).add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            tab_inactive: fg(file.tab_inactive),
            ok: fg(file.ok),
            warning: fg(file.warning),
            error: fg(file.error).add_modifier(Modifier::BOLD),
            info: fg(file.info),
            gauge_low: fg(file.gauge_low),
            gauge_mid: fg(file.gauge_mid),
            gauge_high: fg(file.gauge_high),
            link_fast: fg(file.link_fast).add_modifier(Modifier::BOLD),
            link_medium: fg(file.link_medium),
            link_slow: fg(file.link_slow),
        }
    }
}

impl Theme {
    /// The theme for `NO_COLOR`: attributes only.
    pub fn monochrome() -> Theme {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let reversed = Style::new().add_modifier(Modifier::REVERSED);
        let dim = Style::new().add_modifier(Modifier::DIM);
        Theme {
            name: "monochrome".into(),
            text: plain,
            muted: dim,
            accent: bold,
            header: reversed,
            border: plain,
            border_focused: bold,
            selection: reversed,
            tab_active: bold.add_modifier(Modifier::UNDERLINED),
            tab_inactive: plain,
            ok: plain,
            warning: bold,
            error: bold,
            info: plain,
            gauge_low: plain,
            gauge_mid: plain,
            gauge_high: bold,
            link_fast: bold,
            link_medium: plain,
            link_slow: dim,
        }
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        if name == DEFAULT_THEME {
            return Some(dark());
        }
        parse_builtin(name)
    }

    pub fn default_theme() -> Theme {
        dark()
    }

    /// Resolves `name`: a built-in, a file in the user theme dir, or a path to a YAML file.
    pub fn load(name: &str, user_dir: &Path) -> Result<Theme, ThemeError> {
        if let Some(theme) = Theme::builtin(name) {
            return Ok(theme);
        }
        let candidates: Vec<PathBuf> = if name.ends_with(".yaml") || name.contains('/') {
            vec![PathBuf::from(name)]
        } else {
            vec![user_dir.join(format!("{name}.yaml")), user_dir.join(format!("{name}.yml"))]
        };
        for path in &candidates {
            if let Ok(text) = std::fs::read_to_string(path) {
                return parse(path, &text).map_err(ThemeError::Invalid);
            }
        }
        Err(ThemeError::NotFound { name: name.to_string(), known: Theme::names(user_dir) })
    }

    /// Built-in names followed by the user's theme files.
    pub fn names(user_dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        if let Ok(entries) = std::fs::read_dir(user_dir) {
            let mut user: Vec<String> = entries
                .flatten()
                .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
                .filter(|n| !names.contains(n))
                .collect();
            user.sort();
            names.extend(user);
        }
        names
    }
}

fn parse_builtin(name: &str) -> Option<Theme> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    parse(Path::new(&format!("themes/{name}.yaml")), text).ok()
}

/// The default theme as `themes/dark.yaml` has it (a test holds the two equal), made from
/// constants: the first frame needs it, and reading YAML first is a third of a millisecond of
/// the 7 before that frame (the YAML reader's code paged in, then the parse).
fn dark() -> Theme {
    use Color::*;
    let c = ThemeColor;
    Theme::from(ThemeFile {
        name: DEFAULT_THEME.to_string(),
        text: c(Reset),
        muted: c(DarkGray),
        accent: c(Cyan),
        header_fg: c(Black),
        header_bg: c(Cyan),
        border: c(DarkGray),
        border_focused: c(Cyan),
        selection_fg: c(Black),
        selection_bg: c(LightCyan),
        tab_active: c(LightCyan),
        tab_inactive: c(Gray),
        ok: c(Green),
        warning: c(Yellow),
        error: c(LightRed),
        info: c(LightBlue),
        gauge_low: c(Green),
        gauge_mid: c(Yellow),
        gauge_high: c(LightRed),
        link_fast: c(LightGreen),
        link_medium: c(Yellow),
        link_slow: c(Gray),
    })
}

fn parse(path: &Path, text: &str) -> Result<Theme, ConfigError> {
    parse_yaml_file::<ThemeFile>(path, text).map(Theme::from)
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme `{name}` (known: {})", known.join(", "))]
    NotFound { name: String, known: Vec<String> },
    #[error("{0}")]
    Invalid(ConfigError),
}

/// True when the `NO_COLOR` convention asks for no colour (set and not empty).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses() {
        for (name, _) in BUILTIN {
            assert_eq!(parse_builtin(name).map(|t| t.name), Some(name.to_string()));
        }
    }

    #[test]
    fn the_default_theme_is_what_its_file_says() {
        assert_eq!(parse_builtin(DEFAULT_THEME), Some(dark()));
        assert_eq!(Some(Theme::default_theme()), parse_builtin(DEFAULT_THEME));
        assert_eq!(Theme::builtin(DEFAULT_THEME), parse_builtin(DEFAULT_THEME));
    }

    #[test]
    fn broken_theme_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.yaml");
        let text =
            include_str!("../../themes/dark.yaml").replace("accent: cyan", "accent: sparkly");
        std::fs::write(&path, text).unwrap();
        let err = Theme::load("broken", dir.path()).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:", path.display())), "{err}");
        assert!(
            err.contains(":8:9: `sparkly` is not a colour"),
            "points at the accent value: {err}"
        );
        assert!(err.contains("sparkly"), "{err}");
    }

    #[test]
    fn unknown_theme_lists_the_known_ones() {
        let err = Theme::load("nope", Path::new("/nonexistent")).unwrap_err().to_string();
        assert!(err.contains("dark, light, high-contrast"), "{err}");
    }

    #[test]
    fn monochrome_uses_no_colours() {
        let theme = Theme::monochrome();
        for style in [theme.text, theme.header, theme.selection, theme.error, theme.gauge_high] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
    }
}
