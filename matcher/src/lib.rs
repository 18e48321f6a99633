//! matcher: see README.md for this crate's job. Work in progress.
