//! JSON rendering: every report serializes as-is, pretty-printed.

use serde::Serialize;

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(report: &T) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("reports serialize");
    out.push('\n');
    out
}
