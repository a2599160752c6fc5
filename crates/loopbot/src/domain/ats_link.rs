//! What `/loop link <ATS URL or id>` points at: an ATS application, from the link a person
//! copies out of the ATS or from its bare id. Pure: whether the application exists is asked of
//! the ATS later, by a job.
//!
//! Shapes read (ids are checked by form: Greenhouse ids are numbers, Ashby ids are UUIDs):
//! - Greenhouse: `https://app.greenhouse.io/people/<candidate>/applications/<application>`,
//!   `https://app.greenhouse.io/people/<candidate>?application_id=<application>` (any
//!   `*.greenhouse.io` host, e.g. `app2.`, `app.eu.`);
//! - Ashby: any `*.ashbyhq.com` link with `/applications/<uuid>` in its path or an
//!   `applicationId=<uuid>` query parameter;
//! - bare ids: `5001` (Greenhouse), `3f0c…-…` (Ashby), or either with its ATS named first:
//!   `greenhouse:5001`, `ashby:<uuid>`.

use crate::domain::ats_mapping::AtsKind;

/// An ATS application, by ATS and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtsTarget {
    pub ats: AtsKind,
    pub application_id: String,
}

/// Why the text names no application; each reads as a whole sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "Give the application's link or id, e.g. `/loop link https://app.greenhouse.io/people/123/applications/456`."
    )]
    Empty,
    #[error(
        "That link is a candidate, not an application. Open the candidate's application for this job and copy its link (or its id)."
    )]
    NoApplication,
    #[error(
        "That is not an Ashby or Greenhouse application link or id. Copy the link of the application from your ATS."
    )]
    Unrecognised,
}

pub fn parse_target(text: &str) -> Result<AtsTarget, TargetError> {
    let text = text.trim().trim_start_matches('<').trim_end_matches('>');
    // Slack sends a pasted link as `<https://…|label>`.
    let text = text.split('|').next().unwrap_or_default().trim();
    if text.is_empty() {
        return Err(TargetError::Empty);
    }
    if let Some((ats, id)) = text.split_once(':')
        && let Some(kind) = AtsKind::parse(&ats.to_ascii_lowercase())
    {
        return bare(id.trim(), Some(kind));
    }
    if !text.contains("://") {
        return bare(text, None);
    }
    let url = url::Url::parse(text).map_err(|_| TargetError::Unrecognised)?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let after = |name: &str| {
        segments
            .iter()
            .position(|s| s.eq_ignore_ascii_case(name))
            .and_then(|i| segments.get(i + 1))
            .map(|s| s.to_string())
    };
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (kind, id) = if is_host(&host, "greenhouse.io") {
        let id = after("applications").or_else(|| query("application_id"));
        match id {
            Some(id) => (AtsKind::Greenhouse, id),
            None if after("people").is_some() => return Err(TargetError::NoApplication),
            None => return Err(TargetError::Unrecognised),
        }
    } else if is_host(&host, "ashbyhq.com") {
        let id = after("applications").or_else(|| query("applicationId"));
        match id {
            Some(id) => (AtsKind::Ashby, id),
            None if after("candidates").is_some() => return Err(TargetError::NoApplication),
            None => return Err(TargetError::Unrecognised),
        }
    } else {
        return Err(TargetError::Unrecognised);
    };
    bare(&id, Some(kind))
}

fn is_host(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// A bare id, checked against the form of its ATS's ids (or telling which ATS by its form).
fn bare(id: &str, kind: Option<AtsKind>) -> Result<AtsTarget, TargetError> {
    let numeric = !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
    let uuid = is_uuid(id);
    let ats = match kind {
        Some(AtsKind::Greenhouse) if numeric => AtsKind::Greenhouse,
        Some(AtsKind::Ashby) if uuid => AtsKind::Ashby,
        None if numeric => AtsKind::Greenhouse,
        None if uuid => AtsKind::Ashby,
        _ => return Err(TargetError::Unrecognised),
    };
    Ok(AtsTarget {
        ats,
        application_id: id.to_ascii_lowercase(),
    })
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "3f0c5b6e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";

    fn gh(id: &str) -> Result<AtsTarget, TargetError> {
        Ok(AtsTarget {
            ats: AtsKind::Greenhouse,
            application_id: id.into(),
        })
    }

    fn ab(id: &str) -> Result<AtsTarget, TargetError> {
        Ok(AtsTarget {
            ats: AtsKind::Ashby,
            application_id: id.into(),
        })
    }

    #[test]
    fn greenhouse_links_and_ids() {
        for text in [
            "https://app.greenhouse.io/people/123/applications/456",
            "https://app2.greenhouse.io/people/123/applications/456/",
            "https://app.eu.greenhouse.io/people/123?application_id=456",
            "https://app.greenhouse.io/people/123?application_id=456&src=search",
            "<https://app.greenhouse.io/people/123/applications/456|Ada Lovelace>",
            "456",
            " greenhouse:456 ",
            "Greenhouse:456",
        ] {
            assert_eq!(parse_target(text), gh("456"), "{text}");
        }
    }

    #[test]
    fn ashby_links_and_ids() {
        for text in [
            format!("https://app.ashbyhq.com/candidates/{UUID}/applications/{UUID}"),
            format!("https://app.ashbyhq.com/candidates/abc?applicationId={UUID}"),
            format!(
                "https://app.ashbyhq.com/candidate-searches/new/right-side/candidates/x/applications/{}",
                UUID.to_uppercase()
            ),
            UUID.to_string(),
            format!("ashby:{UUID}"),
        ] {
            assert_eq!(parse_target(&text), ab(UUID), "{text}");
        }
    }

    #[test]
    fn malformed_input_is_refused_with_a_reason() {
        assert_eq!(parse_target("  "), Err(TargetError::Empty));
        assert_eq!(
            parse_target("https://app.greenhouse.io/people/123"),
            Err(TargetError::NoApplication)
        );
        assert_eq!(
            parse_target(&format!("https://app.ashbyhq.com/candidates/{UUID}")),
            Err(TargetError::NoApplication)
        );
        for text in [
            "abc",
            "12ab",
            "greenhouse:abc",
            &format!("greenhouse:{UUID}"),
            "ashby:456",
            "https://evil.example/people/1/applications/2",
            "https://greenhouse.io.evil.example/people/1/applications/2",
            "https://app.greenhouse.io/jobs/12",
            "https://app.greenhouse.io/people/1/applications/abc",
            "123456789012345678901234",
        ] {
            assert_eq!(parse_target(text), Err(TargetError::Unrecognised), "{text}");
        }
    }
}
