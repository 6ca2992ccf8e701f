//! The `:` command line: parsing what was typed and completing view and command names.

use crate::tui::features::endpoints::Typed as EndpointTyped;
use crate::tui::views::ViewId;

/// A command typed after `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    View(ViewId),
    Theme(Option<String>),
    Help,
    Quit,
    Journal,
    /// `:messages`: every message since the start, with its time, in full.
    Messages,
    /// `:ctx [NAME]`: pick or switch the backend / Kubernetes context.
    Context(Option<String>),
    /// `:ns [NAME]`: pick or switch the Kubernetes namespace.
    Namespace(Option<String>),
    /// `:add [NAME] URL`, `:rm NAME` (the Endpoints view).
    Endpoints(crate::tui::features::endpoints::Typed),
}

/// Every word the command line knows, for completion, with what it does (shown by `:help`).
pub const COMMANDS: &[(&str, &str)] = &[
    ("gpus", "GPUs and their topology"),
    ("cache", "the model cache"),
    ("recipes", "serving recipes"),
    ("endpoints", "live endpoints"),
    ("ep", "live endpoints"),
    ("add", "watch a server: :add [NAME] http://host:port"),
    ("rm", "stop watching: :rm NAME"),
    ("unwatch", "stop watching: :unwatch NAME"),
    ("theme", "switch theme: :theme NAME"),
    ("help", "key bindings"),
    ("journal", "every change aimdeck made, who and when"),
    ("messages", "every message so far, with its time, in full"),
    ("ctx", "backends and Kubernetes contexts: :ctx [NAME]"),
    ("ns", "Kubernetes namespaces: :ns [NAME]"),
    ("quit", "leave aimdeck"),
    ("q", "leave aimdeck"),
];

pub fn parse(line: &str) -> Result<Typed, String> {
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return Err("empty command (try :help)".into());
    };
    let rest: Vec<&str> = words.collect();
    let no_args = |typed: Typed| {
        if rest.is_empty() { Ok(typed) } else { Err(format!(":{word} takes no arguments")) }
    };
    match word {
        "gpus" | "gpu" => no_args(Typed::View(ViewId::Gpus)),
        "cache" => no_args(Typed::View(ViewId::Cache)),
        "recipes" | "recipe" => no_args(Typed::View(ViewId::Recipes)),
        "endpoints" | "ep" => no_args(Typed::View(ViewId::Endpoints)),
        "help" | "?" => no_args(Typed::Help),
        "journal" => no_args(Typed::Journal),
        "messages" | "msgs" => no_args(Typed::Messages),
        "quit" | "q" | "q!" => no_args(Typed::Quit),
        "ctx" | "context" | "contexts" => match rest.as_slice() {
            [] => Ok(Typed::Context(None)),
            [name] => Ok(Typed::Context(Some(name.to_string()))),
            _ => Err(":ctx takes one backend or context name".into()),
        },
        "ns" | "namespace" | "namespaces" => match rest.as_slice() {
            [] => Ok(Typed::Namespace(None)),
            [name] => Ok(Typed::Namespace(Some(name.to_string()))),
            _ => Err(":ns takes one namespace".into()),
        },
        "theme" => match rest.as_slice() {
            [] => Ok(Typed::Theme(None)),
            [name] => Ok(Typed::Theme(Some(name.to_string()))),
            _ => Err(":theme takes one name".into()),
        },
        "add" | "watch" => match rest.as_slice() {
            [url] => Ok(Typed::Endpoints(EndpointTyped::Add { name: None, url: url.to_string() })),
            [name, url] => Ok(Typed::Endpoints(EndpointTyped::Add {
                name: Some(name.to_string()),
                url: url.to_string(),
            })),
            _ => {
                Err(":add takes a URL, optionally after a name: :add [NAME] http://host:port"
                    .into())
            }
        },
        "rm" | "unwatch" => match rest.as_slice() {
            [name] => Ok(Typed::Endpoints(EndpointTyped::Remove(name.to_string()))),
            _ => Err(format!(":{word} takes the name of one watched endpoint")),
        },
        other => Err(format!("unknown command `{other}` (try :help)")),
    }
}

/// Completes `line`: returns the new line and the candidates when more than one matches.
/// `theme_names` completes the argument of `:theme`.
pub fn complete(line: &str, theme_names: &[String]) -> (String, Vec<String>) {
    complete_with(line, theme_names, &[])
}

/// `complete`, also completing the watched endpoint names after `:rm` and `:unwatch`.
pub fn complete_with(
    line: &str,
    theme_names: &[String],
    endpoint_names: &[String],
) -> (String, Vec<String>) {
    for verb in ["rm ", "unwatch "] {
        if let Some(partial) = line.strip_prefix(verb) {
            let matches: Vec<String> =
                endpoint_names.iter().filter(|n| n.starts_with(partial.trim())).cloned().collect();
            return match matches.as_slice() {
                [one] => (format!("{verb}{one}"), Vec::new()),
                [] => (line.to_string(), Vec::new()),
                many => (format!("{verb}{}", common_prefix(many)), many.to_vec()),
            };
        }
    }
    if let Some(partial) = line.strip_prefix("theme ") {
        let matches: Vec<String> =
            theme_names.iter().filter(|n| n.starts_with(partial.trim())).cloned().collect();
        return match matches.as_slice() {
            [one] => (format!("theme {one}"), Vec::new()),
            [] => (line.to_string(), Vec::new()),
            many => (format!("theme {}", common_prefix(many)), many.to_vec()),
        };
    }
    if line.contains(' ') {
        return (line.to_string(), Vec::new());
    }
    let matches: Vec<String> =
        COMMANDS.iter().map(|(c, _)| c.to_string()).filter(|c| c.starts_with(line)).collect();
    match matches.as_slice() {
        [one] if ["theme", "add", "rm", "unwatch"].contains(&one.as_str()) => {
            (format!("{one} "), Vec::new())
        }
        [one] => (one.clone(), Vec::new()),
        [] => (line.to_string(), Vec::new()),
        many => {
            let prefix = common_prefix(many);
            (if prefix.len() > line.len() { prefix } else { line.to_string() }, many.to_vec())
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let first = &words[0];
    let len = words.iter().fold(first.len(), |len, w| {
        first.bytes().zip(w.bytes()).take(len).take_while(|(a, b)| a == b).count()
    });
    first[..len].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_views_theme_and_quit() {
        assert_eq!(parse("recipes"), Ok(Typed::View(ViewId::Recipes)));
        assert_eq!(parse(" ep "), Ok(Typed::View(ViewId::Endpoints)));
        assert_eq!(parse("theme light"), Ok(Typed::Theme(Some("light".into()))));
        assert_eq!(parse("q"), Ok(Typed::Quit));
        assert!(parse("frobnicate").unwrap_err().contains("unknown command `frobnicate`"));
        assert!(parse("gpus extra").is_err());
    }

    #[test]
    fn completes_unique_prefixes_and_lists_ambiguous_ones() {
        let themes = vec!["dark".to_string(), "light".to_string(), "high-contrast".to_string()];
        assert_eq!(complete("rec", &themes).0, "recipes");
        assert_eq!(complete("th", &themes).0, "theme ");
        assert_eq!(complete("theme l", &themes).0, "theme light");
        let (line, candidates) = complete("e", &themes);
        assert_eq!(line, "e");
        assert_eq!(candidates, ["endpoints", "ep"]);
        let (line, candidates) = complete("q", &themes);
        assert_eq!((line.as_str(), candidates.len()), ("q", 2));
    }
}
