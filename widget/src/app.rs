//! The widget's one component: a prompt card with the question, progress, inline
//! validation, and Submit / Skip / Close / "Don't ask again".

use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

use crate::bridge::{Bridge, Failure};
use crate::i18n::{Chrome, chrome};
use crate::model::{Prompt, Settings};
use crate::validate::{Draft, draft_from_prefill, validate};
use crate::value::Value;

mod form;

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
