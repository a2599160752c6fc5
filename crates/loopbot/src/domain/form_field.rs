//! A problem with one field of a form (the start form, the panel form), named so that Slack
//! can show it next to that field. A leaf: the form rules and the people rules both use it.

/// Which form field a problem belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Candidate,
    Rubric,
    HiringManager,
    StageInterviewers(String),
    StageTime(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}
