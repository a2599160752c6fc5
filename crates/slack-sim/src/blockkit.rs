//! Block Kit and view limit checks. Pure functions: each returns the first violation found,
//! phrased like Slack's `response_metadata.messages` entries (`rule [json-pointer:/path]`).

use std::collections::HashSet;

use serde_json::Value;

/// Where blocks are shown; the limits differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Message,
    Modal,
    Home,
}

/// Largest serialized view Slack accepts (`view_too_large` above it).
pub const MAX_VIEW_BYTES: usize = 250 * 1024;

type Check = Result<(), String>;

const ELEMENT_TYPES: &[&str] = &[
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "image",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "number_input",
    "overflow",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "timepicker",
    "url_text_input",
    "workflow_button",
    "file_input",
];

/// Where a check is in the JSON, written out only for a violation: a view's checks walk
/// hundreds of fields, and building each one's pointer as text up front was about an eighth of
/// the simulator's work for a `views.open` (`perf`, docs/performance.md, thirteenth run).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'static str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(root) => f.write_str(root),
            Path::Key(parent, key) => write!(f, "{parent}/{key}"),
            Path::Index(parent, i) => write!(f, "{parent}/{i}"),
        }
    }
}

/// The view itself, and the blocks of a message or a view.
const ROOT: Path<'static> = Path::Root("");
const BLOCKS: Path<'static> = Path::Root("/blocks");

fn violation(rule: impl std::fmt::Display, path: &Path<'_>) -> String {
    format!("{rule} [json-pointer:{path}]")
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn max_len(value: Option<&Value>, max: usize, path: &Path<'_>) -> Check {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if chars(s) <= max => Ok(()),
        Some(Value::String(_)) => Err(violation(
            format!("must be less than {} characters", max + 1),
            path,
        )),
        Some(_) => Err(violation("must be a string", path)),
    }
}

/// A text composition object: `{type: plain_text|mrkdwn, text}` with 1..=max characters.
fn text_object(value: &Value, max: usize, plain_only: bool, path: &Path<'_>) -> Check {
    let kind = value.get("type").and_then(Value::as_str);
    match kind {
        Some("plain_text") => {}
        Some("mrkdwn") if !plain_only => {}
        Some("mrkdwn") => {
            return Err(violation(
                "must be a valid enum value (plain_text)",
                &path.key("type"),
            ));
        }
        _ => return Err(violation("must be a text object", &path.key("type"))),
    }
    let text_path = path.key("text");
    match value.get("text").and_then(Value::as_str) {
        None => Err(violation("missing required field: text", path)),
        Some("") => Err(violation("must be more than 0 characters", &text_path)),
        Some(s) if chars(s) > max => Err(violation(
            format!("must be less than {} characters", max + 1),
            &text_path,
        )),
        Some(_) => Ok(()),
    }
}

fn optional_text(value: Option<&Value>, max: usize, plain_only: bool, path: &Path<'_>) -> Check {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(v) => text_object(v, max, plain_only, path),
    }
}

fn array<'a>(value: Option<&'a Value>, path: &Path<'_>) -> Result<&'a Vec<Value>, String> {
    value
        .and_then(Value::as_array)
        .ok_or_else(|| violation("must be an array", path))
}

fn count(items: &[Value], min: usize, max: usize, path: &Path<'_>) -> Check {
    if items.len() > max {
        return Err(violation(
            format!("must provide no more than {max} items"),
            path,
        ));
    }
    if items.len() < min {
        return Err(violation(
            format!("must provide at least {min} items"),
            path,
        ));
    }
    Ok(())
}

/// Checks a list of blocks for the given surface.
pub fn validate_blocks(blocks: &Value, surface: Surface) -> Check {
    let items = array(Some(blocks), &BLOCKS)?;
    let max = if surface == Surface::Message { 50 } else { 100 };
    count(items, 0, max, &BLOCKS)?;
    let mut block_ids = HashSet::new();
    for (i, block) in items.iter().enumerate() {
        let path = BLOCKS.index(i);
        if let Some(id) = block.get("block_id") {
            max_len(Some(id), 255, &path.key("block_id"))?;
            if let Some(id) = id.as_str()
                && !block_ids.insert(id.to_string())
            {
                return Err(violation(
                    format!("duplicate block_id: {id}"),
                    &path.key("block_id"),
                ));
            }
        }
        validate_block(block, surface, &path)?;
    }
    Ok(())
}

fn validate_block(block: &Value, surface: Surface, path: &Path<'_>) -> Check {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "section" => section(block, path),
        "header" => text_object_field(block, "text", 150, true, path),
        "divider" => Ok(()),
        "context" => context(block, path),
        "actions" => actions(block, path),
        "input" if surface != Surface::Message => input(block, path),
        "image" => image(block, path),
        "rich_text" => array(block.get("elements"), &path.key("elements")).map(|_| ()),
        "markdown" => {
            let text = block.get("text");
            if text.and_then(Value::as_str).is_none() {
                return Err(violation("missing required field: text", path));
            }
            max_len(text, 12_000, &path.key("text"))
        }
        "" => Err(violation("missing required field: type", path)),
        other => Err(violation(
            format!("unsupported type: {other}"),
            &path.key("type"),
        )),
    }
}

fn text_object_field(obj: &Value, field: &str, max: usize, plain: bool, path: &Path<'_>) -> Check {
    match obj.get(field) {
        None | Some(Value::Null) => {
            Err(violation(format!("missing required field: {field}"), path))
        }
        Some(v) => text_object(v, max, plain, &path.key(field)),
    }
}

fn section(block: &Value, path: &Path<'_>) -> Check {
    let text = block.get("text").filter(|v| !v.is_null());
    let fields = block.get("fields").filter(|v| !v.is_null());
    if text.is_none() && fields.is_none() {
        return Err(violation("must provide either text or fields", path));
    }
    optional_text(text, 3000, false, &path.key("text"))?;
    if fields.is_some() {
        let fields_path = path.key("fields");
        let items = array(fields, &fields_path)?;
        count(items, 1, 10, &fields_path)?;
        for (i, field) in items.iter().enumerate() {
            text_object(field, 2000, false, &fields_path.index(i))?;
        }
    }
    match block.get("accessory") {
        None | Some(Value::Null) => Ok(()),
        Some(el) => element(el, &path.key("accessory")),
    }
}

fn context(block: &Value, path: &Path<'_>) -> Check {
    let el_path = path.key("elements");
    let items = array(block.get("elements"), &el_path)?;
    count(items, 1, 10, &el_path)?;
    for (i, el) in items.iter().enumerate() {
        let p = el_path.index(i);
        match el.get("type").and_then(Value::as_str) {
            Some("image") => image(el, &p)?,
            _ => text_object(el, 3000, false, &p)?,
        }
    }
    Ok(())
}

fn actions(block: &Value, path: &Path<'_>) -> Check {
    let el_path = path.key("elements");
    let items = array(block.get("elements"), &el_path)?;
    count(items, 1, 25, &el_path)?;
    let mut action_ids = HashSet::new();
    for (i, el) in items.iter().enumerate() {
        let p = el_path.index(i);
        element(el, &p)?;
        if let Some(id) = el.get("action_id").and_then(Value::as_str)
            && !action_ids.insert(id.to_string())
        {
            return Err(violation(
                format!("duplicate action_id: {id}"),
                &p.key("action_id"),
            ));
        }
    }
    Ok(())
}

fn boolean(obj: &Value, field: &str, path: &Path<'_>) -> Check {
    match obj.get(field) {
        None | Some(Value::Null) | Some(Value::Bool(_)) => Ok(()),
        Some(_) => Err(violation("must be a boolean", &path.key(field))),
    }
}

fn input(block: &Value, path: &Path<'_>) -> Check {
    text_object_field(block, "label", 2000, true, path)?;
    optional_text(block.get("hint"), 2000, true, &path.key("hint"))?;
    boolean(block, "dispatch_action", path)?;
    boolean(block, "optional", path)?;
    match block.get("element") {
        None | Some(Value::Null) => Err(violation("missing required field: element", path)),
        Some(el) => element(el, &path.key("element")),
    }
}

fn image(block: &Value, path: &Path<'_>) -> Check {
    let has_source = block.get("image_url").and_then(Value::as_str).is_some()
        || block.get("slack_file").is_some();
    if !has_source {
        return Err(violation("missing required field: image_url", path));
    }
    if block.get("alt_text").and_then(Value::as_str).is_none() {
        return Err(violation("missing required field: alt_text", path));
    }
    max_len(block.get("alt_text"), 2000, &path.key("alt_text"))?;
    max_len(block.get("image_url"), 3000, &path.key("image_url"))
}

/// Checks one interactive element (button, select, input, ...).
fn element(el: &Value, path: &Path<'_>) -> Check {
    let kind = el.get("type").and_then(Value::as_str).unwrap_or("");
    if !ELEMENT_TYPES.contains(&kind) {
        return Err(violation(
            format!("unsupported element type: {kind}"),
            &path.key("type"),
        ));
    }
    max_len(el.get("action_id"), 255, &path.key("action_id"))?;
    optional_text(el.get("placeholder"), 150, true, &path.key("placeholder"))?;
    match kind {
        "button" => button(el, path),
        "static_select" | "multi_static_select" => options(el, 100, path),
        "radio_buttons" | "checkboxes" => {
            options(el, 10, path)?;
            initial_options(el, path)
        }
        "overflow" => options(el, 5, path),
        "plain_text_input" => plain_text_input(el, path),
        "image" => image(el, path),
        _ => Ok(()),
    }
}

fn button(el: &Value, path: &Path<'_>) -> Check {
    text_object_field(el, "text", 75, true, path)?;
    max_len(el.get("value"), 2000, &path.key("value"))?;
    max_len(el.get("url"), 3000, &path.key("url"))?;
    match el.get("style") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == "primary" || s == "danger" => Ok(()),
        Some(_) => Err(violation(
            "must be a valid enum value (primary, danger)",
            &path.key("style"),
        )),
    }
}

fn options(el: &Value, max: usize, path: &Path<'_>) -> Check {
    if let Some(groups) = el.get("option_groups").filter(|v| !v.is_null()) {
        let gpath = path.key("option_groups");
        let groups = array(Some(groups), &gpath)?;
        count(groups, 1, 100, &gpath)?;
        for (i, g) in groups.iter().enumerate() {
            option_list(g.get("options"), max, &gpath.index(i).key("options"))?;
        }
        return Ok(());
    }
    match el.get("options") {
        None | Some(Value::Null) if el.get("type").and_then(Value::as_str) != Some("button") => {
            Err(violation("missing required field: options", path))
        }
        options => option_list(options, max, &path.key("options")),
    }
}

fn option_list(options: Option<&Value>, max: usize, path: &Path<'_>) -> Check {
    let items = array(options, path)?;
    count(items, 1, max, path)?;
    for (i, opt) in items.iter().enumerate() {
        let p = path.index(i);
        text_object_field(opt, "text", 75, false, &p)?;
        max_len(opt.get("value"), 150, &p.key("value"))?;
        optional_text(opt.get("description"), 75, false, &p.key("description"))?;
    }
    Ok(())
}

/// A radio group's `initial_option`, or a checkbox group's `initial_options`, must each be
/// exactly one of its options (text, value and description alike), or Slack refuses the view.
fn initial_options(el: &Value, path: &Path<'_>) -> Check {
    let options: &[Value] = el
        .get("options")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let same = |a: &Value, b: &Value| {
        a.get("value") == b.get("value")
            && a.pointer("/text/text") == b.pointer("/text/text")
            && a.pointer("/description/text") == b.pointer("/description/text")
    };
    let check = |initial: &Value, p: &Path<'_>| {
        if options.iter().any(|o| same(o, initial)) {
            Ok(())
        } else {
            Err(violation("must match one of the provided options", p))
        }
    };
    if let Some(initial) = el.get("initial_option").filter(|v| !v.is_null()) {
        check(initial, &path.key("initial_option"))?;
    }
    if let Some(initial) = el.get("initial_options").filter(|v| !v.is_null()) {
        let p = path.key("initial_options");
        let items = array(Some(initial), &p)?;
        count(items, 0, options.len(), &p)?;
        for (i, item) in items.iter().enumerate() {
            check(item, &p.index(i))?;
        }
    }
    Ok(())
}

fn int_in(el: &Value, field: &str, min: i64, max: i64, path: &Path<'_>) -> Check {
    match el.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(violation(
                format!("must be an integer between {min} and {max}"),
                &path.key(field),
            )),
        },
    }
}

fn plain_text_input(el: &Value, path: &Path<'_>) -> Check {
    if let Some(config) = el.get("dispatch_action_config").filter(|v| !v.is_null()) {
        let config_path = path.key("dispatch_action_config");
        let p = config_path.key("trigger_actions_on");
        for (i, trigger) in array(config.get("trigger_actions_on"), &p)?
            .iter()
            .enumerate()
        {
            if !matches!(
                trigger.as_str(),
                Some("on_enter_pressed" | "on_character_entered")
            ) {
                return Err(violation(
                    "must be a valid enum value (on_enter_pressed, on_character_entered)",
                    &p.index(i),
                ));
            }
        }
    }
    int_in(el, "max_length", 1, 3000, path)?;
    int_in(el, "min_length", 0, 3000, path)?;
    max_len(el.get("initial_value"), 3000, &path.key("initial_value"))
}

/// Checks a modal view object (as passed to `views.open` / `views.update`).
pub fn validate_modal(view: &Value) -> Check {
    if !view.is_object() {
        return Err(violation("must be an object", &Path::Root("/view")));
    }
    if view.get("type").and_then(Value::as_str) != Some("modal") {
        return Err(violation(
            "must be a valid enum value (modal)",
            &Path::Root("/type"),
        ));
    }
    text_object_field(view, "title", 24, true, &ROOT)?;
    boolean(view, "notify_on_close", &ROOT)?;
    boolean(view, "clear_on_close", &ROOT)?;
    optional_text(view.get("submit"), 24, true, &Path::Root("/submit"))?;
    optional_text(view.get("close"), 24, true, &Path::Root("/close"))?;
    let blocks = view
        .get("blocks")
        .ok_or_else(|| violation("missing required field: blocks", &ROOT))?;
    validate_blocks(blocks, Surface::Modal)?;
    let has_input = blocks.as_array().is_some_and(|b| {
        b.iter()
            .any(|b| b.get("type").and_then(Value::as_str) == Some("input"))
    });
    if has_input && view.get("submit").is_none_or(Value::is_null) {
        return Err(violation(
            "submit is required when an input block is present",
            &Path::Root("/submit"),
        ));
    }
    common_view_fields(view)
}

/// Checks an App Home view object (as passed to `views.publish`).
pub fn validate_home(view: &Value) -> Check {
    if !view.is_object() {
        return Err(violation("must be an object", &Path::Root("/view")));
    }
    if view.get("type").and_then(Value::as_str) != Some("home") {
        return Err(violation(
            "must be a valid enum value (home)",
            &Path::Root("/type"),
        ));
    }
    let blocks = view
        .get("blocks")
        .ok_or_else(|| violation("missing required field: blocks", &ROOT))?;
    validate_blocks(blocks, Surface::Home)?;
    common_view_fields(view)
}

fn common_view_fields(view: &Value) -> Check {
    max_len(
        view.get("private_metadata"),
        3000,
        &Path::Root("/private_metadata"),
    )?;
    max_len(view.get("callback_id"), 255, &Path::Root("/callback_id"))?;
    max_len(view.get("external_id"), 255, &Path::Root("/external_id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(text: &str) -> Value {
        json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    }

    fn modal(title: &str, blocks: Value) -> Value {
        json!({"type": "modal", "title": {"type": "plain_text", "text": title},
               "submit": {"type": "plain_text", "text": "Save"}, "blocks": blocks})
    }

    /// Each violation names the field with its whole JSON pointer, from the view's top.
    #[test]
    fn a_violation_names_its_whole_path() {
        let long = "v".repeat(151);
        let select = json!({"type": "input", "label": {"type": "plain_text", "text": "L"},
            "element": {"type": "static_select", "action_id": "s", "option_groups": [
                {"label": {"type": "plain_text", "text": "G"}, "options": [
                    {"text": {"type": "plain_text", "text": "a"}, "value": "a"},
                    {"text": {"type": "plain_text", "text": "b"}, "value": long}]}]}});
        let trigger = json!({"type": "input", "label": {"type": "plain_text", "text": "L"},
            "element": {"type": "plain_text_input", "action_id": "t",
                "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed", "x"]}}});
        let fields = json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": "a"}, {"type": "mrkdwn", "text": ""}]});
        let cases = [
            (
                modal("T", json!([section("x"), select])),
                "must be less than 151 characters [json-pointer:/blocks/1/element/option_groups/0/options/1/value]",
            ),
            (
                modal("T", json!([trigger])),
                "must be a valid enum value (on_enter_pressed, on_character_entered) [json-pointer:/blocks/0/element/dispatch_action_config/trigger_actions_on/1]",
            ),
            (
                modal("T", json!([fields])),
                "must be more than 0 characters [json-pointer:/blocks/0/fields/1/text]",
            ),
            (
                modal(&"t".repeat(25), json!([])),
                "must be less than 25 characters [json-pointer:/title/text]",
            ),
        ];
        for (view, expected) in cases {
            assert_eq!(validate_modal(&view).unwrap_err(), expected);
        }
        let mut no_type = modal("T", json!([]));
        no_type["type"] = json!("page");
        assert_eq!(
            validate_modal(&no_type).unwrap_err(),
            "must be a valid enum value (modal) [json-pointer:/type]"
        );
    }

    #[test]
    fn fifty_blocks_pass_fifty_one_fail() {
        let blocks: Vec<Value> = (0..50).map(|_| section("hi")).collect();
        assert!(validate_blocks(&json!(blocks), Surface::Message).is_ok());
        let blocks: Vec<Value> = (0..51).map(|_| section("hi")).collect();
        let err = validate_blocks(&json!(blocks), Surface::Message).unwrap_err();
        assert!(err.contains("no more than 50"), "{err}");
        assert!(validate_blocks(&json!(blocks), Surface::Modal).is_ok());
    }

    #[test]
    fn section_text_limits() {
        assert!(validate_blocks(&json!([section("")]), Surface::Message).is_err());
        assert!(validate_blocks(&json!([section(&"a".repeat(3000))]), Surface::Message).is_ok());
        assert!(validate_blocks(&json!([section(&"a".repeat(3001))]), Surface::Message).is_err());
        let no_text = json!([{"type": "section"}]);
        assert!(validate_blocks(&no_text, Surface::Message).is_err());
    }

    #[test]
    fn unknown_block_type_and_input_in_message_fail() {
        assert!(validate_blocks(&json!([{"type": "bogus"}]), Surface::Message).is_err());
        let input = json!([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                            "element": {"type": "plain_text_input", "action_id": "a"}}]);
        assert!(validate_blocks(&input, Surface::Message).is_err());
        assert!(validate_blocks(&input, Surface::Modal).is_ok());
    }

    #[test]
    fn duplicate_block_ids_fail() {
        let blocks =
            json!([{"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}]);
        assert!(validate_blocks(&blocks, Surface::Message).is_err());
    }

    #[test]
    fn button_limits() {
        let button = |text: &str, style: &str| {
            json!([{"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "a", "style": style}]}])
        };
        assert!(validate_blocks(&button(&"b".repeat(75), "primary"), Surface::Message).is_ok());
        let err =
            validate_blocks(&button(&"b".repeat(76), "primary"), Surface::Message).unwrap_err();
        assert!(err.contains("/blocks/0/elements/0/text/text"), "{err}");
        assert!(validate_blocks(&button("ok", "fancy"), Surface::Message).is_err());
        let dup = json!([{"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "a"}, "action_id": "x"},
            {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "x"}]}]);
        assert!(validate_blocks(&dup, Surface::Message).is_err());
    }

    #[test]
    fn select_option_limits() {
        let opts = |n: usize, value_len: usize| -> Value {
            (0..n)
                .map(|i| json!({"text": {"type": "plain_text", "text": format!("o{i}")}, "value": "v".repeat(value_len)}))
                .collect()
        };
        let select = |kind: &str, options: Value| json!([{"type": "actions", "elements": [{"type": kind, "action_id": "s", "options": options}]}]);
        assert!(
            validate_blocks(&select("static_select", opts(100, 150)), Surface::Message).is_ok()
        );
        assert!(validate_blocks(&select("static_select", opts(101, 1)), Surface::Message).is_err());
        assert!(validate_blocks(&select("static_select", opts(1, 151)), Surface::Message).is_err());
        assert!(validate_blocks(&select("radio_buttons", opts(11, 1)), Surface::Message).is_err());
    }

    #[test]
    fn initial_choices_must_be_among_the_options_and_triggers_known() {
        let opt = |t: &str, v: &str| json!({"text": {"type": "plain_text", "text": t}, "value": v});
        let radio = |initial: Value| {
            json!([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                    "element": {"type": "radio_buttons", "action_id": "a",
                                "options": [opt("One", "1"), opt("Two", "2")],
                                "initial_option": initial}}])
        };
        assert!(validate_blocks(&radio(opt("Two", "2")), Surface::Modal).is_ok());
        let err = validate_blocks(&radio(opt("Deux", "2")), Surface::Modal).unwrap_err();
        assert!(err.contains("/element/initial_option"), "{err}");
        let boxes = |initial: Value| {
            json!([{"type": "input", "label": {"type": "plain_text", "text": "L"}, "optional": true,
                    "dispatch_action": true,
                    "element": {"type": "checkboxes", "action_id": "a",
                                "options": [opt("One", "1"), opt("Two", "2")],
                                "initial_options": initial}}])
        };
        assert!(validate_blocks(&boxes(json!([opt("One", "1")])), Surface::Modal).is_ok());
        assert!(validate_blocks(&boxes(json!([opt("Three", "3")])), Surface::Modal).is_err());
        let typed = |trigger: &str| {
            json!([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                    "dispatch_action": true,
                    "element": {"type": "plain_text_input", "action_id": "a",
                                "dispatch_action_config": {"trigger_actions_on": [trigger]}}}])
        };
        assert!(validate_blocks(&typed("on_character_entered"), Surface::Modal).is_ok());
        assert!(validate_blocks(&typed("on_blur"), Surface::Modal).is_err());
        let mut bad = typed("on_enter_pressed");
        bad[0]["dispatch_action"] = json!("yes");
        assert!(validate_blocks(&bad, Surface::Modal).is_err());
    }

    #[test]
    fn modal_title_and_submit_rules() {
        assert!(validate_modal(&modal(&"t".repeat(24), json!([]))).is_ok());
        let err = validate_modal(&modal(&"t".repeat(25), json!([]))).unwrap_err();
        assert!(err.contains("/title/text"), "{err}");
        let input = json!([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                            "element": {"type": "plain_text_input", "action_id": "a", "max_length": 3001}}]);
        assert!(validate_modal(&modal("T", input.clone())).is_err());
        let mut no_submit = modal(
            "T",
            json!([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                            "element": {"type": "plain_text_input", "action_id": "a"}}]),
        );
        assert!(validate_modal(&no_submit).is_ok());
        no_submit["submit"] = Value::Null;
        assert!(validate_modal(&no_submit).is_err());
        let mut long_meta = modal("T", json!([]));
        long_meta["private_metadata"] = json!("m".repeat(3001));
        assert!(validate_modal(&long_meta).is_err());
    }

    #[test]
    fn home_rules() {
        let blocks: Vec<Value> = (0..100).map(|_| json!({"type": "divider"})).collect();
        assert!(validate_home(&json!({"type": "home", "blocks": blocks})).is_ok());
        let blocks: Vec<Value> = (0..101).map(|_| json!({"type": "divider"})).collect();
        assert!(validate_home(&json!({"type": "home", "blocks": blocks})).is_err());
        assert!(validate_home(&json!({"type": "modal", "blocks": []})).is_err());
    }
}
