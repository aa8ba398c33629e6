//! The widget's form: one question's title, help text and control, and the actions.

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::{App, Msg};
use crate::model::{Prompt, Question};

/// One choice as rendered: value, label, whether it is chosen, what choosing does, and
/// the label's own `(lang, dir)` when it is in another language than the widget's.
type ChoiceItem = (
    String,
    String,
    bool,
    Callback<Event>,
    Option<(String, &'static str)>,
);

impl App {
    pub(super) fn form(&self, ctx: &Context<Self>, prompt: &Prompt) -> Html {
        let c = self.chrome;
        let link = ctx.link();
        let q = &prompt.question;
        let onsubmit = link.callback(|e: SubmitEvent| {
            e.prevent_default();
            Msg::Submit
        });
        let error = self
            .error
            .clone()
            .map(|e| html! { <p class="error" id="tr-error">{ e }</p> });
        let progress = (prompt.position.of > 1)
            .then(|| html! { <p class="progress">{ c.progress(prompt.position.index, prompt.position.of) }</p> });
        html! {
            <form ref={self.form.clone()} {onsubmit} novalidate=true aria-busy={self.sending.to_string()}>
                { progress }
                { self.field(ctx, q) }
                { error }
                <div class="actions">
                    <button type="submit" class="primary" disabled={self.sending}>
                        { if self.sending { c.sending } else { c.submit } }
                    </button>
                    <button type="button" class="secondary" disabled={self.sending}
                        onclick={link.callback(|_| Msg::Skip { forever: false })}>{ c.skip }</button>
                    <button type="button" class="link" disabled={self.sending}
                        onclick={link.callback(|_| Msg::Skip { forever: true })}>{ c.never }</button>
                </div>
            </form>
        }
    }

    /// The title, help text and control(s) for one question.
    fn field(&self, ctx: &Context<Self>, q: &Question) -> Html {
        let c = self.chrome;
        let description = q.description.clone().map(|d| {
            let (lang, dir) = fallback(q, "description").unzip();
            html! { <p class="description" id="tr-desc" {lang} {dir}>{ d }</p> }
        });
        let (lang, dir) = fallback(q, "title").unzip();
        let hint = self
            .prefilled
            .then(|| html! { <p class="hint">{ c.is_this_right }</p> });
        let invalid = self.error.is_some().to_string();
        let described = match (&q.description, &self.error) {
            (Some(_), Some(_)) => Some("tr-desc tr-error"),
            (Some(_), None) => Some("tr-desc"),
            (None, Some(_)) => Some("tr-error"),
            (None, None) => None,
        };
        match q.kind.as_str() {
            "single_choice" | "multi_choice" | "boolean" | "scale" => html! {
                <fieldset aria-describedby={described} aria-invalid={invalid}>
                    <legend class="title" {lang} {dir}>{ q.title.clone() }</legend>
                    { description }{ hint }
                    { self.choices(ctx, q) }
                </fieldset>
            },
            _ => html! {
                <>
                    <label class="title" for="tr-input" {lang} {dir}>{ q.title.clone() }</label>
                    { description }{ hint }
                    { self.input(ctx, q, described, invalid) }
                </>
            },
        }
    }

    fn input(
        &self,
        ctx: &Context<Self>,
        q: &Question,
        described: Option<&'static str>,
        invalid: String,
    ) -> Html {
        let link = ctx.link();
        let value = self.draft.text.clone();
        let placeholder = q.placeholder.clone();
        let required = q.required;
        let text = link.callback(|e: InputEvent| {
            Msg::Text(e.target_unchecked_into::<HtmlInputElement>().value())
        });
        match q.kind.as_str() {
            "long_text" => html! {
                <textarea id="tr-input" rows="3" {value} {placeholder} {required} aria-describedby={described} aria-invalid={invalid}
                    maxlength={q.max_length.map(|m| m.to_string())}
                    oninput={link.callback(|e: InputEvent| Msg::Text(e.target_unchecked_into::<HtmlTextAreaElement>().value()))} />
            },
            "country" => {
                let onchange = link.callback(|e: Event| {
                    Msg::Text(e.target_unchecked_into::<HtmlSelectElement>().value())
                });
                let options = crate::countries::named(&self.chrome_locale(ctx));
                html! {
                    <select id="tr-input" {required} aria-describedby={described} aria-invalid={invalid} {onchange}>
                        <option value="" selected={value.is_empty()}>{ self.chrome.choose }</option>
                        { for options.into_iter().map(|(code, name)| html! {
                            <option value={code} selected={value.eq_ignore_ascii_case(code)}>{ name }</option>
                        }) }
                    </select>
                }
            }
            kind => {
                let (kind, mode, autocomplete) = match kind {
                    "number" => ("text", "decimal", "off"),
                    "date" => ("date", "text", "off"),
                    "email" => ("email", "email", "email"),
                    "phone" => ("tel", "tel", "tel"),
                    "url" => ("url", "url", "url"),
                    _ => ("text", "text", "on"),
                };
                let (min, max) = match q.kind.as_str() {
                    "date" => (
                        q.min_date().map(str::to_owned),
                        q.max_date().map(str::to_owned),
                    ),
                    _ => (None, None),
                };
                html! {
                    <input id="tr-input" type={kind} inputmode={mode} {autocomplete} {value} {placeholder} {required} {min} {max}
                        aria-describedby={described} aria-invalid={invalid} maxlength={q.max_length.map(|m| m.to_string())}
                        oninput={text} />
                }
            }
        }
    }

    fn chrome_locale(&self, ctx: &Context<Self>) -> String {
        ctx.props().locale.clone()
    }

    /// Radio buttons or checkboxes, with "Other" and its text field when allowed.
    fn choices(&self, ctx: &Context<Self>, q: &Question) -> Html {
        let c = self.chrome;
        let link = ctx.link();
        let multi = q.kind == "multi_choice";
        let kind = if multi { "checkbox" } else { "radio" };
        let options: Vec<ChoiceItem> = match q.kind.as_str() {
            "boolean" => [
                (
                    true,
                    q.true_label.clone().unwrap_or(c.yes.into()),
                    "true_label",
                ),
                (
                    false,
                    q.false_label.clone().unwrap_or(c.no.into()),
                    "false_label",
                ),
            ]
            .into_iter()
            .map(|(flag, label, field)| {
                (
                    flag.to_string(),
                    label,
                    self.draft.flag == Some(flag),
                    link.callback(move |_| Msg::Flag(flag)),
                    fallback(q, field),
                )
            })
            .collect(),
            "scale" => {
                let low = q.min_number().unwrap_or(0.0) as i64;
                let high = (q.max_number().unwrap_or(10.0) as i64).min(low + 20);
                (low..=high)
                    .map(|n| {
                        (
                            n.to_string(),
                            n.to_string(),
                            self.draft.scale == Some(n),
                            link.callback(move |_| Msg::Scale(n)),
                            None,
                        )
                    })
                    .collect()
            }
            _ => q
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let value = o.value.clone();
                    let checked = if multi {
                        self.draft.chosen.contains(&value)
                    } else {
                        !self.draft.other && self.draft.text == value
                    };
                    let callback = if multi {
                        link.callback(move |_| Msg::Toggle(value.clone()))
                    } else {
                        link.callback(move |_| Msg::Text(value.clone()))
                    };
                    let fallback = fallback(q, &format!("options.{i}"));
                    (
                        o.value.clone(),
                        o.label.clone(),
                        checked,
                        callback,
                        fallback,
                    )
                })
                .collect(),
        };
        let scale = q.kind == "scale";
        let items = options.into_iter().enumerate().map(|(i, (value, label, checked, onchange, fallback))| {
            let id = format!("tr-opt-{i}");
            let (lang, dir) = fallback.unzip();
            html! {
                <label class={classes!("option", checked.then_some("checked"))} for={id.clone()}>
                    <input type={kind} name="tr-choice" {id} {value} {checked} {onchange} />
                    <span {lang} {dir}>{ label }</span>
                </label>
            }
        });
        let other = (q.allow_other && !scale && q.kind != "boolean").then(|| {
            let on = self.draft.other;
            let toggle = link.callback(move |_| Msg::Other(if multi { !on } else { true }));
            let text = link.callback(|e: InputEvent| Msg::OtherText(e.target_unchecked_into::<HtmlInputElement>().value()));
            html! {
                <>
                    <label class={classes!("option", on.then_some("checked"))} for="tr-opt-other">
                        <input type={kind} name="tr-choice" id="tr-opt-other" value="other" checked={on} onchange={toggle} />
                        <span>{ c.other }</span>
                    </label>
                    if on {
                        <input class="other" type="text" aria-label={c.other} value={self.draft.other_text.clone()} oninput={text} />
                    }
                </>
            }
        });
        let ends = (scale && (q.min_label.is_some() || q.max_label.is_some())).then(|| html! {
            <p class="ends" aria-hidden="true">{ for ["min_label", "max_label"].into_iter().map(|field| {
                let label = if field == "min_label" { &q.min_label } else { &q.max_label };
                let (lang, dir) = fallback(q, field).unzip();
                html! { <span {lang} {dir}>{ label.clone() }</span> }
            }) }</p>
        });
        html! {
            <>
                <div class={classes!("options", scale.then_some("scale"))} role={if multi { "group" } else { "radiogroup" }}>
                    { for items }{ other }
                </div>
                { ends }
            </>
        }
    }
}

/// `(lang, dir)` for a text that fell back to another language than the widget's, so
/// that it is read and laid out in its own; `None` when it is in the widget's.
fn fallback(q: &Question, field: &str) -> Option<(String, &'static str)> {
    q.fallback_locale(field)
        .map(|locale| (locale.to_owned(), crate::i18n::direction(locale)))
}
