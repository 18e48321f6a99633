//! The crate's error type. Each variant names the input that failed and why.

use std::path::PathBuf;

use crate::codes::Level;

#[derive(Debug, thiserror::Error)]
pub enum GeodataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a geodata file (expected the magic bytes {expected:?})")]
    NotGeodataFile {
        path: PathBuf,
        expected: &'static str,
    },
    #[error(
        "{path}: geodata file format version {found}, this build reads version {expected}; re-import the data"
    )]
    FormatVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{path}: corrupt geodata file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: cannot tell the format: {detail}")]
    UnknownFormat { path: PathBuf, detail: String },
    #[error("{path}: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error(
        "unknown geocode scheme {value_name:?} (expected Taiwan_Geocode_100, _103, _106, _107 or _112)"
    )]
    UnknownScheme { value_name: String },
    #[error("{value_name} {value:?} is not a well-formed code of that table")]
    MalformedCode { value_name: String, value: String },
    #[error("{value_name} has no code {value:?}")]
    UnknownCode { value_name: String, value: String },
    #[error("{value_name} {value:?} ({name}) has no boundary in this atlas: {reason}")]
    NoBoundary {
        value_name: String,
        value: String,
        name: String,
        reason: String,
    },
    #[error("no area with MOI code {code:?}")]
    UnknownMoiCode { code: String },
    #[error("no {level} named {name:?}{within}")]
    NameNotFound {
        level: Level,
        name: String,
        /// " in 臺北市" or empty.
        within: String,
    },
    #[error("{level} name {name:?} is ambiguous: {}", candidates.join(", "))]
    Ambiguous {
        level: Level,
        name: String,
        candidates: Vec<String>,
    },
    #[error("address {reason}")]
    Address { reason: String },
}

impl GeodataError {
    /// The candidate names of an ambiguous lookup (empty for other errors).
    pub fn candidates(&self) -> &[String] {
        match self {
            GeodataError::Ambiguous { candidates, .. } => candidates,
            _ => &[],
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GeodataError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parse(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        GeodataError::Parse {
            path: path.into(),
            detail: detail.into(),
        }
    }
}
