//! Part 0 of the note, emergent abilities, made measurable: why abilities
//! seem to jump with scale. [`metric`] asks the real models problems of
//! growing length and scores them strictly and smoothly (cause 1, non-smooth
//! metrics); [`subtasks`] draws the composition law p^k that turns smooth
//! sub-task gains into a jump (cause 2). [`problems`] generates the seeded
//! problems both use; [`findings`] says what a run's intervals support;
//! [`ladder`] lays one run over models of growing size.
//! [`scale`] and [`grok`] train small networks in class (model size, and
//! sudden generalization).

pub mod findings;
pub mod grok;
pub mod ladder;
pub mod metric;
pub mod problems;
pub mod scale;
pub mod subtasks;
pub mod trainer;
