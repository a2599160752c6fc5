//! Small helpers for Slack's mrkdwn: escaping user text, mentions, and dates that each viewer
//! sees in their own time zone.

use crate::clock::UnixMillis;

/// Escapes the three characters Slack treats as control characters in mrkdwn.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text a person typed, escaped for mrkdwn and at most `max` characters once escaped: it is
/// cut before escaping, so an entity such as `&amp;` is never split. Ends with an ellipsis
/// when cut.
pub fn escape_within(text: &str, max: usize) -> String {
    let escaped_len = |c: char| match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    };
    let total: usize = text.chars().map(escaped_len).sum();
    if total <= max {
        return escape(text);
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in text.chars() {
        let n = escaped_len(c);
        if used + n > max.saturating_sub(1) {
            break;
        }
        used += n;
        kept.push(c);
    }
    let mut out = escape(&kept);
    out.push('…');
    out
}

pub fn mention(user: &str) -> String {
    format!("<@{user}>")
}

pub fn channel_link(channel: &str) -> String {
    format!("<#{channel}>")
}

/// People as mentions, joined with commas; `none` when there are none.
pub fn mentions(users: &[String], none: &str) -> String {
    if users.is_empty() {
        none.to_string()
    } else {
        users
            .iter()
            .map(|u| mention(u))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A moment shown in the reader's own time zone, with a UTC fallback for old clients.
pub fn date_time(at: UnixMillis) -> String {
    let secs = at.div_euclid(1000);
    let fallback = jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%a %d %b %Y %H:%M UTC").to_string())
        .unwrap_or_else(|_| "unknown time".into());
    format!("<!date^{secs}^{{date_short_pretty}} at {{time}}|{fallback}>")
}

/// A date alone, in the reader's time zone ("Dec 6"), with a UTC fallback.
pub fn date(at: UnixMillis) -> String {
    let secs = at.div_euclid(1000);
    let fallback = jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%b %-d").to_string())
        .unwrap_or_else(|_| "unknown date".into());
    format!("<!date^{secs}^{{date_short}}|{fallback}>")
}

/// A duration in words: "24 hours", "2 days", "90 minutes".
pub fn duration_words(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs >= 2 * 86_400 && secs.is_multiple_of(86_400) {
        plural(secs / 86_400, "day")
    } else if secs >= 3_600 && secs.is_multiple_of(3_600) {
        plural(secs / 3_600, "hour")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        plural(secs / 60, "minute")
    } else {
        plural(secs, "second")
    }
}

/// Cuts text to `max` characters, ending with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_within_a_limit_never_splits_an_entity() {
        assert_eq!(escape_within("a & b", 20), "a &amp; b");
        let cut = escape_within(&"&".repeat(10), 12);
        assert_eq!(cut, "&amp;&amp;…");
        assert!(cut.chars().count() <= 12);
        let long = escape_within(&"<x>".repeat(1_000), 3000);
        assert!(long.chars().count() <= 3000);
        assert!(long.ends_with("&gt;…") || long.ends_with("x…") || long.ends_with("&lt;…"));
    }

    #[test]
    fn user_text_cannot_inject_mentions() {
        assert_eq!(escape("<!channel> & co"), "&lt;!channel&gt; &amp; co");
    }

    #[test]
    fn dates_render_for_each_viewer_with_a_fallback() {
        let s = date_time(1_795_000_000_000);
        assert!(s.starts_with("<!date^1795000000^{date_short_pretty} at {time}|"));
        assert!(s.ends_with("UTC>"));
    }

    #[test]
    fn durations_read_as_words() {
        use std::time::Duration;
        assert_eq!(duration_words(Duration::from_secs(86_400)), "24 hours");
        assert_eq!(duration_words(Duration::from_secs(2 * 86_400)), "2 days");
        assert_eq!(duration_words(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(duration_words(Duration::from_secs(5_400)), "90 minutes");
        assert_eq!(duration_words(Duration::from_secs(45)), "45 seconds");
    }

    #[test]
    fn clipping_counts_characters() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("äbc", 3), "äbc");
        assert_eq!(mentions(&[], "nobody"), "nobody");
        assert_eq!(mentions(&["U1".into(), "U2".into()], ""), "<@U1>, <@U2>");
    }
}
