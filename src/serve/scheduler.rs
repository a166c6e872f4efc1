//! One model's worker: a thread that owns the loaded model and runs every
//! request for it. Requests wait in a bounded queue; between decode steps
//! the worker admits new ones (prefilling each prompt once, or reusing a
//! recent prefill of the same prompt) and then steps every running
//! completion together through the batched decode, so thirty students
//! sampling at once cost about one forward pass per token, and a seed's
//! tokens are the same alone or in a crowd (each row of a batch is
//! computed alike; the tests check it).

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::error::InputError;
use crate::experiments::manifest::Manifest;
use crate::generation::{
    step_batch, Completion, GenerationSettings, Prefilled, Sequence, Step, StopReason,
};
use crate::lm::Engine;
use crate::lm::LoadedModel;
use crate::sampler::tempered_top;
use crate::store::ModelChoice;
use crate::tokenizer::TextTokenizer;

/// Completions decoded together at most; more wait in the queue.
pub const MAX_BATCH: usize = 64;
/// Requests waiting beyond the running batch before new ones are refused.
pub const QUEUE_LENGTH: usize = 256;
/// Longest prompt a request may send, in tokens.
pub const MAX_PROMPT_TOKENS: usize = 2048;
/// Recent prompts whose prefilled state is kept for reuse.
const PREFILL_CACHE: usize = 8;

/// What a request asks the worker to do.
pub enum Work {
    /// Sample one completion per entry of `settings` after `prompt`.
    Complete {
        prompt: String,
        settings: Vec<GenerationSettings>,
        stop: Vec<String>,
        events: UnboundedSender<Event>,
    },
    /// The model's most likely first tokens after `prompt`, tempered by
    /// `temperature`.
    NextTokens {
        prompt: String,
        temperature: f64,
        top: usize,
        reply: tokio::sync::oneshot::Sender<Result<Vec<NextToken>, String>>,
    },
}

/// One of the most likely next tokens and its probability.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NextToken {
    pub token: u32,
    pub piece: String,
    /// Probability after the temperature (the distribution a sample is drawn from).
    pub probability: f64,
}

/// What the worker reports about a completion request, in order.
#[derive(Debug)]
pub enum Event {
    /// The prompt was accepted: its length in tokens.
    Started { prompt_tokens: usize },
    /// Choice `choice` sampled a token; `text` is the completion's new
    /// whole text (possibly empty while a character or a possible stop
    /// string is held back).
    Token {
        choice: usize,
        step: Step,
        text: String,
    },
    /// Choice `choice` ended.
    Finished { choice: usize, ending: Ending },
    /// The request could not run (bad prompt or an engine failure).
    Failed { message: String, bad_input: bool },
}

/// How one choice ended.
#[derive(Debug, Clone)]
pub struct Ending {
    /// The whole completion text (cut before a stop string that matched).
    pub text: String,
    /// The sampled tokens.
    pub tokens: Vec<u32>,
    /// Why it stopped; `None` when a stop string ended it.
    pub stop_reason: Option<StopReason>,
}

/// A handle on a model's worker.
#[derive(Clone)]
pub struct Worker {
    queue: SyncSender<Work>,
}

/// Why a request was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: try again later.
    Busy,
    /// The worker has stopped.
    Gone,
}

impl Worker {
    /// Starts a worker thread that loads its model with `load` and then
    /// serves; returns once the model is loaded (or failed to load).
    /// With `log`, every answered request goes to the run log as a manifest
    /// (`choice` names the model there).
    pub fn start(
        name: String,
        pool: Arc<rayon::ThreadPool>,
        choice: ModelChoice,
        engine: Engine,
        log: Option<mpsc::Sender<Manifest>>,
    ) -> Result<(Self, crate::prompt::PromptFormat, Arc<TextTokenizer>), anyhow::Error> {
        let (queue, requests) = mpsc::sync_channel(QUEUE_LENGTH);
        let (loaded_tx, loaded_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("model {name}"))
            .spawn(move || {
                pool.install(move || match crate::lm::load(&choice, engine) {
                    Ok(loaded) => {
                        let recorder = log.and_then(|log| {
                            let template = Manifest::new("serve", &loaded, &choice).ok()?;
                            Some(Recorder { log, template })
                        });
                        let _ = loaded_tx
                            .send(Ok((loaded.prompt_format.clone(), loaded.tokenizer.clone())));
                        serve(loaded, requests, recorder);
                    }
                    Err(e) => {
                        let _ = loaded_tx.send(Err(e));
                    }
                })
            })?;
        let (format, tokenizer) = loaded_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("the model thread stopped while loading"))??;
        Ok((Self { queue }, format, tokenizer))
    }

    /// Queues `work`, or says why not at once (never waits).
    pub fn submit(&self, work: Work) -> Result<(), Refused> {
        self.queue.try_send(work).map_err(|e| match e {
            TrySendError::Full(_) => Refused::Busy,
            TrySendError::Disconnected(_) => Refused::Gone,
        })
    }
}

/// Where answered requests are recorded: the run log's writer, and the
/// manifest every entry of this model starts from.
struct Recorder {
    log: mpsc::Sender<Manifest>,
    template: Manifest,
}

/// A request's entry in the run log while its choices finish.
struct Pending {
    manifest: Manifest,
    prompt: usize,
    choices: Vec<Option<(GenerationSettings, Completion)>>,
    log: mpsc::Sender<Manifest>,
}

impl Pending {
    /// Choice `choice` finished; once every choice has, the entry is sent.
    fn finished(&mut self, choice: usize, settings: GenerationSettings, completion: Completion) {
        self.choices[choice] = Some((settings, completion));
        if self.choices.iter().all(Option::is_some) {
            for (settings, completion) in self.choices.iter().flatten() {
                self.manifest.run(self.prompt, settings, completion);
            }
            let _ = self.log.send(self.manifest.clone());
        }
    }
}

/// Where a running completion's events go, beside its [`Sequence`].
struct Listener {
    choice: usize,
    settings: GenerationSettings,
    stop: Arc<Vec<String>>,
    events: UnboundedSender<Event>,
    /// Bytes of the text already sent.
    sent: usize,
    /// Set when a stop string ended it (the log records that as the token
    /// limit it amounted to, so a replay stops at the same token).
    stopped_by_string: bool,
    record: Option<Arc<std::sync::Mutex<Pending>>>,
}

/// The completions being decoded, and who listens to each (same order).
#[derive(Default)]
struct Batch {
    sequences: Vec<Sequence>,
    listeners: Vec<Listener>,
}

impl Batch {
    fn len(&self) -> usize {
        self.sequences.len()
    }

    fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// One step of every completion; each listener hears of its own, and
    /// the finished ones (or those nobody listens to) leave the batch.
    fn step(&mut self, tokenizer: &TextTokenizer) {
        if let Err(e) = step_batch(&mut self.sequences, tokenizer) {
            for listener in self.listeners.drain(..) {
                let _ = listener.events.send(Event::Failed {
                    message: format!("{e:#}"),
                    bad_input: false,
                });
            }
            self.sequences.clear();
            return;
        }
        let mut keep = Vec::with_capacity(self.len());
        for (sequence, listener) in self.sequences.iter_mut().zip(&mut self.listeners) {
            keep.push(report_step(sequence, listener, tokenizer));
        }
        for i in (0..keep.len()).rev() {
            if keep[i] {
                continue;
            }
            let sequence = self.sequences.remove(i);
            let listener = self.listeners.remove(i);
            // Finished (not abandoned by its client): into the log.
            if let (Some(record), false) = (&listener.record, sequence.is_running()) {
                let completion = sequence.finish(tokenizer, 0.0);
                let mut settings = listener.settings.clone();
                if listener.stopped_by_string {
                    settings.max_tokens = completion.tokens.len();
                }
                record.lock().unwrap_or_else(|p| p.into_inner()).finished(
                    listener.choice,
                    settings,
                    completion,
                );
            }
        }
    }
}

/// The worker's loop: admit, step, report, until every handle is gone.
fn serve(mut loaded: LoadedModel, requests: Receiver<Work>, recorder: Option<Recorder>) {
    let mut batch = Batch::default();
    let mut cache: VecDeque<(Vec<u32>, Prefilled)> = VecDeque::new();
    let mut waiting: VecDeque<Work> = VecDeque::new();
    loop {
        // Idle: block until work comes. Busy: take what has come.
        if batch.is_empty() && waiting.is_empty() {
            match requests.recv() {
                Ok(work) => waiting.push_back(work),
                Err(_) => return,
            }
        }
        waiting.extend(requests.try_iter());
        while let Some(work) = waiting.pop_front() {
            let needed = match &work {
                Work::Complete { settings, .. } => settings.len(),
                Work::NextTokens { .. } => 0,
            };
            if !batch.is_empty() && batch.len() + needed > MAX_BATCH {
                waiting.push_front(work);
                break;
            }
            admit(&mut loaded, &mut cache, &mut batch, recorder.as_ref(), work);
        }
        if !batch.is_empty() {
            batch.step(&loaded.tokenizer);
        }
    }
}

/// Checks and prefills `work`'s prompt, then starts its choices (or
/// answers a next-token question at once).
fn admit(
    loaded: &mut LoadedModel,
    cache: &mut VecDeque<(Vec<u32>, Prefilled)>,
    batch: &mut Batch,
    recorder: Option<&Recorder>,
    work: Work,
) {
    match work {
        Work::Complete {
            prompt,
            settings,
            stop,
            events,
        } => {
            let ids = loaded.tokenizer.encode_prompt(&prompt);
            let prefilled = match prefilled(loaded, cache, &ids) {
                Ok(p) => p,
                Err(e) => {
                    let bad_input = e.chain().any(|c| c.is::<InputError>());
                    let _ = events.send(Event::Failed {
                        message: format!("{e:#}"),
                        bad_input,
                    });
                    return;
                }
            };
            if events
                .send(Event::Started {
                    prompt_tokens: ids.len(),
                })
                .is_err()
            {
                return;
            }
            let stop = Arc::new(stop);
            let record = recorder.map(|r| {
                let mut manifest = r.template.clone();
                let prompt = manifest.prompt(None, &prompt, &ids);
                Arc::new(std::sync::Mutex::new(Pending {
                    manifest,
                    prompt,
                    choices: vec![None; settings.len()],
                    log: r.log.clone(),
                }))
            });
            for (choice, settings) in settings.into_iter().enumerate() {
                batch.sequences.push(prefilled.sequence(settings.clone()));
                batch.listeners.push(Listener {
                    choice,
                    settings,
                    stop: stop.clone(),
                    events: events.clone(),
                    sent: 0,
                    stopped_by_string: false,
                    record: record.clone(),
                });
            }
        }
        Work::NextTokens {
            prompt,
            temperature,
            top,
            reply,
        } => {
            let ids = loaded.tokenizer.encode_prompt(&prompt);
            let answer = prefilled(loaded, cache, &ids)
                .map(|p| next_tokens(&loaded.tokenizer, p.logits(), temperature, top))
                .map_err(|e| format!("{e:#}"));
            let _ = reply.send(answer);
        }
    }
}

/// The prefilled state of `ids`, from the cache when a recent request had
/// the same prompt (the state is the same bits either way).
fn prefilled<'c>(
    loaded: &mut LoadedModel,
    cache: &'c mut VecDeque<(Vec<u32>, Prefilled)>,
    ids: &[u32],
) -> anyhow::Result<&'c Prefilled> {
    if ids.len() > MAX_PROMPT_TOKENS {
        return Err(crate::error::invalid(format!(
            "the prompt has {} tokens; this server takes at most {MAX_PROMPT_TOKENS}",
            ids.len()
        ))
        .into());
    }
    if let Some(i) = cache.iter().position(|(k, _)| k == ids) {
        let entry = cache.remove(i).expect("found above");
        cache.push_front(entry);
    } else {
        let state = Prefilled::new(loaded, ids)?;
        cache.push_front((ids.to_vec(), state));
        cache.truncate(PREFILL_CACHE);
    }
    Ok(&cache.front().expect("just placed").1)
}

/// The `top` most likely tokens of `logits` at `temperature` (0: the most
/// likely token with probability 1).
pub fn next_tokens(
    tokenizer: &TextTokenizer,
    logits: &[f32],
    temperature: f64,
    top: usize,
) -> Vec<NextToken> {
    tempered_top(logits, temperature, top)
        .into_iter()
        .map(|(token, probability)| NextToken {
            token,
            piece: tokenizer.piece(token),
            probability,
        })
        .collect()
}

/// Sends `r` what the last step added to `sequence`'s text; returns
/// whether the sequence runs on.
fn report_step(sequence: &mut Sequence, r: &mut Listener, tokenizer: &TextTokenizer) -> bool {
    let text = tokenizer.visible_text(sequence.tokens());
    let stop_at = r.stop.iter().filter_map(|s| text.find(s.as_str())).min();
    if stop_at.is_some() && sequence.is_running() {
        sequence.stop(StopReason::EndOfText);
        r.stopped_by_string = true;
    }
    let finished = !sequence.is_running();
    // How much may be sent: up to a matched stop string; while running, not
    // a split character nor a tail that may be the start of a stop string.
    let mut end = stop_at.unwrap_or(text.len());
    if !finished {
        if text.ends_with('\u{FFFD}') {
            end = r.sent;
        }
        end = end.min(text.len() - held_back(&text, &r.stop));
        while !text.is_char_boundary(end) {
            end -= 1;
        }
    }
    let new_text = if end > r.sent {
        text[r.sent..end].to_string()
    } else {
        String::new()
    };
    r.sent = r.sent.max(end);
    let step = sequence.steps().last().cloned();
    let mut open = true;
    if let Some(step) = step {
        open = r
            .events
            .send(Event::Token {
                choice: r.choice,
                step,
                text: new_text,
            })
            .is_ok();
    }
    if finished {
        let stop_reason = if stop_at.is_some() {
            None
        } else {
            sequence.stop_reason()
        };
        let _ = r.events.send(Event::Finished {
            choice: r.choice,
            ending: Ending {
                text: text[..stop_at.unwrap_or(text.len())].to_string(),
                tokens: sequence.tokens().to_vec(),
                stop_reason,
            },
        });
        return false;
    }
    // Nobody is listening any more: stop decoding for them.
    open
}

/// Bytes at the end of `text` that may be the start of a stop string.
fn held_back(text: &str, stops: &[String]) -> usize {
    stops
        .iter()
        .flat_map(|s| {
            s.char_indices()
                .map(|(i, _)| i)
                .filter(|&i| i > 0 && text.ends_with(&s[..i]))
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::{complete, GenerationSettings};
    use crate::sampler::Sampling;

    fn settings(seed: u64) -> GenerationSettings {
        GenerationSettings {
            sampling: Sampling::from_settings(1.0, None, None, None).unwrap(),
            seed,
            max_tokens: 40,
            ignore_eos: false,
            alternatives: 2,
            stop_at_newline: false,
        }
    }

    /// Everything the worker said about one request, until each of its
    /// choices ended: (the text pieces per choice, each choice's ending).
    fn heard(
        events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
        choices: usize,
    ) -> (Vec<String>, Vec<Ending>) {
        let mut pieces = vec![String::new(); choices];
        let mut endings: Vec<Option<Ending>> = vec![None; choices];
        assert!(matches!(
            events.blocking_recv(),
            Some(Event::Started { .. })
        ));
        while endings.iter().any(Option::is_none) {
            match events.blocking_recv().expect("the worker answers") {
                Event::Token { choice, text, .. } => {
                    assert!(endings[choice].is_none(), "a token after the end");
                    pieces[choice].push_str(&text);
                }
                Event::Finished { choice, ending } => endings[choice] = Some(ending),
                other => panic!("unexpected {other:?}"),
            }
        }
        (pieces, endings.into_iter().flatten().collect())
    }

    #[test]
    fn requests_decoded_together_get_the_tokens_they_get_alone_and_a_stop_string_is_never_sent() {
        let script = [
            ("The sky is blue. END of story", 1.0),
            ("The sea is green. END", 1.0),
            ("Grass is green.", 2.0),
        ];
        let mut alone = crate::lm::fake::scripted(&script);
        let ids = alone.tokenizer.encode_prompt("Q:");
        // A seed whose completion holds the stop string.
        let stop_seed = (4..)
            .find(|&seed| {
                complete(&mut alone, &ids, &settings(seed))
                    .unwrap()
                    .text
                    .contains(" END")
            })
            .unwrap();
        let (queue, requests) = mpsc::sync_channel(QUEUE_LENGTH);
        // The model is built on the worker's own thread (it is not Send).
        let worker = std::thread::spawn(move || {
            serve(crate::lm::fake::scripted(&script), requests, None);
        });
        let send = |settings: Vec<GenerationSettings>, stop: &[&str]| {
            let (events, heard) = tokio::sync::mpsc::unbounded_channel();
            queue
                .send(Work::Complete {
                    prompt: "Q:".into(),
                    settings,
                    stop: stop.iter().map(|s| s.to_string()).collect(),
                    events,
                })
                .unwrap();
            heard
        };
        // Three choices and another request with a stop string, decoded together.
        let mut first = send(vec![settings(1), settings(2), settings(3)], &[]);
        let mut second = send(vec![settings(stop_seed)], &[" END"]);
        let (pieces, endings) = heard(&mut first, 3);
        let (stopped_pieces, stopped) = heard(&mut second, 1);
        drop(queue);
        worker.join().unwrap();

        for (i, seed) in [1, 2, 3].into_iter().enumerate() {
            let expected = complete(&mut alone, &ids, &settings(seed)).unwrap();
            assert_eq!(endings[i].tokens, expected.tokens, "seed {seed}");
            assert_eq!(endings[i].text, expected.text);
            assert_eq!(pieces[i], expected.text, "the pieces join to the text");
        }
        let expected = complete(&mut alone, &ids, &settings(stop_seed)).unwrap();
        let cut = &expected.text[..expected.text.find(" END").unwrap()];
        assert_eq!(stopped[0].text, cut);
        assert_eq!(
            stopped_pieces[0], cut,
            "no part of the stop string was sent"
        );
        assert_eq!(stopped[0].stop_reason, None, "a stop string ended it");
    }

    #[test]
    fn a_tail_that_may_start_a_stop_string_is_held_back() {
        let stops = vec!["\n\n".to_string(), "END".to_string()];
        assert_eq!(held_back("answer\n", &stops), 1);
        assert_eq!(held_back("answer EN", &stops), 2);
        assert_eq!(held_back("answer", &stops), 0);
        assert_eq!(held_back("anything", &[]), 0);
        // A stop string of several-byte characters is cut only between them.
        assert_eq!(held_back("答：巴", &["巴黎。".to_string()]), "巴".len());
    }
}
