//! `detprob tokenize`: how the model sees text.

use super::model_choice;
use crate::cli::TokenizeArgs;
use crate::lm;
use crate::report::model::{TokenPiece, TokenizeReport};

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
