//! Plain-text rendering of Block Kit: "what a person sees" in Slack, for the demo and tests.

use serde_json::Value;

use super::{SimChannel, SimMessage, SimUser, Simulator};

const RULE: &str = "────────────────────────────────────────";

/// Lookup tables and the viewer's zone, taken once from the simulator.
struct Ctx {
    users: Vec<SimUser>,
    channels: Vec<SimChannel>,
    tz: String,
}

impl Ctx {
    fn new(sim: &Simulator, viewer_tz: &str) -> Self {
        Self {
            users: sim.users(),
            channels: sim.channels(),
            tz: viewer_tz.to_string(),
        }
    }
}

/// Renders a list of blocks as readable text, one block per paragraph.
pub fn render_blocks(sim: &Simulator, blocks: &Value, viewer_tz: &str) -> String {
    render_blocks_with(&Ctx::new(sim, viewer_tz), blocks)
}

fn render_blocks_with(ctx: &Ctx, blocks: &Value) -> String {
    let Some(items) = blocks.as_array() else {
        return String::new();
    };
    items
        .iter()
        .map(|b| block(ctx, b))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Renders a message: poster, then its blocks (or its text when it has none).
pub fn render_message(sim: &Simulator, message: &SimMessage, viewer_tz: &str) -> String {
    let ctx = Ctx::new(sim, viewer_tz);
    let poster = user_name(&ctx, &message.user);
    let body = if message.blocks.is_null() {
        mrkdwn(&ctx, &message.text)
    } else {
        render_blocks_with(&ctx, &message.blocks)
    };
    let edited = if message.edits.is_empty() {
        ""
    } else {
        " (updated)"
    };
    format!("{poster}{edited}:\n{body}")
}

/// Renders a modal or Home view: title, blocks, then the submit/close buttons.
pub fn render_view(sim: &Simulator, view: &Value, viewer_tz: &str) -> String {
    let ctx = Ctx::new(sim, viewer_tz);
    let mut parts = Vec::new();
    if let Some(title) = text_of(view.get("title")) {
        parts.push(format!("┌ {title} ┐"));
    }
    let blocks = render_blocks_with(&ctx, view.get("blocks").unwrap_or(&Value::Null));
    if !blocks.is_empty() {
        parts.push(blocks);
    }
    let buttons: Vec<String> = ["close", "submit"]
        .iter()
        .filter_map(|k| text_of(view.get(*k)))
        .map(|t| format!("[ {t} ]"))
        .collect();
    if !buttons.is_empty() {
        parts.push(buttons.join("  "));
    }
    parts.join("\n\n")
}

fn text_of(v: Option<&Value>) -> Option<String> {
    v?.get("text")?.as_str().map(str::to_string)
}

/// A text object rendered (mrkdwn gets its markup resolved; plain_text is literal).
fn text_obj(ctx: &Ctx, v: Option<&Value>) -> String {
    let Some(v) = v else {
        return String::new();
    };
    let text = v.get("text").and_then(Value::as_str).unwrap_or("");
    if v.get("type").and_then(Value::as_str) == Some("mrkdwn") {
        mrkdwn(ctx, text)
    } else {
        text.to_string()
    }
}

fn block(ctx: &Ctx, b: &Value) -> String {
    match b.get("type").and_then(Value::as_str).unwrap_or("") {
        "header" => {
            let t = text_obj(ctx, b.get("text"));
            let line = "═".repeat(t.chars().count().max(3));
            format!("{t}\n{line}")
        }
        "section" => section(ctx, b),
        "divider" => RULE.to_string(),
        "context" => elements(b)
            .iter()
            .map(|e| context_element(ctx, e))
            .collect::<Vec<_>>()
            .join("  ·  "),
        "actions" => elements(b)
            .iter()
            .map(|e| element(ctx, e))
            .collect::<Vec<_>>()
            .join("  "),
        "input" => input(ctx, b),
        "image" => format!("[image: {}]", str_field(b, "alt_text")),
        "rich_text" => rich_text(ctx, b.get("elements")),
        "markdown" => mrkdwn(ctx, &str_field(b, "text")),
        other => format!("[{other} block]"),
    }
}

fn elements(b: &Value) -> Vec<Value> {
    b.get("elements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn str_field(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn section(ctx: &Ctx, b: &Value) -> String {
    let mut lines = Vec::new();
    let text = text_obj(ctx, b.get("text"));
    if !text.is_empty() {
        lines.push(text);
    }
    if let Some(fields) = b.get("fields").and_then(Value::as_array) {
        lines.extend(
            fields
                .iter()
                .map(|f| format!("  {}", text_obj(ctx, Some(f)))),
        );
    }
    if let Some(acc) = b.get("accessory") {
        lines.push(format!("  {}", element(ctx, acc)));
    }
    lines.join("\n")
}

fn context_element(ctx: &Ctx, e: &Value) -> String {
    if e.get("type").and_then(Value::as_str) == Some("image") {
        return format!("[{}]", str_field(e, "alt_text"));
    }
    text_obj(ctx, Some(e))
}

/// An interactive element as a person sees it.
fn element(ctx: &Ctx, e: &Value) -> String {
    let placeholder = || text_obj(ctx, e.get("placeholder"));
    match e.get("type").and_then(Value::as_str).unwrap_or("") {
        "button" => format!("[ {} ]", text_obj(ctx, e.get("text"))),
        "static_select"
        | "users_select"
        | "conversations_select"
        | "channels_select"
        | "external_select"
        | "multi_static_select"
        | "multi_users_select" => {
            let shown = current_value(ctx, e).unwrap_or_else(placeholder);
            format!("[ {shown} ▾ ]")
        }
        "radio_buttons" | "checkboxes" => options(ctx, e),
        "overflow" => "[ … ]".to_string(),
        "datepicker" => format!(
            "[ {} ]",
            current_value(ctx, e).unwrap_or_else(|| "pick a date".into())
        ),
        "image" => format!("[{}]", str_field(e, "alt_text")),
        _ => current_value(ctx, e).unwrap_or_else(|| "____".into()),
    }
}

fn options(ctx: &Ctx, e: &Value) -> String {
    let selected = e
        .get("initial_option")
        .and_then(|o| o.get("value"))
        .and_then(Value::as_str);
    e.get("options")
        .and_then(Value::as_array)
        .map(|opts| {
            opts.iter()
                .map(|o| {
                    let mark = if o.get("value").and_then(Value::as_str) == selected
                        && selected.is_some()
                    {
                        "(•)"
                    } else {
                        "( )"
                    };
                    format!("{mark} {}", text_obj(ctx, o.get("text")))
                })
                .collect::<Vec<_>>()
                .join("\n  ")
        })
        .unwrap_or_default()
}

/// The element's initial value, if it shows one.
fn current_value(ctx: &Ctx, e: &Value) -> Option<String> {
    if let Some(v) = e.get("initial_value").and_then(Value::as_str) {
        return Some(v.to_string());
    }
    if let Some(o) = e.get("initial_option") {
        return Some(text_obj(ctx, o.get("text")));
    }
    if let Some(d) = e.get("initial_date").and_then(Value::as_str) {
        return Some(d.to_string());
    }
    if let Some(u) = e.get("initial_user").and_then(Value::as_str) {
        return Some(format!("@{}", user_name(ctx, u)));
    }
    let users = e.get("initial_users").and_then(Value::as_array)?;
    let names: Vec<String> = users
        .iter()
        .filter_map(Value::as_str)
        .map(|u| format!("@{}", user_name(ctx, u)))
        .collect();
    Some(names.join(", "))
}

fn input(ctx: &Ctx, b: &Value) -> String {
    let label = text_obj(ctx, b.get("label"));
    let optional = if b.get("optional").and_then(Value::as_bool) == Some(true) {
        " (optional)"
    } else {
        ""
    };
    let el = b.get("element").cloned().unwrap_or(Value::Null);
    let value = match el.get("type").and_then(Value::as_str) {
        Some("plain_text_input") => current_value(ctx, &el).unwrap_or_else(|| "____".into()),
        _ => element(ctx, &el),
    };
    let mut out = if value.contains('\n') {
        format!("{label}{optional}:\n  {value}")
    } else {
        format!("{label}{optional}: {value}")
    };
    let hint = text_obj(ctx, b.get("hint"));
    if !hint.is_empty() {
        out.push_str(&format!("\n  ({hint})"));
    }
    out
}

fn rich_text(ctx: &Ctx, elements: Option<&Value>) -> String {
    let Some(items) = elements.and_then(Value::as_array) else {
        return String::new();
    };
    items
        .iter()
        .map(
            |e| match e.get("type").and_then(Value::as_str).unwrap_or("") {
                "text" => str_field(e, "text"),
                "user" => format!("@{}", user_name(ctx, &str_field(e, "user_id"))),
                "channel" => format!("#{}", channel_name(ctx, &str_field(e, "channel_id"))),
                "link" => str_field(e, "url"),
                "emoji" => format!(":{}:", str_field(e, "name")),
                _ => rich_text(ctx, e.get("elements")),
            },
        )
        .collect()
}

fn user_name(ctx: &Ctx, id: &str) -> String {
    ctx.users
        .iter()
        .find(|u| u.id == id)
        .map(|u| {
            if u.real_name.is_empty() {
                u.name.clone()
            } else {
                u.real_name.clone()
            }
        })
        .unwrap_or_else(|| id.to_string())
}

fn channel_name(ctx: &Ctx, id: &str) -> String {
    ctx.channels
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Resolves Slack markup (`<@U>`, `<#C>`, `<!date^…>`, `<url|label>`), keeps `*bold*` as is.
fn mrkdwn(ctx: &Ctx, text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) => {
                out.push_str(&token(ctx, &after[..end]));
                rest = &after[end + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn token(ctx: &Ctx, inner: &str) -> String {
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(l)),
        None => (inner, None),
    };
    if let Some(user) = target.strip_prefix('@') {
        return format!("@{}", user_name(ctx, user));
    }
    if let Some(channel) = target.strip_prefix('#') {
        return match label {
            Some(l) if !ctx.channels.iter().any(|c| c.id == channel) => format!("#{l}"),
            _ => format!("#{}", channel_name(ctx, channel)),
        };
    }
    if let Some(special) = target.strip_prefix('!') {
        if let Some(date) = special.strip_prefix("date^") {
            return slack_date(date, &ctx.tz).unwrap_or_else(|| label.unwrap_or("").to_string());
        }
        if let Some(group) = special.strip_prefix("subteam^") {
            return format!("@{}", label.unwrap_or(group));
        }
        return format!("@{}", label.unwrap_or(special));
    }
    match label {
        Some(l) => format!("{l} ({target})"),
        None => target.to_string(),
    }
}

/// `UNIX^format[^link]` → the moment formatted in `tz`; `None` when anything is off.
fn slack_date(spec: &str, tz: &str) -> Option<String> {
    let mut parts = spec.split('^');
    let secs: i64 = parts.next()?.parse().ok()?;
    let format = parts.next()?;
    let zone = jiff::tz::TimeZone::get(tz).ok()?;
    let zoned = jiff::Timestamp::from_second(secs).ok()?.to_zoned(zone);
    let f = |pattern: &str| zoned.strftime(pattern).to_string();
    let tokens = [
        ("{date_num}", f("%Y-%m-%d")),
        ("{date_short_pretty}", f("%a %-d %b %Y")),
        ("{date_long_pretty}", f("%A, %-d %B %Y")),
        ("{date_pretty}", f("%A %-d %B %Y")),
        ("{date_short}", f("%-d %b %Y")),
        ("{date_long}", f("%A, %-d %B %Y")),
        ("{date}", f("%-d %B %Y")),
        ("{time_secs}", f("%H:%M:%S")),
        ("{time}", f("%H:%M")),
        ("{ago}", f("%a %-d %b %Y, %H:%M")),
    ];
    let has_time = ["{time}", "{time_secs}", "{ago}"]
        .iter()
        .any(|t| format.contains(t));
    let mut out = format.to_string();
    for (token, value) in tokens {
        out = out.replace(token, &value);
    }
    if has_time {
        out.push(' ');
        out.push_str(&f("%Z"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sim() -> Simulator {
        crate::test_sim("xoxb-test").0
    }

    #[test]
    fn mrkdwn_tokens_are_resolved() {
        let s = sim();
        let out = render_blocks(
            &s,
            &json!([{"type": "section", "text": {"type": "mrkdwn",
                "text": "*Hi* <@U1>, see <https://x.test|the doc> &amp; <#C9|fallback>"}}]),
            "Europe/Berlin",
        );
        assert_eq!(
            out,
            "*Hi* @Ada Lovelace, see the doc (https://x.test) & #fallback"
        );
    }

    #[test]
    fn dates_use_the_viewer_zone() {
        let s = sim();
        // 2026-11-24T13:00:00Z
        let text = "<!date^1795525200^{date_short_pretty}, {time}|24 Nov>";
        let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": text}}]);
        assert_eq!(
            render_blocks(&s, &blocks, "Europe/Berlin"),
            "Tue 24 Nov 2026, 14:00 CET"
        );
        assert_eq!(render_blocks(&s, &blocks, "Not/AZone"), "24 Nov");
    }

    #[test]
    fn blocks_render_as_paragraphs() {
        let s = sim();
        let blocks = json!([
            {"type": "header", "text": {"type": "plain_text", "text": "Loop"}},
            {"type": "divider"},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "action_id": "a"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "by <@U1>"}]}
        ]);
        let out = render_blocks(&s, &blocks, "UTC");
        assert_eq!(
            out,
            format!("Loop\n════\n\n{RULE}\n\n[ Open ]\n\nby @Ada Lovelace")
        );
    }

    #[test]
    fn views_show_title_inputs_and_submit() {
        let s = sim();
        let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "Scorecard"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "blocks": [
            {"type": "input", "label": {"type": "plain_text", "text": "Notes"}, "optional": true,
             "element": {"type": "plain_text_input", "action_id": "n"}},
            {"type": "input", "label": {"type": "plain_text", "text": "Level"},
             "element": {"type": "plain_text_input", "action_id": "l", "initial_value": "L5"}}
        ]});
        let out = render_view(&s, &view, "UTC");
        assert_eq!(
            out,
            "┌ Scorecard ┐\n\nNotes (optional): ____\n\nLevel: L5\n\n[ Submit ]"
        );
    }
}
