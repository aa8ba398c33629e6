//! The limits both sides apply.

/// Default `max_length` of text answers, and the limit of an "other" choice's text.
pub const DEFAULT_MAX_LENGTH: u32 = 500;
/// Largest `max_length` a question set may give.
pub const MAX_LENGTH_CAP: u32 = 4096;
/// Largest answer accepted, as serialised JSON bytes.
pub const MAX_ANSWER_BYTES: usize = 4096;
/// Longest e-mail local part, in bytes (RFC 5321).
pub const MAX_EMAIL_LOCAL_BYTES: usize = 64;
/// Longest e-mail domain, in bytes.
pub const MAX_EMAIL_DOMAIN_BYTES: usize = 254;
/// Longest label of a domain name, in bytes.
pub const MAX_LABEL_BYTES: usize = 63;
