//! The probability the model gives a stated
//! answer, token by token, with the answer's tokens fed in (teacher forcing),
//! and each token's rank among all the model's candidates at that step. It
//! shows that a right answer can hold real probability even where greedy
//! decoding picked something else.

use crate::error::InputError;
use crate::generation::prefill;
use crate::lm::LoadedModel;
use crate::prompt::PromptFormat;
use crate::report::views::{ScoreReport, ScoredToken};
use crate::rules::Rule;
use crate::sampler::ModelDistribution;
use crate::tasks::{self, PromptTemplate};

/// Scores `answer` after `prompt` (through `rule`'s task template when given,
/// else the chat template, else as is with `raw`).
pub fn report(
    loaded: &mut LoadedModel,
    prompt: &str,
    answer: &str,
    rule: Option<&'static dyn Rule>,
    raw: bool,
) -> anyhow::Result<ScoreReport> {
    if prompt.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    let user_text = match rule {
        Some(rule) => PromptTemplate::fill(
            tasks::template(rule.task())?.for_input(&loaded.prompt_format, prompt),
            prompt.trim(),
        ),
        None => prompt.to_string(),
    };
    let formatted_prompt = loaded.prompt_format.prepare(&user_text, raw);
    let prompt_ids = loaded.tokenizer.encode_prompt(&formatted_prompt);
    // A base model continues "Answer:" with a space before the answer, as it
    // was trained on running text; a chat model answers right after its turn
    // marker.
    let spaced = !raw
        && loaded.prompt_format == PromptFormat::Completion
        && !answer.starts_with(char::is_whitespace)
        && !formatted_prompt.ends_with(char::is_whitespace);
    let answer_text = if spaced {
        format!(" {answer}")
    } else {
        answer.to_string()
    };
    let answer_ids = loaded.tokenizer.encode(&answer_text, false);
    if prompt_ids.len() + answer_ids.len() > loaded.model.context_length() {
        return Err(InputError::PromptTooLong {
            tokens: prompt_ids.len() + answer_ids.len(),
            context: loaded.model.context_length(),
        }
        .into());
    }
    let (mut logits, _) = prefill(loaded, &prompt_ids)?;
    let mut tokens = Vec::with_capacity(answer_ids.len());
    for (i, &token) in answer_ids.iter().enumerate() {
        let distribution = ModelDistribution::new(&logits);
        let logprob = distribution.logprob(token);
        tokens.push(ScoredToken {
            token: Some(token),
            piece: loaded.tokenizer.visible_piece(token),
            probability: logprob.exp(),
            logprob,
            rank: Some(distribution.rank(token)),
            top_piece: loaded.tokenizer.visible_piece(distribution.argmax),
            top_probability: distribution.probability(distribution.argmax),
        });
        if i + 1 < answer_ids.len() {
            logits = loaded.model.forward(&[token], prompt_ids.len() + i)?;
        }
    }
    let logprob: f64 = tokens.iter().map(|t| t.logprob).sum();
    Ok(ScoreReport {
        model: loaded.info.label(),
        prompt: prompt.to_string(),
        rule: rule.map(|r| r.name()),
        formatted_prompt,
        endpoint: None,
        reported: None,
        answer: answer.to_string(),
        greedy_would_write_it: tokens.iter().all(|t| t.rank == Some(1)),
        mean_token_probability: (logprob / tokens.len().max(1) as f64).exp(),
        probability: logprob.exp(),
        logprob,
        tokens,
    })
}

/// How far apart (in natural log) the two reports of one distribution may
/// be and still count as the same (batch shapes move a server's logits a
/// little).
const ALIGNMENT_TOLERANCE: f64 = 0.05;

/// Checks that the server's scored tokens are aligned: the distribution it
/// reports at `first` (the answer's first token) must be the one it gives
/// for the next token after the text before it (one more request). A server that
/// reports each token's logprob from the distribution after it (as
/// llama-cpp-python's server does) is refused rather than shown.
fn check_alignment(
    endpoint: &crate::remote::Endpoint,
    model: &str,
    text: &str,
    first: &crate::remote::EchoedToken,
) -> anyhow::Result<()> {
    let before = text.get(..first.offset).unwrap_or(text);
    let request =
        crate::remote::RemoteRequest::next_token(model, before, false, REMOTE_ALTERNATIVES);
    let next = endpoint
        .complete(&request)
        .map_err(|e| e.failure(format!("{}: {e}", endpoint.base)))?;
    let next_top = next
        .tokens
        .as_ref()
        .and_then(|t| t.first())
        .and_then(|t| t.alternatives.first().cloned());
    let echoed_top = first.alternatives.first();
    let agree = match (&next_top, echoed_top) {
        (Some(a), Some(b)) => {
            a.text == b.text && (a.logprob - b.logprob).abs() <= ALIGNMENT_TOLERANCE
        }
        _ => false,
    };
    if !agree {
        let show = |a: Option<&crate::remote::RemoteAlternative>| {
            a.map_or_else(
                || "none".to_string(),
                |a| format!("{:?} {:.3}", a.text, a.logprob),
            )
        };
        anyhow::bail!(
            "{}: the server's prompt logprobs are not aligned with its own next-token logprobs (after {:?} it predicts {} but scores the text as if {}); a server that reports each token's logprob from the distribution after it gives wrong scores, so none are shown",
            endpoint.base,
            crate::comparison::shorten(before, 40),
            show(next_top.as_ref()),
            show(echoed_top)
        );
    }
    Ok(())
}

/// Alternatives asked of a server per token (its rank is known within them).
pub const REMOTE_ALTERNATIVES: usize = 5;

/// Scores `answer` after `prompt` on a server's `model` (through `rule`'s
/// task template as a plain prompt when given): the server scores the
/// whole text (`echo` with `logprobs`), and the tokens that overlap the
/// answer are read from it. A space joins the two when neither side has
/// one, as a base model reads running text.
pub fn remote_report(
    endpoint: &crate::remote::Endpoint,
    model: String,
    prompt: &str,
    answer: &str,
    rule: Option<&'static dyn Rule>,
) -> anyhow::Result<ScoreReport> {
    if prompt.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    let formatted_prompt = match rule {
        Some(rule) => crate::comparison::remote_task_prompt(rule.task(), prompt, true)?.1,
        None => prompt.to_string(),
    };
    let spaced = !answer.starts_with(char::is_whitespace)
        && !formatted_prompt.ends_with(char::is_whitespace);
    let text = format!(
        "{formatted_prompt}{}{answer}",
        if spaced { " " } else { "" }
    );
    let (start, end) = (formatted_prompt.len(), text.len());
    let echoed = endpoint
        .prompt_logprobs(&model, &text, REMOTE_ALTERNATIVES)
        .map_err(|e| {
            e.failure(format!(
                "{}: score --endpoint needs a server that scores a prompt's tokens (echo with logprobs on /v1/completions, as vLLM does): {e}",
                endpoint.base
            ))
        })?;
    // The tokens that overlap the answer; the echoed text ends at `end`,
    // and a token the server generated after it is not scored.
    let answer_tokens: Vec<&crate::remote::EchoedToken> = echoed
        .iter()
        .enumerate()
        .filter(|&(i, token)| {
            let token_end = echoed.get(i + 1).map_or(end, |next| next.offset.min(end));
            token.offset < end && token_end > start
        })
        .map(|(_, token)| token)
        .collect();
    if let Some(first) = answer_tokens.iter().find(|t| t.offset > 0) {
        check_alignment(endpoint, &model, &text, first)?;
    }
    let mut tokens = Vec::new();
    for token in answer_tokens {
        let logprob = token.logprob.ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the server gave no logprob for the answer's token {:?}",
                endpoint.base,
                token.text
            )
        })?;
        let top = token.alternatives.first();
        tokens.push(ScoredToken {
            token: None,
            piece: crate::tokenizer::visible(token.text.as_bytes()),
            probability: logprob.exp(),
            logprob,
            rank: token
                .alternatives
                .iter()
                .position(|a| a.text == token.text)
                .map(|i| i + 1),
            top_piece: top.map_or_else(String::new, |a| a.visible()),
            top_probability: top.map_or(0.0, |a| a.logprob.exp()),
        });
    }
    if tokens.is_empty() {
        return Err(anyhow::anyhow!(
            "{}: the server's scored tokens do not cover the answer",
            endpoint.base
        ));
    }
    let logprob: f64 = tokens.iter().map(|t| t.logprob).sum();
    Ok(ScoreReport {
        model,
        prompt: prompt.to_string(),
        rule: rule.map(|r| r.name()),
        formatted_prompt,
        endpoint: Some(endpoint.base.clone()),
        reported: Some(REMOTE_ALTERNATIVES),
        answer: answer.to_string(),
        greedy_would_write_it: tokens.iter().all(|t| t.rank == Some(1)),
        mean_token_probability: (logprob / tokens.len() as f64).exp(),
        probability: logprob.exp(),
        logprob,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lm::fake;

    #[test]
    fn a_stated_answer_gets_the_product_of_its_token_probabilities_and_ranks() {
        let mut loaded = fake::scripted(&[("32", 0.6), ("42", 0.3), ("44", 0.1)]);
        let r = report(&mut loaded, "What is 17 + 25?", "42", None, true).unwrap();
        assert_eq!(r.tokens.len(), 2);
        assert!(
            (r.tokens[0].probability - 0.4).abs() < 1e-6,
            "4 leads 42 and 44"
        );
        assert_eq!(r.tokens[0].rank, Some(2), "3 (0.6) outranks 4 (0.4)");
        assert_eq!(r.tokens[0].top_piece, "3");
        assert!((r.tokens[1].probability - 0.75).abs() < 1e-6, "42 of 42|44");
        assert_eq!(r.tokens[1].rank, Some(1));
        assert!((r.probability - 0.3).abs() < 1e-6);
        assert!((r.mean_token_probability - 0.3f64.sqrt()).abs() < 1e-6);
        assert!(!r.greedy_would_write_it);
        let greedy = report(&mut loaded, "What is 17 + 25?", "32", None, true).unwrap();
        assert!(greedy.greedy_would_write_it);
    }
}
