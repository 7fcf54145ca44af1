//! `HfTokenizer::from_model_dir` on the Hugging Face model folders made by transformers 5.24
//! (agents/lm/tests/fixtures/gen_hf_models.py): prompts, plain encodings, decodings, special
//! tokens, stop ids and chat templates identical to transformers; then the folder files'
//! variants (add_bos_token / add_eos_token, AddedToken objects, list-form chat templates) and
//! their error paths on edited copies of the Llama folder.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokengym_envs::text::{
    ByteTokenizer, ChatMessage, HfTokenizer, PromptSpecials, SpecialTokens, Tokenizer,
};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../agents/lm/tests/fixtures/hf"
);
const FOLDERS: [&str; 8] = [
    "gpt2",
    "gpt-neo",
    "llama",
    "llama2",
    "qwen2",
    "qwen3",
    "mistral",
    "qwen2-swa",
];

fn folder(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn expected(name: &str) -> Value {
    let path = Path::new(FIXTURES).join(format!("{name}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn opt_id(v: &Value) -> Option<u32> {
    v.as_u64().map(|id| id as u32)
}

#[test]
fn every_folder_tokenizes_as_transformers() {
    for name in FOLDERS {
        let tok = HfTokenizer::from_model_dir(folder(name)).unwrap();
        let exp = expected(name);
        let texts = exp["texts"].as_array().unwrap();
        assert!(texts.len() >= 8, "{name}");
        assert_eq!(
            tok.prompt_specials(),
            PromptSpecials::PostProcessor,
            "{name}"
        );
        for rec in texts {
            let text = rec["text"].as_str().unwrap();
            let want = ids(&rec["ids"]);
            assert_eq!(
                tok.encode_prompt(text).unwrap(),
                want,
                "{name}: tok({text:?})"
            );
            assert_eq!(
                tok.encode(text).unwrap(),
                ids(&rec["ids_no_special"]),
                "{name}: encode({text:?}, add_special_tokens=False)"
            );
            assert_eq!(
                tok.decode(&want).unwrap(),
                rec["decoded"].as_str().unwrap(),
                "{name}: decode of {text:?}"
            );
        }
        // Through a trait object too (the forwarding impls must not fall back to the default).
        let boxed: Box<dyn Tokenizer> = Box::new(tok.clone());
        let first_prompt = texts[1]["text"].as_str().unwrap();
        assert_eq!(
            boxed.encode_prompt(first_prompt).unwrap(),
            ids(&texts[1]["ids"]),
            "{name}: boxed"
        );

        let sp = &exp["special_tokens"];
        let specials = tok.special_tokens();
        assert_eq!(specials.bos, opt_id(&sp["bos_token_id"]), "{name}: bos");
        assert_eq!(specials.pad, opt_id(&sp["pad_token_id"]), "{name}: pad");
        assert_eq!(
            tok.stop_ids(),
            ids(&sp["eos_token_ids"]),
            "{name}: stop ids"
        );
        assert_eq!(
            boxed.stop_ids(),
            ids(&sp["eos_token_ids"]),
            "{name}: boxed stop ids"
        );
        assert!(
            specials.eos.is_some_and(|e| tok.stop_ids().contains(&e)),
            "{name}: eos"
        );

        match exp.get("chat") {
            None => {
                assert!(tok.chat_template().is_none(), "{name}");
                let err = tok.render_chat(&[], true, None).unwrap_err();
                assert!(
                    err.to_string().contains("no chat template"),
                    "{name}: {err}"
                );
            }
            Some(chats) => {
                let chats = chats.as_array().unwrap();
                assert!(chats.len() >= 4, "{name}");
                for rec in chats {
                    let messages: Vec<ChatMessage> =
                        serde_json::from_value(rec["messages"].clone()).unwrap();
                    let gen_prompt = rec["add_generation_prompt"].as_bool().unwrap();
                    assert_eq!(
                        tok.render_chat(&messages, gen_prompt, None).unwrap(),
                        rec["text"].as_str().unwrap(),
                        "{name}: chat {messages:?}"
                    );
                    assert_eq!(
                        tok.apply_chat_template(&messages, gen_prompt).unwrap(),
                        ids(&rec["ids"]),
                        "{name}: chat ids {messages:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_expected_special_tokens_of_each_family() {
    let llama = HfTokenizer::from_model_dir(folder("llama")).unwrap();
    // <|eot_id|> from tokenizer_config.json, not the <|end_of_text|> that from_file guesses.
    assert_eq!(llama.special_tokens().eos, llama.token_to_id("<|eot_id|>"));
    let qwen = HfTokenizer::from_model_dir(folder("qwen2")).unwrap();
    // bos_token is null: <|endoftext|> is eos/pad material but no bos.
    assert_eq!(
        qwen.special_tokens(),
        SpecialTokens {
            bos: None,
            eos: Some(402),
            pad: Some(400),
            unk: None
        }
    );
    let gpt2 = HfTokenizer::from_model_dir(folder("gpt2")).unwrap();
    assert_eq!(
        gpt2.special_tokens(),
        SpecialTokens {
            bos: Some(400),
            eos: Some(400),
            pad: Some(400), // pad_token is null: generation_config's pad_token_id
            unk: Some(400)
        }
    );
}

#[test]
fn own_checkpoints_keep_the_bos_then_text_convention() {
    for name in FOLDERS {
        let tok = HfTokenizer::from_file(folder(name).join("tokenizer.json")).unwrap();
        assert_eq!(tok.prompt_specials(), PromptSpecials::BosIfPresent);
        let bos = tok.special_tokens().bos;
        for text in ["", "Hello world", "12+7=19"] {
            assert_eq!(
                tok.encode_prompt(text).unwrap(),
                tok.encode_with_specials(text, bos.is_some(), false)
                    .unwrap(),
                "{name}: {text:?}"
            );
        }
        assert_eq!(
            tok.stop_ids(),
            tok.special_tokens().eos.into_iter().collect::<Vec<_>>()
        );
        let err = tok.render_chat(&[], false, None).unwrap_err();
        assert!(err.to_string().contains("from_model_dir"), "{err}");
    }
    // GPT-2: the post-processor adds nothing, the convention adds <|endoftext|>.
    let own = HfTokenizer::from_file(folder("gpt2").join("tokenizer.json")).unwrap();
    assert_eq!(own.encode_prompt("").unwrap(), vec![400]);
    let bytes = ByteTokenizer::new();
    assert_eq!(bytes.encode_prompt("a").unwrap(), vec![256, 97]);
    assert_eq!(bytes.stop_ids(), vec![257]);
}

/// A scratch copy of a fixture folder's tokenizer files (no weights), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn of(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tokengym-hf-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(folder(name)).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            if !file.ends_with(".safetensors") && !file.ends_with(".index.json") {
                std::fs::copy(&path, dir.join(file)).unwrap();
            }
        }
        Scratch(dir)
    }

    fn write(&self, file: &str, text: &str) -> &Self {
        std::fs::write(self.0.join(file), text).unwrap();
        self
    }

    fn remove(&self, file: &str) -> &Self {
        std::fs::remove_file(self.0.join(file)).unwrap();
        self
    }

    /// `tokenizer_config.json` with `edit` applied to its object.
    fn edit_config(&self, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> &Self {
        let path = self.0.join("tokenizer_config.json");
        let mut cfg: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(cfg.as_object_mut().unwrap());
        self.write("tokenizer_config.json", &cfg.to_string())
    }

    fn load(&self) -> tokengym::Result<HfTokenizer> {
        HfTokenizer::from_model_dir(&self.0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn llama_plain(text: &str) -> Vec<u32> {
    let exp = expected("llama");
    let rec = exp["texts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["text"] == text)
        .unwrap();
    ids(&rec["ids_no_special"])
}

#[test]
fn add_bos_and_add_eos_flags_override_the_post_processor() {
    let (bos, eot) = (400, 404);
    let plain = llama_plain("Hello world");
    let with = |b: Value, e: Value| {
        let s = Scratch::of("llama");
        s.edit_config(|c| {
            if !b.is_null() {
                c.insert("add_bos_token".into(), b);
            }
            if !e.is_null() {
                c.insert("add_eos_token".into(), e);
            }
        });
        s.load().unwrap()
    };
    let off = with(json!(false), Value::Null);
    assert_eq!(
        off.prompt_specials(),
        PromptSpecials::Explicit {
            bos: false,
            eos: false
        }
    );
    assert_eq!(off.encode_prompt("Hello world").unwrap(), plain);
    assert_eq!(off.encode_prompt("").unwrap(), Vec::<u32>::new());

    let both = with(json!(true), json!(true));
    let mut want = vec![bos];
    want.extend(&plain);
    want.push(eot);
    assert_eq!(both.encode_prompt("Hello world").unwrap(), want);
    // add_eos_token alone keeps transformers' default add_bos_token = true.
    let eos_only = with(Value::Null, json!(true));
    assert_eq!(eos_only.encode_prompt("Hello world").unwrap(), want);
    // `null` flags are unset flags: the post-processor decides.
    let nulls = {
        let s = Scratch::of("llama");
        s.edit_config(|c| {
            c.insert("add_bos_token".into(), Value::Null);
        });
        s.load().unwrap()
    };
    assert_eq!(nulls.prompt_specials(), PromptSpecials::PostProcessor);

    let s = Scratch::of("llama");
    s.edit_config(|c| {
        c.insert("add_bos_token".into(), json!("yes"));
    });
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("tokenizer_config.json") && err.contains("add_bos_token"),
        "{err}"
    );

    let s = Scratch::of("llama");
    s.edit_config(|c| {
        c.insert("add_bos_token".into(), json!(true));
        c.insert("bos_token".into(), Value::Null);
    });
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("add_bos_token is true") && err.contains("no bos_token"),
        "{err}"
    );
}

#[test]
fn added_token_objects_and_special_tokens_map() {
    let s = Scratch::of("llama");
    s.edit_config(|c| {
        c.insert(
            "eos_token".into(),
            json!({"content": "<|end_of_text|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}),
        );
        c.insert("chat_template".into(), json!("{{ eos_token }}|{{ unk_token }}|{{ pad_token }}"));
    })
    .write(
        "special_tokens_map.json",
        r#"{"eos_token": "<|eot_id|>", "unk_token": {"content": "<|start_header_id|>"}}"#,
    )
    .remove("chat_template.jinja");
    let tok = s.load().unwrap();
    let specials = tok.special_tokens();
    // tokenizer_config.json wins; special_tokens_map.json fills what it lacks.
    assert_eq!(specials.eos, Some(401));
    assert_eq!(specials.unk, Some(402));
    // The pad comes from generation_config.json's id: it has no token string for templates.
    assert_eq!(specials.pad, Some(401));
    assert_eq!(
        tok.render_chat(&[], false, None).unwrap(),
        "<|end_of_text|>|<|start_header_id|>|"
    );
    // generation_config.json's stop ids are kept whatever the tokenizer's eos.
    assert_eq!(tok.stop_ids(), vec![401, 404]);

    let s = Scratch::of("llama");
    s.edit_config(|c| {
        c.insert("eos_token".into(), json!({"lstrip": false}));
    });
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("tokenizer_config.json") && err.contains("content"),
        "{err}"
    );
    s.edit_config(|c| {
        c.insert("eos_token".into(), json!(7));
    });
    let err = s.load().unwrap_err().to_string();
    assert!(err.contains("`eos_token` must be a string"), "{err}");
}

#[test]
fn chat_template_sources_and_precedence() {
    let messages = [ChatMessage::new("user", "Hi")];
    // A list of named templates: the one named "default".
    let s = Scratch::of("llama");
    s.remove("chat_template.jinja").edit_config(|c| {
        c.insert(
            "chat_template".into(),
            json!([
                {"name": "tool_use", "template": "TOOLS"},
                {"name": "default", "template": "{{ bos_token }}{{ messages[0]['content'] }}"}
            ]),
        );
    });
    let tok = s.load().unwrap();
    assert_eq!(
        tok.render_chat(&messages, false, None).unwrap(),
        "<|begin_of_text|>Hi"
    );
    assert_eq!(
        tok.apply_chat_template(&messages, false).unwrap(),
        vec![400, 39, 72]
    );

    // chat_template.jinja wins over tokenizer_config.json's template.
    s.write("chat_template.jinja", "JINJA{{ messages | length }}\n");
    let tok = s.load().unwrap();
    assert_eq!(tok.render_chat(&messages, false, None).unwrap(), "JINJA1");
    assert_eq!(
        tok.chat_template().unwrap().source(),
        "JINJA{{ messages | length }}\n"
    );

    // No "default" in the list: the folder loads, chats fail saying why.
    s.remove("chat_template.jinja").edit_config(|c| {
        c.insert(
            "chat_template".into(),
            json!([{"name": "tool_use", "template": "T"}]),
        );
    });
    let tok = s.load().unwrap();
    assert!(tok.chat_template().is_none());
    let err = tok
        .apply_chat_template(&messages, true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"default\"") && err.contains("tool_use"),
        "{err}"
    );

    s.edit_config(|c| {
        c.insert("chat_template".into(), json!([{"name": "default"}]));
    });
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("tokenizer_config.json") && err.contains("\"template\""),
        "{err}"
    );
    s.edit_config(|c| {
        c.insert("chat_template".into(), json!(3));
    });
    assert!(
        s.load()
            .unwrap_err()
            .to_string()
            .contains("`chat_template` must be")
    );
}

#[test]
fn raise_exception_and_template_errors_surface() {
    let s = Scratch::of("llama");
    s.write(
        "chat_template.jinja",
        "{% for m in messages %}{% if m['role'] == 'system' %}\
         {{ raise_exception('System role not supported') }}{% endif %}{{ m['content'] }}{% endfor %}",
    );
    let tok = s.load().unwrap();
    assert_eq!(
        tok.render_chat(&[ChatMessage::new("user", "ok")], false, None)
            .unwrap(),
        "ok"
    );
    let err = tok
        .apply_chat_template(&[ChatMessage::new("system", "be nice")], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("System role not supported"), "{err}");

    s.write("chat_template.jinja", "{% if messages %}unclosed");
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("chat_template.jinja") && err.contains("cannot compile"),
        "{err}"
    );

    // Extra variables reach the template (e.g. Qwen3's enable_thinking).
    s.write(
        "chat_template.jinja",
        "{% if enable_thinking is defined and not enable_thinking %}<think></think>{% endif %}x",
    );
    let tok = s.load().unwrap();
    let extra = json!({"enable_thinking": false});
    assert_eq!(
        tok.render_chat(&[], true, extra.as_object()).unwrap(),
        "<think></think>x"
    );
    assert_eq!(tok.render_chat(&[], true, None).unwrap(), "x");
}

#[test]
fn missing_and_malformed_files_are_errors_naming_them() {
    let s = Scratch::of("llama");
    s.remove("tokenizer.json");
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains(s.0.to_str().unwrap()),
        "{err}"
    );
    let err = HfTokenizer::from_model_dir(s.0.join("nope"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no such directory"), "{err}");

    for file in [
        "tokenizer_config.json",
        "special_tokens_map.json",
        "generation_config.json",
    ] {
        let s = Scratch::of("llama");
        s.write(file, "{\"bos_token\": ");
        let err = s.load().unwrap_err().to_string();
        assert!(
            err.contains(file) && err.contains("invalid JSON"),
            "{file}: {err}"
        );
        s.write(file, "[1, 2]");
        let err = s.load().unwrap_err().to_string();
        assert!(
            err.contains(file) && err.contains("expected a JSON object"),
            "{file}: {err}"
        );
    }

    let s = Scratch::of("llama");
    for bad in [
        r#"{"eos_token_id": "x"}"#,
        r#"{"eos_token_id": [1, -2]}"#,
        r#"{"pad_token_id": 100000}"#,
    ] {
        s.write("generation_config.json", bad);
        let err = s.load().unwrap_err().to_string();
        assert!(
            err.contains("generation_config.json") && err.contains("token ids"),
            "{bad}: {err}"
        );
    }
    s.write(
        "generation_config.json",
        r#"{"eos_token_id": [404, 401, 404]}"#,
    );
    assert_eq!(s.load().unwrap().stop_ids(), vec![404, 401]);
    s.remove("generation_config.json");
    let tok = s.load().unwrap();
    assert_eq!(tok.stop_ids(), vec![404]);
    assert_eq!(tok.special_tokens().pad, None);

    let s = Scratch::of("llama");
    s.edit_config(|c| {
        c.insert("bos_token".into(), json!("<|nope|>"));
    });
    let err = s.load().unwrap_err().to_string();
    assert!(
        err.contains("tokenizer_config.json") && err.contains("<|nope|>"),
        "{err}"
    );
}

#[test]
fn without_tokenizer_config_the_guessed_roles_stay() {
    let s = Scratch::of("llama");
    s.remove("tokenizer_config.json");
    let tok = s.load().unwrap();
    // Guessed from tokenizer.json as from_file does; generation_config.json fills the pad.
    assert_eq!(
        tok.special_tokens(),
        SpecialTokens {
            bos: Some(400),
            eos: Some(401),
            pad: Some(401),
            unk: None
        }
    );
    assert_eq!(tok.prompt_specials(), PromptSpecials::PostProcessor);
    assert_eq!(tok.encode_prompt("").unwrap(), vec![400]);
    // The template still sees bos_token, spelled from the guessed id.
    assert!(
        tok.render_chat(&[ChatMessage::new("user", "x")], false, None)
            .unwrap()
            .starts_with("<|begin_of_text|><|start_header_id|>user")
    );
}
