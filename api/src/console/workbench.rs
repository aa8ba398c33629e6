//! The editor's workbench, beside the YAML: the lint (every problem at line:column,
//! and the line-number gutter with its error markers), the outline of stages and
//! questions, and the preview of the selected question — the element the console's
//! widget script mounts the real renderer into.

use serde::Deserialize;
use std::collections::BTreeSet;

use crate::app::authoring::preview;
use crate::model::Site;
use crate::questions::{Problem, QuestionSet, QuestionType, Text, localize};

/// What the workbench controls send (all optional; unknown values fall back).
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Choices {
    /// The question selected in the outline.
    pub key: String,
    pub locale: String,
    pub theme: String,
    pub width: String,
    /// The version the editor was opened on (0 for a new set).
    pub version: String,
}

/// One line number of the gutter, with the first problem on that line.
pub struct GutterLine {
    pub number: usize,
    pub problem: Option<String>,
}

/// A question in the outline.
pub struct OutlineQuestion {
    pub key: String,
    pub title: String,
    pub kind: &'static str,
    pub selected: bool,
}

/// A stage in the outline.
pub struct OutlineStage {
    pub at_login: u32,
    pub after_days: Option<u32>,
    pub questions: Vec<OutlineQuestion>,
}

/// The preview element's data: `GET /v1/widget/next`'s body and the site's settings.
pub struct PreviewData {
    pub next: String,
    pub settings: String,
}

/// The workbench as rendered (`console/workbench.html`).
pub struct Workbench {
    /// Where its controls post (the whole form comes back re-rendered).
    pub url: String,
    /// Whether the gutter is sent as an out-of-band swap (in a fragment).
    pub oob: bool,
    pub problems: Vec<Problem>,
    pub lines: Vec<GutterLine>,
    pub stages: Vec<OutlineStage>,
    pub locales: Vec<String>,
    pub locale: String,
    pub theme: &'static str,
    pub width: &'static str,
    pub preview: Option<PreviewData>,
}

impl Workbench {
    /// The workbench for `source`, linted to `linted`, with the controls' choices.
    pub fn new(
        url: String,
        site: &Site,
        source: &str,
        linted: Result<QuestionSet, Vec<Problem>>,
        choices: &Choices,
    ) -> Workbench {
        let theme = if choices.theme == "dark" {
            "dark"
        } else {
            "light"
        };
        let width = if choices.width == "phone" {
            "phone"
        } else {
            "desktop"
        };
        let (set, problems) = match linted {
            Ok(set) => (Some(set), Vec::new()),
            Err(problems) => (None, problems),
        };
        let mut bench = Workbench {
            url,
            oob: false,
            lines: gutter(source, &problems),
            problems,
            stages: Vec::new(),
            locales: Vec::new(),
            locale: String::new(),
            theme,
            width,
            preview: None,
        };
        if let Some(set) = set {
            bench.fill(site, &set, choices);
        }
        bench
    }

    /// The outline, locales and preview of a valid set.
    fn fill(&mut self, site: &Site, set: &QuestionSet, choices: &Choices) {
        let first = set
            .stages
            .iter()
            .flat_map(|s| &s.questions)
            .next()
            .map(|q| q.key.as_str());
        let wanted = set
            .stages
            .iter()
            .flat_map(|s| &s.questions)
            .any(|q| q.key == choices.key)
            .then_some(choices.key.as_str())
            .or(first)
            .unwrap_or_default()
            .to_owned();
        self.stages = set
            .stages
            .iter()
            .map(|stage| OutlineStage {
                at_login: stage.at_login,
                after_days: stage.after_days,
                questions: stage
                    .questions
                    .iter()
                    .map(|q| OutlineQuestion {
                        key: q.key.clone(),
                        title: localize(&q.title, None, &set.default_locale).0.to_owned(),
                        kind: q.kind.name(),
                        selected: q.key == wanted,
                    })
                    .collect(),
            })
            .collect();
        self.locales = locales(set);
        self.locale = if self.locales.contains(&choices.locale) {
            choices.locale.clone()
        } else {
            set.default_locale.clone()
        };
        let version = choices.version.parse().unwrap_or(0);
        self.preview =
            preview(site, set, version, &wanted, Some(&self.locale)).map(|body| PreviewData {
                next: serde_json::to_string(&body).expect("prompts serialise"),
                settings: serde_json::to_string(&site.widget_settings).expect("settings serialise"),
            });
    }

    /// Whether `locale` is the one chosen (for the select's `selected`).
    pub fn locale_is(&self, locale: &str) -> bool {
        self.locale == locale
    }
}

/// One gutter line per source line, marked with the first problem reported on it.
fn gutter(source: &str, problems: &[Problem]) -> Vec<GutterLine> {
    let count = source.lines().count().max(1) + usize::from(source.ends_with('\n'));
    (1..=count)
        .map(|number| GutterLine {
            number,
            problem: problems
                .iter()
                .find(|p| p.line == number)
                .map(|p| format!("{}:{}: {}", p.line, p.column, p.message)),
        })
        .collect()
}

/// Every locale the set's texts are written in, the default first.
pub fn locales(set: &QuestionSet) -> Vec<String> {
    let mut found = BTreeSet::new();
    let mut add = |text: Option<&Text>| {
        if let Some(Text::Localized(map)) = text {
            found.extend(map.keys().cloned());
        }
    };
    for question in set.stages.iter().flat_map(|s| &s.questions) {
        add(Some(&question.title));
        add(question.description.as_ref());
        add(question.placeholder.as_ref());
        match &question.kind {
            QuestionType::SingleChoice(r) => r.options.iter().for_each(|o| add(Some(&o.label))),
            QuestionType::MultiChoice(r) => r.options.iter().for_each(|o| add(Some(&o.label))),
            QuestionType::Boolean(r) => {
                add(r.true_label.as_ref());
                add(r.false_label.as_ref());
            }
            QuestionType::Scale(r) => {
                add(r.min_label.as_ref());
                add(r.max_label.as_ref());
            }
            _ => {}
        }
    }
    found.remove(&set.default_locale);
    std::iter::once(set.default_locale.clone())
        .chain(found)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::parse_question_set;

    const SET: &str = "slug: s\ntitle: S\ndefault_locale: en\nstages:\n  - at_login: 1\n    questions:\n      - { key: role, type: single_choice, title: { en: Role?, de: Rolle? }, options: [{ value: a, label: { en: A, fr: A } }] }\n      - { key: city, type: text, title: City? }\n";

    #[test]
    fn locales_start_with_the_default() {
        let set = parse_question_set(SET, "s.yaml").unwrap();
        assert_eq!(locales(&set), ["en", "de", "fr"]);
    }

    #[test]
    fn the_gutter_marks_lines_with_problems() {
        let problems = vec![Problem {
            file: "s.yaml".into(),
            line: 2,
            column: 3,
            message: "bad".into(),
        }];
        let lines = gutter("a\nb\n", &problems);
        assert_eq!(lines.len(), 3, "the empty last line has a number too");
        assert_eq!(lines[1].problem.as_deref(), Some("2:3: bad"));
        assert!(lines[0].problem.is_none());
        assert_eq!(gutter("", &[]).len(), 1);
    }

    #[test]
    fn the_selected_question_is_previewed_and_unknown_choices_fall_back() {
        let set = parse_question_set(SET, "s.yaml").unwrap();
        let site = Site {
            site_id: "site_1".into(),
            name: "Shop".into(),
            publishable_key: "pk_1".into(),
            identity_secret: crate::model::site::IdentitySecret::new("secret"),
            previous_publishable_key: None,
            previous_secret_key_hash: None,
            allowed_origins: Vec::new(),
            widget_settings: crate::model::WidgetSettings::default(),
            created_at: chrono::Utc::now(),
        };
        let choices = Choices {
            key: "city".into(),
            locale: "xx".into(),
            theme: "purple".into(),
            ..Choices::default()
        };
        let bench = Workbench::new("/u".into(), &site, SET, Ok(set), &choices);
        assert_eq!(
            (bench.theme, bench.width, bench.locale.as_str()),
            ("light", "desktop", "en")
        );
        let preview = bench.preview.expect("city is previewed");
        let next: serde_json::Value = serde_json::from_str(&preview.next).unwrap();
        assert_eq!(next["prompt"]["question"]["key"], "city");
        assert_eq!(next["settings"]["corner"], "bottom-right");
        assert!(bench.stages[0].questions[1].selected);
    }
}
