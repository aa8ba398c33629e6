//! The widget's own texts ("chrome") in each supported language. Question texts
//! come from the server, already localised.

use crate::validate::Problem;

/// The chrome strings of one language.
pub struct Chrome {
    pub lang: &'static str,
    pub rtl: bool,
    pub dialog: &'static str,
    /// "{i} of {n}"
    pub progress: &'static str,
    pub submit: &'static str,
    pub skip: &'static str,
    pub close: &'static str,
    pub never: &'static str,
    pub other: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub is_this_right: &'static str,
    pub choose: &'static str,
    pub thanks: &'static str,
    pub sending: &'static str,
    pub saved_later: &'static str,
    pub required: &'static str,
    /// "{n}" is the bound in the next six.
    pub too_short: &'static str,
    pub too_long: &'static str,
    pub below_min: &'static str,
    pub above_max: &'static str,
    pub too_few: &'static str,
    pub too_many: &'static str,
    pub not_a_number: &'static str,
    pub not_whole: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub url: &'static str,
    pub date: &'static str,
    pub other_empty: &'static str,
    pub pattern: &'static str,
    /// An answer larger than the server takes (a very long text in a wide script).
    pub too_large: &'static str,
}

const EN: Chrome = Chrome {
    lang: "en",
    rtl: false,
    dialog: "Quick question",
    progress: "{i} of {n}",
    submit: "Submit",
    skip: "Skip",
    close: "Close",
    never: "Don't ask again",
    other: "Other",
    yes: "Yes",
    no: "No",
    is_this_right: "Is this right?",
    choose: "Choose…",
    thanks: "Thank you!",
    sending: "Sending…",
    saved_later: "Saved. We'll send it when you're back online.",
    required: "Please answer or skip.",
    too_short: "Please use at least {n} characters.",
    too_long: "Please use at most {n} characters.",
    below_min: "Must be at least {n}.",
    above_max: "Must be at most {n}.",
    too_few: "Choose at least {n}.",
    too_many: "Choose at most {n}.",
    not_a_number: "Please enter a number.",
    not_whole: "Please enter a whole number.",
    email: "Please enter a valid e-mail address.",
    phone: "Use the international format, e.g. +49 30 1234567.",
    url: "Please enter a web address starting with https://.",
    date: "Please enter a valid date.",
    other_empty: "Please say what \"Other\" is.",
    pattern: "This doesn't have the expected format.",
    too_large: "This answer is too long.",
};

const DE: Chrome = Chrome {
    lang: "de",
    rtl: false,
    dialog: "Kurze Frage",
    progress: "{i} von {n}",
    submit: "Senden",
    skip: "Überspringen",
    close: "Schließen",
    never: "Nicht mehr fragen",
    other: "Sonstiges",
    yes: "Ja",
    no: "Nein",
    is_this_right: "Stimmt das?",
    choose: "Auswählen…",
    thanks: "Danke!",
    sending: "Wird gesendet…",
    saved_later: "Gespeichert. Wir senden es, sobald Sie wieder online sind.",
    required: "Bitte antworten oder überspringen.",
    too_short: "Bitte mindestens {n} Zeichen.",
    too_long: "Bitte höchstens {n} Zeichen.",
    below_min: "Mindestens {n}.",
    above_max: "Höchstens {n}.",
    too_few: "Bitte mindestens {n} auswählen.",
    too_many: "Bitte höchstens {n} auswählen.",
    not_a_number: "Bitte eine Zahl eingeben.",
    not_whole: "Bitte eine ganze Zahl eingeben.",
    email: "Bitte eine gültige E-Mail-Adresse eingeben.",
    phone: "Bitte im internationalen Format, z. B. +49 30 1234567.",
    url: "Bitte eine Webadresse mit https:// eingeben.",
    date: "Bitte ein gültiges Datum eingeben.",
    other_empty: "Bitte „Sonstiges“ ausfüllen.",
    pattern: "Das Format passt nicht.",
    too_large: "Diese Antwort ist zu lang.",
};

const FR: Chrome = Chrome {
    lang: "fr",
    rtl: false,
    dialog: "Petite question",
    progress: "{i} sur {n}",
    submit: "Envoyer",
    skip: "Passer",
    close: "Fermer",
    never: "Ne plus demander",
    other: "Autre",
    yes: "Oui",
    no: "Non",
    is_this_right: "Est-ce exact ?",
    choose: "Choisir…",
    thanks: "Merci !",
    sending: "Envoi…",
    saved_later: "Enregistré. Envoi dès que vous serez en ligne.",
    required: "Veuillez répondre ou passer.",
    too_short: "Au moins {n} caractères.",
    too_long: "Au plus {n} caractères.",
    below_min: "Au moins {n}.",
    above_max: "Au plus {n}.",
    too_few: "Choisissez-en au moins {n}.",
    too_many: "Choisissez-en au plus {n}.",
    not_a_number: "Veuillez saisir un nombre.",
    not_whole: "Veuillez saisir un nombre entier.",
    email: "Veuillez saisir une adresse e-mail valide.",
    phone: "Format international, par ex. +33 1 23 45 67 89.",
    url: "Veuillez saisir une adresse commençant par https://.",
    date: "Veuillez saisir une date valide.",
    other_empty: "Veuillez préciser « Autre ».",
    pattern: "Le format n'est pas celui attendu.",
    too_large: "Cette réponse est trop longue.",
};

const ES: Chrome = Chrome {
    lang: "es",
    rtl: false,
    dialog: "Una pregunta rápida",
    progress: "{i} de {n}",
    submit: "Enviar",
    skip: "Omitir",
    close: "Cerrar",
    never: "No volver a preguntar",
    other: "Otro",
    yes: "Sí",
    no: "No",
    is_this_right: "¿Es correcto?",
    choose: "Elegir…",
    thanks: "¡Gracias!",
    sending: "Enviando…",
    saved_later: "Guardado. Lo enviaremos cuando vuelvas a estar en línea.",
    required: "Responde u omite la pregunta.",
    too_short: "Usa al menos {n} caracteres.",
    too_long: "Usa como máximo {n} caracteres.",
    below_min: "Debe ser al menos {n}.",
    above_max: "Debe ser como máximo {n}.",
    too_few: "Elige al menos {n}.",
    too_many: "Elige como máximo {n}.",
    not_a_number: "Introduce un número.",
    not_whole: "Introduce un número entero.",
    email: "Introduce un correo electrónico válido.",
    phone: "Usa el formato internacional, p. ej. +34 912 345 678.",
    url: "Introduce una dirección que empiece por https://.",
    date: "Introduce una fecha válida.",
    other_empty: "Indica qué es «Otro».",
    pattern: "El formato no es el esperado.",
    too_large: "Esta respuesta es demasiado larga.",
};

const PT: Chrome = Chrome {
    lang: "pt",
    rtl: false,
    dialog: "Pergunta rápida",
    progress: "{i} de {n}",
    submit: "Enviar",
    skip: "Pular",
    close: "Fechar",
    never: "Não perguntar de novo",
    other: "Outro",
    yes: "Sim",
    no: "Não",
    is_this_right: "Está correto?",
    choose: "Escolher…",
    thanks: "Obrigado!",
    sending: "Enviando…",
    saved_later: "Salvo. Enviaremos quando você estiver online.",
    required: "Responda ou pule a pergunta.",
    too_short: "Use pelo menos {n} caracteres.",
    too_long: "Use no máximo {n} caracteres.",
    below_min: "Deve ser pelo menos {n}.",
    above_max: "Deve ser no máximo {n}.",
    too_few: "Escolha pelo menos {n}.",
    too_many: "Escolha no máximo {n}.",
    not_a_number: "Digite um número.",
    not_whole: "Digite um número inteiro.",
    email: "Digite um e-mail válido.",
    phone: "Use o formato internacional, ex. +55 11 91234 5678.",
    url: "Digite um endereço que comece com https://.",
    date: "Digite uma data válida.",
    other_empty: "Diga o que é \"Outro\".",
    pattern: "O formato não é o esperado.",
    too_large: "Esta resposta é longa demais.",
};

const JA: Chrome = Chrome {
    lang: "ja",
    rtl: false,
    dialog: "簡単な質問",
    progress: "{i} / {n}",
    submit: "送信",
    skip: "スキップ",
    close: "閉じる",
    never: "今後表示しない",
    other: "その他",
    yes: "はい",
    no: "いいえ",
    is_this_right: "こちらで正しいですか？",
    choose: "選択…",
    thanks: "ありがとうございます！",
    sending: "送信中…",
    saved_later: "保存しました。オンラインに戻ったら送信します。",
    required: "回答するかスキップしてください。",
    too_short: "{n} 文字以上で入力してください。",
    too_long: "{n} 文字以内で入力してください。",
    below_min: "{n} 以上にしてください。",
    above_max: "{n} 以下にしてください。",
    too_few: "{n} 個以上選んでください。",
    too_many: "{n} 個以内で選んでください。",
    not_a_number: "数値を入力してください。",
    not_whole: "整数を入力してください。",
    email: "有効なメールアドレスを入力してください。",
    phone: "国際形式で入力してください（例: +81 3 1234 5678）。",
    url: "https:// で始まるアドレスを入力してください。",
    date: "有効な日付を入力してください。",
    other_empty: "「その他」の内容を入力してください。",
    pattern: "形式が正しくありません。",
    too_large: "回答が長すぎます。",
};

const AR: Chrome = Chrome {
    lang: "ar",
    rtl: true,
    dialog: "سؤال سريع",
    progress: "{i} من {n}",
    submit: "إرسال",
    skip: "تخطي",
    close: "إغلاق",
    never: "لا تسألني مرة أخرى",
    other: "أخرى",
    yes: "نعم",
    no: "لا",
    is_this_right: "هل هذا صحيح؟",
    choose: "اختر…",
    thanks: "شكرًا لك!",
    sending: "جارٍ الإرسال…",
    saved_later: "تم الحفظ. سنرسله عند عودتك إلى الاتصال.",
    required: "يرجى الإجابة أو التخطي.",
    too_short: "استخدم {n} أحرف على الأقل.",
    too_long: "استخدم {n} حرفًا على الأكثر.",
    below_min: "يجب ألا يقل عن {n}.",
    above_max: "يجب ألا يزيد عن {n}.",
    too_few: "اختر {n} على الأقل.",
    too_many: "اختر {n} على الأكثر.",
    not_a_number: "يرجى إدخال رقم.",
    not_whole: "يرجى إدخال عدد صحيح.",
    email: "يرجى إدخال بريد إلكتروني صالح.",
    phone: "استخدم الصيغة الدولية، مثل ‎+971 4 123 4567.",
    url: "يرجى إدخال عنوان يبدأ بـ https://.",
    date: "يرجى إدخال تاريخ صالح.",
    other_empty: "يرجى توضيح \"أخرى\".",
    pattern: "الصيغة غير صحيحة.",
    too_large: "هذه الإجابة طويلة جدًا.",
};

const ALL: [&Chrome; 7] = [&EN, &DE, &FR, &ES, &PT, &JA, &AR];

/// The chrome for a BCP 47 tag: exact language, else English (`pt-BR` → `pt`).
pub fn chrome(locale: &str) -> &'static Chrome {
    let primary = locale.split(['-', '_']).next().unwrap_or_default();
    ALL.into_iter()
        .find(|c| c.lang.eq_ignore_ascii_case(primary))
        .unwrap_or(&EN)
}

/// Languages written right to left (primary subtags).
const RTL: [&str; 10] = ["ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb", "sd", "ug"];

/// `rtl` or `ltr` for a BCP 47 tag, for texts in a language other than the widget's.
pub fn direction(locale: &str) -> &'static str {
    let primary = locale.split(['-', '_']).next().unwrap_or_default();
    if RTL.iter().any(|l| l.eq_ignore_ascii_case(primary)) {
        "rtl"
    } else {
        "ltr"
    }
}

impl Chrome {
    /// "2 of 3".
    pub fn progress(&self, index: u32, of: u32) -> String {
        self.progress
            .replace("{i}", &index.to_string())
            .replace("{n}", &of.to_string())
    }

    /// The message for a validation problem.
    pub fn problem(&self, problem: &Problem) -> String {
        let with = |s: &str, n: &dyn ToString| s.replace("{n}", &n.to_string());
        match problem {
            Problem::Required => self.required.into(),
            Problem::TooShort(n) => with(self.too_short, n),
            Problem::TooLong(n) => with(self.too_long, n),
            Problem::BelowMin(n) => with(self.below_min, n),
            Problem::AboveMax(n) => with(self.above_max, n),
            Problem::TooFew(n) => with(self.too_few, n),
            Problem::TooMany(n) => with(self.too_many, n),
            Problem::NotANumber => self.not_a_number.into(),
            Problem::NotWhole => self.not_whole.into(),
            Problem::Email => self.email.into(),
            Problem::Phone => self.phone.into(),
            Problem::Url => self.url.into(),
            Problem::Date => self.date.into(),
            Problem::Other => self.other_empty.into(),
            Problem::Pattern | Problem::Format => self.pattern.into(),
            Problem::Option => self.required.into(),
            Problem::TooLarge => self.too_large.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn locales_fall_back_to_their_language_then_english() {
        assert_eq!(chrome("pt-BR").lang, "pt");
        assert_eq!(chrome("de_AT").lang, "de");
        assert_eq!(chrome("zz").lang, "en");
        assert!(chrome("ar").rtl);
        assert_eq!(direction("ar-EG"), "rtl");
        assert_eq!(direction("he"), "rtl");
        assert_eq!(direction("en"), "ltr");
        assert_eq!(direction("de_AT"), "ltr");
        assert_eq!(chrome("fr").progress(2, 3), "2 sur 3");
        assert_eq!(
            chrome("en").problem(&Problem::TooLong(5)),
            "Please use at most 5 characters."
        );
    }
}
