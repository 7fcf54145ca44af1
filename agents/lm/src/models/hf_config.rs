//! [`HfConfig`]: typed access to the fields of a Hugging Face `config.json`, with errors that
//! name the field and the model type.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A parsed `config.json` object.
#[derive(Debug)]
pub struct HfConfig {
    obj: Map<String, Value>,
    model_type: String,
}

impl HfConfig {
    /// Parses `json` (the text of a `config.json`); it must be an object with a string
    /// `model_type`.
    pub fn parse(json: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::InvalidArgument(format!("config.json is not valid JSON: {e}")))?;
        let Value::Object(obj) = value else {
            return Err(Error::InvalidArgument(
                "config.json must be a JSON object".to_owned(),
            ));
        };
        let model_type = match obj.get("model_type") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(Error::InvalidArgument(format!(
                    "config.json: model_type must be a string, got {other}"
                )));
            }
            None => {
                return Err(Error::InvalidArgument(
                    "config.json has no model_type".to_owned(),
                ));
            }
        };
        Ok(Self { obj, model_type })
    }

    /// The `model_type` field.
    pub fn model_type(&self) -> &str {
        &self.model_type
    }

    /// An error about this config.
    pub fn error(&self, msg: impl std::fmt::Display) -> Error {
        Error::InvalidArgument(format!("{} config.json: {msg}", self.model_type))
    }

    /// The value of `key` as written, `null` included (`None` only when absent).
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.obj.get(key)
    }

    /// The raw value of `key` (`None` when absent or null).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// A required integer.
    pub fn int(&self, key: &str) -> Result<i64> {
        self.int_opt(key)?
            .ok_or_else(|| self.error(format!("missing integer field {key:?}")))
    }

    /// An optional field read by `read` (absent or null: `None`); a value `read` rejects is an
    /// error saying the field must be `what`.
    fn typed<'a, T>(
        &'a self,
        key: &str,
        what: &str,
        read: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => read(v)
                .map(Some)
                .ok_or_else(|| self.error(format!("field {key:?} must be {what}, got {v}"))),
        }
    }

    /// An optional integer (absent or null: `None`).
    pub fn int_opt(&self, key: &str) -> Result<Option<i64>> {
        self.typed(key, "an integer", Value::as_i64)
    }

    /// An optional number with a default.
    pub fn float_or(&self, key: &str, default: f64) -> Result<f64> {
        Ok(self
            .typed(key, "a number", Value::as_f64)?
            .unwrap_or(default))
    }

    /// An optional boolean with a default.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        Ok(self
            .typed(key, "a boolean", Value::as_bool)?
            .unwrap_or(default))
    }

    /// An optional string.
    pub fn str_opt(&self, key: &str) -> Result<Option<&str>> {
        self.typed(key, "a string", Value::as_str)
    }

    /// An error when `key` is set to something other than `allowed` (absent or null passes).
    pub fn require(&self, key: &str, allowed: &Value) -> Result<()> {
        match self.get(key) {
            Some(v) if v != allowed => {
                Err(self.error(format!("{key} = {v} is not supported (only {allowed})")))
            }
            _ => Ok(()),
        }
    }
}
