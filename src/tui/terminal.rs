//! The real terminal: raw mode and the alternate screen on the way in, and a restore that runs
//! however the console ends (normal quit, error, panic, SIGTERM, SIGHUP).

use std::io;

use ratatui::DefaultTerminal;

/// Restores the terminal when dropped, so every return path (including `?`) leaves it clean.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen. `ratatui::init` also installs a panic hook
    /// that restores the terminal before the panic message prints (chained after
    /// color-eyre's, which `tui::run` installs first).
    pub fn enter() -> io::Result<TerminalGuard> {
        let terminal = ratatui::try_init()?;
        crossterm::execute!(io::stdout(), crossterm::event::EnableBracketedPaste)?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // After SIGHUP the terminal may be gone: restoring is best effort and must not panic.
        let _ = crossterm::execute!(io::stdout(), crossterm::event::DisableBracketedPaste);
        ratatui::restore();
    }
}
