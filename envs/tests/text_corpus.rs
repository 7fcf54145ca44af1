//! The committed corpus files are exactly what the generator produces from the documented seeds.
//!
//! Regenerate them with
//! `cargo test -p tokengym-envs --test text_corpus -- --ignored regenerate_committed_corpus`.

use std::path::PathBuf;
use tokengym_envs::text::corpus::{CorpusConfig, generate, write_corpus};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/corpus")
}

fn files() -> [(&'static str, CorpusConfig); 2] {
    [
        ("train.txt", CorpusConfig::train()),
        ("valid.txt", CorpusConfig::valid()),
    ]
}

#[test]
fn committed_corpus_matches_generator() {
    for (name, cfg) in files() {
        let path = corpus_dir().join(name);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let fresh = generate(&cfg).unwrap();
        assert_eq!(committed.lines().count(), cfg.sentences, "{name}");
        assert!(committed == fresh, "{name} differs from generate(&{cfg:?})");
    }
}

#[test]
#[ignore = "writes the committed corpus files"]
fn regenerate_committed_corpus() {
    for (name, cfg) in files() {
        write_corpus(corpus_dir().join(name), &cfg).unwrap();
    }
}
