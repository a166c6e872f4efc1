//! Repeatable seed experiments: sweeps over settings and seeds, and the
//! manifests that record a run so it can be replayed token for token.

pub mod manifest;
pub mod repeat;
pub mod replay;
pub mod sweep;
