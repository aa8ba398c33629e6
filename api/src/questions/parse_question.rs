//! Parsing one question and its type-specific rules from the marked tree.

use std::collections::HashSet;

use super::format::{
    BooleanRules, ChoiceOption, DEFAULT_MAX_LENGTH, DateBound, DateRules, MAX_LENGTH_CAP,
    MultiChoiceRules, NumberRules, Pattern, Question, QuestionType, ScaleRules, SingleChoiceRules,
    Text, TextRules,
};
use super::parse_condition::parse_condition_node;
use super::paths::{BUILT_IN_PATHS, ProfilePath, is_question_key};
use super::portable::check_portable;
use super::reader::{Ctx, MapReader};
use super::yaml::{Kind, Mark, Node};

/// The `type` names, as written in files.
pub const TYPES: [&str; 12] = [
    "text",
    "long_text",
    "number",
    "single_choice",
    "multi_choice",
    "boolean",
    "date",
    "email",
    "phone",
    "url",
    "country",
    "scale",
];

/// Most options a choice question may have.
pub const MAX_OPTIONS: usize = 100;
/// Most steps a scale may have (`max - min`).
pub const MAX_SCALE_STEPS: i64 = 100;

/// Parses one question; its key goes to `ctx.question_keys`.
pub fn parse_question(ctx: &mut Ctx, node: &Node) -> Option<Question> {
    let mut m = ctx.map(node, "question")?;
    let key = ctx
        .required(&mut m, "key")
        .and_then(|n| question_key(ctx, n));
    let type_node = ctx.required(&mut m, "type");
    let title = ctx
        .required(&mut m, "title")
        .and_then(|n| ctx.text(n, "title"));
    let description = optional(ctx, &mut m, "description", Ctx::text);
    let placeholder = optional(ctx, &mut m, "placeholder", Ctx::text);
    let required = optional(ctx, &mut m, "required", Ctx::boolean);
    let when = match m.take("when") {
        Some(n) => parse_condition_node(ctx, n).map(Some),
        None => Some(None),
    };
    let prefill = optional(ctx, &mut m, "prefill", profile_path);
    let skip_if_known = optional(ctx, &mut m, "skip_if_known", profile_path);
    let type_name = type_node.and_then(|n| ctx.string(n, "type"));
    let kind = match (type_name.as_deref(), type_node) {
        (Some(t), Some(_)) if TYPES.contains(&t) => parse_rules(ctx, &mut m, t),
        (Some(t), Some(n2)) => {
            ctx.error(
                n2.mark,
                format!("unknown type `{t}` (expected one of: {})", TYPES.join(", ")),
            );
            return None;
        }
        _ => return None,
    };
    m.finish(
        ctx,
        &format!("a `{}` question", type_name.unwrap_or_default()),
    );
    Some(Question {
        key: key?,
        title: title?,
        description: description?,
        placeholder: placeholder?,
        required: required?.unwrap_or(false),
        when: when?,
        prefill: prefill?,
        skip_if_known: skip_if_known?,
        kind: kind?,
    })
}

/// Reads an optional field: `Some(None)` when absent, `None` when invalid.
fn optional<'n, T>(
    ctx: &mut Ctx,
    m: &mut MapReader<'n>,
    name: &'static str,
    read: impl FnOnce(&mut Ctx, &'n Node, &str) -> Option<T>,
) -> Option<Option<T>> {
    match m.take(name) {
        Some(n) => read(ctx, n, name).map(Some),
        None => Some(None),
    }
}

fn question_key(ctx: &mut Ctx, node: &Node) -> Option<String> {
    let key = ctx.string(node, "key")?;
    if !is_question_key(&key) {
        ctx.error(
            node.mark,
            format!(
                "bad question key `{key}`: a dotted path of [A-Za-z0-9_-]+ segments, at most \
                 200 bytes, not starting with user_metadata/app_metadata nor a built-in path"
            ),
        );
        return None;
    }
    ctx.question_keys.push((key.clone(), node.mark));
    Some(key)
}

fn profile_path(ctx: &mut Ctx, node: &Node, field: &str) -> Option<String> {
    let path = ctx.string(node, field)?;
    if ProfilePath::parse(&path).is_none() {
        let built_in = BUILT_IN_PATHS.join(", ");
        ctx.error(
            node.mark,
            format!("`{field}` `{path}` is not a profile path (user_metadata.…, app_metadata.…, {built_in})"),
        );
        return None;
    }
    Some(path)
}

fn parse_rules(ctx: &mut Ctx, m: &mut MapReader<'_>, type_name: &str) -> Option<QuestionType> {
    Some(match type_name {
        "text" => QuestionType::Text(text_rules(ctx, m)?),
        "long_text" => QuestionType::LongText(text_rules(ctx, m)?),
        "number" => QuestionType::Number(number_rules(ctx, m)?),
        "single_choice" => {
            let options = choice_options(ctx, m, type_name);
            let allow_other = optional(ctx, m, "allow_other", Ctx::boolean);
            QuestionType::SingleChoice(SingleChoiceRules {
                options: options?,
                allow_other: allow_other?.unwrap_or(false),
            })
        }
        "multi_choice" => QuestionType::MultiChoice(multi_rules(ctx, m)?),
        "boolean" => {
            let true_label = optional(ctx, m, "true_label", Ctx::text);
            let false_label = optional(ctx, m, "false_label", Ctx::text);
            QuestionType::Boolean(BooleanRules {
                true_label: true_label?,
                false_label: false_label?,
            })
        }
        "date" => QuestionType::Date(date_rules(ctx, m)?),
        "email" => QuestionType::Email,
        "phone" => QuestionType::Phone,
        "url" => QuestionType::Url,
        "country" => QuestionType::Country,
        _ => QuestionType::Scale(scale_rules(ctx, m)?),
    })
}

fn min_max_check<T: PartialOrd + std::fmt::Display>(
    ctx: &mut Ctx,
    at: Mark,
    names: (&str, &str),
    min: Option<T>,
    max: Option<T>,
) -> bool {
    match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => {
            ctx.error(
                at,
                format!("`{}` ({lo}) is more than `{}` ({hi})", names.0, names.1),
            );
            false
        }
        _ => true,
    }
}

fn text_rules(ctx: &mut Ctx, m: &mut MapReader<'_>) -> Option<TextRules> {
    let min_length = optional(ctx, m, "min_length", Ctx::u32);
    let max_node = m.take("max_length");
    let max_length = match max_node {
        None => Some(DEFAULT_MAX_LENGTH),
        Some(n) => ctx.u32(n, "max_length").filter(|v| {
            let ok = (1..=MAX_LENGTH_CAP).contains(v);
            if !ok {
                ctx.error(
                    n.mark,
                    format!("`max_length` must be between 1 and {MAX_LENGTH_CAP}"),
                );
            }
            ok
        }),
    };
    let pattern = optional(ctx, m, "pattern", |ctx, n, f| {
        let source = ctx.string(n, f)?;
        let pattern = Pattern::new(&source)
            .map_err(|e| {
                let text = e.to_string();
                let reason = text
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                ctx.error(n.mark, format!("bad regex in `pattern`: {reason}"));
            })
            .ok()?;
        if let Err(unportable) = check_portable(&source) {
            ctx.error(n.mark, format!("`pattern`: {unportable}"));
            return None;
        }
        Some(pattern)
    });
    let (min_length, max_length) = (min_length?, max_length?);
    let at = max_node.map_or(m.mark, |n| n.mark);
    let names = ("min_length", "max_length");
    min_max_check(ctx, at, names, min_length, Some(max_length)).then_some(())?;
    Some(TextRules {
        min_length,
        max_length,
        pattern: pattern?,
    })
}

fn number_rules(ctx: &mut Ctx, m: &mut MapReader<'_>) -> Option<NumberRules> {
    let min = optional(ctx, m, "min", Ctx::number);
    let max_node = m.take("max");
    let max = match max_node {
        Some(n) => ctx.number(n, "max").map(Some),
        None => Some(None),
    };
    let integer = optional(ctx, m, "integer", Ctx::boolean);
    let (min, max, integer) = (min?, max?, integer?.unwrap_or(false));
    let at = max_node.map_or(m.mark, |n| n.mark);
    min_max_check(ctx, at, ("min", "max"), min, max).then_some(())?;
    Some(NumberRules { min, max, integer })
}

fn multi_rules(ctx: &mut Ctx, m: &mut MapReader<'_>) -> Option<MultiChoiceRules> {
    let options = choice_options(ctx, m, "multi_choice");
    let allow_other = optional(ctx, m, "allow_other", Ctx::boolean);
    let min_selected = optional(ctx, m, "min_selected", Ctx::u32);
    let max_node = m.take("max_selected");
    let max_selected = match max_node {
        Some(n) => ctx.u32(n, "max_selected").map(Some),
        None => Some(None),
    };
    let (options, allow_other) = (options?, allow_other?.unwrap_or(false));
    let (min_selected, max_selected) = (min_selected?, max_selected?);
    let at = max_node.map_or(m.mark, |n| n.mark);
    let names = ("min_selected", "max_selected");
    min_max_check(ctx, at, names, min_selected, max_selected).then_some(())?;
    let available = options.len() + usize::from(allow_other);
    if min_selected.is_some_and(|n| n as usize > available) {
        ctx.error(
            m.mark,
            format!("`min_selected` is more than the {available} choices"),
        );
        return None;
    }
    Some(MultiChoiceRules {
        options,
        allow_other,
        min_selected,
        max_selected,
    })
}

fn date_rules(ctx: &mut Ctx, m: &mut MapReader<'_>) -> Option<DateRules> {
    let read = |ctx: &mut Ctx, n: &Node, f: &str| {
        let s = ctx.string(n, f)?;
        let bound = DateBound::parse(&s);
        if bound.is_none() {
            ctx.error(
                n.mark,
                format!("`{f}` must be `today` or a YYYY-MM-DD date"),
            );
        }
        bound
    };
    let min = optional(ctx, m, "min", read);
    let max_node = m.take("max");
    let max = match max_node {
        Some(n) => read(ctx, n, "max").map(Some),
        None => Some(None),
    };
    let (min, max) = (min?, max?);
    let fixed = |b: Option<DateBound>| match b {
        Some(DateBound::Date(d)) => Some(d),
        _ => None,
    };
    let at = max_node.map_or(m.mark, |n| n.mark);
    min_max_check(ctx, at, ("min", "max"), fixed(min), fixed(max)).then_some(())?;
    Some(DateRules { min, max })
}

fn scale_rules(ctx: &mut Ctx, m: &mut MapReader<'_>) -> Option<ScaleRules> {
    let int = |ctx: &mut Ctx, n: &Node, f: &str| ctx.int_in(n, f, -1_000_000, 1_000_000);
    let min = ctx.required(m, "min").and_then(|n| int(ctx, n, "min"));
    let max_node = ctx.required(m, "max");
    let max = max_node.and_then(|n| int(ctx, n, "max"));
    let min_label = optional(ctx, m, "min_label", Ctx::text);
    let max_label = optional(ctx, m, "max_label", Ctx::text);
    let (min, max) = (min?, max?);
    let at = max_node.map_or(m.mark, |n| n.mark);
    if min >= max || max - min > MAX_SCALE_STEPS {
        let msg = format!("scale needs `min` < `max` with at most {MAX_SCALE_STEPS} steps");
        ctx.error(at, msg);
        return None;
    }
    Some(ScaleRules {
        min,
        max,
        min_label: min_label?,
        max_label: max_label?,
    })
}

fn choice_options(
    ctx: &mut Ctx,
    m: &mut MapReader<'_>,
    type_name: &str,
) -> Option<Vec<ChoiceOption>> {
    let Some(node) = m.take("options") else {
        ctx.error(m.mark, format!("a `{type_name}` question needs `options`"));
        return None;
    };
    let Kind::Seq(items) = &node.kind else {
        ctx.error(
            node.mark,
            format!("`options` must be a list, found {}", node.type_name()),
        );
        return None;
    };
    if items.is_empty() || items.len() > MAX_OPTIONS {
        ctx.error(
            node.mark,
            format!("`options` needs 1 to {MAX_OPTIONS} entries"),
        );
        return None;
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match choice_option(ctx, item) {
            Some(o) if !seen.insert(o.value.clone()) => {
                ctx.error(item.mark, format!("duplicate option value `{}`", o.value));
                ok = false;
            }
            Some(o) => out.push(o),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn choice_option(ctx: &mut Ctx, node: &Node) -> Option<ChoiceOption> {
    if let Kind::Str(_) = node.kind {
        let value = option_value(ctx, node)?;
        let label = Text::Plain(value.clone());
        return Some(ChoiceOption { value, label });
    }
    if !matches!(node.kind, Kind::Map(_)) {
        let msg = format!(
            "an option must be a string or {{value, label}}, found {}",
            node.type_name()
        );
        ctx.error(node.mark, msg);
        return None;
    }
    let mut m = ctx.map(node, "option")?;
    let value = ctx
        .required(&mut m, "value")
        .and_then(|n| option_value(ctx, n));
    let label = optional(ctx, &mut m, "label", Ctx::text);
    m.finish(ctx, "an option");
    let value = value?;
    let label = label?.unwrap_or_else(|| Text::Plain(value.clone()));
    Some(ChoiceOption { value, label })
}

fn option_value(ctx: &mut Ctx, node: &Node) -> Option<String> {
    let v = ctx.nonempty_string(node, "value")?;
    if v.len() > 200 || v.trim() != v {
        ctx.error(
            node.mark,
            "an option value must be at most 200 bytes, without surrounding spaces",
        );
        return None;
    }
    Some(v)
}
