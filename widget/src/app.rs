//! The widget's one component: a prompt card with the question, progress, inline
//! validation, and Submit / Skip / Close / "Don't ask again".

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

use crate::bridge::{Bridge, Failure};
use crate::i18n::{Chrome, chrome};
use crate::model::{Prompt, Question, Settings};
use crate::validate::{Draft, draft_from_prefill, validate};
use crate::value::Value;

/// One choice as rendered: value, label, whether it is chosen, what choosing does, and
/// the label's own `(lang, dir)` when it is in another language than the widget's.
type ChoiceItem = (
    String,
    String,
    bool,
    Callback<Event>,
    Option<(String, &'static str)>,
);

const CSS: &str = include_str!("style.css");

#[derive(Properties, PartialEq)]
pub struct Props {
    pub prompt: Prompt,
    pub settings: Settings,
    pub locale: String,
    pub bridge: Bridge,
}

pub struct App {
    prompt: Option<Prompt>,
    draft: Draft,
    /// The prefill is still in place, unedited ("Is this right?").
    prefilled: bool,
    error: Option<String>,
    sending: bool,
    /// Text of the polite live region.
    status: String,
    /// The closing message after the last prompt.
    done: Option<String>,
    chrome: &'static Chrome,
    /// The form, to move focus into the next question after an answer or skip.
    form: NodeRef,
    /// Focus the next question's first control once it is rendered: the user has just
    /// answered or skipped inside the widget (never set when it first shows).
    focus_next: bool,
    /// The root element, whose theme variables are set through the CSSOM: pages with a
    /// strict Content-Security-Policy (the console's) refuse inline `style` attributes.
    root: NodeRef,
}

pub enum Msg {
    Announce,
    Text(String),
    Toggle(String),
    Other(bool),
    OtherText(String),
    Flag(bool),
    Scale(i64),
    Submit,
    Skip {
        forever: bool,
    },
    Close,
    Sent {
        action: Action,
        result: Result<String, Failure>,
    },
}

#[derive(Clone, Copy, PartialEq)]
pub enum Action {
    Answer,
    Skip,
    Never,
}

/// `{question_set, version, key}` of a prompt.
fn reference(p: &Prompt) -> Value {
    Value::object([
        ("question_set", p.question_set.as_str().into()),
        ("version", (p.version as f64).into()),
        ("key", p.question.key.as_str().into()),
    ])
}

impl App {
    /// Records the impression and tells the host page.
    fn shown(&self, ctx: &Context<Self>) {
        let Some(prompt) = &self.prompt else { return };
        let bridge = ctx.props().bridge.clone();
        let target = reference(prompt);
        bridge.emit("shown", &target);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = bridge.send("impressions", target.to_json()).await;
        });
    }

    fn start(&mut self, prompt: Option<Prompt>) {
        self.draft = prompt
            .as_ref()
            .map(|p| draft_from_prefill(&p.question))
            .unwrap_or_default();
        self.prefilled = prompt
            .as_ref()
            .is_some_and(|p| p.question.prefill.is_some());
        self.error = None;
        self.prompt = prompt;
    }

    fn send(&mut self, ctx: &Context<Self>, action: Action, body: Value) {
        self.sending = true;
        self.error = None;
        let kind = if action == Action::Answer {
            "answers"
        } else {
            "skips"
        };
        let bridge = ctx.props().bridge.clone();
        let done = ctx
            .link()
            .callback(move |result| Msg::Sent { action, result });
        wasm_bindgen_futures::spawn_local(async move {
            done.emit(bridge.send(kind, body.to_json()).await);
        });
    }

    fn edited(&mut self) {
        self.prefilled = false;
        self.error = None;
    }

    fn submit(&mut self, ctx: &Context<Self>) {
        let Some(prompt) = &self.prompt else { return };
        let q = &prompt.question;
        match validate(q, &self.draft) {
            Ok(value) => {
                let mut body = reference(prompt);
                body.set("value", value);
                self.send(ctx, Action::Answer, body);
            }
            Err(problem) => {
                let message = self.chrome.problem(&problem);
                self.refuse(message);
            }
        }
    }

    /// Shows why an answer was refused, beside the field and in the live region.
    fn refuse(&mut self, message: String) {
        self.status = message.clone();
        self.error = Some(message);
    }

    /// After a send: the next prompt, a server refusal, or the end.
    fn sent(&mut self, ctx: &Context<Self>, action: Action, result: Result<String, Failure>) {
        self.sending = false;
        let Some(prompt) = self.prompt.clone() else {
            return;
        };
        let mut detail = reference(&prompt);
        let next = match result {
            Err(Failure::Refused(message)) if action == Action::Answer => {
                self.refuse(message);
                return;
            }
            Err(Failure::Queued) => {
                self.finish(ctx, self.chrome.saved_later);
                None
            }
            Err(Failure::Refused(_)) => None,
            Ok(body) => js_sys::JSON::parse(&body)
                .ok()
                .and_then(|v| js_sys::Reflect::get(&v, &"next".into()).ok())
                .and_then(|next| Prompt::from_js(&next)),
        };
        let event = match action {
            Action::Answer => {
                if let Ok(value) = validate(&prompt.question, &self.draft) {
                    detail.set("value", value);
                }
                "answered"
            }
            Action::Skip => "skipped",
            Action::Never => {
                detail.set("reason", "never".into());
                "dismissed"
            }
        };
        ctx.props().bridge.emit(event, &detail);
        match next {
            Some(next) => {
                self.status = format!(
                    "{} {}",
                    self.chrome.progress(next.position.index, next.position.of),
                    next.question.title
                );
                self.start(Some(next));
                self.focus_next = true;
                self.shown(ctx);
            }
            None if self.done.is_none() => {
                let message = if action == Action::Answer {
                    self.chrome.thanks
                } else {
                    ""
                };
                self.finish(ctx, message);
            }
            None => {}
        }
    }

    fn finish(&mut self, ctx: &Context<Self>, message: &str) {
        if message.is_empty() {
            ctx.props().bridge.close();
            return;
        }
        self.done = Some(message.to_owned());
        self.status = message.to_owned();
        let bridge = ctx.props().bridge.clone();
        bridge.clone().later(2500, move || bridge.close());
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        let props = ctx.props();
        let mut app = App {
            prompt: None,
            draft: Draft::default(),
            prefilled: false,
            error: None,
            sending: false,
            status: String::new(),
            done: None,
            chrome: chrome(&props.locale),
            form: NodeRef::default(),
            focus_next: false,
            root: NodeRef::default(),
        };
        app.start(Some(props.prompt.clone()));
        app.shown(ctx);
        app
    }

    fn rendered(&mut self, ctx: &Context<Self>, first_render: bool) {
        if first_render {
            // Announced after the live region exists, so screen readers read it.
            ctx.link().send_message(Msg::Announce);
            if let Some(root) = self.root.cast::<web_sys::HtmlElement>() {
                let theme = &ctx.props().settings.theme;
                let style = root.style();
                let _ = style.set_property("--tr-brand", &theme.brand_color);
                let _ = style.set_property("--tr-font", &theme.font);
                let _ = style.set_property("--tr-radius", &format!("{}px", theme.radius_px));
            }
        }
        if std::mem::take(&mut self.focus_next) {
            let Some(form) = self.form.cast::<web_sys::Element>() else {
                return;
            };
            if !focus_is_free_or_ours(&form) {
                return;
            }
            let first = form
                .query_selector("input,select,textarea")
                .ok()
                .flatten()
                .and_then(|control| control.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(control) = first {
                let _ = control.focus();
            }
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Announce => {
                if let Some(p) = &self.prompt {
                    self.status = format!("{}: {}", self.chrome.dialog, p.question.title);
                }
            }
            Msg::Text(text) => {
                self.draft.text = text;
                self.draft.other = false;
                self.edited();
            }
            Msg::Toggle(value) => {
                if let Some(i) = self.draft.chosen.iter().position(|v| *v == value) {
                    self.draft.chosen.remove(i);
                } else {
                    self.draft.chosen.push(value);
                }
                self.edited();
            }
            Msg::Other(on) => {
                self.draft.other = on;
                self.edited();
            }
            Msg::OtherText(text) => {
                self.draft.other_text = text;
                self.edited();
            }
            Msg::Flag(flag) => {
                self.draft.flag = Some(flag);
                self.edited();
            }
            Msg::Scale(n) => {
                self.draft.scale = Some(n);
                self.edited();
            }
            Msg::Submit if !self.sending => self.submit(ctx),
            Msg::Skip { forever } if !self.sending => {
                let Some(prompt) = &self.prompt else {
                    return false;
                };
                let mut body = reference(prompt);
                body.set("forever", forever.into());
                let action = if forever { Action::Never } else { Action::Skip };
                self.send(ctx, action, body);
            }
            Msg::Close => {
                if let Some(prompt) = &self.prompt {
                    let mut detail = reference(prompt);
                    detail.set("reason", "closed".into());
                    ctx.props().bridge.emit("dismissed", &detail);
                }
                ctx.props().bridge.close();
            }
            Msg::Sent { action, result } => self.sent(ctx, action, result),
            Msg::Submit | Msg::Skip { .. } => return false,
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let props = ctx.props();
        let class = classes!("root", props.settings.theme.mode.clone());
        let c = self.chrome;
        let link = ctx.link();
        let onkeydown =
            link.batch_callback(|e: KeyboardEvent| (e.key() == "Escape").then_some(Msg::Close));
        let card = match (&self.done, &self.prompt) {
            (Some(message), _) => html! { <p class="done">{ message.clone() }</p> },
            (None, Some(prompt)) => self.form(ctx, prompt),
            (None, None) => html! {},
        };
        html! {
            <div ref={self.root.clone()} {class} lang={c.lang} dir={if c.rtl { "rtl" } else { "ltr" }}>
                <style>{ CSS }</style>
                <section class="card" role="dialog" aria-modal="false" aria-label={c.dialog} {onkeydown}>
                    <button type="button" class="close" aria-label={c.close} title={c.close}
                        onclick={link.callback(|_| Msg::Close)}>{ "×" }</button>
                    { card }
                </section>
                <div class="sr" role="status" aria-live="polite">{ self.status.clone() }</div>
            </div>
        }
    }
}

/// Whether focus is nowhere (the page's body) or already in the widget: only then may
/// the next question take it. While an answer was being sent the user may have moved on
/// to the page, and focus must stay where they put it.
fn focus_is_free_or_ours(form: &web_sys::Element) -> bool {
    let Some(document) = form.owner_document() else {
        return false;
    };
    let Some(active) = document.active_element() else {
        return true;
    };
    let body: Option<web_sys::Element> = document.body().map(Into::into);
    // Inside an open shadow root the document sees the shadow host as focused.
    let host = js_sys::Reflect::get(&form.get_root_node(), &"host".into())
        .ok()
        .and_then(|h| h.dyn_into::<web_sys::Element>().ok());
    body.as_ref() == Some(&active) || host.as_ref() == Some(&active) || form.contains(Some(&active))
}

impl App {
    fn form(&self, ctx: &Context<Self>, prompt: &Prompt) -> Html {
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
