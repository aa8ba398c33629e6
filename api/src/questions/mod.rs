//! The question-set engine: the format, its parser (reporting every problem
//! as `file:line:column: message`), profile paths, conditions, answer
//! validation, the due-question engine and prompt building. Pure: no I/O.
//!
//! Rules in short (details on each module):
//! - a set is YAML (or JSON) parsed by [`parse_question_set`]; `when` keys
//!   without a prefix must name a question key of the set (or a parent/child
//!   path of one), prefixed paths may name anything;
//! - [`next_due`] picks the first question — sets by priority then slug,
//!   stages by `at_login`, questions in file order — whose stage is reached,
//!   that is not known, dismissed or recently skipped, whose `when` holds and
//!   whose set has prompts left at this login — unless the site's minimum
//!   interval between prompts holds a new page view back ([`Pacing`]);
//! - [`validate_answer`] checks and normalises an answer before it is stored;
//! - [`build_prompt`] renders a due question for the widget in one locale;
//!   [`preview_prompt`] renders any question for a preview, for no user;
//! - [`compare`] summarises what changed between two versions of a set, and
//!   [`rehearse`] lists what one login would ask (both for the console).

pub mod answer;
pub mod compare;
pub mod condition;
pub mod dates;
pub mod due;
pub mod format;
pub mod parse;
mod parse_condition;
mod parse_question;
pub mod paths;
mod portable;
mod reader;
pub mod render;
pub mod sample;
pub mod simulate;
mod yaml;

#[cfg(test)]
mod tests;

pub use answer::{AnswerError, MAX_ANSWER_BYTES, validate_answer};
pub use compare::{RemovedOption, SetChanges, compare};
pub use condition::{Condition, Operator, evaluate, parse_condition_json};
pub use due::{
    Decision, Due, Explanation, Outcome, Pacing, Position, PromptRecord, PublishedSet, Verdict,
    Visit, explain, next_due, sort_published,
};
pub use format::{
    BooleanRules, ChoiceOption, DateBound, DateRules, MultiChoiceRules, NumberRules, Pattern,
    Question, QuestionSet, QuestionType, ScaleRules, Settings, SingleChoiceRules, Stage, Text,
    TextRules,
};
pub use parse::{MAX_QUESTIONS, MAX_SOURCE_BYTES, Problem, parse_question_set};
pub use paths::{Profile, ProfilePath, is_question_key, set_path};
pub use render::{Prompt, PromptOption, PromptQuestion, build_prompt, localize};
pub use sample::{preview_prompt, sample_prompt};
pub use simulate::{Rehearsal, rehearse};
