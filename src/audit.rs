//! The reproducibility audit of an OpenAI-style endpoint: the same request,
//! greedy and with a fixed seed, sent many times one at a time and then
//! with several in flight at once; the distinct outputs counted and the
//! first divergence located (by token where the server gives logprobs).

use std::sync::Mutex;
use std::time::Instant;

use crate::remote::{Endpoint, RemoteCompletion, RemoteError, RemoteRequest};
use crate::report::audit::{AuditCase, AuditLevel, AuditMode, AuditReport, Divergence};

/// What to audit.
#[derive(Debug, Clone)]
pub struct AuditPlan {
    pub model: String,
    pub prompts: Vec<String>,
    /// Identical requests per case and concurrency.
    pub runs: usize,
    /// Requests in flight at once, one level each (1: one at a time).
    pub concurrency: Vec<usize>,
    pub max_tokens: usize,
    /// Send the prompts as chats (else as plain completions).
    pub chat: bool,
    /// The seeded cases' temperature and seed.
    pub temperature: f64,
    pub seed: u64,
}

/// Runs `plan` against `endpoint`; `progress` hears of each answered request.
pub fn audit(
    endpoint: &Endpoint,
    plan: &AuditPlan,
    progress: &(dyn Fn() + Sync),
) -> Result<AuditReport, RemoteError> {
    let fingerprints = Mutex::new(Vec::<String>::new());
    let note = |c: &RemoteCompletion| {
        if let Some(f) = &c.system_fingerprint {
            let mut seen = fingerprints.lock().unwrap_or_else(|p| p.into_inner());
            crate::remote::note_fingerprint(&mut seen, f);
        }
    };
    let mut cases = Vec::new();
    for prompt in &plan.prompts {
        for mode in [AuditMode::Greedy, AuditMode::Seeded] {
            let request = RemoteRequest {
                model: plan.model.clone(),
                prompt: prompt.clone(),
                chat: plan.chat,
                history: Vec::new(),
                temperature: match mode {
                    AuditMode::Greedy => 0.0,
                    AuditMode::Seeded => plan.temperature,
                },
                top_p: None,
                top_k: None,
                min_p: None,
                seed: (mode == AuditMode::Seeded).then_some(plan.seed),
                max_tokens: plan.max_tokens,
                top_logprobs: 2,
                stop: Vec::new(),
            };
            let reference = endpoint.complete(&request)?;
            note(&reference);
            progress();
            let levels = plan
                .concurrency
                .iter()
                .map(|&c| {
                    let level = level(endpoint, &request, &reference, plan.runs, c, progress);
                    level.1.iter().for_each(&note);
                    level.0
                })
                .collect();
            let other_seed_differs = match mode {
                AuditMode::Greedy => None,
                AuditMode::Seeded => {
                    let other = RemoteRequest {
                        seed: Some(plan.seed.wrapping_add(1)),
                        ..request.clone()
                    };
                    let answer = endpoint.complete(&other)?;
                    progress();
                    Some(answer.text != reference.text)
                }
            };
            cases.push(AuditCase {
                prompt: prompt.clone(),
                mode,
                temperature: request.temperature,
                seed: request.seed,
                reference: reference.text.clone(),
                levels,
                other_seed_differs,
            });
        }
    }
    let fingerprints = fingerprints.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(AuditReport::new(
        endpoint.base.clone(),
        plan.model.clone(),
        fingerprints,
        plan.runs,
        plan.max_tokens,
        cases,
    ))
}

/// `runs` copies of `request` with `concurrency` in flight at once,
/// compared with `reference`; also the answers, for their fingerprints.
fn level(
    endpoint: &Endpoint,
    request: &RemoteRequest,
    reference: &RemoteCompletion,
    runs: usize,
    concurrency: usize,
    progress: &(dyn Fn() + Sync),
) -> (AuditLevel, Vec<RemoteCompletion>) {
    let started = Instant::now();
    let answers = endpoint.complete_all(&vec![request.clone(); runs], concurrency, progress);
    let answered: Vec<(usize, RemoteCompletion)> = answers
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.as_ref().ok().map(|a| (i, a.clone())))
        .collect();
    let mut texts: Vec<&str> = answered.iter().map(|(_, a)| a.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    let first_divergence = answered
        .iter()
        .find(|(_, a)| a.text != reference.text)
        .map(|(i, a)| divergence(*i, reference, a));
    let level = AuditLevel {
        concurrency,
        answered: answered.len(),
        failed: answers.len() - answered.len(),
        distinct: texts.len(),
        identical_to_reference: answered
            .iter()
            .filter(|(_, a)| a.text == reference.text)
            .count(),
        first_divergence,
        seconds: started.elapsed().as_secs_f64(),
    };
    (level, answered.into_iter().map(|(_, a)| a).collect())
}

/// Where `other` (request `request`) first parts from `reference`.
fn divergence(
    request: usize,
    reference: &RemoteCompletion,
    other: &RemoteCompletion,
) -> Divergence {
    let char_index = reference
        .text
        .chars()
        .zip(other.text.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let token_index = match (&reference.tokens, &other.tokens) {
        (Some(r), Some(o)) => Some(
            r.iter()
                .zip(o.iter())
                .take_while(|(a, b)| a.text == b.text && a.bytes == b.bytes)
                .count(),
        ),
        _ => None,
    };
    let token = |tokens: &Option<Vec<crate::remote::RemoteToken>>| {
        token_index.and_then(|i| tokens.as_ref()?.get(i).cloned())
    };
    let around = |text: &str| -> String {
        let start = char_index.saturating_sub(20);
        text.chars().skip(start).take(40).collect()
    };
    Divergence {
        request,
        token_index,
        char_index,
        reference: token(&reference.tokens),
        divergent: token(&other.tokens),
        reference_text: around(&reference.text),
        divergent_text: around(&other.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::RemoteToken;

    fn completion(tokens: &[&str]) -> RemoteCompletion {
        RemoteCompletion {
            text: tokens.concat(),
            tokens: Some(
                tokens
                    .iter()
                    .map(|t| RemoteToken {
                        text: t.to_string(),
                        bytes: None,
                        logprob: Some(-0.5),
                        alternatives: vec![],
                    })
                    .collect(),
            ),
            finish_reason: None,
            system_fingerprint: None,
            completion_tokens: None,
        }
    }

    #[test]
    fn the_first_divergence_is_found_by_token_and_by_character() {
        let a = completion(&["The", " capital", " is", " Paris"]);
        let b = completion(&["The", " capital", " was", " Paris"]);
        let d = divergence(3, &a, &b);
        assert_eq!(d.request, 3);
        assert_eq!(d.token_index, Some(2));
        assert_eq!(d.char_index, "The capital ".len());
        assert_eq!(d.reference.unwrap().text, " is");
        assert_eq!(d.divergent.unwrap().text, " was");
        // Without tokens, the character alone.
        let plain = |t: &str| RemoteCompletion {
            tokens: None,
            ..completion(&[t])
        };
        let d = divergence(0, &plain("abcd"), &plain("abXd"));
        assert_eq!((d.token_index, d.char_index), (None, 2));
    }
}
