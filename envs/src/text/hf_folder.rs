//! [`HfTokenizer::from_model_dir`]: the tokenizer of a Hugging Face model folder, read from its
//! `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`, chat template and
//! `generation_config.json`, so that prompts, special tokens, stop ids and chats are those of
//! transformers; and the chat methods of [`HfTokenizer`].

use super::bpe::{HfTokenizer, PromptSpecials};
use super::chat_template::{ChatMessage, ChatTemplate};
use super::tokenizer::{SpecialTokens, Tokenizer};
use super::with_path;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use tokengym::{Error, Result};

/// The files of a model folder that are read (all but `tokenizer.json` optional).
const TOKENIZER_JSON: &str = "tokenizer.json";
const TOKENIZER_CONFIG: &str = "tokenizer_config.json";
const SPECIAL_TOKENS_MAP: &str = "special_tokens_map.json";
const CHAT_TEMPLATE_JINJA: &str = "chat_template.jinja";
const CHAT_TEMPLATE_JSON: &str = "chat_template.json";
const GENERATION_CONFIG: &str = "generation_config.json";

/// The special-token fields of `tokenizer_config.json` / `special_tokens_map.json`, with the
/// variable each is in a chat template.
const ROLES: [&str; 4] = ["bos_token", "eos_token", "pad_token", "unk_token"];

impl HfTokenizer {
    /// Loads the tokenizer of a Hugging Face model folder (what `AutoTokenizer.from_pretrained`
    /// reads for a fast tokenizer).
    ///
    /// - `tokenizer.json` (required) is the tokenizer itself.
    /// - `tokenizer_config.json`, else `special_tokens_map.json` (both optional) name the
    ///   special tokens: `bos_token`, `eos_token`, `pad_token`, `unk_token`, each a string or an
    ///   `AddedToken` object `{"content": ...}`, looked up in the vocabulary (a string that is not
    ///   in it is an error). Where one of these files exists the roles are theirs (a field absent
    ///   or `null` means no such token), not the names [`from_file`](HfTokenizer::from_file)
    ///   guesses; with neither file the guessed roles are kept.
    /// - `generation_config.json` (optional): `eos_token_id` (an id or a list of ids) gives
    ///   [`stop_ids`](Tokenizer::stop_ids), and the eos when the tokenizer has none;
    ///   `pad_token_id` the pad when the tokenizer has none (what `generate` pads with);
    ///   `bos_token_id` the bos only when no tokenizer file mentions `bos_token` (a `null`
    ///   `bos_token`, as Qwen's files have, means transformers adds no bos even though the
    ///   generation config names one).
    /// - [`encode_prompt`](Tokenizer::encode_prompt) is transformers' `tokenizer(text)`: the
    ///   `tokenizer.json` post-processor's special tokens ([`PromptSpecials::PostProcessor`]),
    ///   unless `tokenizer_config.json` sets `add_bos_token` or `add_eos_token`; then the bos
    ///   iff `add_bos_token` (default true) and the eos iff `add_eos_token` (default false), as
    ///   transformers' Llama and Gemma tokenizers do ([`PromptSpecials::Explicit`]).
    /// - The chat template is `chat_template.jinja`, else `chat_template.json`'s
    ///   `chat_template`, else `tokenizer_config.json`'s `chat_template` (a string, or a list of
    ///   `{"name", "template"}` of which the one named `default` is used); it sees the special
    ///   tokens' strings as `bos_token`, `eos_token`, `pad_token`, `unk_token`.
    ///
    /// A missing `tokenizer.json`, malformed JSON, a field of the wrong type, an unknown token or
    /// a chat template that does not compile is an error naming the file.
    pub fn from_model_dir(dir: impl AsRef<Path>) -> Result<HfTokenizer> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::invalid_argument(format!(
                "{}: not a model folder (no such directory)",
                dir.display()
            )));
        }
        let tok_path = dir.join(TOKENIZER_JSON);
        let Some(bytes) = read_optional(&tok_path)? else {
            let slow = ["tokenizer.model", "vocab.json"]
                .iter()
                .filter(|f| dir.join(f).exists())
                .copied()
                .collect::<Vec<_>>();
            let hint = if slow.is_empty() {
                String::new()
            } else {
                format!(
                    " (it has {}: only the fast tokenizer file tokenizer.json is read)",
                    slow.join(", ")
                )
            };
            return Err(Error::invalid_argument(format!(
                "{}: the model folder has no tokenizer.json{hint}",
                tok_path.display()
            )));
        };
        let mut tok = HfTokenizer::from_bytes(&bytes).map_err(|e| with_path(&tok_path, e))?;
        let config = JsonFile::read(dir.join(TOKENIZER_CONFIG))?;
        let map = JsonFile::read(dir.join(SPECIAL_TOKENS_MAP))?;
        let generation = GenerationIds::read(dir.join(GENERATION_CONFIG), tok.vocab_size())?;

        let names = TokenNames::read(config.as_ref(), map.as_ref(), &tok)?;
        let named = config.is_some() || map.is_some();
        let mut roles = if named {
            names.roles()
        } else {
            tok.special_tokens()
        };
        roles.eos = roles.eos.or(generation.eos.first().copied());
        roles.pad = roles.pad.or(generation.pad);
        if !names.mentions_bos {
            roles.bos = roles.bos.or(generation.bos);
        }
        tok = tok.with_special_tokens(roles)?;

        tok.prompt = prompt_specials(config.as_ref(), &roles)?;
        tok.stop_ids = (!generation.eos.is_empty()).then_some(generation.eos);
        tok.chat = match chat_source(dir, config.as_ref())? {
            ChatSource::Found { source, file } => {
                let mut template = ChatTemplate::new(source).map_err(|e| with_path(&file, e))?;
                for (role, content) in ROLES.iter().zip(names.strings(&tok, &roles, named)) {
                    if let Some(content) = content {
                        template = template.with_special_token(role, content);
                    }
                }
                Ok(template)
            }
            ChatSource::Missing(why) => Err(why),
        };
        Ok(tok)
    }

    /// The conversation `messages` rendered by the chat template (see [`ChatTemplate::render`]
    /// for `extra`); an error if there is no template or rendering fails.
    pub fn render_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        extra: Option<&Map<String, Value>>,
    ) -> Result<String> {
        let template = self
            .chat
            .as_ref()
            .map_err(|why| Error::invalid_argument(why.clone()))?;
        template.render(messages, add_generation_prompt, extra)
    }

    /// The ids of the rendered conversation, as transformers' `apply_chat_template(messages,
    /// add_generation_prompt=...)` gives them: [`render_chat`](HfTokenizer::render_chat) then
    /// [`encode`](Tokenizer::encode), which adds no special token (the template writes its
    /// own). For extra template variables, call `render_chat` and `encode`.
    pub fn apply_chat_template(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<Vec<u32>> {
        let text = self.render_chat(messages, add_generation_prompt, None)?;
        self.encode(&text)
    }
}

/// The bytes of `path`, or `None` if there is no such file.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// An error about file `path`: `path: msg`.
fn file_error(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("{}: {msg}", path.display()))
}

/// The JSON type of `v`, for error messages.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An optional JSON file whose top level is an object.
struct JsonFile {
    path: PathBuf,
    fields: Map<String, Value>,
}

impl JsonFile {
    /// `None` if `path` does not exist; an error naming it if it is not a JSON object.
    fn read(path: PathBuf) -> Result<Option<JsonFile>> {
        let Some(bytes) = read_optional(&path)? else {
            return Ok(None);
        };
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| file_error(&path, format!("invalid JSON: {e}")))?;
        match value {
            Value::Object(fields) => Ok(Some(JsonFile { path, fields })),
            other => Err(file_error(
                &path,
                format!("expected a JSON object, found {}", json_type(&other)),
            )),
        }
    }

    /// Field `key`, `None` when absent or `null`.
    fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).filter(|v| !v.is_null())
    }

    /// A special token field: absent → `None`, `null` → `Some(None)`, a string or an
    /// `AddedToken` object → `Some(Some(content))`.
    fn token(&self, key: &str) -> Result<Option<Option<String>>> {
        let Some(v) = self.fields.get(key) else {
            return Ok(None);
        };
        let content = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => match o.get("content") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => {
                    return Err(file_error(
                        &self.path,
                        format!("`{key}` is an object without a string \"content\" field"),
                    ));
                }
            },
            other => {
                return Err(file_error(
                    &self.path,
                    format!(
                        "`{key}` must be a string, an object {{\"content\": ...}} or null, found {}",
                        json_type(other)
                    ),
                ));
            }
        };
        Ok(Some(content))
    }

    /// A boolean field, `None` when absent or `null`.
    fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(file_error(
                &self.path,
                format!(
                    "`{key}` must be true, false or null, found {}",
                    json_type(other)
                ),
            )),
        }
    }
}

/// The special tokens the tokenizer files name, resolved to ids.
struct TokenNames {
    /// `(content, id)` per role of [`ROLES`].
    tokens: [Option<(String, u32)>; 4],
    /// Whether a file has a `bos_token` field at all (even `null`).
    mentions_bos: bool,
}

impl TokenNames {
    fn read(config: Option<&JsonFile>, map: Option<&JsonFile>, tok: &HfTokenizer) -> Result<Self> {
        let mut tokens: [Option<(String, u32)>; 4] = Default::default();
        let mut mentions_bos = false;
        for (slot, role) in tokens.iter_mut().zip(ROLES) {
            let mut chosen = None;
            for file in [config, map].into_iter().flatten() {
                let field = file.token(role)?;
                mentions_bos |= role == "bos_token" && field.is_some();
                if chosen.is_none()
                    && let Some(Some(content)) = field
                {
                    chosen = Some((content, &file.path));
                }
            }
            if let Some((content, path)) = chosen {
                let id = tok.token_to_id(&content).ok_or_else(|| {
                    file_error(
                        path,
                        format!("{role} {content:?} is not a token of the tokenizer's vocabulary"),
                    )
                })?;
                *slot = Some((content, id));
            }
        }
        Ok(TokenNames {
            tokens,
            mentions_bos,
        })
    }

    /// The roles as the files name them.
    fn roles(&self) -> SpecialTokens {
        let id = |i: usize| self.tokens[i].as_ref().map(|(_, id)| *id);
        SpecialTokens {
            bos: id(0),
            eos: id(1),
            pad: id(2),
            unk: id(3),
        }
    }

    /// The strings a chat template sees for [`ROLES`]: those the tokenizer files name (as
    /// transformers passes its special tokens); with no tokenizer file (`named` false), the
    /// spelling of each role's id.
    fn strings(
        &self,
        tok: &HfTokenizer,
        roles: &SpecialTokens,
        named: bool,
    ) -> [Option<String>; 4] {
        let ids = [roles.bos, roles.eos, roles.pad, roles.unk];
        std::array::from_fn(|i| match (&self.tokens[i], ids[i]) {
            (Some((content, _)), _) => Some(content.clone()),
            (None, Some(id)) if !named => tok.id_to_token(id),
            (None, _) => None,
        })
    }
}

/// `tokenizer_config.json`'s `add_bos_token` / `add_eos_token` as [`PromptSpecials`].
fn prompt_specials(config: Option<&JsonFile>, roles: &SpecialTokens) -> Result<PromptSpecials> {
    let Some(config) = config else {
        return Ok(PromptSpecials::PostProcessor);
    };
    let (add_bos, add_eos) = (config.bool("add_bos_token")?, config.bool("add_eos_token")?);
    if add_bos.is_none() && add_eos.is_none() {
        return Ok(PromptSpecials::PostProcessor);
    }
    let (bos, eos) = (add_bos.unwrap_or(true), add_eos.unwrap_or(false));
    for (wanted, id, flag, token) in [
        (bos, roles.bos, "add_bos_token", "bos_token"),
        (eos, roles.eos, "add_eos_token", "eos_token"),
    ] {
        if wanted && id.is_none() {
            return Err(file_error(
                &config.path,
                format!("{flag} is true but the tokenizer has no {token}"),
            ));
        }
    }
    Ok(PromptSpecials::Explicit { bos, eos })
}

/// Where the chat template comes from.
enum ChatSource {
    /// Its source and the file it is in.
    Found { source: String, file: PathBuf },
    /// Why there is none.
    Missing(String),
}

fn chat_source(dir: &Path, config: Option<&JsonFile>) -> Result<ChatSource> {
    let jinja = dir.join(CHAT_TEMPLATE_JINJA);
    if let Some(bytes) = read_optional(&jinja)? {
        let source = String::from_utf8(bytes)
            .map_err(|e| file_error(&jinja, format!("not UTF-8 text: {e}")))?;
        return Ok(ChatSource::Found {
            source,
            file: jinja,
        });
    }
    if let Some(json) = JsonFile::read(dir.join(CHAT_TEMPLATE_JSON))? {
        match json.get("chat_template") {
            Some(Value::String(s)) => {
                return Ok(ChatSource::Found {
                    source: s.clone(),
                    file: json.path,
                });
            }
            None => {}
            Some(other) => {
                return Err(file_error(
                    &json.path,
                    format!(
                        "`chat_template` must be a string, found {}",
                        json_type(other)
                    ),
                ));
            }
        }
    }
    let missing = || {
        ChatSource::Missing(format!(
            "{}: the model folder has no chat template (no {CHAT_TEMPLATE_JINJA}, and no \
             chat_template in {TOKENIZER_CONFIG})",
            dir.display()
        ))
    };
    let Some(config) = config else {
        return Ok(missing());
    };
    match config.get("chat_template") {
        None => Ok(missing()),
        Some(Value::String(s)) => Ok(ChatSource::Found {
            source: s.clone(),
            file: config.path.clone(),
        }),
        Some(Value::Array(list)) => named_default(list, &config.path),
        Some(other) => Err(file_error(
            &config.path,
            format!(
                "`chat_template` must be a string or a list of {{\"name\", \"template\"}}, found {}",
                json_type(other)
            ),
        )),
    }
}

/// The template named `default` of a list of `{"name", "template"}` objects.
fn named_default(list: &[Value], path: &Path) -> Result<ChatSource> {
    let mut names = Vec::new();
    for item in list {
        let field = |key: &str| item.get(key).and_then(Value::as_str);
        let (Some(name), Some(template)) = (field("name"), field("template")) else {
            return Err(file_error(
                path,
                "every entry of the `chat_template` list must be an object with string \
                 \"name\" and \"template\" fields",
            ));
        };
        if name == "default" {
            return Ok(ChatSource::Found {
                source: template.to_owned(),
                file: path.to_owned(),
            });
        }
        names.push(name.to_owned());
    }
    Ok(ChatSource::Missing(format!(
        "{}: the chat templates are named {names:?}, none of them \"default\"",
        path.display()
    )))
}

/// The ids `generation_config.json` names.
#[derive(Default)]
struct GenerationIds {
    /// `eos_token_id`, deduplicated, order kept.
    eos: Vec<u32>,
    pad: Option<u32>,
    bos: Option<u32>,
}

impl GenerationIds {
    fn read(path: PathBuf, vocab_size: usize) -> Result<GenerationIds> {
        let Some(file) = JsonFile::read(path)? else {
            return Ok(GenerationIds::default());
        };
        let id = |key: &str, v: &Value| -> Result<u32> {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| (n as usize) < vocab_size)
                .ok_or_else(|| {
                    file_error(
                        &file.path,
                        format!(
                            "`{key}` must hold token ids (integers below the vocabulary size \
                             {vocab_size}), found {v}"
                        ),
                    )
                })
        };
        let mut eos = Vec::new();
        match file.get("eos_token_id") {
            None => {}
            Some(Value::Array(list)) => {
                for v in list {
                    let id = id("eos_token_id", v)?;
                    if !eos.contains(&id) {
                        eos.push(id);
                    }
                }
            }
            Some(v) => eos.push(id("eos_token_id", v)?),
        }
        let single = |key: &str| file.get(key).map(|v| id(key, v)).transpose();
        Ok(GenerationIds {
            eos,
            pad: single("pad_token_id")?,
            bos: single("bos_token_id")?,
        })
    }
}
