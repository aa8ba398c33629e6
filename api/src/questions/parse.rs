//! Parsing a question set from YAML (or JSON, which is YAML) while reporting
//! every problem with its `file:line:column`.
//!
//! Rule for keys named in `when`: a bare key (no prefix) must be a question
//! key of this set, or an ancestor or descendant path of one (`company` or
//! `role.other`), so typos are caught. An explicit `user_metadata.<key>` path
//! may name anything (answers of other sets, data written by the site), as
//! may `app_metadata.<key>`, `login_count` and `days_since_first_login`.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use super::format::{QuestionSet, Settings, Stage};
use super::parse_question::parse_question;
use super::paths::ProfilePath;
use super::reader::Ctx;
use super::yaml::{self, Kind, Mark, Node};

/// Largest accepted source, in bytes.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;
/// Most questions in one set.
pub const MAX_QUESTIONS: usize = 500;

/// One problem in a question-set file; displays as `file:line:column: message`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Parses and validates a question set; on failure returns every problem,
/// sorted by position.
pub fn parse_question_set(source: &str, file_name: &str) -> Result<QuestionSet, Vec<Problem>> {
    let mut ctx = Ctx::new(file_name);
    let start = Mark { line: 1, column: 1 };
    if source.len() > MAX_SOURCE_BYTES {
        ctx.error(
            start,
            format!("question set is larger than {MAX_SOURCE_BYTES} bytes"),
        );
        return Err(ctx.into_problems());
    }
    let root = match yaml::load(source) {
        Ok(root) => root,
        Err(e) => {
            ctx.error(e.mark, e.message);
            return Err(ctx.into_problems());
        }
    };
    if count_questions(&root) > MAX_QUESTIONS {
        ctx.error(
            start,
            format!("question set has more than {MAX_QUESTIONS} questions"),
        );
        return Err(ctx.into_problems());
    }
    let set = parse_set(&mut ctx, &root);
    check_question_keys(&mut ctx);
    check_condition_keys(&mut ctx);
    match set {
        Some(set) if !ctx.has_problems() => Ok(set),
        _ => {
            if !ctx.has_problems() {
                ctx.error(start, "invalid question set");
            }
            Err(ctx.into_problems())
        }
    }
}

fn field<'n>(node: &'n Node, name: &str) -> Option<&'n Node> {
    let Kind::Map(entries) = &node.kind else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
}

fn count_questions(root: &Node) -> usize {
    let Some(Kind::Seq(stages)) = field(root, "stages").map(|n| &n.kind) else {
        return 0;
    };
    stages
        .iter()
        .filter_map(|s| match &field(s, "questions")?.kind {
            Kind::Seq(q) => Some(q.len()),
            _ => None,
        })
        .sum()
}

fn parse_set(ctx: &mut Ctx, root: &Node) -> Option<QuestionSet> {
    let mut m = ctx.map(root, "a question set")?;
    let slug = ctx.required(&mut m, "slug").and_then(|n| slug(ctx, n));
    let title = ctx
        .required(&mut m, "title")
        .and_then(|n| ctx.nonempty_string(n, "title"));
    let priority = match m.take("priority") {
        Some(n) => ctx
            .int_in(n, "priority", i32::MIN.into(), i32::MAX.into())
            .and_then(|p| i32::try_from(p).ok()),
        None => Some(0),
    };
    let default_locale = match m.take("default_locale") {
        Some(n) => ctx.locale(n, "default_locale"),
        None => Some("en".to_owned()),
    };
    ctx.default_locale = default_locale.clone().unwrap_or_else(|| "en".into());
    let settings = match m.take("settings") {
        Some(n) => parse_settings(ctx, n),
        None => Some(Settings::default()),
    };
    let stages = ctx
        .required(&mut m, "stages")
        .and_then(|n| parse_stages(ctx, n));
    m.finish(ctx, "the question set");
    Some(QuestionSet {
        slug: slug?,
        title: title?,
        priority: priority?,
        default_locale: default_locale?,
        settings: settings?,
        stages: stages?,
    })
}

fn slug(ctx: &mut Ctx, node: &Node) -> Option<String> {
    let s = ctx.string(node, "slug")?;
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        ctx.error(
            node.mark,
            format!("bad slug `{s}`: must match [a-z0-9-]{{1,64}}"),
        );
        return None;
    }
    Some(s)
}

fn parse_settings(ctx: &mut Ctx, node: &Node) -> Option<Settings> {
    let mut m = ctx.map(node, "settings")?;
    let defaults = Settings::default();
    let max = match m.take("max_prompts_per_login") {
        Some(n) => ctx.u32(n, "max_prompts_per_login"),
        None => Some(defaults.max_prompts_per_login),
    };
    let reask = match m.take("reask_skipped_after_logins") {
        Some(n) => ctx.u32(n, "reask_skipped_after_logins"),
        None => Some(defaults.reask_skipped_after_logins),
    };
    m.finish(ctx, "settings");
    Some(Settings {
        max_prompts_per_login: max?,
        reask_skipped_after_logins: reask?,
    })
}

fn parse_stages(ctx: &mut Ctx, node: &Node) -> Option<Vec<Stage>> {
    let Kind::Seq(items) = &node.kind else {
        let msg = format!("`stages` must be a list, found {}", node.type_name());
        ctx.error(node.mark, msg);
        return None;
    };
    if items.is_empty() {
        ctx.error(node.mark, "`stages` must not be empty");
        return None;
    }
    let stages: Vec<_> = items.iter().map(|s| parse_stage(ctx, s)).collect();
    stages.into_iter().collect()
}

fn parse_stage(ctx: &mut Ctx, node: &Node) -> Option<Stage> {
    let mut m = ctx.map(node, "a stage")?;
    let at_login = ctx.required(&mut m, "at_login").and_then(|n| {
        let v = ctx.u32(n, "at_login")?;
        if v < 1 {
            ctx.error(n.mark, "`at_login` must be at least 1");
            return None;
        }
        Some(v)
    });
    let after_days = match m.take("after_days") {
        Some(n) => ctx.u32(n, "after_days").map(Some),
        None => Some(None),
    };
    let questions = ctx
        .required(&mut m, "questions")
        .and_then(|n| parse_questions(ctx, n));
    m.finish(ctx, "a stage");
    Some(Stage {
        at_login: at_login?,
        after_days: after_days?,
        questions: questions?,
    })
}

fn parse_questions(ctx: &mut Ctx, node: &Node) -> Option<Vec<super::format::Question>> {
    let Kind::Seq(items) = &node.kind else {
        let msg = format!("`questions` must be a list, found {}", node.type_name());
        ctx.error(node.mark, msg);
        return None;
    };
    if items.is_empty() {
        ctx.error(node.mark, "`questions` must not be empty");
        return None;
    }
    let questions: Vec<_> = items.iter().map(|q| parse_question(ctx, q)).collect();
    questions.into_iter().collect()
}

fn check_question_keys(ctx: &mut Ctx) {
    let mut first: HashMap<String, Mark> = HashMap::new();
    let keys = std::mem::take(&mut ctx.question_keys);
    for (key, mark) in &keys {
        match first.get(key) {
            Some(f) => {
                let msg = format!(
                    "duplicate question key `{key}` (first at line {}, column {})",
                    f.line, f.column
                );
                ctx.error(*mark, msg);
            }
            None => {
                first.insert(key.clone(), *mark);
            }
        }
    }
    ctx.question_keys = keys;
}

fn check_condition_keys(ctx: &mut Ctx) {
    let keys = std::mem::take(&mut ctx.condition_keys);
    for (key, mark) in &keys {
        if !bare_key_known(key, &ctx.question_keys) {
            let msg = format!(
                "`when` names `{key}`, which is no question key of this set \
                 (write `user_metadata.{key}` to refer to other data)"
            );
            ctx.error(*mark, msg);
        }
    }
}

/// Whether a condition key is acceptable: prefixed paths and built-ins always
/// are; a bare key must equal, contain or extend a question key of the set.
fn bare_key_known(key: &str, question_keys: &[(String, Mark)]) -> bool {
    let bare =
        matches!(ProfilePath::parse(key), Some(ProfilePath::User(k)) if k.len() == key.len());
    let related = |q: &str| {
        q == key
            || (q.starts_with(key) && q.as_bytes().get(key.len()) == Some(&b'.'))
            || (key.starts_with(q) && key.as_bytes().get(q.len()) == Some(&b'.'))
    };
    !bare || question_keys.iter().any(|(q, _)| related(q))
}
