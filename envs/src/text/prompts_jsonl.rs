//! Prompt sets from JSON Lines: one prompt, and optionally its reference, per line (the format
//! summarisation sets come in).

use super::prompts::{Prompt, PromptSet};
use serde_json::{Map, Value};
use std::path::Path;
use tokengym::{Error, Result};

/// Keys that hold the prompt text; a line needs exactly one of them.
pub const PROMPT_KEYS: [&str; 3] = ["prompt", "document", "article"];
/// Keys that hold the reference (the prompt's target); a line may have at most one of them.
pub const REFERENCE_KEYS: [&str; 3] = ["reference", "summary", "target"];

impl PromptSet {
    /// Parses JSON Lines: one JSON object per line; `source` names the text in errors.
    ///
    /// Each object holds the prompt text under exactly one of `"prompt"`, `"document"` or
    /// `"article"` (a non-empty string, used as the prompt as it is), and optionally its
    /// reference under one of `"reference"`, `"summary"` or `"target"` (a string, or `null`
    /// for none), which becomes [`Prompt::target`] (what [`RougeReward`](crate::text::RougeReward)
    /// and the other target rewards score against). Other keys (an `"id"`, say) are ignored.
    /// Blank lines are skipped, and so are a UTF-8 byte-order mark and `\r` line ends.
    ///
    /// A malformed line is an error naming `source` and the line, `source:line: why`: text
    /// that is not JSON, a value that is not an object, no prompt key or two of them, two
    /// reference keys, a value that is not a string, an empty prompt. A text without any line
    /// is an error too.
    ///
    /// ```
    /// use tokengym_envs::text::PromptSet;
    ///
    /// let text = r#"{"id": 1, "document": "Rain fell all day.", "summary": "It rained."}
    /// {"prompt": "No reference here."}"#;
    /// let set = PromptSet::parse_jsonl(text, "inline.jsonl")?;
    /// assert_eq!(set.get(0).unwrap().target.as_deref(), Some("It rained."));
    /// assert_eq!(set.get(1).unwrap().target, None);
    /// let err = PromptSet::parse_jsonl("{\"prompt\": \"ok\"}\n{\"prompt\": 3}", "bad.jsonl");
    /// assert!(err.unwrap_err().to_string().contains("bad.jsonl:2:"));
    /// # Ok::<(), tokengym::Error>(())
    /// ```
    pub fn parse_jsonl(text: &str, source: &str) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut prompts = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let prompt = parse_line(line)
                .map_err(|why| Error::invalid_argument(format!("{source}:{}: {why}", i + 1)))?;
            prompts.push(prompt);
        }
        if prompts.is_empty() {
            return Err(Error::invalid_argument(format!(
                "{source}: no prompts (the file is empty or blank)"
            )));
        }
        PromptSet::new(prompts)
    }

    /// Reads a JSON Lines prompt file (format of [`PromptSet::parse_jsonl`]); errors name the
    /// file and the line.
    pub fn from_jsonl(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse_jsonl(&text, &path.display().to_string())
    }
}

/// One line as a prompt, or why not.
fn parse_line(line: &str) -> std::result::Result<Prompt, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err(format!("expected a JSON object, got {}", kind(&value)));
    };
    let text = one_of(&object, &PROMPT_KEYS)?.ok_or_else(|| {
        format!(
            "no prompt: expected one of the keys {}",
            PROMPT_KEYS.join(", ")
        )
    })?;
    if text.is_empty() {
        return Err("the prompt is empty".to_string());
    }
    let target = one_of(&object, &REFERENCE_KEYS)?;
    Ok(Prompt {
        text: text.to_string(),
        target: target.map(str::to_string),
    })
}

/// The string under the one key of `keys` the object has (`None` for none of them, or `null`);
/// two of them, or a value that is not a string, is an error.
fn one_of<'a>(
    object: &'a Map<String, Value>,
    keys: &[&str],
) -> std::result::Result<Option<&'a str>, String> {
    let present: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| object.contains_key(*k))
        .collect();
    match present[..] {
        [] => Ok(None),
        [key] => match &object[key] {
            Value::String(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(format!("\"{key}\" must be a string, got {}", kind(other))),
        },
        _ => Err(format!(
            "more than one of the keys {} (found {})",
            keys.join(", "),
            present.join(", ")
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        PromptSet::parse_jsonl(text, "f.jsonl")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn keys_aliases_and_blank_lines() {
        let text = "\u{feff}{\"prompt\": \"a\", \"reference\": \"A\"}\r\n\n  \n\
                    {\"article\": \"b\", \"target\": null, \"id\": 7}\n\
                    {\"document\": \"c\\nd\", \"summary\": \"\"}\n";
        let set = PromptSet::parse_jsonl(text, "x").unwrap();
        let got: Vec<Prompt> = set.iter().cloned().collect();
        assert_eq!(
            got,
            [
                Prompt::with_target("a", "A"),
                Prompt::new("b"),
                Prompt::with_target("c\nd", "")
            ]
        );
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let ok = "{\"prompt\": \"p\"}\n";
        for (bad, why) in [
            ("{\"prompt\": \"p\"", "not JSON"),
            ("[1, 2]", "an array"),
            ("{\"summary\": \"s\"}", "no prompt"),
            ("{\"prompt\": \"p\", \"document\": \"d\"}", "more than one"),
            (
                "{\"prompt\": \"p\", \"summary\": \"s\", \"reference\": \"r\"}",
                "more than one",
            ),
            ("{\"prompt\": 3}", "a number"),
            ("{\"prompt\": \"p\", \"reference\": [\"r\"]}", "an array"),
            ("{\"prompt\": \"\"}", "empty"),
        ] {
            let e = err(&format!("{ok}\n{bad}\n{ok}"));
            assert!(e.contains("f.jsonl:3:") && e.contains(why), "{bad}: {e}");
        }
        assert!(err("\n \n").contains("no prompts"));
    }
}
