//! The bars of a question's card: percents of answers, bars per choice and per point of
//! a scale, and a number question's histogram buckets.

use serde_json::Value;
use std::collections::BTreeMap;

use super::text;
use crate::model::results::Bar;
use crate::questions::format::{ChoiceOption, QuestionType};
use crate::questions::{Question, QuestionSet};

pub(super) fn bar(label: String, filter: Option<String>, count: i64, of: i64) -> Bar {
    let percent = if of > 0 {
        (count as f64 * 1000.0 / of as f64).round() / 10.0
    } else {
        0.0
    };
    Bar {
        label,
        filter,
        count,
        percent,
    }
}

/// The value a bar stands for: a string as it is, a free "other" answer as `other`.
fn value_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("other") => "other".into(),
        other => other.to_string(),
    }
}

/// Counts per value, a multi-choice answer once per option it holds.
fn per_value(counted: &[(Value, i64)]) -> BTreeMap<String, i64> {
    let mut per_value = BTreeMap::new();
    for (value, count) in counted {
        let values = match value {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        for value in values {
            *per_value.entry(value_key(&value)).or_default() += count;
        }
    }
    per_value
}

/// One bar per option in the set's order (labels in its default locale), then any other
/// value answered (an "other" answer, an option since removed), most answered first.
pub(super) fn choice_bars(
    question: &Question,
    set: &QuestionSet,
    counted: &[(Value, i64)],
    answers: i64,
) -> Vec<Bar> {
    let mut counts = per_value(counted);
    let labelled = |o: &ChoiceOption| (o.value.clone(), text(&o.label, set));
    let known: Vec<(String, String)> = match &question.kind {
        QuestionType::SingleChoice(rules) => rules.options.iter().map(labelled).collect(),
        QuestionType::MultiChoice(rules) => rules.options.iter().map(labelled).collect(),
        QuestionType::Boolean(rules) => vec![
            (
                "true".into(),
                rules
                    .true_label
                    .as_ref()
                    .map_or("Yes".into(), |t| text(t, set)),
            ),
            (
                "false".into(),
                rules
                    .false_label
                    .as_ref()
                    .map_or("No".into(), |t| text(t, set)),
            ),
        ],
        _ => Vec::new(),
    };
    let mut bars: Vec<Bar> = known
        .into_iter()
        .map(|(value, label)| {
            let count = counts.remove(&value).unwrap_or(0);
            bar(label, Some(value), count, answers)
        })
        .collect();
    let mut rest: Vec<(String, i64)> = counts.into_iter().collect();
    rest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    bars.extend(
        rest.into_iter()
            .map(|(value, count)| bar(value.clone(), Some(value), count, answers)),
    );
    bars
}

/// One bar per point of the scale, and the mean answer.
pub(super) fn scale_bars(
    question: &Question,
    counted: &[(Value, i64)],
    answers: i64,
) -> (Vec<Bar>, Option<f64>) {
    let QuestionType::Scale(rules) = &question.kind else {
        return (Vec::new(), None);
    };
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    let (mut sum, mut n) = (0.0, 0_i64);
    for (value, count) in counted {
        if let Some(number) = value.as_f64() {
            sum += number * *count as f64;
            n += count;
            *counts.entry(number.round() as i64).or_default() += count;
        }
    }
    let low = rules
        .min
        .min(counts.keys().next().copied().unwrap_or(rules.min));
    let high = rules
        .max
        .max(counts.keys().last().copied().unwrap_or(rules.max));
    let bars = (low..=high)
        .map(|point| {
            let count = counts.get(&point).copied().unwrap_or(0);
            bar(point.to_string(), Some(point.to_string()), count, answers)
        })
        .collect();
    (bars, (n > 0).then_some(sum / n as f64))
}

/// Buckets of a histogram from `min` to `max`: `(start, width, how many)`. Whole
/// numbers over a short range get one bucket each; otherwise about ten of a round width.
pub(super) fn buckets_for(min: f64, max: f64, integer: bool) -> (f64, f64, usize) {
    if max <= min {
        return (min, 1.0, 1);
    }
    if integer && max - min < 20.0 {
        return (min, 1.0, (max - min) as usize + 1);
    }
    let raw = (max - min) / 10.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let width = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|w| *w >= raw)
        .unwrap_or(10.0 * magnitude);
    let start = (min / width).floor() * width;
    let buckets = ((max - start) / width).floor() as usize + 1;
    (start, width, buckets.clamp(1, 12))
}

/// A number without a needless `.0`.
pub(super) fn number_text(number: f64) -> String {
    let rounded = (number * 1e6).round() / 1e6;
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_round_and_cover_the_range() {
        assert_eq!(buckets_for(3.0, 3.0, false), (3.0, 1.0, 1));
        assert_eq!(buckets_for(1.0, 5.0, true), (1.0, 1.0, 5));
        let (start, width, n) = buckets_for(12.0, 97.0, false);
        assert_eq!((start, width), (10.0, 10.0));
        assert!(start + width * n as f64 > 97.0 && n <= 12, "{n}");
        let (start, width, n) = buckets_for(0.5, 2.2, false);
        assert!((start - 0.4).abs() < 1e-9 && (width - 0.2).abs() < 1e-9);
        assert!(start + width * n as f64 > 2.2);
    }

    #[test]
    fn bars_round_percentages_to_one_decimal() {
        assert_eq!(bar("a".into(), None, 1, 3).percent, 33.3);
        assert_eq!(bar("a".into(), None, 0, 0).percent, 0.0);
    }
}
