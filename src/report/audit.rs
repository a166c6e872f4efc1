//! What `detprob audit` found: for each prompt and mode (greedy, a fixed
//! seed), how many distinct outputs identical requests gave, one at a time
//! and under concurrent load, and where the first divergence was.

use serde::Serialize;

use crate::remote::RemoteToken;

/// How the requests of one case sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditMode {
    /// Temperature 0.
    Greedy,
    /// A sampling temperature with a fixed seed.
    Seeded,
}

/// Where one output first differs from the case's reference output.
#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    /// Which request (0-based, in the order sent).
    pub request: usize,
    /// The first differing token's index, where the server gave tokens;
    /// else `None` and `char_index` says where the texts part.
    pub token_index: Option<usize>,
    /// The first differing character's index in the texts.
    pub char_index: usize,
    /// The reference's token there (with its logprob and alternatives).
    pub reference: Option<RemoteToken>,
    /// This output's token there.
    pub divergent: Option<RemoteToken>,
    /// Both texts from a little before the split.
    pub reference_text: String,
    pub divergent_text: String,
}

/// Identical requests at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLevel {
    /// Requests in flight at once (1: one after another).
    pub concurrency: usize,
    /// Requests answered.
    pub answered: usize,
    /// Requests that failed after their retries.
    pub failed: usize,
    /// Distinct texts among the answers.
    pub distinct: usize,
    /// Answers equal to the case's reference (the first answer sent alone).
    pub identical_to_reference: usize,
    /// The first answer that differs from the reference, if any.
    pub first_divergence: Option<Divergence>,
    /// Wall time of the level, in seconds.
    pub seconds: f64,
}

/// One prompt in one mode.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCase {
    pub prompt: String,
    pub mode: AuditMode,
    pub temperature: f64,
    pub seed: Option<u64>,
    /// The first answer, sent alone: what every other is compared with.
    pub reference: String,
    pub levels: Vec<AuditLevel>,
    /// Seeded cases: whether the same request with another seed gave
    /// another text (a server that ignores the seed gives the same).
    pub other_seed_differs: Option<bool>,
}

/// An audit of one endpoint and model.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub endpoint: String,
    /// Whether the endpoint was detprob's own engine, started for the audit.
    #[serde(default)]
    pub local: bool,
    pub model: String,
    /// The `system_fingerprint`s the server sent.
    pub fingerprints: Vec<String>,
    /// Requests per case and concurrency.
    pub runs: usize,
    pub max_tokens: usize,
    pub cases: Vec<AuditCase>,
    /// Every case gave one text when its requests went one at a time.
    pub reproducible_alone: bool,
    /// Every case gave its reference text at every concurrency.
    pub reproducible_under_load: bool,
    /// Seeded cases repeat alone, and another seed changed the text in at
    /// least one of them; `None` without seeded cases.
    pub seed_honoured: Option<bool>,
    /// Requests that failed after their retries, in all.
    pub failed: usize,
}

impl AuditReport {
    /// The report of `cases`, with its verdicts.
    pub fn new(
        endpoint: String,
        model: String,
        fingerprints: Vec<String>,
        runs: usize,
        max_tokens: usize,
        cases: Vec<AuditCase>,
    ) -> Self {
        let alone = |c: &AuditCase| {
            c.levels
                .iter()
                .filter(|l| l.concurrency == 1)
                .all(|l| l.distinct <= 1 && l.identical_to_reference == l.answered)
        };
        let reproducible_alone = cases.iter().all(alone);
        let reproducible_under_load = cases.iter().all(|c| {
            c.levels
                .iter()
                .all(|l| l.identical_to_reference == l.answered)
        });
        let seeded: Vec<&AuditCase> = cases
            .iter()
            .filter(|c| c.mode == AuditMode::Seeded)
            .collect();
        let seed_honoured = (!seeded.is_empty()).then(|| {
            seeded.iter().all(|c| alone(c))
                && seeded.iter().any(|c| c.other_seed_differs == Some(true))
        });
        let failed = cases.iter().flat_map(|c| &c.levels).map(|l| l.failed).sum();
        Self {
            endpoint,
            local: false,
            model,
            fingerprints,
            runs,
            max_tokens,
            cases,
            reproducible_alone,
            reproducible_under_load,
            seed_honoured,
            failed,
        }
    }
}
