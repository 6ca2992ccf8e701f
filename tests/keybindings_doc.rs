//! `docs/keybindings.md` must list every action with every default key, so the doc can never
//! fall behind the keymap.

use aimdeck::tui::keymap::{Action, Keymap};

#[test]
fn every_binding_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keybindings.md"))
        .unwrap();
    let keymap = Keymap::default();
    let mut missing = Vec::new();
    for &action in Action::ALL {
        let row = doc.lines().find(|line| line.starts_with(&format!("| `{}` |", action.name())));
        match row {
            None => missing.push(format!("action `{}` has no row", action.name())),
            Some(row) => {
                for key in keymap.keys_for(action) {
                    if !row.contains(&format!("`{key}`")) {
                        missing.push(format!(
                            "action `{}`: key `{key}` not in its row",
                            action.name()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "docs/keybindings.md is out of date:\n{}", missing.join("\n"));
}
