//! [`ArithmeticReward`]: a verifiable reward for `a+b=` prompts.

use super::{RewardContext, RewardFn};
use tokengym::{Error, Result};

/// A verifiable reward for arithmetic prompts: 1 when the completion's leading integer is the
/// answer, else 0.
///
/// - The prompt is `a+b=`, `a-b=` or `a*b=` with non-negative integer operands (spaces around
///   the parts are allowed). A prompt that is not of this form is scored against its target
///   instead, when the target is an integer; otherwise it is an error (a configuration mistake,
///   not the policy's).
/// - The completion's leading integer: leading whitespace is skipped, then an optional `-` and
///   the longest run of ASCII digits. Whatever follows is ignored (`"19."`, `"19 apples"` and
///   `"19\n"` all answer 19; `"190"` answers 190).
/// - Junk scores 0, never an error: no leading integer (`""`, `"abc"`, `"-"`), or an integer
///   too long for `i64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArithmeticReward;

impl ArithmeticReward {
    /// The value of an arithmetic prompt `a+b=` (`+`, `-` or `*`), if it is one.
    pub fn answer(prompt: &str) -> Option<i64> {
        let lhs = prompt.trim().strip_suffix('=')?;
        let (pos, op) = lhs.char_indices().find(|&(_, c)| "+-*".contains(c))?;
        let a = parse_operand(&lhs[..pos])?;
        let b = parse_operand(&lhs[pos + op.len_utf8()..])?;
        match op {
            '+' => a.checked_add(b),
            '-' => a.checked_sub(b),
            _ => a.checked_mul(b),
        }
    }

    /// The leading integer of a completion (see the type's documentation), if it has one.
    pub fn leading_integer(completion: &str) -> Option<i64> {
        let s = completion.trim_start();
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let value: i64 = digits[..end].parse().ok()?;
        Some(if neg { -value } else { value })
    }
}

fn parse_operand(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl RewardFn for ArithmeticReward {
    fn score(&self, ctx: &RewardContext<'_>) -> Result<f64> {
        let answer = match Self::answer(ctx.prompt) {
            Some(a) => a,
            None => ctx
                .target
                .and_then(|t| t.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "ArithmeticReward: the prompt {:?} is not of the form a+b=, a-b= or a*b= \
                         and has no integer target",
                        ctx.prompt
                    ))
                })?,
        };
        Ok(match Self::leading_integer(ctx.completion) {
            Some(v) if v == answer => 1.0,
            _ => 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(prompt: &'a str, completion: &'a str) -> RewardContext<'a> {
        RewardContext::new(prompt, completion)
    }

    #[test]
    fn arithmetic_parsing_and_junk() {
        assert_eq!(ArithmeticReward::answer("12+7="), Some(19));
        assert_eq!(ArithmeticReward::answer(" 12 - 20 = "), Some(-8));
        assert_eq!(ArithmeticReward::answer("6*7="), Some(42));
        assert_eq!(ArithmeticReward::answer("12+7"), None);
        assert_eq!(ArithmeticReward::answer("+7="), None);
        assert_eq!(ArithmeticReward::answer("a+7="), None);
        assert_eq!(ArithmeticReward::leading_integer(" 19."), Some(19));
        assert_eq!(ArithmeticReward::leading_integer("-8x"), Some(-8));
        assert_eq!(ArithmeticReward::leading_integer("x19"), None);
        assert_eq!(ArithmeticReward::leading_integer("-"), None);
        assert_eq!(
            ArithmeticReward::leading_integer("99999999999999999999999"),
            None
        );
        let r = ArithmeticReward;
        let score = |p: &str, c: &str| r.score(&ctx(p, c)).unwrap();
        assert_eq!(score("12+7=", "19"), 1.0);
        assert_eq!(score("12+7=", "19 and more"), 1.0);
        assert_eq!(score("12+7=", "190"), 0.0);
        assert_eq!(score("12+7=", "18"), 0.0);
        assert_eq!(score("12+7=", ""), 0.0);
        assert_eq!(score("12+7=", "nineteen"), 0.0);
        assert_eq!(score("3-5=", "-2"), 1.0);
        // A prompt that is not an expression falls back to the target, or is an error.
        assert_eq!(
            r.score(&ctx("what is twelve plus seven?", "19").with_target("19"))
                .unwrap(),
            1.0
        );
        let err = r.score(&ctx("hello", "19")).unwrap_err().to_string();
        assert!(err.contains("hello"), "{err}");
    }
}
