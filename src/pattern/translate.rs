//! placeholder
use super::ast::Pattern;
use super::PatternError;
use crate::config::options::SearchOptions;
#[derive(Debug, Clone, PartialEq)]
pub struct Translation { pub query: serde_json::Value, pub notes: Vec<String>, pub time_range: Option<(String, String)> }
pub fn translate(_ast: &Pattern, _opts: &SearchOptions) -> Result<Translation, PatternError> { Err(PatternError::unsupported("x")) }
