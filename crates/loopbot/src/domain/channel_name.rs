//! Candidate channel names within Slack's rules: lowercase letters, digits, `-` and `_`,
//! at most 80 characters, and never only punctuation.

pub const MAX_CHANNEL_NAME: usize = 80;
const PREFIX: &str = "loop-";

/// How candidate channels are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelNaming {
    /// `loop-ada-lovelace-senior-backend`
    Name,
    /// `loop-al-senior-backend`
    Initials,
}

/// The name to try first for a candidate's channel.
pub fn base_channel_name(candidate: &str, rubric_id: &str, naming: ChannelNaming) -> String {
    let person = match naming {
        ChannelNaming::Name => slug(candidate),
        ChannelNaming::Initials => initials(candidate),
    };
    let person = if person.is_empty() {
        "candidate".to_string()
    } else {
        person
    };
    let role = slug(rubric_id);
    let name = if role.is_empty() {
        format!("{PREFIX}{person}")
    } else {
        format!("{PREFIX}{person}-{role}")
    };
    truncate(&name, MAX_CHANNEL_NAME)
}

/// The neutral name a purged loop's channel gets (`loop-42-purged`): nothing of the candidate,
/// and unique to the loop. Later tries (the name taken) add `-2`, `-3`, … as for new channels.
pub fn purged_channel_name(loop_id: i64, attempt: u32) -> String {
    channel_name_attempt(&format!("{PREFIX}{loop_id}-purged"), attempt)
}

/// The name for the `attempt`-th try: the base for attempt 1, then `-2`, `-3`, … within 80 chars.
pub fn channel_name_attempt(base: &str, attempt: u32) -> String {
    if attempt <= 1 {
        return truncate(base, MAX_CHANNEL_NAME);
    }
    let suffix = format!("-{attempt}");
    let room = MAX_CHANNEL_NAME - suffix.len();
    format!("{}{suffix}", truncate(base, room))
}

fn truncate(name: &str, max: usize) -> String {
    let cut: String = name.chars().take(max).collect();
    cut.trim_end_matches(['-', '_']).to_string()
}

/// Lowercase ASCII words joined by `-`; common accented Latin letters lose their accents,
/// other characters separate words.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for ch in text.chars().flat_map(fold_char) {
        if ch.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    out
}

fn initials(name: &str) -> String {
    slug(name)
        .split('-')
        .filter_map(|word| word.chars().next())
        .collect()
}

/// Folds accented Latin letters to ASCII (`é` → `e`, `ß` → `ss`); others pass through.
fn fold_char(ch: char) -> Vec<char> {
    let folded = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
            "a"
        }
        'æ' | 'Æ' => "ae",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'đ' | 'Ď' | 'Đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ę' | 'Ě' => {
            "e"
        }
        'ğ' | 'Ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' => "i",
        'ł' | 'Ł' | 'ľ' | 'Ľ' => "l",
        'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ő' => {
            "o"
        }
        'œ' | 'Œ' => "oe",
        'ř' | 'Ř' => "r",
        'ś' | 'š' | 'ş' | 'Ś' | 'Š' | 'Ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'Ť' | 'Ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ů' | 'Ű' => {
            "u"
        }
        'ý' | 'ÿ' | 'Ý' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        _ => return vec![ch],
    };
    folded.chars().collect()
}

/// Slack's rule, as the simulator and Slack apply it.
pub fn is_valid_channel_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CHANNEL_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.chars().any(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purged_channels_are_named_by_loop_number_only() {
        assert_eq!(purged_channel_name(42, 1), "loop-42-purged");
        assert_eq!(purged_channel_name(42, 2), "loop-42-purged-2");
        assert!(purged_channel_name(i64::MAX, 9).len() <= MAX_CHANNEL_NAME);
    }

    #[test]
    fn names_follow_slack_rules_for_many_inputs() {
        let cases = [
            ("Ada Lovelace", "loop-ada-lovelace-senior-backend"),
            (
                "  José  Ñúñez-García ",
                "loop-jose-nunez-garcia-senior-backend",
            ),
            ("O'Brien, Siobhán", "loop-o-brien-siobhan-senior-backend"),
            ("李小龙", "loop-candidate-senior-backend"),
            ("!!!", "loop-candidate-senior-backend"),
            ("Straße", "loop-strasse-senior-backend"),
        ];
        for (candidate, expected) in cases {
            let name = base_channel_name(candidate, "senior-backend", ChannelNaming::Name);
            assert_eq!(name, expected, "{candidate}");
            assert!(is_valid_channel_name(&name), "{name}");
        }
    }

    #[test]
    fn initials_hide_the_name() {
        let name = base_channel_name(
            "Ada King Lovelace",
            "senior-backend",
            ChannelNaming::Initials,
        );
        assert_eq!(name, "loop-akl-senior-backend");
    }

    #[test]
    fn long_names_and_suffixes_stay_within_80_characters() {
        let long = "Wolfeschlegelsteinhausenbergerdorff ".repeat(5);
        let base = base_channel_name(&long, "senior-backend", ChannelNaming::Name);
        assert!(base.len() <= 80);
        assert!(is_valid_channel_name(&base));
        for attempt in [1, 2, 9, 10, 123] {
            let name = channel_name_attempt(&base, attempt);
            assert!(name.len() <= 80, "{name}");
            assert!(is_valid_channel_name(&name), "{name}");
            if attempt > 1 {
                assert!(name.ends_with(&format!("-{attempt}")));
            }
        }
        assert_eq!(channel_name_attempt("loop-a", 2), "loop-a-2");
    }
}
