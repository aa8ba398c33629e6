//! Parsing a condition (`when`, `where=`) from the marked tree, strictly:
//! one combinator or one `key` with exactly one operator of the right type.

use serde_json::Value;

use super::condition::{Condition, OPERATORS, Operator};
use super::dates::Since;
use super::paths::ProfilePath;
use super::reader::{Ctx, MapReader};
use super::yaml::{Kind, Node};

/// Parses a condition node; problems go to `ctx`, keys to `ctx.condition_keys`.
pub fn parse_condition_node(ctx: &mut Ctx, node: &Node) -> Option<Condition> {
    let mut m = ctx.map(node, "condition")?;
    let combinators = ["all", "any", "not"].map(|c| m.has(c));
    let condition = if combinators.iter().filter(|b| **b).count() > 1
        || (m.has("key") && combinators.contains(&true))
    {
        ctx.error(
            m.mark,
            "a condition has exactly one of `all`, `any`, `not` or `key`",
        );
        return None;
    } else if let Some(list) = m.take("all") {
        parse_list(ctx, list, "all").map(|all| Condition::All { all })
    } else if let Some(list) = m.take("any") {
        parse_list(ctx, list, "any").map(|any| Condition::Any { any })
    } else if let Some(inner) = m.take("not") {
        parse_condition_node(ctx, inner).map(|c| Condition::Not { not: Box::new(c) })
    } else {
        parse_compare(ctx, &mut m)
    };
    m.finish(ctx, "condition");
    condition
}

fn parse_list(ctx: &mut Ctx, node: &Node, field: &str) -> Option<Vec<Condition>> {
    let Kind::Seq(items) = &node.kind else {
        ctx.error(
            node.mark,
            format!(
                "`{field}` must be a list of conditions, found {}",
                node.type_name()
            ),
        );
        return None;
    };
    let parsed: Vec<_> = items.iter().map(|i| parse_condition_node(ctx, i)).collect();
    parsed.into_iter().collect()
}

fn parse_compare(ctx: &mut Ctx, m: &mut MapReader<'_>) -> Option<Condition> {
    let key_node = ctx.required(m, "key");
    let key = key_node.and_then(|n| ctx.string(n, "key"));
    let path = key.as_deref().and_then(ProfilePath::parse);
    if let (Some(k), Some(n)) = (&key, key_node) {
        if path.is_none() {
            ctx.error(n.mark, format!("`{k}` is not a profile path"));
        } else {
            ctx.condition_keys.push((k.clone(), n.mark));
        }
    }
    let since = m.take("since").map(|n| parse_since(ctx, n, path));
    let present: Vec<(&str, &Node)> = OPERATORS
        .iter()
        .filter_map(|name| m.take(name).map(|n| (*name, n)))
        .collect();
    let op = match present.as_slice() {
        [] => {
            ctx.error(
                m.mark,
                format!("condition needs one operator: {}", OPERATORS.join(", ")),
            );
            None
        }
        [(name, node)] if since.is_some() => parse_measured(ctx, name, node),
        [(name, node)] => parse_operator(ctx, name, node),
        [_, (second, node), ..] => {
            ctx.error(
                node.mark,
                format!("condition has more than one operator (`{second}` is extra)"),
            );
            None
        }
    };
    let key = key.filter(|k| ProfilePath::parse(k).is_some())?;
    let since = match since {
        Some(None) => return None,
        Some(unit) => unit,
        None => None,
    };
    Some(Condition::Compare {
        key,
        since,
        op: op?,
    })
}

/// `since: years|days`, on a path that can hold a date. `Some(None)` after an error.
fn parse_since(ctx: &mut Ctx, node: &Node, path: Option<ProfilePath<'_>>) -> Option<Since> {
    let unit = ctx.string(node, "since")?;
    let Some(since) = Since::from_name(&unit) else {
        let names = Since::NAMES.join("` or `");
        ctx.error(node.mark, format!("`since` is `{names}`, not `{unit}`"));
        return None;
    };
    if let Some(built_in) = path.filter(|p| p.is_built_in()) {
        let name = built_in.full();
        ctx.error(
            node.mark,
            format!("`since` measures a date value; `{name}` is a number"),
        );
        return None;
    }
    Some(since)
}

/// An operator under `since`: it compares whole years or days, so its operands are
/// numbers, and `contains` and `has_other` (for answers) do not apply.
fn parse_measured(ctx: &mut Ctx, name: &str, node: &Node) -> Option<Operator> {
    let number = |ctx: &mut Ctx, node: &Node| match node.kind {
        Kind::Int(_) | Kind::Float(_) => Some(node.to_json()),
        _ => {
            let found = node.type_name();
            ctx.error(
                node.mark,
                format!("with `since`, `{name}` needs a number of years or days, found {found}"),
            );
            None
        }
    };
    let numbers = |ctx: &mut Ctx, node: &Node| {
        let Kind::Seq(items) = &node.kind else {
            let found = node.type_name();
            ctx.error(node.mark, format!("`{name}` needs a list, found {found}"));
            return None;
        };
        let values: Vec<_> = items.iter().map(|i| number(ctx, i)).collect();
        values.into_iter().collect::<Option<Vec<_>>>()
    };
    match name {
        "equals" => number(ctx, node).map(Operator::Equals),
        "not_equals" => number(ctx, node).map(Operator::NotEquals),
        "in" => numbers(ctx, node).map(Operator::In),
        "not_in" => numbers(ctx, node).map(Operator::NotIn),
        "exists" => ctx.boolean(node, name).map(Operator::Exists),
        "gte" => number(ctx, node).map(Operator::Gte),
        "lte" => number(ctx, node).map(Operator::Lte),
        _ => {
            ctx.error(
                node.mark,
                format!("`{name}` does not go with `since` (it compares whole years or days)"),
            );
            None
        }
    }
}

fn parse_operator(ctx: &mut Ctx, name: &str, node: &Node) -> Option<Operator> {
    match name {
        "equals" => scalar(ctx, node, name).map(Operator::Equals),
        "not_equals" => scalar(ctx, node, name).map(Operator::NotEquals),
        "in" => scalar_list(ctx, node, name).map(Operator::In),
        "not_in" => scalar_list(ctx, node, name).map(Operator::NotIn),
        "exists" => ctx.boolean(node, name).map(Operator::Exists),
        "gte" => orderable(ctx, node, name).map(Operator::Gte),
        "lte" => orderable(ctx, node, name).map(Operator::Lte),
        "has_other" => ctx.boolean(node, name).map(Operator::HasOther),
        _ => scalar(ctx, node, name).map(Operator::Contains),
    }
}

/// Refuses a text operand with a NUL character (no stored value holds one, and
/// PostgreSQL cannot compare with one).
fn refuse_nul(ctx: &mut Ctx, node: &Node, op: &str) -> Option<()> {
    if let Kind::Str(text) = &node.kind
        && text.contains('\0')
    {
        ctx.error(
            node.mark,
            format!("`{op}` text may not contain a NUL character"),
        );
        return None;
    }
    Some(())
}

fn scalar(ctx: &mut Ctx, node: &Node, op: &str) -> Option<Value> {
    refuse_nul(ctx, node, op)?;
    match node.kind {
        Kind::Str(_) | Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => Some(node.to_json()),
        _ => {
            ctx.error(
                node.mark,
                format!(
                    "`{op}` needs a string, number or boolean, found {}",
                    node.type_name()
                ),
            );
            None
        }
    }
}

fn scalar_list(ctx: &mut Ctx, node: &Node, op: &str) -> Option<Vec<Value>> {
    let Kind::Seq(items) = &node.kind else {
        ctx.error(
            node.mark,
            format!("`{op}` needs a list, found {}", node.type_name()),
        );
        return None;
    };
    let values: Vec<_> = items.iter().map(|i| scalar(ctx, i, op)).collect();
    values.into_iter().collect()
}

fn orderable(ctx: &mut Ctx, node: &Node, op: &str) -> Option<Value> {
    refuse_nul(ctx, node, op)?;
    match node.kind {
        Kind::Str(_) | Kind::Int(_) | Kind::Float(_) => Some(node.to_json()),
        _ => {
            ctx.error(
                node.mark,
                format!(
                    "`{op}` needs a number or a string, found {}",
                    node.type_name()
                ),
            );
            None
        }
    }
}
