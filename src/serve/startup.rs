//! Why `hazardline serve` could not start: the setting or step at fault
//! and what went wrong.

#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct StartError {
    pub what: &'static str,
    pub detail: String,
}

pub fn start_error(what: &'static str, detail: impl ToString) -> StartError {
    StartError {
        what,
        detail: detail.to_string(),
    }
}
