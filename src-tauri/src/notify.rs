//! Desktop notifications (tauri-plugin-notification): an action or create that finished or
//! failed while the user was not looking at the window, a cloud whose credentials stopped
//! working (once), and, if the user asked for it, a machine that changed state on its own.
//! What to say is decided by pure functions (tested); [`show`] only delivers.

use crate::live::Live;
use skydeck_core::diff::Change;
use skydeck_core::live::Refreshed;
use skydeck_core::model::Action;
use skydeck_core::text::inert;
use skydeck_core::ErrorBody;
use std::collections::HashSet;
use tauri::{AppHandle, Manager, Runtime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub title: String,
    pub body: String,
}

impl Note {
    /// A note whose text is inert: names and messages come from clouds, and a notification
    /// daemon must not get escapes, line breaks or bidi overrides from them.
    pub fn new(title: impl AsRef<str>, body: impl AsRef<str>) -> Note {
        Note { title: inert(title.as_ref()).into_owned(), body: inert(body.as_ref()).into_owned() }
    }
}

fn past(action: Action) -> &'static str {
    match action {
        Action::Start => "started",
        Action::Stop => "stopped",
        Action::Reboot => "rebooted",
        Action::Destroy => "destroyed",
        Action::Rename => "renamed",
        Action::Tag => "tagged",
        Action::Suspend => "suspended",
        Action::Resume => "resumed",
        Action::ForceOff => "forced off",
    }
}

/// What to say when an action on `name` finished or failed.
pub fn action_note(name: &str, action: Action, result: Result<(), &ErrorBody>) -> Note {
    match result {
        Ok(()) => Note::new(format!("'{name}' {}", past(action)), format!("{} finished.", capitalize(action.as_str()))),
        Err(e) => Note::new(format!("Could not {} '{name}'", action.as_str()), e.message.clone()),
    }
}

/// What to say when a create finished or failed (the wizard's flow calls [`create_finished`]).
pub fn create_note(name: &str, result: Result<(), &ErrorBody>) -> Note {
    match result {
        Ok(()) => Note::new(format!("'{name}' created"), "The new machine is being set up; Skydeck follows it until it runs."),
        Err(e) => Note::new(format!("Could not create '{name}'"), e.message.clone()),
    }
}

/// Notes for a refresh: credentials that stopped working (the first time: `first_auth_failure`)
/// and, if `external` is on, machines whose state changed without a recent action from Skydeck.
/// Intermediate states (stopping, starting…) are not announced, only where a machine ends up.
pub fn refresh_notes(r: &Refreshed, first_auth_failure: bool, external: bool, recently_acted: &HashSet<String>) -> Vec<Note> {
    let mut out = Vec::new();
    if first_auth_failure {
        if let Some(e) = &r.outcome.error {
            out.push(Note::new(
                format!("Credentials of '{}' stopped working", r.outcome.title),
                format!("{} Open Skydeck to update them; its machines are shown as last seen.", e.message),
            ));
        }
    }
    if external {
        for c in &r.outcome.changes {
            if let Change::Changed { machine, previous_state } = c {
                let key = format!("{}/{}", machine.cloud_id, machine.id);
                if machine.state != *previous_state && !machine.state.is_transitioning() && !recently_acted.contains(&key) {
                    let name = if machine.name.is_empty() { &machine.id } else { &machine.name };
                    out.push(Note::new(
                        format!("'{name}' is now {}", machine.state),
                        format!("It was {previous_state} ({}); nobody acted on it from Skydeck.", r.outcome.title),
                    ));
                }
            }
        }
    }
    out
}

pub fn is_auth_error(e: &ErrorBody) -> bool {
    e.code == "unauthenticated"
}

/// Delivers a note if notifications are on. Failures (no notification service) are logged only.
pub fn show<R: Runtime>(app: &AppHandle<R>, note: &Note) {
    let on = app.try_state::<Live>().map(|l| l.settings().notifications).unwrap_or(true);
    if !on {
        return;
    }
    let Some(n) = app.try_state::<tauri_plugin_notification::Notification<R>>() else { return };
    // Inert again here: Note's fields are public, so a note built by hand is covered too.
    if let Err(e) = n.builder().title(inert(&note.title)).body(inert(&note.body)).show() {
        tracing::warn!("cannot show a notification: {e}");
    }
}

/// Whether the user is looking at the window (then toasts are enough).
fn window_in_focus<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window("main")
        .is_some_and(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false) && !w.is_minimized().unwrap_or(false))
}

/// An action finished: notify when it came from the tray or the window is not in focus.
pub fn action_finished<R: Runtime>(app: &AppHandle<R>, name: &str, action: Action, result: Result<(), &ErrorBody>, from_tray: bool) {
    if from_tray || !window_in_focus(app) {
        show(app, &action_note(name, action, result));
    }
}

/// A create finished (for the create flow): notify when the window is not in focus.
pub fn create_finished<R: Runtime>(app: &AppHandle<R>, name: &str, result: Result<(), &ErrorBody>) {
    if !window_in_focus(app) {
        show(app, &create_note(name, result));
    }
}

pub fn after_refresh<R: Runtime>(app: &AppHandle<R>, live: &Live, r: &Refreshed) {
    let auth = r.outcome.error.as_ref().is_some_and(is_auth_error);
    // Only a successful refresh proves the credentials work again.
    let first = if auth {
        live.credentials_failed(&r.outcome.cloud_id, true)
    } else {
        if r.outcome.error.is_none() {
            live.credentials_failed(&r.outcome.cloud_id, false);
        }
        false
    };
    let external = live.settings().notify_external_changes;
    for note in refresh_notes(r, first, external, &live.recently_acted()) {
        show(app, &note);
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use skydeck_core::inventory::RefreshOutcome;
    use skydeck_core::model::{Machine, MachineState};

    fn m(id: &str, state: MachineState) -> Machine {
        let mut m = Machine::new(id, format!("vm-{id}"), state.as_str());
        m.cloud_id = "c".into();
        m.state = state;
        m
    }

    fn refreshed(error: Option<&str>, changes: Vec<Change>) -> Refreshed {
        Refreshed {
            outcome: RefreshOutcome {
                cloud_id: "c".into(),
                title: "work".into(),
                machine_count: 2,
                elapsed_ms: 3,
                error: error.map(|code| ErrorBody { code: code.into(), message: "The key was revoked.".into(), field: None }),
                retry_after_secs: None,
                transitioning: false,
                changes,
            },
            next_refresh_ms: 60_000,
        }
    }

    #[test]
    fn external_changes_are_announced_once_they_settle_and_not_after_our_actions() {
        let changes = vec![
            Change::Changed { machine: m("1", MachineState::Stopped), previous_state: MachineState::Running },
            Change::Changed { machine: m("2", MachineState::Stopping), previous_state: MachineState::Running },
            Change::Changed { machine: m("3", MachineState::Stopped), previous_state: MachineState::Running },
            Change::Changed { machine: m("4", MachineState::Running), previous_state: MachineState::Running },
            Change::Added { machine: m("5", MachineState::Running) },
        ];
        let r = refreshed(None, changes);
        let acted = HashSet::from(["c/3".to_string()]);
        let notes = refresh_notes(&r, false, true, &acted);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].title, "'vm-1' is now stopped");
        assert!(notes[0].body.contains("running") && notes[0].body.contains("work"));
        assert!(refresh_notes(&r, false, false, &acted).is_empty(), "off unless the user asked");
    }

    #[test]
    fn credentials_failures_are_announced_with_what_to_do() {
        let r = refreshed(Some("unauthenticated"), vec![]);
        let notes = refresh_notes(&r, true, false, &HashSet::new());
        assert_eq!(notes[0].title, "Credentials of 'work' stopped working");
        assert!(notes[0].body.starts_with("The key was revoked.") && notes[0].body.contains("update them"));
        assert!(refresh_notes(&r, false, false, &HashSet::new()).is_empty(), "only the first time");
    }

    #[test]
    fn live_state_reports_a_credentials_failure_once_until_it_recovers() {
        let live = Live::default();
        assert!(live.credentials_failed("c", true));
        assert!(!live.credentials_failed("c", true));
        live.credentials_failed("c", false);
        assert!(live.credentials_failed("c", true));
    }

    #[test]
    fn names_and_messages_from_a_cloud_reach_the_notification_inert() {
        let evil = "web\u{1b}]0;pwned\u{7}\n\u{202e}gpj.exe";
        let e = ErrorBody { code: "conflict".into(), message: "bad\u{1b}[31m\r\nthing\u{2067}".into(), field: None };
        let mut notes = vec![action_note(evil, Action::Stop, Ok(())), action_note(evil, Action::Start, Err(&e)), create_note(evil, Err(&e))];
        let mut r = refreshed(Some("unauthenticated"), vec![Change::Changed { machine: m("1", MachineState::Stopped), previous_state: MachineState::Running }]);
        r.outcome.title = evil.into();
        r.outcome.error.as_mut().unwrap().message = e.message.clone();
        if let Change::Changed { machine, .. } = &mut r.outcome.changes[0] {
            machine.name = evil.into();
        }
        notes.extend(refresh_notes(&r, true, true, &HashSet::new()));
        assert_eq!(notes.len(), 5);
        for n in &notes {
            for text in [&n.title, &n.body] {
                assert!(
                    !text.chars().any(|c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                    "{text:?}"
                );
            }
        }
        assert_eq!(notes[0].title, "'web\u{FFFD}]0;pwned\u{FFFD} \u{FFFD}gpj.exe' stopped");
    }

    #[test]
    fn action_notes_say_what_happened() {
        assert_eq!(action_note("web", Action::Stop, Ok(())).title, "'web' stopped");
        let e = ErrorBody { code: "conflict".into(), message: "It is already stopped.".into(), field: None };
        let n = action_note("web", Action::Start, Err(&e));
        assert_eq!((n.title.as_str(), n.body.as_str()), ("Could not start 'web'", "It is already stopped."));
        assert_eq!(create_note("db", Ok(())).title, "'db' created");
    }
}
