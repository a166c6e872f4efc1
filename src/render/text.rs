//! Plain-text rendering of each report, for a terminal.

use std::fmt::Write;

use super::TextReport;
use crate::commands::{GenerateReport, ModelListReport, TokenizeReport};
use crate::generation::StopReason;
use crate::sampler::Sampling;

impl TextReport for GenerateReport {
    fn to_text(&self) -> String {
        let c = &self.completion;
        let mut out = String::new();
        out.push_str(&c.text);
        if !c.text.ends_with('\n') {
            out.push('\n');
        }
        let sampling = match &self.settings.sampling {
            Sampling::Greedy => "greedy (temperature 0)".to_string(),
            Sampling::Random { temperature, .. } => {
                format!("temperature {temperature}, seed {}", self.settings.seed)
            }
        };
        let stop = match c.stop_reason {
            StopReason::EndOfText => "end of text",
            StopReason::MaxTokens => "token limit",
            StopReason::ContextFull => "context full",
            StopReason::Newline => "end of line",
        };
        let _ = writeln!(
            out,
            "— {}: {sampling}; {} tokens, stopped at {stop}",
            self.model.alias.as_deref().unwrap_or(&self.model.name),
            c.tokens.len(),
        );
        out
    }
}

impl TextReport for TokenizeReport {
    fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} tokens ({})", self.tokens.len(), self.model);
        for t in &self.tokens {
            let _ = writeln!(out, "{:>7}  {}", t.id, t.visible);
        }
        out
    }
}

impl TextReport for ModelListReport {
    fn to_text(&self) -> String {
        let mut out = String::new();
        for m in &self.models {
            let _ = writeln!(
                out,
                "{:<14} {:<32} {:>7.1} MB  {:<20} {}",
                m.alias,
                m.name,
                m.size as f64 / 1e6,
                m.licence,
                if m.cached { "cached" } else { "not cached" }
            );
        }
        let _ = writeln!(out, "cache: {}", self.cache_dir);
        out
    }
}
