//! Integration-style tests of the question-set engine.

mod answers;
mod due_rules;
mod files;
mod parser;
mod props;
mod render;
mod support;
