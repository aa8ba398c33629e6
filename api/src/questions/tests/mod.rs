//! Integration-style tests of the question-set engine.

mod answers;
mod due_rules;
mod files;
mod fuzz_answers;
mod fuzz_conditions;
mod fuzz_parser;
mod generate;
mod parser;
mod patterns;
mod props;
mod render;
pub(super) mod support;
