//! "Did you mean ...?": registered ids close to an unknown one.

use super::spec::EnvId;

/// At most this many suggestions are offered.
pub(crate) const MAX_SUGGESTIONS: usize = 3;

/// Registered ids close to `query`, best first (at most [`MAX_SUGGESTIONS`]).
///
/// A registered id is close when its unversioned id (`namespace/name`), lowercased, is within a
/// small edit distance of the query's (so `CartPole-v0` finds `CartPole-v1` and `cartpole`
/// finds `CartPole-v1`). Ties prefer the newer version, then alphabetical order.
pub(crate) fn suggestions<'a>(
    query: &str,
    registered: impl Iterator<Item = &'a EnvId>,
) -> Vec<String> {
    let wanted = match EnvId::parse(query) {
        Ok(id) => id.unversioned().to_lowercase(),
        Err(_) => query.to_lowercase(),
    };
    let threshold = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, std::cmp::Reverse<Option<u64>>, String)> = registered
        .filter_map(|id| {
            let d = levenshtein(&wanted, &id.unversioned().to_lowercase());
            (d <= threshold).then(|| (d, std::cmp::Reverse(id.version()), id.to_string()))
        })
        .filter(|(_, _, id)| id != query)
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, id)| id)
        .collect()
}

/// The Levenshtein distance between two strings, by characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<EnvId> {
        list.iter().map(|s| EnvId::parse(s).unwrap()).collect()
    }

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("cartpole", "cartpole"), 0);
    }

    #[test]
    fn suggests_other_versions_and_case_fixes() {
        let reg = ids(&[
            "CartPole-v1",
            "CartPole-v0",
            "MountainCar-v0",
            "Acrobot-v1",
            "Pendulum-v1",
        ]);
        assert_eq!(
            suggestions("CartPole-v7", reg.iter()),
            vec!["CartPole-v1", "CartPole-v0"]
        );
        assert_eq!(
            suggestions("cartpole", reg.iter()),
            vec!["CartPole-v1", "CartPole-v0"]
        );
        assert_eq!(suggestions("CartPol-v1", reg.iter())[0], "CartPole-v1");
        assert_eq!(suggestions("Pendulm-v1", reg.iter()), vec!["Pendulum-v1"]);
        assert!(suggestions("Zzzzzzzzzz-v0", reg.iter()).is_empty());
    }

    #[test]
    fn at_most_three() {
        let reg = ids(&["Foo-v0", "Foo-v1", "Foo-v2", "Foo-v3", "Fob-v0"]);
        let s = suggestions("foo", reg.iter());
        assert_eq!(s, vec!["Foo-v3", "Foo-v2", "Foo-v1"]);
    }
}
