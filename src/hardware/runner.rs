//! Runs one vendor tool with a deadline. A tool that hangs (a wedged driver makes `nvidia-smi`
//! block for minutes) is killed when the deadline passes, so one bad GPU never stalls the
//! console.

use std::io::ErrorKind;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::process::Command;

#[derive(Debug, Error)]
pub enum ToolError {
    /// The program does not exist: the normal case on a machine without that vendor's GPUs.
    #[error("`{program}` is not installed")]
    NotFound { program: String },
    #[error("`{program} {args}` did not finish within {timeout:?} and was killed")]
    TimedOut { program: String, args: String, timeout: Duration },
    #[error("`{program} {args}` exited with {status}: {stderr}")]
    Failed { program: String, args: String, status: String, stderr: String },
    #[error("cannot run `{program}`: {source}")]
    Io {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `program args...` and returns its standard output (lossily decoded: tools sometimes
/// print Latin-1 degree signs).
pub async fn run_tool(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<String, ToolError> {
    let name = program.display().to_string();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Dropping the future on timeout kills the child instead of leaving it behind.
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(err) if err.kind() == ErrorKind::NotFound => {
            return Err(ToolError::NotFound { program: name });
        }
        Err(err) => return Err(ToolError::Io { program: name, source: err }),
    };
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(err)) => return Err(ToolError::Io { program: name, source: err }),
        Err(_) => return Err(ToolError::TimedOut { program: name, args: args.join(" "), timeout }),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        // nvidia-smi writes its errors ("NVIDIA-SMI has failed ...") to stdout.
        let message = first_line(&stderr).or_else(|| first_line(&stdout)).unwrap_or("no output");
        return Err(ToolError::Failed {
            program: name,
            args: args.join(" "),
            status: output.status.to_string(),
            stderr: message.to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}
