//! The real terminal: raw mode and the alternate screen on the way in, and a restore that runs
//! however the console ends (normal quit, error, panic, SIGTERM, SIGHUP).

use std::io;

use ratatui::DefaultTerminal;

/// Restores the terminal when dropped, so every return path (including `?`) leaves it clean.
pub struct TerminalGuard {
    /// `None` only while the guard is dropped.
    terminal: Option<DefaultTerminal>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen. `ratatui::init` also installs a panic hook
    /// that restores the terminal before the panic message prints (chained after
    /// color-eyre's, which `tui::run` installs first).
    pub fn enter() -> io::Result<TerminalGuard> {
        let terminal = ratatui::try_init()?;
        crossterm::execute!(io::stdout(), crossterm::event::EnableBracketedPaste)?;
        Ok(TerminalGuard { terminal: Some(terminal) })
    }

    pub fn terminal(&mut self) -> &mut DefaultTerminal {
        self.terminal.as_mut().expect("the terminal is held until the guard drops")
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // After SIGHUP the terminal may be gone (a dropped SSH link, a killed tmux): restoring
        // is best effort and must not panic. `ratatui::restore` and the `Terminal`'s own drop
        // report a failure with `eprintln!`, which panics when stderr is that gone terminal;
        // the console then died before stopping the demo's engines. So: the fallible restore,
        // and a terminal whose cursor cannot be shown is not dropped (its drop would try again
        // and print); the process is ending and nothing is left to restore.
        let _ = crossterm::execute!(io::stdout(), crossterm::event::DisableBracketedPaste);
        let _ = ratatui::try_restore();
        if let Some(mut terminal) = self.terminal.take()
            && terminal.show_cursor().is_err()
        {
            std::mem::forget(terminal);
        }
    }
}
