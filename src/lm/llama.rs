//! Llama-architecture models (SmolLM2), run with candle-transformers'
//! `quantized_llama`.

use super::ModelConfig;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::{ModelWeights, MAX_SEQ_LEN};

use super::{weights_error, LanguageModel};
use crate::error::InputError;
use crate::gguf::GgufFile;

/// A llama-architecture decoder on the CPU.
#[derive(Clone)]
pub struct Llama {
    weights: ModelWeights,
    context_length: usize,
    device: Device,
}

impl Llama {
    /// Reads the weights from an opened GGUF.
    pub fn load(
        gguf: &mut GgufFile,
        config: &ModelConfig,
        device: &Device,
    ) -> Result<Self, InputError> {
        let trained = config.trained_context;
        let placeholder = empty_content(&gguf.content);
        let content = std::mem::replace(&mut gguf.content, placeholder);
        let weights = ModelWeights::from_gguf(content, &mut gguf.reader, device);
        let weights = weights.map_err(|e| weights_error(gguf, e))?;
        Ok(Self {
            weights,
            // candle's rotary tables stop at MAX_SEQ_LEN positions.
            context_length: trained.min(MAX_SEQ_LEN),
            device: device.clone(),
        })
    }
}

impl LanguageModel for Llama {
    fn forward(&mut self, tokens: &[u32], start: usize) -> candle_core::Result<Vec<f32>> {
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = self.weights.forward(&input, start)?;
        logits.squeeze(0)?.to_vec1()
    }

    fn context_length(&self) -> usize {
        self.context_length
    }

    fn fork(&self) -> Box<dyn LanguageModel> {
        Box::new(self.clone())
    }
}

/// A copy of the header fields `from_gguf` does not consume, so the caller's
/// `GgufFile` stays usable for error messages.
pub(super) fn empty_content(
    content: &candle_core::quantized::gguf_file::Content,
) -> candle_core::quantized::gguf_file::Content {
    candle_core::quantized::gguf_file::Content {
        magic: content.magic,
        metadata: Default::default(),
        tensor_infos: Default::default(),
        tensor_data_offset: content.tensor_data_offset,
    }
}
