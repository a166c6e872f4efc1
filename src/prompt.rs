//! How a user's prompt is wrapped before tokenizing: the chat template of an
//! instruct model (read from the GGUF's `tokenizer.chat_template`), plain
//! completion for a base model, or the text exactly as given (`--raw`).

use serde::Serialize;

use crate::gguf::{GgufFile, Metadata};

/// A model's prompt format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromptFormat {
    /// ChatML (`<|im_start|>role\n…<|im_end|>`), with the template's default
    /// system message if it has one.
    ChatMl { default_system: Option<String> },
    /// Gemma's `<start_of_turn>user\n…<end_of_turn>` turns.
    GemmaTurns,
    /// A base model: the prompt is continued as plain text.
    Completion,
}

impl PromptFormat {
    /// Reads the format from the file's chat template (none ⇒ completion).
    pub fn from_gguf(gguf: &GgufFile) -> Self {
        match gguf.optional_str("tokenizer.chat_template") {
            Some(t) if t.contains("<|im_start|>") => Self::ChatMl {
                default_system: chatml_default_system(t),
            },
            Some(t) if t.contains("<start_of_turn>") => Self::GemmaTurns,
            _ => Self::Completion,
        }
    }

    /// The text to tokenize: `user` as given with `raw`, else [`Self::render`]ed.
    pub fn prepare(&self, user: &str, raw: bool) -> String {
        if raw {
            user.to_string()
        } else {
            self.render(user)
        }
    }

    /// A chat of earlier (user, reply) turns followed by `user`, with the
    /// reply turn opened for the model; `None` for a base model, which has
    /// no turns (give it plain text to continue instead).
    pub fn render_dialogue(&self, turns: &[(String, String)], user: &str) -> Option<String> {
        let message = |role, content: &str| ChatMessage {
            role,
            content: content.to_string(),
        };
        let mut messages: Vec<ChatMessage> = turns
            .iter()
            .flat_map(|(question, reply)| {
                [
                    message(ChatRole::User, question),
                    message(ChatRole::Assistant, reply),
                ]
            })
            .collect();
        messages.push(message(ChatRole::User, user));
        self.render_chat(&messages)
    }

    /// A whole chat (an optional leading system message, then user and
    /// assistant turns), with the assistant's next turn opened, as the
    /// model's chat template writes it; `None` for a base model. ChatML
    /// writes the system message as its own turn (the template's default
    /// when there is none); Gemma's template has no system turn and puts
    /// the system message before the first user message, as its template does.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> Option<String> {
        let markers = self.markers()?;
        let (system, turns) = match messages.split_first() {
            Some((first, rest)) if first.role == ChatRole::System => {
                (Some(first.content.as_str()), rest)
            }
            _ => (None, messages),
        };
        let turn = |role: &str, content: &str| {
            format!("{}{role}\n{content}{}", markers.open, markers.close)
        };
        let mut text = String::new();
        // ChatML: a system turn of its own; Gemma: before the first user message.
        let mut system_first = None;
        match self {
            Self::ChatMl { default_system } => {
                if let Some(system) = system.or(default_system.as_deref()) {
                    text.push_str(&turn("system", system));
                }
            }
            _ => system_first = system.map(|s| format!("{s}\n\n")),
        }
        for message in turns {
            match message.role {
                ChatRole::Assistant => text.push_str(&turn(markers.reply, &message.content)),
                ChatRole::User | ChatRole::System => {
                    let prefix = system_first.take().unwrap_or_default();
                    text.push_str(&turn("user", &format!("{prefix}{}", message.content)));
                }
            }
        }
        text.push_str(&format!("{}{}\n", markers.open, markers.reply));
        Some(text)
    }

    /// The text sent to the tokenizer for a single user message.
    pub fn render(&self, user: &str) -> String {
        let message = ChatMessage {
            role: ChatRole::User,
            content: user.to_string(),
        };
        self.render_chat(&[message])
            .unwrap_or_else(|| user.to_string())
    }

    /// How this format's turns are marked; `None` for a base model.
    fn markers(&self) -> Option<TurnMarkers> {
        match self {
            Self::ChatMl { .. } => Some(CHATML),
            Self::GemmaTurns => Some(GEMMA),
            Self::Completion => None,
        }
    }
}

/// How a chat template marks a turn: `{open}{role}\n{content}{close}`.
#[derive(Debug, Clone, Copy)]
struct TurnMarkers {
    open: &'static str,
    close: &'static str,
    /// The model's role name.
    reply: &'static str,
}

const CHATML: TurnMarkers = TurnMarkers {
    open: "<|im_start|>",
    close: "<|im_end|>\n",
    reply: "assistant",
};

const GEMMA: TurnMarkers = TurnMarkers {
    open: "<start_of_turn>",
    close: "<end_of_turn>\n",
    reply: "model",
};

/// What the user asked in a prompt written in a chat template: the last
/// user turn's text (the whole prompt when it has no turns).
pub fn last_user_message(prompt: &str) -> &str {
    for markers in [CHATML, GEMMA] {
        let opening = format!("{}user\n", markers.open);
        if let Some(at) = prompt.rfind(&opening) {
            let rest = &prompt[at + opening.len()..];
            let end = rest.find(markers.close.trim_end()).unwrap_or(rest.len());
            return &rest[..end];
        }
    }
    prompt
}

/// Who speaks one message of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

/// The system message a ChatML template writes when the conversation has
/// none: the first literal system turn in it, written with a real line
/// break (SmolLM2) or with `\n` inside a template string (Qwen2), that holds
/// no template code.
fn chatml_default_system(template: &str) -> Option<String> {
    ["<|im_start|>system\n", "<|im_start|>system\\n"]
        .iter()
        .flat_map(|opening| {
            template
                .match_indices(opening)
                .map(|(i, o)| &template[i + o.len()..])
        })
        .filter_map(|rest| rest.split_once("<|im_end|>").map(|(system, _)| system))
        .find(|system| {
            !system.is_empty()
                && !["{{", "{%", "'", "\"", "\n", "\\n"]
                    .iter()
                    .any(|code| system.contains(code))
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_wraps_the_user_turn_and_opens_the_assistant_turn() {
        let format = PromptFormat::ChatMl {
            default_system: Some("Be brief.".into()),
        };
        assert_eq!(
            format.render("Hi"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn a_dialogue_repeats_the_turns_and_ends_on_an_open_reply() {
        let turns = [("1 + 1".to_string(), "2".to_string())];
        assert_eq!(
            PromptFormat::GemmaTurns
                .render_dialogue(&turns, "2 + 2")
                .unwrap(),
            "<start_of_turn>user\n1 + 1<end_of_turn>\n<start_of_turn>model\n2<end_of_turn>\n\
             <start_of_turn>user\n2 + 2<end_of_turn>\n<start_of_turn>model\n"
        );
        let single = PromptFormat::ChatMl {
            default_system: None,
        };
        assert_eq!(
            single.render_dialogue(&[], "Hi").unwrap(),
            single.render("Hi")
        );
        assert_eq!(PromptFormat::Completion.render_dialogue(&turns, "x"), None);
    }

    #[test]
    fn the_default_system_message_is_read_from_either_template_style() {
        let smollm = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}\
                      {{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>\n' }}{% endif %}";
        assert_eq!(
            chatml_default_system(smollm).as_deref(),
            Some("You are a helpful AI assistant named SmolLM")
        );
        let qwen = r"{%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.<|im_end|>\n' }}";
        assert_eq!(
            chatml_default_system(qwen).as_deref(),
            Some("You are Qwen, created by Alibaba Cloud.")
        );
        let no_default = r"{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}";
        assert_eq!(chatml_default_system(no_default), None);
    }

    #[test]
    fn completion_passes_text_through() {
        assert_eq!(PromptFormat::Completion.render("Once upon"), "Once upon");
    }

    #[test]
    fn a_chat_is_written_in_each_template_with_its_system_message() {
        let chat = [
            ChatMessage {
                role: ChatRole::System,
                content: "Be brief.".into(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: "Hi".into(),
            },
            ChatMessage {
                role: ChatRole::Assistant,
                content: "Hello".into(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: "2+2?".into(),
            },
        ];
        let chatml = PromptFormat::ChatMl {
            default_system: Some("Default.".into()),
        };
        assert_eq!(
            chatml.render_chat(&chat).unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n\
             <|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n\
             <|im_start|>assistant\n"
        );
        // Without a system message the template's default is used, and a
        // single user message is exactly what `render` writes.
        assert_eq!(
            chatml.render_chat(&chat[3..]).unwrap(),
            chatml.render("2+2?")
        );
        assert_eq!(
            PromptFormat::GemmaTurns.render_chat(&chat).unwrap(),
            "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n\
             <start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n"
        );
        assert_eq!(
            PromptFormat::GemmaTurns.render_chat(&chat[3..]).unwrap(),
            PromptFormat::GemmaTurns.render("2+2?")
        );
        assert_eq!(PromptFormat::Completion.render_chat(&chat), None);
    }

    #[test]
    fn the_users_question_is_read_out_of_either_chat_template() {
        let chatml = PromptFormat::ChatMl {
            default_system: Some("Be brief.".into()),
        };
        assert_eq!(last_user_message(&chatml.render("2+2?")), "2+2?");
        assert_eq!(
            last_user_message(&PromptFormat::GemmaTurns.render("Hi")),
            "Hi"
        );
        assert_eq!(last_user_message("Once upon a time"), "Once upon a time");
    }
}
