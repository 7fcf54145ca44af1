//! [`ChatTemplate`]: a Hugging Face chat template (Jinja2) run by `minijinja`, in the environment
//! transformers gives it, so the same conversation renders to the same text.

use super::py_json;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, ErrorKind, Output, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use tokengym::{Error, Result};

/// The name the template is compiled under (it shows in minijinja's error locations).
const TEMPLATE_NAME: &str = "chat_template";

/// Variables every render defines; `extra` may not set them.
const RESERVED: [&str; 2] = ["messages", "add_generation_prompt"];

/// Variables transformers always passes (as `None` unless given), so `tools is none` holds.
const NONE_BY_DEFAULT: [&str; 2] = ["tools", "documents"];

/// One message of a conversation, as chat templates read it (`message['role']`,
/// `message.content`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks: `system`, `user`, `assistant`, `tool`, ...
    pub role: String,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role` saying `content`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A chat template compiled once, rendered any number of times.
///
/// The environment is the one transformers' `_compile_jinja_template` builds: `trim_blocks` and
/// `lstrip_blocks` on, the template's final newline dropped (Jinja's default), `{% break %}` and
/// `{% continue %}`, unknown variables undefined (they print as nothing and test false), Python's
/// string and dict methods (`.strip()`, `.startswith()`, `.split()`, `.items()`, ... through
/// `minijinja-contrib`'s pycompat), `none`, booleans and floats printed as Python prints them
/// (`None`, `True`, `1e+20`), and:
/// - `raise_exception(msg)`: rendering fails with `msg`.
/// - `strftime_now(fmt)`: the local time formatted by `strftime` codes.
/// - `tojson`: Python's `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
///   sort_keys=sort_keys)` (no HTML escaping, `", "` between items).
/// - `{% generation %}...{% endgeneration %}` (transformers' assistant-mask tag) renders its body.
///
/// A render defines `messages`, `add_generation_prompt`, `tools` and `documents` (`None`), the
/// special-token strings set by [`with_special_token`](ChatTemplate::with_special_token) (for a
/// model folder: `bos_token`, `eos_token`, `pad_token`, `unk_token` where the tokenizer has them)
/// and the `extra` variables of [`render`](ChatTemplate::render) (e.g. `enable_thinking`,
/// `tools`), which win over the special-token strings.
///
/// ```
/// use tokengym_envs::text::{ChatMessage, ChatTemplate};
///
/// let template = ChatTemplate::new(
///     "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}\n{% endfor %}\
///      {% if add_generation_prompt %}<assistant>{% endif %}",
/// )?
/// .with_special_token("bos_token", "<s>");
/// let chat = [ChatMessage::new("user", "  What is 2+2? ")];
/// assert_eq!(template.render(&chat, true, None)?, "<s><user>What is 2+2?\n<assistant>");
///
/// let shouting = ChatTemplate::new("{{ raise_exception('only ' + 'users speak') }}")?;
/// let err = shouting.render(&chat, false, None).unwrap_err();
/// assert!(err.to_string().contains("only users speak"), "{err}");
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone)]
pub struct ChatTemplate {
    env: Arc<Environment<'static>>,
    source: Arc<str>,
    tokens: BTreeMap<String, String>,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source_len", &self.source.len())
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// Compiles `source`; a syntax error is an error naming its line.
    pub fn new(source: impl Into<String>) -> Result<ChatTemplate> {
        let source: String = source.into();
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(false)
                .build()
                .map_err(|e| template_error("cannot configure the template syntax", &e))?,
        );
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_formatter(python_formatter);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_filter("tojson", py_json::tojson_filter);
        env.add_template_owned(TEMPLATE_NAME, without_generation_tags(&source))
            .map_err(|e| template_error("cannot compile the chat template", &e))?;
        Ok(ChatTemplate {
            env: Arc::new(env),
            source: source.into(),
            tokens: BTreeMap::new(),
        })
    }

    /// Defines the variable `name` (e.g. `bos_token`) as the string `content` in every render.
    pub fn with_special_token(mut self, name: &str, content: impl Into<String>) -> ChatTemplate {
        self.tokens.insert(name.to_owned(), content.into());
        self
    }

    /// The special-token variables set by [`with_special_token`](ChatTemplate::with_special_token).
    pub fn special_tokens(&self) -> &BTreeMap<String, String> {
        &self.tokens
    }

    /// The template's source, as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the conversation `messages`; `add_generation_prompt` asks the template to end
    /// with the header of the assistant's next turn. `extra` adds variables (JSON values: e.g.
    /// `{"enable_thinking": false}` or `{"tools": [...]}`); it may not set `messages` or
    /// `add_generation_prompt`. Errors (from `raise_exception`, a failed filter, ...) carry
    /// minijinja's message.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        extra: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<String> {
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for name in NONE_BY_DEFAULT {
            ctx.insert(name.to_owned(), Value::from(()));
        }
        for (name, content) in &self.tokens {
            ctx.insert(name.clone(), Value::from(content.as_str()));
        }
        for (name, value) in extra.into_iter().flatten() {
            if RESERVED.contains(&name.as_str()) {
                return Err(Error::invalid_argument(format!(
                    "chat template: extra variables may not set `{name}` (it is an argument of render)"
                )));
            }
            ctx.insert(name.clone(), Value::from(Serde(value)));
        }
        ctx.insert("messages".to_owned(), Value::from(Serde(messages)));
        ctx.insert(
            "add_generation_prompt".to_owned(),
            Value::from(add_generation_prompt),
        );
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| template_error("chat template missing", &e))?;
        template
            .render(Value::from(ctx))
            .map_err(|e| template_error("chat template failed to render", &e))
    }
}

/// A minijinja error as one readable line: `what: <minijinja's message> (in chat_template:LINE)`,
/// then the messages of its causes.
fn template_error(what: &str, e: &minijinja::Error) -> Error {
    let mut msg = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        msg.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    Error::invalid_argument(msg)
}

fn raise_exception(message: String) -> std::result::Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
}

fn strftime_now(format: String) -> std::result::Result<String, minijinja::Error> {
    use std::fmt::Write;
    let mut out = String::new();
    write!(out, "{}", chrono::Local::now().format(&format)).map_err(|_| {
        minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("strftime_now: invalid format string {format:?}"),
        )
    })?;
    Ok(out)
}

/// Prints `none`, `true`, `false` and floats as Python does (`None`, `True`, `False`, `1e+20`);
/// everything else as minijinja does (which already writes lists and dicts Python's way).
fn python_formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    use minijinja::value::ValueKind;
    let python = match value.kind() {
        ValueKind::None => "None".to_owned(),
        ValueKind::Bool if value.is_true() => "True".to_owned(),
        ValueKind::Bool => "False".to_owned(),
        ValueKind::Number if !value.is_integer() => match f64::try_from(value.clone()) {
            Ok(x) if x.is_finite() => py_json::py_float_repr(x),
            Ok(x) if x.is_nan() => "nan".to_owned(),
            Ok(x) => if x > 0.0 { "inf" } else { "-inf" }.to_owned(),
            Err(_) => return minijinja::escape_formatter(out, state, value),
        },
        _ => return minijinja::escape_formatter(out, state, value),
    };
    out.write_str(&python).map_err(|e| {
        minijinja::Error::new(ErrorKind::WriteFailure, "cannot write output").with_source(e)
    })
}

/// `source` with transformers' `{% generation %}` / `{% endgeneration %}` tags (which only mark
/// the assistant's text) turned into `{% if true %}` / `{% endif %}`, keeping their whitespace
/// control, so the body renders as in transformers.
fn without_generation_tags(source: &str) -> String {
    static TAG: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"\{%([-+]?)\s*(end)?generation\s*([-+]?)%\}").expect("valid regex")
    });
    TAG.replace_all(source, |caps: &regex::Captures<'_>| {
        let body = if caps.get(2).is_some() {
            "endif"
        } else {
            "if true"
        };
        format!("{{%{} {body} {}%}}", &caps[1], &caps[3])
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, extra: serde_json::Value) -> Result<String> {
        let extra = extra.as_object().cloned().unwrap_or_default();
        ChatTemplate::new(source)?.render(&[ChatMessage::new("user", " hi ")], false, Some(&extra))
    }

    #[test]
    fn trim_and_lstrip_blocks_and_final_newline() {
        let src = "{% for m in messages %}\n    {% if m.role == 'user' %}\n[{{ m.content.strip() }}]\n    {% endif %}\n{% endfor %}\n";
        assert_eq!(render(src, serde_json::json!({})).unwrap(), "[hi]\n");
    }

    #[test]
    fn python_methods_and_printing() {
        let src = "{{ messages[0].content.strip().upper() }}|{{ 'a,b'.split(',') | length }}|\
                   {{ 'xy'.startswith('x') }}|{{ none }}|{{ undefined_thing }}|{{ tools is none }}";
        assert_eq!(
            render(src, serde_json::json!({})).unwrap(),
            "HI|2|True|None||True"
        );
    }

    #[test]
    fn tojson_matches_json_dumps() {
        let src = "{{ tools | tojson }}|{{ tools[0] | tojson(indent=2) }}|{{ 'é<>' | tojson }}";
        let tools = serde_json::json!({"tools": [{"name": "f", "args": [1, 2.5]}]});
        assert_eq!(
            render(src, tools).unwrap(),
            "[{\"args\": [1, 2.5], \"name\": \"f\"}]|{\n  \"args\": [\n    1,\n    2.5\n  ],\n  \"name\": \"f\"\n}|\"é<>\""
        );
        let dict = "{{ {'b': 1, 'a': [true, none]} | tojson }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}";
        assert_eq!(
            render(dict, serde_json::json!({})).unwrap(),
            "{\"b\": 1, \"a\": [true, null]}|{\"a\": 2, \"b\": 1}"
        );
    }

    #[test]
    fn tojson_floats_escapes_and_separators_as_python() {
        // Expected strings printed by Python's jinja2 with transformers' tojson.
        let src = "{{ [1.0, 1e16, 1.5e-5, -0.0, 'x\u{1}'] | tojson }}|{{ 'é🙂' | tojson(true) }}|\
                   {{ {'a': [1, {}]} | tojson(indent='\t', separators=(',', '=')) }}";
        assert_eq!(
            render(src, serde_json::json!({})).unwrap(),
            "[1.0, 1e+16, 1.5e-05, -0.0, \"x\\u0001\"]|\"\\u00e9\\ud83d\\ude42\"|{\n\t\"a\"=[\n\t\t1,\n\t\t{}\n\t]\n}"
        );
    }

    #[test]
    fn values_print_as_python_prints_them() {
        // Expected string printed by Python's jinja2.
        let src = "{{ true }}{{ false }}|{{ [1, 'a', none] }}|{{ {'a': 1} }}|{{ 1.0 }}|{{ 1e20 }}|{{ 'a' ~ true }}";
        assert_eq!(
            render(src, serde_json::json!({})).unwrap(),
            "TrueFalse|[1, 'a', None]|{'a': 1}|1.0|1e+20|aTrue"
        );
    }

    #[test]
    fn extra_variables_loop_controls_and_generation_tags() {
        let src = "{% for m in [1, 2, 3] %}{% if m == 2 %}{% break %}{% endif %}{{ m }}{% endfor %}\
                   {% generation %}{{ enable_thinking }}{% endgeneration %}";
        assert_eq!(
            render(src, serde_json::json!({"enable_thinking": false})).unwrap(),
            "1False"
        );
        let err = render("x", serde_json::json!({"messages": []})).unwrap_err();
        assert!(err.to_string().contains("`messages`"), "{err}");
    }

    #[test]
    fn errors_carry_minijinja_messages() {
        let err = render(
            "{% if messages[0].role == 'user' %}{{ raise_exception('No users!') }}{% endif %}",
            serde_json::json!({}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("No users!"), "{err}");
        let err = ChatTemplate::new("{% for m in messages %}").unwrap_err();
        assert!(err.to_string().contains("cannot compile"), "{err}");
        let err = render("{{ 1 | tojson(indent=[]) }}", serde_json::json!({})).unwrap_err();
        assert!(err.to_string().contains("indent"), "{err}");
    }

    #[test]
    fn strftime_now_formats_the_local_time() {
        let year = render("{{ strftime_now('%Y') }}", serde_json::json!({})).unwrap();
        assert_eq!(year.len(), 4, "{year}");
        assert!(year.chars().all(|c| c.is_ascii_digit()), "{year}");
        assert!(render("{{ strftime_now('%Q') }}", serde_json::json!({})).is_err());
    }
}
