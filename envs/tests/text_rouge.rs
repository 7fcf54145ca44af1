//! Replays `rouge_score` 0.1.2 and NLTK's Porter stemmer (`tests/fixtures/text/rouge.json`, made
//! by `tests/fixtures/text/gen_rouge.py`): identical stems and tokens, scores within 1e-12,
//! `score_multi`'s choice among several targets.

use serde_json::Value;
use tokengym_envs::text::rouge::{RougeMetric, RougeScorer, porter_stem, tokenize};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/text/rouge.json"
    );
    let text = std::fs::read_to_string(path).expect("read rouge.json");
    serde_json::from_str(&text).expect("parse rouge.json")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list of strings")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn stems_equal_nltk() {
    let fx = fixture();
    let stems = fx["stems"].as_array().unwrap();
    assert!(stems.len() >= 300, "{}", stems.len());
    let mut wrong = Vec::new();
    for pair in stems {
        let (word, want) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let got = porter_stem(word);
        if got != want {
            wrong.push(format!("{word}: got {got}, NLTK {want}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} stems differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn tokens_equal_rouge_score() {
    let fx = fixture();
    for case in fx["cases"].as_array().unwrap() {
        for side in ["target", "prediction"] {
            let text = case[side].as_str().unwrap();
            let plain = strings(&case[format!("{side}_tokens")]);
            let stemmed = case
                .get(format!("{side}_tokens_stemmed"))
                .map(strings)
                .unwrap_or_else(|| plain.clone());
            assert_eq!(tokenize(text, false), plain, "{text:?}");
            assert_eq!(tokenize(text, true), stemmed, "{text:?} stemmed");
        }
    }
}

#[test]
fn scores_equal_rouge_score() {
    let fx = fixture();
    let metrics: Vec<RougeMetric> = strings(&fx["types"])
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(metrics.len(), 5);
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 200, "{}", cases.len());
    let mut checked = 0;
    for case in cases {
        let target = case["target"].as_str().unwrap();
        let prediction = case["prediction"].as_str().unwrap();
        let stemmed = case.get("scores_stemmed").unwrap_or(&case["scores"]);
        for (stemming, want) in [(false, &case["scores"]), (true, stemmed)] {
            let scorer = RougeScorer::new(stemming);
            let all = scorer.score_all(&metrics, target, prediction);
            for (metric, got) in metrics.iter().zip(all) {
                let w = &want[metric.to_string()];
                let one = scorer.score(*metric, target, prediction);
                assert_eq!(one, got, "score and score_all disagree");
                for (k, g) in [got.precision, got.recall, got.fmeasure].iter().enumerate() {
                    let e = w[k].as_f64().unwrap();
                    assert!(
                        (g - e).abs() <= 1e-12,
                        "{metric} (stemming {stemming}) field {k}: got {g}, rouge_score {e}\n\
                         target {target:?}\nprediction {prediction:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, cases.len() * 10);
}

#[test]
fn score_multi_equals_rouge_score() {
    let fx = fixture();
    let scorer = RougeScorer::new(true);
    let cases = fx["multi_stemmed"].as_array().unwrap();
    assert!(cases.len() >= 20, "{}", cases.len());
    for case in cases {
        let targets = strings(&case["targets"]);
        let prediction = case["prediction"].as_str().unwrap();
        for t in strings(&fx["types"]) {
            let metric: RougeMetric = t.parse().unwrap();
            let got = scorer.score_multi(metric, &targets, prediction);
            let want: Vec<f64> = case["scores"][&t]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert_eq!(
                [got.precision, got.recall, got.fmeasure],
                want[..],
                "{t} {targets:?} {prediction:?}"
            );
        }
    }
}

/// The fixture covers what it claims: empty texts, unicode, newlines, partial overlaps.
#[test]
fn fixture_covers_the_edge_cases() {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    let has = |f: &dyn Fn(&str, &str) -> bool| {
        cases.iter().any(|c| {
            f(
                c["target"].as_str().unwrap(),
                c["prediction"].as_str().unwrap(),
            )
        })
    };
    assert!(has(&|t, p| t.is_empty() && p.is_empty()));
    assert!(has(&|t, _| !t.is_ascii()));
    assert!(has(&|t, p| t.contains('\n') && p.contains('\n')));
    let partial = cases.iter().any(|c| {
        let f = c["scores"]["rougeLsum"][2].as_f64().unwrap();
        f > 0.0 && f < 1.0 && c["scores"]["rougeL"][2] != c["scores"]["rougeLsum"][2]
    });
    assert!(partial, "no case where rougeLsum differs from rougeL");
}
