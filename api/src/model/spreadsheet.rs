//! Cells of the CSV exports that spreadsheets open.

/// A text cell a spreadsheet cannot run: one that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (OWASP's rule against CSV injection). Only
/// text is passed through here: JSON numbers are written as numbers, so `-5` stays `-5`
/// (a number cannot hold a formula), while the text answer `"-5"` becomes `'-5`.
pub fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
