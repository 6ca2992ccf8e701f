//! `aimdeck recipes ...` and `aimdeck fit` end to end, on the real binary, with a home
//! directory and Hugging Face cache of the test's own.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recipes")
}

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { home: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("aimdeck").unwrap();
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("HF_HUB_CACHE", self.home.path().join("hub"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd
    }

    fn json(&self, args: &[&str]) -> (Value, i32) {
        let output = self.cmd().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let value = serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!(
                "{args:?}: not JSON ({err}):\n{text}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (value, output.status.code().unwrap_or(-1))
    }

    fn text(&self, args: &[&str]) -> (String, String, i32) {
        let output = self.cmd().args(args).output().unwrap();
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.status.code().unwrap_or(-1),
        )
    }
}

fn candidates(selection: &Value) -> &Vec<Value> {
    selection["candidates"].as_array().expect("candidates")
}

mod fit_and_import;
mod library;
mod select;
