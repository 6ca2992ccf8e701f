//! Actions and the keys bound to them. The defaults live here; the config file's `keys:` map
//! overrides them per action. The help overlay, the footer and `docs/keybindings.md` are all
//! generated from (or checked against) this one table.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Where an action applies: everywhere, in any table, or on the selected row of a resource view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Table,
    Resource,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Global",
            Scope::Table => "Tables",
            Scope::Resource => "Selected row",
        }
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $scope:ident, $help:literal, [$($key:literal),*];)*) => {
        /// Everything a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name used in the config file's `keys:` map.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }

            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help),* }
            }

            pub fn scope(self) -> Scope {
                match self { $(Action::$variant => Scope::$scope),* }
            }

            fn default_keys(self) -> &'static [&'static str] {
                match self { $(Action::$variant => &[$($key),*]),* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit => "quit", Global, "Quit aimdeck", ["q", "ctrl-c"];
    Help => "help", Global, "Show or hide this help", ["?"];
    Back => "back", Global, "Close the overlay, clear the filter, or go back", ["esc"];
    CommandMode => "command", Global, "Command mode (:gpus, :cache, :recipes, :ep, :theme NAME, :q)", [":"];
    NextView => "next_view", Global, "Next view", ["tab"];
    PrevView => "prev_view", Global, "Previous view", ["backtab"];
    ViewGpus => "view_gpus", Global, "GPUs view", ["1"];
    ViewCache => "view_cache", Global, "Cache view", ["2"];
    ViewRecipes => "view_recipes", Global, "Recipes view", ["3"];
    ViewEndpoints => "view_endpoints", Global, "Endpoints view", ["4"];
    Refresh => "refresh", Global, "Refresh the view's data now", ["ctrl-r"];
    AllowDegraded => "allow_degraded", Global, "Create/scale may use degraded GPUs (--allow-degraded)", ["A"];
    Partitions => "partitions", Global, "Create/scale may use partitions, MIG (--partitions)", ["M"];
    Filter => "filter", Table, "Filter the table", ["/"];
    Up => "up", Table, "Move up", ["k", "up"];
    Down => "down", Table, "Move down", ["j", "down"];
    PageUp => "page_up", Table, "Page up", ["pageup", "ctrl-b"];
    PageDown => "page_down", Table, "Page down", ["pagedown", "ctrl-f"];
    Top => "top", Table, "First row", ["g", "home"];
    Bottom => "bottom", Table, "Last row", ["G", "end"];
    SortNext => "sort", Table, "Sort by the next column", ["o"];
    SortReverse => "sort_reverse", Table, "Reverse the sort order", ["O"];
    Open => "open", Table, "Open the detail of the selected row", ["enter"];
    Create => "create", Resource, "Create (form)", ["c"];
    Scale => "scale", Resource, "Scale to a number of replicas", ["s"];
    ScaleUp => "scale_up", Resource, "Add one replica", ["+"];
    ScaleDown => "scale_down", Resource, "Remove one replica", ["-"];
    Delete => "delete", Resource, "Delete (asks you to type the name)", ["d"];
    Logs => "logs", Resource, "Logs", ["l"];
    Prompt => "prompt", Resource, "Prompt playground", ["p"];
    Bench => "bench", Resource, "Smoke benchmark", ["b"];
    Restart => "restart", Resource, "Restart", ["r"];
    ShowConfig => "show_config", Resource, "Show the rendered config", ["y"];
    Pull => "pull", Resource, "Pull a model into the cache", ["P"];
    Edit => "edit", Resource, "Edit", ["e"];
    Topology => "topology", Resource, "Show the GPU topology matrix full size (GPUs view)", ["t"];
    Cancel => "cancel", Resource, "Cancel the running pull or benchmark", ["x"];
    RecipesFor => "recipes_for", Resource, "Recipes for the selected model (Cache view)", ["R"];
}

impl Action {
    /// Whether the action changes something outside this console (a deployment, the cache, a
    /// recipe file, the load on a server): what `--readonly` refuses. Every action is
    /// classified here, without a catch-all, so a new one cannot slip past the read-only mode.
    pub fn changes_something(self) -> bool {
        match self {
            Action::Create
            | Action::Scale
            | Action::ScaleUp
            | Action::ScaleDown
            | Action::Delete
            | Action::Restart
            | Action::Pull
            | Action::Edit
            // A benchmark loads the server for everyone using it.
            | Action::Bench => true,
            Action::Quit
            | Action::Help
            | Action::Back
            | Action::CommandMode
            | Action::NextView
            | Action::PrevView
            | Action::ViewGpus
            | Action::ViewCache
            | Action::ViewRecipes
            | Action::ViewEndpoints
            | Action::Refresh
            // The toggles change what this console's own create and scale may use.
            | Action::AllowDegraded
            | Action::Partitions
            | Action::Filter
            | Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::SortNext
            | Action::SortReverse
            | Action::Open
            | Action::Logs
            | Action::Prompt
            | Action::ShowConfig
            | Action::Topology
            // Stops only what this console started.
            | Action::Cancel
            | Action::RecipesFor => false,
        }
    }
}

/// The keys of the logs pane (`l`): fixed, listed by the help and the footer from here.
pub const LOG_KEYS: &[(char, &str)] = &[
    ('/', "Search the log"),
    ('n', "Next match"),
    ('N', "Previous match"),
    ('w', "Wrap long lines on or off"),
    ('G', "Last line, and follow new lines"),
];

/// A key with its modifiers, as written in the config file: `q`, `ctrl-c`, `tab`, `backtab`,
/// `enter`, `esc`, `up`, `pageup`, `f5`, `space`, `G` (shift is part of the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Key {
        // Terminals report `G` with or without SHIFT; the character carries the case.
        let code = event.code;
        Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    pub fn parse(text: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(tail) = rest.strip_prefix("ctrl-").or_else(|| rest.strip_prefix("c-")) {
                ctrl = true;
                rest = tail;
            } else if let Some(tail) = rest.strip_prefix("alt-").or_else(|| rest.strip_prefix("m-"))
            {
                alt = true;
                rest = tail;
            } else {
                break;
            }
        }
        let code = match rest {
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            single if single.chars().count() == 1 => {
                let c = single.chars().next().unwrap_or(' ');
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
            _ => return Err(format!("unknown key `{text}`")),
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("backtab"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The bindings in force: defaults with the user's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Action>,
    by_action: BTreeMap<Action, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::with_overrides(&BTreeMap::new()).0
    }
}

impl Keymap {
    /// Applies `overrides` (action name -> keys) to the defaults. Problems come back as
    /// warnings for the message line; a bad entry is skipped, never fatal.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> (Keymap, Vec<String>) {
        let mut warnings = Vec::new();
        let mut by_action: BTreeMap<Action, Vec<Key>> = Action::ALL
            .iter()
            .map(|&action| {
                let keys =
                    action.default_keys().iter().filter_map(|k| Key::parse(k).ok()).collect();
                (action, keys)
            })
            .collect();
        for (name, keys) in overrides {
            let Some(action) = Action::from_name(name) else {
                warnings.push(format!(
                    "config keys: unknown action `{name}` (see docs/keybindings.md)"
                ));
                continue;
            };
            let mut parsed = Vec::new();
            for key in keys {
                match Key::parse(key) {
                    Ok(key) => parsed.push(key),
                    Err(err) => warnings.push(format!("config keys.{name}: {err}")),
                }
            }
            if !parsed.is_empty() {
                // A key moved to this action leaves whatever action had it before.
                for other in by_action.values_mut() {
                    other.retain(|k| !parsed.contains(k));
                }
                by_action.insert(action, parsed);
            }
        }
        let mut by_key = HashMap::new();
        for (&action, keys) in &by_action {
            for &key in keys {
                by_key.insert(key, action);
            }
        }
        (Keymap { by_key, by_action }, warnings)
    }

    pub fn action_for(&self, event: &KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::from_event(event);
        self.by_key.get(&key).copied().or_else(|| {
            // Some terminals send shifted letters with SHIFT and a lowercase char.
            match (key.code, event.modifiers.contains(KeyModifiers::SHIFT)) {
                (KeyCode::Char(c), true) => self
                    .by_key
                    .get(&Key { code: KeyCode::Char(c.to_ascii_uppercase()), ..key })
                    .copied(),
                _ => None,
            }
        })
    }

    pub fn keys_for(&self, action: Action) -> &[Key] {
        self.by_action.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How messages name an action: as the help lists it, with its keys in force.
    pub fn describe(&self, action: Action) -> String {
        // The help's words without its aside: "Delete (asks you to type the name)" is "Delete".
        let help = action.help();
        let words = match help.rfind(" (") {
            Some(at) if help.ends_with(')') => &help[..at],
            _ => help,
        };
        match self.label(action) {
            keys if keys.is_empty() => words.to_string(),
            keys => format!("{words} ({keys})"),
        }
    }

    /// The read-only refusal, naming the action as the help does.
    pub fn refusal(&self, action: Action) -> String {
        format!("{}: refused, aimdeck is read-only (--readonly)", self.describe(action))
    }

    /// `q/ctrl-c` style label for the footer and help.
    pub fn label(&self, action: Action) -> String {
        self.keys_for(action).iter().map(Key::to_string).collect::<Vec<_>>().join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_cover_vim_keys_and_arrows() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.action_for(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            keymap.action_for(&press(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            keymap.action_for(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action_for(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
    }

    #[test]
    fn every_default_key_parses_and_no_key_is_bound_twice() {
        let mut seen = HashMap::new();
        for &action in Action::ALL {
            for text in action.default_keys() {
                let key = Key::parse(text).unwrap_or_else(|e| panic!("{action:?}: {e}"));
                if let Some(previous) = seen.insert(key, action) {
                    panic!("{text} is bound to both {previous:?} and {action:?}");
                }
                assert_eq!(Key::parse(&key.to_string()), Ok(key), "{text} round-trips");
            }
        }
    }

    #[test]
    fn overrides_move_keys_and_bad_entries_become_warnings() {
        let overrides = BTreeMap::from([
            ("quit".to_string(), vec!["x".to_string()]),
            ("down".to_string(), vec!["ctrl-n".to_string(), "hyper-q".to_string()]),
            ("explode".to_string(), vec!["e".to_string()]),
        ]);
        let (keymap, warnings) = Keymap::with_overrides(&overrides);
        assert_eq!(
            keymap.action_for(&press(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(keymap.action_for(&press(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(
            keymap.action_for(&press(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            Some(Action::Down)
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("explode")));
        assert!(warnings.iter().any(|w| w.contains("hyper-q")));
    }
}
