//! Slack's side of the conversation, the client half of the simulator, for the demo
//! (`loopbot demo`), the tests and the benches, written once: [`SlackUser`] is what people do
//! in Slack (type a command, press a button, submit or close a modal, cause an event), built
//! exactly as Slack builds it (payloads, trigger ids from the simulator), over a [`Transport`]
//! that takes it to the app: [`Http`] (signed requests to the app's real endpoints, as
//! [`SlackSide`]) or Socket Mode ([`crate::socket_side::Socket`], as
//! [`crate::socket_side::SocketSide`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Simulator;
use crate::clock::SharedClock;
use crate::signing::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// What a person typed or picked in a modal, by block id.
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    values: BTreeMap<String, Value>,
}

impl FormValues {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn text(mut self, block: &str, value: &str) -> Self {
        self.values.insert(
            block.into(),
            json!({ "type": "plain_text_input", "value": value }),
        );
        self
    }
    pub fn user(mut self, block: &str, user: &str) -> Self {
        self.values.insert(
            block.into(),
            json!({ "type": "users_select", "selected_user": user }),
        );
        self
    }
    pub fn users(mut self, block: &str, users: &[&str]) -> Self {
        self.values.insert(
            block.into(),
            json!({ "type": "multi_users_select", "selected_users": users }),
        );
        self
    }
    pub fn date_time(mut self, block: &str, unix_secs: i64) -> Self {
        self.values.insert(
            block.into(),
            json!({ "type": "datetimepicker", "selected_date_time": unix_secs }),
        );
        self
    }
    /// A static select or radio choice, by option value.
    pub fn option(mut self, block: &str, value: &str) -> Self {
        self.values.insert(
            block.into(),
            json!({ "selected_option": { "value": value } }),
        );
        self
    }
    /// Ticks checkboxes, by option value.
    pub fn checked(mut self, block: &str, values: &[&str]) -> Self {
        let options: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
        self.values
            .insert(block.into(), json!({ "selected_options": options }));
        self
    }

    /// Clears a field (as if the person emptied it).
    pub fn empty(mut self, block: &str) -> Self {
        self.values.insert(block.into(), Value::Null);
        self
    }
}

/// What Slack delivers to the app: the same three kinds over HTTP and over Socket Mode.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A slash command: its form body (over Socket Mode, the same fields as a JSON object).
    Command(String),
    /// An interactivity payload: `block_actions`, `view_submission` or `view_closed`.
    Interaction(Value),
    /// An Events API `event_callback` body.
    Event(Value),
}

/// How a [`Delivery`] reaches the app, and what comes back.
pub trait Transport: Clone + Send + Sync {
    /// The app's answer: an HTTP response, or a Socket Mode acknowledgement.
    type Reply: Send;

    fn deliver(&self, delivery: Delivery) -> impl Future<Output = Self::Reply> + Send;

    /// How long to wait (real time) for the app to call `views.open` with the delivery's
    /// trigger, when its answer says it may be opening a modal; `None` when it is not.
    fn opens_modal_within(&self, reply: &Self::Reply) -> Option<Duration>;
}

/// Slack's side over HTTP: signed requests (v0 signatures, by the app's clock) to the app's
/// endpoints.
#[derive(Clone)]
pub struct Http {
    http: reqwest::Client,
    app_url: String,
    signing_secret: String,
    clock: SharedClock,
}

impl Http {
    pub fn new(app_url: &str, signing_secret: &str, clock: SharedClock) -> Self {
        crate::install_crypto_provider();
        Http {
            http: reqwest::Client::new(),
            app_url: app_url.trim_end_matches('/').to_string(),
            signing_secret: signing_secret.to_string(),
            clock,
        }
    }

    /// Posts `body` signed now by the app's clock, as Slack does.
    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> reqwest::Response {
        let ts = self.clock.now_secs();
        let signature = self.signature_for(ts, body);
        self.post_raw(path, content_type, body, Some((ts, signature)))
            .await
    }

    /// Posts with any (or no) signature headers: for testing refusals.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        signed: Option<(i64, String)>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.app_url))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some((ts, signature)) = signed {
            request = request
                .header(TIMESTAMP_HEADER, ts.to_string())
                .header(SIGNATURE_HEADER, signature);
        }
        request.send().await.expect("the app answers HTTP")
    }

    pub fn signature_for(&self, ts: i64, body: &str) -> String {
        sign(&self.signing_secret, ts, body.as_bytes())
    }
}

impl Transport for Http {
    type Reply = reqwest::Response;

    async fn deliver(&self, delivery: Delivery) -> reqwest::Response {
        match delivery {
            Delivery::Command(body) => self.post_signed("/slack/commands", FORM, &body).await,
            Delivery::Interaction(payload) => {
                self.post_signed("/slack/interactions", FORM, &interaction_body(&payload))
                    .await
            }
            Delivery::Event(body) => {
                self.post_signed("/slack/events", JSON, &body.to_string())
                    .await
            }
        }
    }

    /// The app says so with its `x-loopbot-modal` header.
    fn opens_modal_within(&self, response: &reqwest::Response) -> Option<Duration> {
        response
            .headers()
            .get("x-loopbot-modal")
            .map(|_| Duration::from_secs(5))
    }
}

/// A person in Slack, acting on the app through transport `T`.
#[derive(Clone)]
pub struct SlackUser<T> {
    transport: T,
    clock: SharedClock,
    pub sim: Simulator,
}

/// Slack's side over HTTP.
pub type SlackSide = SlackUser<Http>;

/// The `trigger_id` of a form body.
fn trigger_of(body: &str) -> String {
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "trigger_id")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The interactivity form body for a payload.
pub fn interaction_body(payload: &Value) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

impl SlackUser<Http> {
    pub fn new(app_url: &str, signing_secret: &str, clock: SharedClock, sim: Simulator) -> Self {
        SlackUser::over(
            Http::new(app_url, signing_secret, clock.clone()),
            clock,
            sim,
        )
    }

    /// Posts `body` signed now by the app's clock, as Slack does.
    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> reqwest::Response {
        self.transport.post_signed(path, content_type, body).await
    }

    /// Posts with any (or no) signature headers: for testing refusals.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        signed: Option<(i64, String)>,
    ) -> reqwest::Response {
        self.transport
            .post_raw(path, content_type, body, signed)
            .await
    }

    pub fn signature_for(&self, ts: i64, body: &str) -> String {
        self.transport.signature_for(ts, body)
    }

    /// The interactivity form body for a payload.
    pub fn interaction_body(payload: &Value) -> String {
        interaction_body(payload)
    }
}

impl<T: Transport> SlackUser<T> {
    pub fn over(transport: T, clock: SharedClock, sim: Simulator) -> Self {
        SlackUser {
            transport,
            clock,
            sim,
        }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The form body Slack sends for `/loop <text>` typed by `user` in `channel`.
    pub fn command_body(&self, user: &str, channel: &str, text: &str) -> String {
        let trigger = self.sim.issue_trigger_id_for(user);
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "deprecated-verification-token")
            .append_pair("team_id", "T0LOOPBOT")
            .append_pair("team_domain", "example")
            .append_pair("channel_id", channel)
            .append_pair("channel_name", "hiring")
            .append_pair("user_id", user)
            .append_pair("user_name", user)
            .append_pair("command", "/loop")
            .append_pair("text", text)
            .append_pair("api_app_id", "A0LOOPBOT")
            .append_pair("is_enterprise_install", "false")
            .append_pair("response_url", &self.sim.response_url(&trigger))
            .append_pair("trigger_id", &trigger)
            .finish()
    }

    /// `user` types `/loop <text>` in `channel`.
    pub async fn command(&self, user: &str, channel: &str, text: &str) -> T::Reply {
        let body = self.command_body(user, channel, text);
        let trigger = trigger_of(&body);
        let reply = self.transport.deliver(Delivery::Command(body)).await;
        self.settle(&reply, &trigger).await;
        reply
    }

    /// [`SlackUser::settle`] for a command sent by hand with this form body.
    pub async fn settle_body(&self, reply: &T::Reply, body: &str) {
        self.settle(reply, &trigger_of(body)).await;
    }

    /// After an answer that says a modal may be being opened, waits (a little real time)
    /// until the app has called `views.open` with the trigger, as Slack would see it.
    pub async fn settle(&self, reply: &T::Reply, trigger: &str) {
        let Some(within) = self.transport.opens_modal_within(reply) else {
            return;
        };
        let deadline = Instant::now() + within;
        while !self.sim.trigger_tried(trigger) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Delivers an interactivity payload.
    pub async fn interact(&self, payload: Value) -> T::Reply {
        self.transport.deliver(Delivery::Interaction(payload)).await
    }

    /// The `view_submission` payload for the modal `view_id` as `user` filled it in: fields
    /// given in `values`, and every other input with its initial value (or empty).
    pub fn submission_payload(&self, user: &str, view_id: &str, values: &FormValues) -> Value {
        let opened = self
            .sim
            .views_of(user)
            .into_iter()
            .find(|v| v.id == view_id);
        let hash = opened.as_ref().map(|v| v.hash.clone()).unwrap_or_default();
        let view = opened.map(|v| v.view).unwrap_or(Value::Null);
        self.submission_of(user, view_id, &hash, &view, values)
    }

    /// A `view_submission` of any view (also one opened for someone else: a forged submission).
    pub fn submission_of(
        &self,
        user: &str,
        view_id: &str,
        hash: &str,
        view: &Value,
        values: &FormValues,
    ) -> Value {
        json!({
            "type": "view_submission",
            "team": { "id": "T0LOOPBOT", "domain": "example" },
            "user": { "id": user, "username": user, "name": user, "team_id": "T0LOOPBOT" },
            "api_app_id": "A0LOOPBOT",
            "token": "deprecated-verification-token",
            "trigger_id": self.sim.issue_trigger_id_for(user),
            "view": {
                "id": view_id,
                "team_id": "T0LOOPBOT",
                "type": "modal",
                "callback_id": view.get("callback_id").cloned().unwrap_or(json!("")),
                "private_metadata": view.get("private_metadata").cloned().unwrap_or(json!("")),
                "hash": hash,
                "title": view.get("title").cloned().unwrap_or(Value::Null),
                "blocks": view.get("blocks").cloned().unwrap_or(json!([])),
                "state": { "values": state_values(view, values) },
                "app_id": "A0LOOPBOT",
                "bot_id": "B0LOOPBOT",
            },
        })
    }

    /// `user` presses the submit button of modal `view_id`.
    pub async fn submit_view(&self, user: &str, view_id: &str, values: &FormValues) -> T::Reply {
        let payload = self.submission_payload(user, view_id, values);
        self.interact(payload).await
    }

    /// `user` presses a button in a channel message.
    pub async fn press_button(
        &self,
        user: &str,
        channel: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> T::Reply {
        let (payload, trigger) = self.button_payload(user, channel, message_ts, action_id, value);
        let reply = self.interact(payload).await;
        self.settle(&reply, &trigger).await;
        reply
    }

    /// `user` picks an option in a modal's dispatch-action menu.
    pub async fn pick_in_view(
        &self,
        user: &str,
        view_id: &str,
        block: &str,
        action_id: &str,
        value: &str,
    ) -> T::Reply {
        let payload = self.pick_payload(user, view_id, block, action_id, value);
        self.interact(payload).await
    }

    /// Slack delivers an Events API callback.
    pub async fn event(&self, event_id: &str, event: Value) -> T::Reply {
        let body = self.event_body(event_id, event);
        self.transport.deliver(Delivery::Event(body)).await
    }

    /// The `block_actions` payload of a button pressed in a channel message, and its trigger.
    pub fn button_payload(
        &self,
        user: &str,
        channel: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> (Value, String) {
        let trigger = self.sim.issue_trigger_id_for(user);
        let payload = json!({
            "type": "block_actions",
            "team": { "id": "T0LOOPBOT", "domain": "example" },
            "user": { "id": user, "username": user, "name": user, "team_id": "T0LOOPBOT" },
            "api_app_id": "A0LOOPBOT",
            "token": "deprecated-verification-token",
            "trigger_id": trigger,
            "container": { "type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": false },
            "channel": { "id": channel, "name": "" },
            "message": { "type": "message", "ts": message_ts },
            "response_url": self.sim.response_url(&trigger),
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": "b", "value": value,
                "text": { "type": "plain_text", "text": "" },
                "action_ts": format!("{}.000200", self.clock.now_secs()),
            }],
        });
        (payload, trigger)
    }

    /// `user` presses a button inside modal `view_id` (a `block_actions` from the view, with
    /// its state).
    pub async fn press_in_view(
        &self,
        user: &str,
        view_id: &str,
        action_id: &str,
        value: &str,
    ) -> T::Reply {
        let action = json!({
            "type": "button", "action_id": action_id, "block_id": "b", "value": value,
            "text": { "type": "plain_text", "text": "" },
            "action_ts": format!("{}.000400", self.clock.now_secs()),
        });
        let payload = self.view_action_payload(user, view_id, &FormValues::new(), action);
        self.interact(payload).await
    }

    /// A `block_actions` payload from inside modal `view_id`, with the view's state as
    /// `values` leave it and the one `action`.
    fn view_action_payload(
        &self,
        user: &str,
        view_id: &str,
        values: &FormValues,
        action: Value,
    ) -> Value {
        let submission = self.submission_payload(user, view_id, values);
        json!({
            "type": "block_actions",
            "team": submission["team"],
            "user": submission["user"],
            "api_app_id": "A0LOOPBOT",
            "token": "deprecated-verification-token",
            "trigger_id": self.sim.issue_trigger_id_for(user),
            "container": { "type": "view", "view_id": view_id },
            "view": submission["view"],
            "actions": [action],
            "is_enterprise_install": false,
        })
    }

    /// The `block_actions` payload of an option picked in a modal's dispatch-action menu.
    pub fn pick_payload(
        &self,
        user: &str,
        view_id: &str,
        block: &str,
        action_id: &str,
        value: &str,
    ) -> Value {
        let action = json!({
            "type": "static_select", "action_id": action_id, "block_id": block,
            "selected_option": { "text": { "type": "plain_text", "text": value }, "value": value },
            "action_ts": format!("{}.000100", self.clock.now_secs()),
        });
        self.view_action_payload(
            user,
            view_id,
            &FormValues::new().option(block, value),
            action,
        )
    }

    /// The `view_closed` payload when `user` cancels modal `view_id` with `values` typed in
    /// it (Slack sends it only for views with `notify_on_close`).
    pub fn closed_payload(&self, user: &str, view_id: &str, values: &FormValues) -> Value {
        let submission = self.submission_payload(user, view_id, values);
        let mut view = submission["view"].clone();
        view["notify_on_close"] = json!(true);
        view["clear_on_close"] = json!(false);
        json!({
            "type": "view_closed",
            "team": submission["team"],
            "user": submission["user"],
            "api_app_id": "A0LOOPBOT",
            "token": "deprecated-verification-token",
            "view": view,
            "is_enterprise_install": false,
            "is_cleared": false,
        })
    }

    /// `user` changes a field of modal `view_id` (picks, ticks or types into input `block`), the
    /// form then holding `values` (other fields as they were opened). Slack sends a
    /// `block_actions` with the view's state only when the input block has `dispatch_action`
    /// (and, for a text input, triggers on each character): `None` when it would send nothing.
    pub async fn change_in_view(
        &self,
        user: &str,
        view_id: &str,
        block: &str,
        values: &FormValues,
    ) -> Option<T::Reply> {
        let submission = self.submission_payload(user, view_id, values);
        let view = &submission["view"];
        let input = view["blocks"]
            .as_array()?
            .iter()
            .find(|b| b["block_id"] == block && b["type"] == "input")?;
        if input["dispatch_action"] != json!(true) {
            return None;
        }
        let element = &input["element"];
        let kind = element["type"].as_str().unwrap_or_default();
        if kind == "plain_text_input" {
            let triggers = element
                .pointer("/dispatch_action_config/trigger_actions_on")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !triggers.contains(&json!("on_character_entered")) {
                return None;
            }
        }
        let action_id = element["action_id"].as_str().unwrap_or("value");
        let mut action = view["state"]["values"][block][action_id].clone();
        action["action_id"] = json!(action_id);
        action["block_id"] = json!(block);
        action["action_ts"] = json!(format!("{}.000300", self.clock.now_secs()));
        let payload = json!({
            "type": "block_actions",
            "team": submission["team"],
            "user": submission["user"],
            "api_app_id": "A0LOOPBOT",
            "token": "deprecated-verification-token",
            "trigger_id": self.sim.issue_trigger_id_for(user),
            "container": { "type": "view", "view_id": view_id },
            "view": view,
            "actions": [action],
            "is_enterprise_install": false,
        });
        Some(self.interact(payload).await)
    }

    /// `user` closes modal `view_id` (Cancel or ×) with `values` typed in it. Slack tells the
    /// app (`view_closed`, with the view and its state) only when the view was opened with
    /// `notify_on_close`: `None` when it would send nothing.
    pub async fn close_view(
        &self,
        user: &str,
        view_id: &str,
        values: &FormValues,
    ) -> Option<T::Reply> {
        let opened = self
            .sim
            .views_of(user)
            .into_iter()
            .find(|v| v.id == view_id)?;
        if opened.view["notify_on_close"] != json!(true) {
            return None;
        }
        Some(self.send_closed(user, view_id, values).await)
    }

    /// Sends the `view_closed` of modal `view_id` whether or not Slack would (a view opened
    /// without `notify_on_close`, or one that does not exist): for testing what the app does
    /// with it.
    pub async fn send_closed(&self, user: &str, view_id: &str, values: &FormValues) -> T::Reply {
        let payload = self.closed_payload(user, view_id, values);
        self.interact(payload).await
    }

    /// The Events API body of an `event_callback`.
    pub fn event_body(&self, event_id: &str, event: Value) -> Value {
        json!({
            "token": "deprecated-verification-token",
            "team_id": "T0LOOPBOT",
            "api_app_id": "A0LOOPBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": self.clock.now_secs(),
            "authorizations": [{ "team_id": "T0LOOPBOT", "user_id": "U0LOOPBOT", "is_bot": true, "is_enterprise_install": false }],
        })
    }
}

/// `view.state.values` as Slack builds it: every input block, keyed by block id then action id.
fn state_values(view: &Value, given: &FormValues) -> Value {
    let mut values = serde_json::Map::new();
    for block in view
        .get("blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if block.get("type").and_then(Value::as_str) != Some("input") {
            continue;
        }
        let (Some(block_id), Some(element)) = (
            block.get("block_id").and_then(Value::as_str),
            block.get("element"),
        ) else {
            continue;
        };
        let action_id = element
            .get("action_id")
            .and_then(Value::as_str)
            .unwrap_or("value");
        let kind = element
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let value = match given.values.get(block_id) {
            Some(Value::Null) => empty_value(kind),
            Some(v) => {
                let mut v = v.clone();
                v["type"] = json!(kind);
                v
            }
            None => initial_value(kind, element),
        };
        values.insert(block_id.to_string(), json!({ action_id: value }));
    }
    Value::Object(values)
}

fn empty_value(kind: &str) -> Value {
    match kind {
        "plain_text_input" => json!({ "type": kind, "value": null }),
        "users_select" => json!({ "type": kind, "selected_user": null }),
        "multi_users_select" => json!({ "type": kind, "selected_users": [] }),
        "datetimepicker" => json!({ "type": kind, "selected_date_time": null }),
        "checkboxes" => json!({ "type": kind, "selected_options": [] }),
        _ => json!({ "type": kind, "selected_option": null }),
    }
}

fn initial_value(kind: &str, element: &Value) -> Value {
    let initial = |key: &str| element.get(key).cloned().unwrap_or(Value::Null);
    match kind {
        "plain_text_input" => json!({ "type": kind, "value": initial("initial_value") }),
        "users_select" => json!({ "type": kind, "selected_user": initial("initial_user") }),
        "multi_users_select" => {
            json!({ "type": kind, "selected_users": element.get("initial_users").cloned().unwrap_or(json!([])) })
        }
        "datetimepicker" => {
            json!({ "type": kind, "selected_date_time": initial("initial_date_time") })
        }
        "checkboxes" => {
            json!({ "type": kind, "selected_options": element.get("initial_options").cloned().unwrap_or(json!([])) })
        }
        _ => json!({ "type": kind, "selected_option": initial("initial_option") }),
    }
}
