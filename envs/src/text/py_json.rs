//! Python's `json.dumps` over template values: what the `tojson` filter prints in a Hugging Face
//! chat template, where transformers replaces Jinja's HTML-safe filter by
//! `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`.
//!
//! The differences from a compact JSON writer are the ones a tokenizer sees: `", "` and `": "`
//! between items when there is no indent, `","` and a newline plus the indent when there is one,
//! floats written as Python's `repr` writes them (`1.0`, `1e+16`, `1.5e-05`), non-finite floats as
//! `NaN` / `Infinity`, and no HTML escaping.

use minijinja::value::{Kwargs, Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Error, ErrorKind};

/// How [`dumps`] lays the text out (the arguments of Python's `json.dumps`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonStyle {
    /// Indent of one level; `None` writes everything on one line.
    pub indent: Option<String>,
    /// Between the items of a list or an object (before the newline, if indenting).
    pub item_sep: String,
    /// Between a key and its value.
    pub key_sep: String,
    /// Objects written with their keys sorted.
    pub sort_keys: bool,
    /// Non-ASCII characters written as `\uXXXX` escapes.
    pub ensure_ascii: bool,
}

impl Default for JsonStyle {
    /// `json.dumps(x, ensure_ascii=False)`: one line, `", "` and `": "`.
    fn default() -> Self {
        JsonStyle {
            indent: None,
            item_sep: ", ".to_owned(),
            key_sep: ": ".to_owned(),
            sort_keys: false,
            ensure_ascii: false,
        }
    }
}

/// The `tojson` filter: `value | tojson(ensure_ascii=False, indent=None, separators=None,
/// sort_keys=False)`, arguments by position (in that order) or by name.
pub(crate) fn tojson_filter(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let mut positional: Vec<Value> = Vec::new();
    let mut kwargs: Option<Kwargs> = None;
    for arg in args.into_values() {
        if arg.is_kwargs() {
            kwargs = Some(Kwargs::try_from(arg)?);
        } else {
            positional.push(arg);
        }
    }
    const NAMES: [&str; 4] = ["ensure_ascii", "indent", "separators", "sort_keys"];
    if positional.len() > NAMES.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "tojson takes at most 4 arguments (ensure_ascii, indent, separators, sort_keys)",
        ));
    }
    let get = |i: usize| -> Result<Option<Value>, Error> {
        let by_name: Option<Value> = match &kwargs {
            Some(kw) => kw.get(NAMES[i])?,
            None => None,
        };
        match (positional.get(i), by_name) {
            (Some(_), Some(_)) => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("tojson got {} both by position and by name", NAMES[i]),
            )),
            (Some(v), None) => Ok(Some(v.clone())),
            (None, v) => Ok(v),
        }
    };
    let ensure_ascii = get(0)?.is_some_and(|v| v.is_true());
    let indent = get(1)?
        .filter(|v| !v.is_none())
        .map(indent_string)
        .transpose()?;
    let separators = get(2)?.filter(|v| !v.is_none());
    let sort_keys = get(3)?.is_some_and(|v| v.is_true());
    if let Some(kw) = &kwargs {
        kw.assert_all_used()?;
    }
    let mut style = JsonStyle {
        item_sep: if indent.is_some() { "," } else { ", " }.to_owned(),
        indent,
        sort_keys,
        ensure_ascii,
        ..JsonStyle::default()
    };
    if let Some(seps) = separators {
        let pair: Vec<Value> = seps.try_iter()?.collect();
        match pair.as_slice() {
            [item, key] if item.as_str().is_some() && key.as_str().is_some() => {
                style.item_sep = item.as_str().unwrap_or_default().to_owned();
                style.key_sep = key.as_str().unwrap_or_default().to_owned();
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson: separators must be a pair of strings (item separator, key separator)",
                ));
            }
        }
    }
    dumps(value, &style)
}

/// Python's `indent` argument: a number of spaces or the indent string itself.
fn indent_string(v: Value) -> Result<String, Error> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_owned());
    }
    if v.kind() == ValueKind::Bool {
        return Ok(if v.is_true() { " " } else { "" }.to_owned());
    }
    match v.as_i64() {
        Some(n) => Ok(" ".repeat(usize::try_from(n).unwrap_or(0))),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "tojson: indent must be an integer or a string, not {}",
                v.kind()
            ),
        )),
    }
}

/// `value` as Python's `json.dumps` writes it with `style`.
pub(crate) fn dumps(value: &Value, style: &JsonStyle) -> Result<String, Error> {
    let mut out = String::new();
    write_value(&mut out, value, style, 0)?;
    Ok(out)
}

fn not_serializable(what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("tojson: a value of kind {what} is not JSON serializable"),
    )
}

fn write_value(
    out: &mut String,
    value: &Value,
    style: &JsonStyle,
    depth: usize,
) -> Result<(), Error> {
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => write_number(out, value)?,
        ValueKind::String => {
            write_string(out, value.as_str().unwrap_or_default(), style.ensure_ascii)
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            write_container(out, ('[', ']'), items.len(), style, depth, |out, i| {
                write_value(out, &items[i], style, depth + 1)
            })?;
        }
        ValueKind::Map => {
            let mut entries = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                entries.push((key_string(&key)?, item));
            }
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            write_container(out, ('{', '}'), entries.len(), style, depth, |out, i| {
                write_string(out, &entries[i].0, style.ensure_ascii);
                out.push_str(&style.key_sep);
                write_value(out, &entries[i].1, style, depth + 1)
            })?;
        }
        other => return Err(not_serializable(other)),
    }
    Ok(())
}

/// `open`, the items written by `item(out, i)` for `i in 0..n` with the separators and indent of
/// `style`, `close`; an empty container is `[]` / `{}` whatever the indent.
fn write_container(
    out: &mut String,
    (open, close): (char, char),
    n: usize,
    style: &JsonStyle,
    depth: usize,
    mut item: impl FnMut(&mut String, usize) -> Result<(), Error>,
) -> Result<(), Error> {
    out.push(open);
    if n == 0 {
        out.push(close);
        return Ok(());
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(indent) = &style.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(indent);
            }
        }
    };
    for i in 0..n {
        if i > 0 {
            out.push_str(&style.item_sep);
        }
        newline(out, depth + 1);
        item(out, i)?;
    }
    newline(out, depth);
    out.push(close);
    Ok(())
}

/// Python converts the keys of a dict to strings: strings as they are, numbers as they print,
/// booleans as `true`/`false`, None as `null`.
fn key_string(key: &Value) -> Result<String, Error> {
    match key.kind() {
        ValueKind::String => Ok(key.as_str().unwrap_or_default().to_owned()),
        ValueKind::Bool => Ok(if key.is_true() { "true" } else { "false" }.to_owned()),
        ValueKind::None => Ok("null".to_owned()),
        ValueKind::Number => {
            let mut s = String::new();
            write_number(&mut s, key)?;
            Ok(s)
        }
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("tojson: keys must be strings, numbers, booleans or none, not {other}"),
        )),
    }
}

fn write_number(out: &mut String, value: &Value) -> Result<(), Error> {
    if value.is_integer() {
        out.push_str(&value.to_string());
        return Ok(());
    }
    let x = f64::try_from(value.clone())?;
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        out.push_str(&py_float_repr(x));
    }
    Ok(())
}

/// A finite float as Python's `repr` writes it: the shortest digits that read back to the same
/// number, in positional notation when the decimal exponent is in `-4..16` (always with a
/// fractional part: `1.0`), in scientific notation otherwise (`1e+16`, `1.5e-05`).
pub(crate) fn py_float_repr(x: f64) -> String {
    // Rust's `{:e}` writes the shortest round-trip digits, e.g. "1.2345e2", "5e-324", "0e0".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let body = if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
            } else {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    };
    format!("{sign}{body}")
}

/// A JSON string as Python writes it: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control
/// characters as `\u00xx` (lower-case hex); with `ensure_ascii`, every character outside
/// `' '..='~'` as `\uxxxx` (UTF-16 surrogate pairs above U+FFFF).
fn write_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && !(' '..='~').contains(&c)) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.5, "0.5"),
            (123.456, "123.456"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (1e15, "1000000000000000.0"),
            (-2.5e100, "-2.5e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn strings_escape_as_python() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\n\u{1}é🙂\u{7f}", false);
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001é🙂\u{7f}\"");
        s.clear();
        write_string(&mut s, "é🙂\u{7f}", true);
        assert_eq!(s, "\"\\u00e9\\ud83d\\ude42\\u007f\"");
    }

    #[test]
    fn containers_use_pythons_separators() {
        let v = Value::from(minijinja::value::Serde(
            serde_json::json!({"b": [1, 2.0, null, true], "a": {}}),
        ));
        // serde_json's map is sorted, so "a" comes first either way.
        assert_eq!(
            dumps(&v, &JsonStyle::default()).unwrap(),
            r#"{"a": {}, "b": [1, 2.0, null, true]}"#
        );
        let style = JsonStyle {
            indent: Some("  ".to_owned()),
            item_sep: ",".to_owned(),
            ..JsonStyle::default()
        };
        assert_eq!(
            dumps(&v, &style).unwrap(),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.0,\n    null,\n    true\n  ]\n}"
        );
        assert!(dumps(&Value::UNDEFINED, &style).is_err());
    }
}
