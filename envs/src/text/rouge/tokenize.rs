//! `rouge_score`'s default tokenizer: what ROUGE counts as a word.

use super::porter::porter_stem;

/// The tokens `rouge_score` 0.1.2's `DefaultTokenizer(use_stemmer=stem)` makes of `text`.
///
/// The text is lowercased (Unicode lowercasing, as Python's `str.lower`), every run of
/// characters other than ASCII `a`–`z` and `0`–`9` becomes a separator, and the pieces are the
/// tokens. So punctuation splits words (`don't` → `don`, `t`), accented and other non-ASCII
/// letters split them too (`café` → `caf`; a text in another script has no tokens at all), and
/// the rare characters whose lowercase is ASCII count as ASCII (`İ` → `i` followed by a combining
/// dot, i.e. a separator; the Kelvin sign `K` → `k`). With `stem`, tokens longer than three
/// characters go through [`porter_stem`].
///
/// ```
/// use tokengym_envs::text::rouge::tokenize;
/// assert_eq!(tokenize("The cats' 2 toys, naïvely!", false), ["the", "cats", "2", "toys", "na", "vely"]);
/// assert_eq!(tokenize("The cats' 2 toys, naïvely!", true), ["the", "cat", "2", "toy", "na", "veli"]);
/// ```
pub fn tokenize(text: &str, stem: bool) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if word.is_empty() {
            return;
        }
        let token = std::mem::take(word);
        // ASCII only: the length in bytes is the length in characters.
        if stem && token.len() > 3 {
            tokens.push(porter_stem(&token));
        } else {
            tokens.push(token);
        }
    };
    for c in text.chars() {
        for l in c.to_lowercase() {
            if l.is_ascii_lowercase() || l.is_ascii_digit() {
                word.push(l);
            } else {
                flush(&mut word);
            }
        }
    }
    flush(&mut word);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_case() {
        assert!(tokenize("", false).is_empty());
        assert!(tokenize("  ... \n\t", true).is_empty());
        assert!(tokenize("日本語のテキスト", false).is_empty());
        assert_eq!(tokenize("A-B_c3 d", false), ["a", "b", "c3", "d"]);
        assert_eq!(
            tokenize("İstanbul \u{212A}elvin", false),
            ["i", "stanbul", "kelvin"]
        );
        // Stemming skips words of three characters or fewer.
        assert_eq!(
            tokenize("ties ran runs sky", true),
            ["tie", "ran", "run", "sky"]
        );
    }
}
