//! Property tests of the tokenizers: exact round trips and batch padding invariants.

use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;
use tokengym_envs::text::{
    BatchOptions, ByteTokenizer, CharTokenizer, HfTokenizer, Padding, Tokenizer,
};

const ALPHABET: &str = "abcdefghij .,!?+=0123456789éü日";

fn bpe() -> &'static HfTokenizer {
    static TOK: OnceLock<HfTokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/text/tiny_bpe/tokenizer.json");
        HfTokenizer::from_file(path).unwrap()
    })
}

fn chars() -> &'static CharTokenizer {
    static TOK: OnceLock<CharTokenizer> = OnceLock::new();
    TOK.get_or_init(|| CharTokenizer::from_corpus(ALPHABET, &["<bos>", "<eos>", "<pad>"]).unwrap())
}

fn alphabet_string() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..40)
        .prop_map(|cs| cs.into_iter().collect())
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Left), Just(Padding::Right)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn byte_round_trip(s in any::<String>()) {
        let tok = ByteTokenizer::new();
        let ids = tok.encode(&s).unwrap();
        prop_assert_eq!(ids.len(), s.len());
        prop_assert_eq!(tok.decode(&ids).unwrap(), s.clone());
        let with = tok.encode_with_specials(&s, true, true).unwrap();
        prop_assert_eq!(tok.decode(&with).unwrap(), s);
    }

    #[test]
    fn bpe_round_trip(s in any::<String>()) {
        let tok = bpe();
        let ids = tok.encode(&s).unwrap();
        prop_assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
        prop_assert_eq!(tok.decode(&ids).unwrap(), s);
    }

    #[test]
    fn bpe_round_trip_on_corpus_like_text(s in "[a-z0-9 +=.,!'\n-]{0,80}") {
        let tok = bpe();
        prop_assert_eq!(tok.decode(&tok.encode(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn char_round_trip_on_its_alphabet(s in alphabet_string()) {
        let tok = chars();
        let ids = tok.encode(&s).unwrap();
        prop_assert_eq!(ids.len(), s.chars().count());
        prop_assert!(!ids.contains(&tok.unk_id()));
        prop_assert_eq!(tok.decode(&ids).unwrap(), s.clone());
        let with = tok.encode_with_specials(&s, true, true).unwrap();
        prop_assert_eq!(tok.decode(&with).unwrap(), s);
    }

    #[test]
    fn batch_padding_invariants(
        texts in prop::collection::vec(alphabet_string(), 0..6),
        padding in padding(),
        add_bos in any::<bool>(),
        add_eos in any::<bool>(),
        max_len in prop::option::of(1usize..30),
    ) {
        let tok = chars();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let opts = BatchOptions { add_bos, add_eos, padding, max_len, truncation: true, pad_to_max_len: false };
        let batch = tok.encode_batch(&refs, &opts).unwrap();
        let pad = tok.special_tokens().pad.unwrap();
        prop_assert_eq!(batch.len(), texts.len());
        prop_assert_eq!(batch.attention_mask.len(), texts.len());
        let width = batch.width();
        for (i, text) in texts.iter().enumerate() {
            let row = &batch.ids[i];
            let mask = &batch.attention_mask[i];
            prop_assert_eq!(row.len(), width);
            prop_assert_eq!(mask.len(), width);
            let n = batch.lengths[i];
            prop_assert_eq!(mask.iter().map(|&m| m as usize).sum::<usize>(), n);
            let full = tok.encode_with_specials(text, add_bos, add_eos).unwrap();
            let kept = max_len.map_or(full.len(), |m| full.len().min(m));
            prop_assert_eq!(n, kept);
            prop_assert_eq!(batch.row_tokens(i).unwrap(), &full[..kept]);
            let (pads, toks) = match padding {
                Padding::Left => (&row[..width - n], &mask[width - n..]),
                Padding::Right => (&row[n..], &mask[..n]),
            };
            prop_assert!(pads.iter().all(|&t| t == pad));
            prop_assert!(toks.iter().all(|&m| m == 1));
            if padding == Padding::Left {
                // Pads first: the mask is 0...0 1...1.
                prop_assert!(mask.windows(2).all(|w| w[0] <= w[1]));
            } else {
                prop_assert!(mask.windows(2).all(|w| w[0] >= w[1]));
            }
        }
        prop_assert_eq!(width, batch.lengths.iter().copied().max().unwrap_or(0));
        if let Some(m) = max_len {
            prop_assert!(width <= m);
        }
    }

    #[test]
    fn batch_without_truncation_errors_exactly_when_too_long(
        texts in prop::collection::vec(alphabet_string(), 1..5),
        max_len in 1usize..30,
    ) {
        let tok = chars();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let opts = BatchOptions { max_len: Some(max_len), ..Default::default() };
        let too_long = texts.iter().any(|t| t.chars().count() > max_len);
        prop_assert_eq!(tok.encode_batch(&refs, &opts).is_err(), too_long);
    }
}

#[test]
fn batch_needs_a_pad_token_only_when_padding() {
    let tok = ByteTokenizer::with_specials(["<bos>"]).unwrap();
    let err = tok
        .encode_batch(&["ab", "a"], &BatchOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("no pad token"), "{err}");
    let ok = tok
        .encode_batch(&["ab", "cd"], &BatchOptions::default())
        .unwrap();
    assert_eq!(ok.ids, vec![vec![97, 98], vec![99, 100]]);
    let err = tok
        .encode_batch(
            &["a"],
            &BatchOptions {
                add_eos: true,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("eos"), "{err}");
}
