//! `detprob tokenize`: how the model sees text.

use serde::Serialize;

use super::model_choice;
use crate::cli::TokenizeArgs;
use crate::lm;

/// One token of the split text.
#[derive(Debug, Serialize)]
pub struct TokenPiece {
    /// Token id.
    pub id: u32,
    /// The token's text (lossy UTF-8).
    pub text: String,
    /// The token shown visibly: `␣` space, `↵` newline, `⇥` tab, `<0xNN>` partial bytes.
    pub visible: String,
}

/// The result of tokenizing one text.
#[derive(Debug, Serialize)]
pub struct TokenizeReport {
    /// Model alias or file.
    pub model: String,
    /// The text that was split (after the chat template with `--chat`).
    pub text: String,
    /// The tokens, in order (BOS first for models that add one).
    pub tokens: Vec<TokenPiece>,
}

pub fn run(args: TokenizeArgs) -> anyhow::Result<TokenizeReport> {
    let choice = model_choice(&args.model)?;
    let (tokenizer, format) = lm::load_tokenizer(&choice)?;
    let text = if args.chat {
        format.render(&args.text)
    } else {
        args.text
    };
    let tokens = tokenizer
        .encode_prompt(&text)
        .into_iter()
        .map(|id| TokenPiece {
            id,
            text: tokenizer.piece(id),
            visible: tokenizer.visible_piece(id),
        })
        .collect();
    let report = TokenizeReport {
        model: match choice.spec() {
            Some(spec) => spec.alias.to_string(),
            None => choice.local_path()?.display().to_string(),
        },
        text,
        tokens,
    };
    Ok(report)
}
