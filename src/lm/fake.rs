//! A fake language model with scripted answers, for exact tests of
//! everything above the model (generation, comparison, takeaways, renderers)
//! without loading weights. It is a [`LanguageModel`] like the real ones.
//!
//! The script is a weighted set of completions. At each step the model looks
//! at what it has generated since the prompt, keeps the completions that
//! begin with it, and gives each possible next character (or end-of-text, for
//! a completion already spelled out) the summed weight of the completions
//! that continue with it; the logits are the natural logs of those weights.
//! Greedy decoding therefore spells the heaviest branch, and sampling draws
//! completion `c` with probability proportional to its weight.
//!
//! [`scripted_lines`] scripts whole lines instead: the model looks at the
//! last line of everything it was fed (prompt included), so one script can
//! answer many questions of a few-shot prompt ("3 + 4 = 7").

use std::path::PathBuf;

use super::{Engine, LanguageModel, LoadedModel, ModelInfo};
use crate::gguf::Architecture;
use crate::prompt::PromptFormat;
use crate::tokenizer::TextTokenizer;

/// Characters the fake tokenizer knows: printable ASCII, newline and a few
/// symbols the rules' inputs use.
const ALPHABET: &str = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n×÷−°’";

/// The end-of-text token's text.
const EOS: &str = "<eos>";

/// Logit of a token no scripted completion continues with (probability 0
/// after the softmax, in f32 and f64).
const IMPOSSIBLE: f32 = -1.0e4;

/// A [`LanguageModel`] that spells scripted completions.
#[derive(Clone)]
pub struct ScriptedModel {
    /// Each token's text, by id (the last is end-of-text).
    pieces: Vec<String>,
    /// The completions and their weights.
    script: Vec<(String, f64)>,
    /// Text generated since the prompt (or, with `last_line`, the last
    /// line of everything fed).
    generated: String,
    /// Whether the script continues the last line fed, prompt included.
    last_line: bool,
}

impl ScriptedModel {
    fn logits(&self) -> Vec<f32> {
        let eos = self.pieces.len() - 1;
        let mut weights = vec![0.0f64; self.pieces.len()];
        for (completion, weight) in &self.script {
            let Some(rest) = completion.strip_prefix(&self.generated) else {
                continue;
            };
            let next = match rest.chars().next() {
                Some(c) => self
                    .pieces
                    .iter()
                    .position(|p| p.chars().eq([c]))
                    .unwrap_or_else(|| {
                        panic!("scripted character {c:?} is not in the fake vocabulary")
                    }),
                None => eos,
            };
            weights[next] += weight;
        }
        if weights.iter().all(|&w| w == 0.0) {
            weights[eos] = 1.0;
        }
        weights
            .iter()
            .map(|&w| if w > 0.0 { w.ln() as f32 } else { IMPOSSIBLE })
            .collect()
    }
}

impl LanguageModel for ScriptedModel {
    fn forward(&mut self, tokens: &[u32], start: usize) -> candle_core::Result<Vec<f32>> {
        if start == 0 {
            // A new sequence: the tokens are the prompt.
            self.generated.clear();
        }
        if self.last_line {
            for &t in tokens {
                let piece = self.pieces.get(t as usize).map_or("", String::as_str);
                self.generated.push_str(piece);
                if let Some((_, rest)) = self.generated.rsplit_once('\n') {
                    self.generated = rest.to_string();
                }
            }
        } else if start > 0 {
            for &t in tokens {
                if let Some(piece) = self
                    .pieces
                    .get(t as usize)
                    .filter(|_| (t as usize) + 1 < self.pieces.len())
                {
                    self.generated.push_str(piece);
                }
            }
        }
        Ok(self.logits())
    }

    fn context_length(&self) -> usize {
        4096
    }

    fn fork(&self) -> Box<dyn LanguageModel> {
        Box::new(self.clone())
    }
}

/// A loaded fake model that spells `script`'s completions, each drawn with
/// probability proportional to its weight.
pub fn scripted(script: &[(&str, f64)]) -> LoadedModel {
    fake(script, false)
}

/// A loaded fake model whose script continues the last line it was fed,
/// prompt included: `("3 + 4 = 7", 1.0)` answers " 7" after a prompt that
/// ends in the line "3 + 4 =".
pub fn scripted_lines(script: &[(&str, f64)]) -> LoadedModel {
    fake(script, true)
}

fn fake(script: &[(&str, f64)], last_line: bool) -> LoadedModel {
    let tokenizer = TextTokenizer::characters(ALPHABET, EOS);
    let pieces: Vec<String> = (0..tokenizer.vocab_size() as u32)
        .map(|id| tokenizer.piece(id))
        .collect();
    let model = ScriptedModel {
        pieces,
        script: script.iter().map(|(c, w)| (c.to_string(), *w)).collect(),
        generated: String::new(),
        last_line,
    };
    let info = ModelInfo {
        alias: Some("fake".into()),
        name: "scripted fake model".into(),
        architecture: Architecture::Llama,
        path: PathBuf::new(),
        parameters: 0,
        layers: 0,
        embedding_length: 0,
        vocab_size: tokenizer.vocab_size(),
        context_length: 4096,
        tokenizer_fingerprint: tokenizer.fingerprint.clone(),
        size_label: None,
        engine: Engine::Detprob,
        load_seconds: 0.0,
    };
    LoadedModel {
        model: Box::new(model),
        tokenizer: std::sync::Arc::new(tokenizer),
        prompt_format: PromptFormat::Completion,
        info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::{complete, GenerationSettings};
    use crate::sampler::Sampling;

    fn settings(temperature: f64, seed: u64) -> GenerationSettings {
        GenerationSettings {
            sampling: Sampling::from_settings(temperature, None, None, None).unwrap(),
            seed,
            max_tokens: 16,
            ignore_eos: false,
            alternatives: 2,
            stop_at_newline: false,
        }
    }

    #[test]
    fn greedy_spells_the_heaviest_completion_and_its_probability_is_the_weight() {
        let mut loaded = scripted(&[("42", 0.7), ("32", 0.3)]);
        let ids = loaded.tokenizer.encode_prompt("What is 17 + 25?");
        let c = complete(&mut loaded, &ids, &settings(0.0, 1)).unwrap();
        assert_eq!(c.text, "42");
        assert!((c.steps[0].logprob.exp() - 0.7).abs() < 1e-6);
        assert!((c.steps[1].logprob.exp() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn sampling_draws_every_scripted_completion_and_nothing_else() {
        let mut loaded = scripted(&[("Paris", 0.5), ("Lyon", 0.5)]);
        let ids = loaded.tokenizer.encode_prompt("Q");
        let texts: std::collections::BTreeSet<String> = (1..=24)
            .map(|seed| {
                complete(&mut loaded, &ids, &settings(1.0, seed))
                    .unwrap()
                    .text
            })
            .collect();
        assert_eq!(texts.into_iter().collect::<Vec<_>>(), ["Lyon", "Paris"]);
    }
}
