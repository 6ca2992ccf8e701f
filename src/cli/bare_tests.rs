//! `Cli::bare` stands in for clap on a bare `aimdeck`: it must be what clap makes of it.

use clap::Parser;

use super::{Cli, console_options};

fn set_aimdeck_config(value: Option<&std::ffi::OsStr>) {
    // SAFETY: no other test in this binary reads or writes AIMDECK_CONFIG.
    unsafe {
        match value {
            Some(v) => std::env::set_var("AIMDECK_CONFIG", v),
            None => std::env::remove_var("AIMDECK_CONFIG"),
        }
    }
}

#[test]
fn a_bare_command_line_is_what_clap_makes_of_it_with_and_without_aimdeck_config() {
    let before = std::env::var_os("AIMDECK_CONFIG");
    let mut compared = Vec::new();
    for value in [None, Some("/etc/aimdeck/site.yaml")] {
        set_aimdeck_config(value.map(std::ffi::OsStr::new));
        let bare = Cli::bare().expect("no clap needed");
        let clap = Cli::try_parse_from(["aimdeck"]).expect("a bare command line parses");
        assert!(bare.command.is_none() && clap.command.is_none());
        assert_eq!(console_options(&bare.global), console_options(&clap.global), "{value:?}");
        compared.push(console_options(&bare.global).config);
    }
    // An empty value is clap's to refuse, with its own message.
    set_aimdeck_config(Some(std::ffi::OsStr::new("")));
    assert!(Cli::bare().is_none());
    assert!(Cli::try_parse_from(["aimdeck"]).is_err());
    set_aimdeck_config(before.as_deref());
    // The variable was honoured where set, so the comparison above compared something.
    assert_eq!(compared[1].as_deref(), Some(std::path::Path::new("/etc/aimdeck/site.yaml")));
}
