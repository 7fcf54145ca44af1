//! The Porter stemmer as NLTK's `PorterStemmer()` runs it by default (mode `NLTK_EXTENSIONS`),
//! which is the stemmer `rouge_score` 0.1.2 builds when asked to stem.
//!
//! The algorithm is Porter's (1980) five steps of suffix rules with Martin Porter's later
//! changes and NLTK's own: a table of irregular forms (`dying` → `die`, `skies` → `sky`,
//! `news` → `news`, ...), words of at most two characters left alone, `-ies`/`-ied` of
//! four-letter words kept as `-ie`, other `-ied` → `-i`, `-y` → `-i` after any consonant that is
//! not the first letter, `-alli` reduced before the other step-2 rules, `-fulli` → `-ful`,
//! `-logi` → `-log`, `-bli` → `-ble`, and a two-letter vowel–consonant stem counting as
//! "ends consonant–vowel–consonant". Letters are compared as Unicode scalar values (Python's
//! code points), so non-ASCII words behave as they do in NLTK: only `a e i o u` (and `y` after
//! a consonant) are vowels.

/// Irregular forms NLTK maps directly (its `pool`), before any rule.
const IRREGULAR: [(&str, &str); 16] = [
    ("sky", "sky"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

/// The stem of `word` as NLTK 3.x's `PorterStemmer().stem(word)` gives it (the word is
/// lowercased first, as NLTK does by default).
///
/// ```
/// use tokengym_envs::text::rouge::porter_stem;
/// assert_eq!(porter_stem("caresses"), "caress");
/// assert_eq!(porter_stem("Relational"), "relat");
/// assert_eq!(porter_stem("dying"), "die");
/// assert_eq!(porter_stem("generously"), "gener");
/// ```
pub fn porter_stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if let Some((_, stem)) = IRREGULAR.iter().find(|(form, _)| *form == lower) {
        return (*stem).to_string();
    }
    if word.chars().count() <= 2 {
        return lower;
    }
    let mut w: Vec<char> = lower.chars().collect();
    step1a(&mut w);
    step1b(&mut w);
    step1c(&mut w);
    step2(&mut w);
    step3(&mut w);
    step4(&mut w);
    step5a(&mut w);
    step5b(&mut w);
    w.into_iter().collect()
}

fn is_vowel_letter(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// Whether `w[i]` is a consonant: not a vowel letter, and a `y` only when it starts the word or
/// follows a vowel. Depends only on `w[..=i]`, so it holds for any prefix of a word too.
fn is_consonant(w: &[char], i: usize) -> bool {
    let c = w[i];
    if is_vowel_letter(c) {
        return false;
    }
    if c != 'y' {
        return true;
    }
    // A run of y's alternates consonant/vowel, starting from what precedes the run.
    let mut j = i;
    let mut flips = false;
    while j > 0 && w[j] == 'y' {
        flips = !flips;
        j -= 1;
    }
    let base = !is_vowel_letter(w[j]);
    base != flips
}

/// Porter's measure `m` of `stem`: the number of vowel-run-then-consonant-run pairs.
fn measure(stem: &[char]) -> usize {
    // One pass: a `y` is a consonant exactly when the letter before it is not one.
    let mut m = 0;
    let mut prev_consonant = true;
    for (i, &c) in stem.iter().enumerate() {
        let consonant = if is_vowel_letter(c) {
            false
        } else if c == 'y' {
            i == 0 || !prev_consonant
        } else {
            true
        };
        if consonant && i > 0 && !prev_consonant {
            m += 1;
        }
        prev_consonant = consonant;
    }
    m
}

fn contains_vowel(stem: &[char]) -> bool {
    (0..stem.len()).any(|i| !is_consonant(stem, i))
}

/// Condition `*d`: ends with a double consonant.
fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1)
}

/// Condition `*o`: ends consonant–vowel–consonant with the last not `w`, `x` or `y`; NLTK also
/// accepts a two-letter vowel–consonant word (any consonant).
fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    (n >= 3
        && is_consonant(w, n - 3)
        && !is_consonant(w, n - 2)
        && is_consonant(w, n - 1)
        && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1))
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let n = suffix.chars().count();
    n <= w.len() && w[w.len() - n..].iter().copied().eq(suffix.chars())
}

/// Replaces the last `cut` letters of `w` by `with`.
fn replace_tail(w: &mut Vec<char>, cut: usize, with: &str) {
    w.truncate(w.len() - cut);
    w.extend(with.chars());
}

type Condition = fn(&[char]) -> bool;

fn m_gt_0(stem: &[char]) -> bool {
    measure(stem) > 0
}

fn m_gt_1(stem: &[char]) -> bool {
    measure(stem) > 1
}

/// Porter's rule lists: the first rule whose suffix ends the word decides. When its condition
/// holds on the stem (the word without the suffix) the suffix is replaced, otherwise the word
/// stays as it is; no later rule is tried either way.
fn apply_rules(w: &mut Vec<char>, rules: &[(&str, &str, Condition)]) {
    for &(suffix, replacement, condition) in rules {
        if ends_with(w, suffix) {
            let cut = suffix.len();
            if condition(&w[..w.len() - cut]) {
                replace_tail(w, cut, replacement);
            }
            return;
        }
    }
}

/// Plurals: `sses` → `ss`, `ies` → `i` (`ie` in a four-letter word), `ss` stays, `s` goes.
fn step1a(w: &mut Vec<char>) {
    if ends_with(w, "ies") && w.len() == 4 {
        replace_tail(w, 3, "ie");
        return;
    }
    let always: Condition = |_| true;
    apply_rules(
        w,
        &[
            ("sses", "ss", always),
            ("ies", "i", always),
            ("ss", "ss", always),
            ("s", "", always),
        ],
    );
}

/// Past tenses and gerunds: `ied`, `eed`, `ed`, `ing`, then the tidying of what remains.
fn step1b(w: &mut Vec<char>) {
    if ends_with(w, "ied") {
        let with = if w.len() == 4 { "ie" } else { "i" };
        replace_tail(w, 3, with);
        return;
    }
    if ends_with(w, "eed") {
        if measure(&w[..w.len() - 3]) > 0 {
            w.truncate(w.len() - 1);
        }
        return;
    }
    let cut = ["ed", "ing"]
        .into_iter()
        .find(|s| ends_with(w, s) && contains_vowel(&w[..w.len() - s.len()]));
    let Some(suffix) = cut else {
        return;
    };
    w.truncate(w.len() - suffix.len());
    if ends_with(w, "at") || ends_with(w, "bl") || ends_with(w, "iz") {
        w.push('e');
    } else if ends_double_consonant(w) {
        if !matches!(w[w.len() - 1], 'l' | 's' | 'z') {
            w.pop();
        }
    } else if measure(w) == 1 && ends_cvc(w) {
        w.push('e');
    }
}

/// `y` → `i` after a consonant that is not the word's first letter.
fn step1c(w: &mut [char]) {
    let n = w.len();
    if n >= 3 && w[n - 1] == 'y' && is_consonant(w, n - 2) {
        w[n - 1] = 'i';
    }
}

fn step2(w: &mut Vec<char>) {
    if ends_with(w, "alli") && m_gt_0(&w[..w.len() - 4]) {
        replace_tail(w, 4, "al");
        step2(w);
        return;
    }
    // `logi` → `log` when the word without its `ogi` has m > 0 (NLTK keeps the `l`).
    let logi: Condition = |stem| m_gt_0(&[stem, &['l']].concat());
    apply_rules(
        w,
        &[
            ("ational", "ate", m_gt_0),
            ("tional", "tion", m_gt_0),
            ("enci", "ence", m_gt_0),
            ("anci", "ance", m_gt_0),
            ("izer", "ize", m_gt_0),
            ("bli", "ble", m_gt_0),
            ("alli", "al", m_gt_0),
            ("entli", "ent", m_gt_0),
            ("eli", "e", m_gt_0),
            ("ousli", "ous", m_gt_0),
            ("ization", "ize", m_gt_0),
            ("ation", "ate", m_gt_0),
            ("ator", "ate", m_gt_0),
            ("alism", "al", m_gt_0),
            ("iveness", "ive", m_gt_0),
            ("fulness", "ful", m_gt_0),
            ("ousness", "ous", m_gt_0),
            ("aliti", "al", m_gt_0),
            ("iviti", "ive", m_gt_0),
            ("biliti", "ble", m_gt_0),
            ("fulli", "ful", m_gt_0),
            ("logi", "log", logi),
        ],
    );
}

fn step3(w: &mut Vec<char>) {
    apply_rules(
        w,
        &[
            ("icate", "ic", m_gt_0),
            ("ative", "", m_gt_0),
            ("alize", "al", m_gt_0),
            ("iciti", "ic", m_gt_0),
            ("ical", "ic", m_gt_0),
            ("ful", "", m_gt_0),
            ("ness", "", m_gt_0),
        ],
    );
}

fn step4(w: &mut Vec<char>) {
    let ion: Condition = |stem| m_gt_1(stem) && matches!(stem.last(), Some('s' | 't'));
    apply_rules(
        w,
        &[
            ("al", "", m_gt_1),
            ("ance", "", m_gt_1),
            ("ence", "", m_gt_1),
            ("er", "", m_gt_1),
            ("ic", "", m_gt_1),
            ("able", "", m_gt_1),
            ("ible", "", m_gt_1),
            ("ant", "", m_gt_1),
            ("ement", "", m_gt_1),
            ("ment", "", m_gt_1),
            ("ent", "", m_gt_1),
            ("ion", "", ion),
            ("ou", "", m_gt_1),
            ("ism", "", m_gt_1),
            ("ate", "", m_gt_1),
            ("iti", "", m_gt_1),
            ("ous", "", m_gt_1),
            ("ive", "", m_gt_1),
            ("ize", "", m_gt_1),
        ],
    );
}

/// A final `e` goes when m > 1, or m = 1 and the stem does not end consonant–vowel–consonant.
fn step5a(w: &mut Vec<char>) {
    if w.last() == Some(&'e') {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            w.pop();
        }
    }
}

/// `ll` → `l` when the word without its last letter has m > 1.
fn step5b(w: &mut Vec<char>) {
    if ends_with(w, "ll") && m_gt_1(&w[..w.len() - 1]) {
        w.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consonants_and_measure_follow_the_paper() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        for (word, m) in [
            ("tr", 0),
            ("ee", 0),
            ("tree", 0),
            ("y", 0),
            ("by", 0),
            ("trouble", 1),
            ("oats", 1),
            ("trees", 1),
            ("ivy", 1),
            ("troubles", 2),
            ("private", 2),
            ("oaten", 2),
            ("orrery", 2),
        ] {
            assert_eq!(measure(&chars(word)), m, "{word}");
        }
        let toy = chars("toy");
        assert!(is_consonant(&toy, 2));
        let syzygy = chars("syzygy");
        let flags: Vec<bool> = (0..6).map(|i| is_consonant(&syzygy, i)).collect();
        assert_eq!(flags, [true, false, true, false, true, false]);
    }

    #[test]
    fn paper_examples() {
        for (word, stem) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("sing", "sing"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("hopeful", "hope"),
            ("goodness", "good"),
            ("adjustment", "adjust"),
            ("controll", "control"),
            ("at", "at"),
            ("lying", "lie"),
        ] {
            assert_eq!(porter_stem(word), stem, "{word}");
        }
    }
}
