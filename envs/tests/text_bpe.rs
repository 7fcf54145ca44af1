//! `HfTokenizer` on the tiny GPT-2-style BPE fixture: ids identical to the Python `tokenizers`
//! library (fixtures/text/gen_tiny_bpe.py), special tokens found in the file, error paths.

use serde_json::Value;
use std::path::PathBuf;
use tokengym_envs::text::{BatchOptions, HfTokenizer, Padding, SpecialTokens, Tokenizer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/text/tiny_bpe")
        .join(name)
}

fn tiny() -> HfTokenizer {
    HfTokenizer::from_file(fixture("tokenizer.json")).unwrap()
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap()
}

#[test]
fn encode_and_decode_match_python() {
    let tok = tiny();
    let exp = expected();
    assert_eq!(tok.vocab_size() as u64, exp["vocab_size"].as_u64().unwrap());
    let cases = exp["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let ids = tok.encode(text).unwrap();
        assert_eq!(ids, want, "encode({text:?})");
        assert_eq!(
            tok.decode(&ids).unwrap(),
            case["decoded"].as_str().unwrap(),
            "decode of {text:?}"
        );
    }
}

#[test]
fn endoftext_is_bos_eos_and_pad() {
    let tok = tiny();
    let eot = expected()["endoftext_id"].as_u64().unwrap() as u32;
    assert_eq!(tok.token_to_id("<|endoftext|>"), Some(eot));
    assert_eq!(tok.id_to_token(eot).as_deref(), Some("<|endoftext|>"));
    assert_eq!(
        tok.special_tokens(),
        SpecialTokens {
            bos: Some(eot),
            eos: Some(eot),
            pad: Some(eot),
            unk: None
        }
    );
    let ids = tok
        .encode_with_specials("the food was cold.", true, true)
        .unwrap();
    assert_eq!((ids[0], ids[ids.len() - 1]), (eot, eot));
    assert_eq!(tok.decode(&ids).unwrap(), "the food was cold.");
}

#[test]
fn left_padded_batch() {
    let tok = tiny();
    let opts = BatchOptions {
        add_bos: true,
        padding: Padding::Left,
        ..Default::default()
    };
    let batch = tok
        .encode_batch(&["the movie was wonderful.", "i"], &opts)
        .unwrap();
    let eot = tok.special_tokens().pad.unwrap();
    assert_eq!(batch.ids[1].last(), tok.encode("i").unwrap().last());
    assert!(batch.ids[1][..batch.width() - 2].iter().all(|&t| t == eot));
    assert_eq!(batch.lengths[1], 2);
    assert_eq!(
        tok.decode(&batch.ids[0]).unwrap(),
        "the movie was wonderful."
    );
}

#[test]
fn explicit_specials_override_and_are_validated() {
    let tok = tiny();
    let custom = SpecialTokens {
        pad: Some(3),
        ..Default::default()
    };
    let tok = tok.with_special_tokens(custom).unwrap();
    assert_eq!(tok.special_tokens(), custom);
    // The pad id is skipped when decoding even though the file does not mark it special.
    let a = tok.encode("a").unwrap();
    assert_eq!(tok.decode(&[3, a[0], 3]).unwrap(), "a");
    let err = tiny()
        .with_special_tokens(SpecialTokens {
            eos: Some(512),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("512"), "{err}");
}

#[test]
fn out_of_range_ids_are_errors() {
    let tok = tiny();
    let err = tok.decode(&[1, 512]).unwrap_err();
    assert!(err.to_string().contains("512"), "{err}");
    assert_eq!(tok.id_to_token(512), None);
}

#[test]
fn file_padding_names_the_pad_and_padding_truncation_are_ignored_by_encode() {
    let mut inner = tiny().inner().clone();
    let pad_token = inner.id_to_token(5).unwrap();
    inner.with_padding(Some(tokenizers::PaddingParams {
        strategy: tokenizers::PaddingStrategy::Fixed(64),
        pad_id: 5,
        pad_token,
        ..Default::default()
    }));
    inner
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: 2,
            ..Default::default()
        }))
        .unwrap();
    let tok = HfTokenizer::from_inner(inner).unwrap();
    assert_eq!(tok.special_tokens().pad, Some(5));
    assert_eq!(tok.special_tokens().eos, tok.token_to_id("<|endoftext|>"));
    let text = "the movie was wonderful and the actors were great.";
    assert_eq!(tok.encode(text).unwrap(), tiny().encode(text).unwrap());
}

#[test]
fn load_errors_are_clear() {
    let err = HfTokenizer::from_file(fixture("missing.json")).unwrap_err();
    assert!(matches!(err, tokengym::Error::Io { .. }), "{err}");
    let err = HfTokenizer::from_bytes(b"{\"not\": \"a tokenizer\"}").unwrap_err();
    assert!(err.to_string().contains("invalid tokenizer.json"), "{err}");
}

#[test]
fn usable_as_a_shared_trait_object() {
    let tok: std::sync::Arc<dyn Tokenizer> = std::sync::Arc::new(tiny());
    let t2 = tok.clone();
    let ids = std::thread::spawn(move || t2.encode("12+7=19").unwrap())
        .join()
        .unwrap();
    assert_eq!(tok.decode(&ids).unwrap(), "12+7=19");
    assert_eq!(tok.token_space(8).unwrap().vocab_size(), 512);
}
