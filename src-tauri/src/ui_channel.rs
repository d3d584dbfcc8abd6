//! The channel of UI events, and the queue that holds them until the page is
//! ready.
//!
//! The page hands a `tauri::ipc::Channel` to `ui_ready`; events produced
//! before that (a cold start by a link is handled before WebKit has loaded
//! the page) wait in a bounded queue and go out first, in order. Of the
//! views only the latest waits (and `ui_ready`'s answer supersedes it). A
//! reloaded page connects again and gets the errors the old one missed.
//!
//! Every session view is numbered as it is made ([`SessionView::seq`]). The
//! view of now goes back as `ui_ready`'s answer rather than through the
//! channel: Tauri sends a channel message over 8 KiB (a view with avatars
//! always is) as a notice the page must fetch, one more round trip before the
//! first paint. The answer and the channel's messages can then arrive in
//! either order, and the page keeps the newest view by its number.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tauri::ipc::Channel;

use crate::ipc::{AppEvent, SessionView};

/// Events kept while no UI is connected. A flood beyond this drops the
/// oldest: only the latest state matters to the user.
pub const MAX_QUEUED_EVENTS: usize = 32;

/// Where events go once the UI is connected.
pub trait EventSink: Send {
    /// Delivers one event; `false` when the UI is gone.
    fn send(&self, event: AppEvent) -> bool;
}

impl EventSink for Channel<AppEvent> {
    fn send(&self, event: AppEvent) -> bool {
        Channel::send(self, event).is_ok()
    }
}

#[derive(Default)]
struct Queue {
    sink: Option<Box<dyn EventSink>>,
    waiting: VecDeque<AppEvent>,
    /// The number of the last session view made.
    seq: u64,
}

impl Queue {
    fn numbered(&mut self, mut view: SessionView) -> SessionView {
        self.seq += 1;
        view.seq = self.seq;
        view
    }
}

/// The UI's event channel (managed state).
#[derive(Default)]
pub struct UiChannel {
    queue: Mutex<Queue>,
}

impl std::fmt::Debug for UiChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiChannel").finish_non_exhaustive()
    }
}

impl UiChannel {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connects the UI: queued events go out first, in order, then live ones.
    /// A reloaded page connects again and replaces the old sink.
    pub fn connect(&self, sink: Box<dyn EventSink>) {
        Self::attach(&mut self.lock(), sink);
    }

    /// Connects the UI as [`UiChannel::connect`] does and returns the view
    /// `make` builds, numbered after every view sent before it and before
    /// every view sent after it. Queued views are dropped, not sent: the
    /// returned one is newer than all of them (queued errors still go out).
    pub fn connect_with(
        &self,
        sink: Box<dyn EventSink>,
        make: impl FnOnce() -> SessionView,
    ) -> SessionView {
        let mut queue = self.lock();
        queue
            .waiting
            .retain(|event| !matches!(event, AppEvent::Session { .. }));
        Self::attach(&mut queue, sink);
        let view = make();
        queue.numbered(view)
    }

    /// The view `make` builds, numbered as [`UiChannel::connect_with`]'s is,
    /// for a page that is not connected yet.
    pub fn numbered(&self, make: impl FnOnce() -> SessionView) -> SessionView {
        let mut queue = self.lock();
        let view = make();
        queue.numbered(view)
    }

    fn attach(queue: &mut Queue, sink: Box<dyn EventSink>) {
        while let Some(event) = queue.waiting.pop_front() {
            if !sink.send(event.clone()) {
                queue.waiting.push_front(event);
                return;
            }
        }
        queue.sink = Some(sink);
    }

    /// Sends an event to the UI, or queues it until the UI connects.
    pub fn send(&self, event: AppEvent) {
        let mut queue = self.lock();
        let event = Self::numbered_event(&mut queue, event);
        Self::deliver(&mut queue, event);
    }

    /// Sends the event `make` builds, built while no other event can be sent:
    /// a view built from the state of now goes out after every event sent
    /// before it, and before every event sent after it, so an older view can
    /// never arrive after a newer event.
    pub fn send_with(&self, make: impl FnOnce() -> AppEvent) {
        let mut queue = self.lock();
        let event = make();
        let event = Self::numbered_event(&mut queue, event);
        Self::deliver(&mut queue, event);
    }

    fn numbered_event(queue: &mut Queue, event: AppEvent) -> AppEvent {
        match event {
            AppEvent::Session { session } => AppEvent::Session {
                session: Box::new(queue.numbered(*session)),
            },
            other => other,
        }
    }

    fn deliver(queue: &mut Queue, event: AppEvent) {
        if let Some(sink) = &queue.sink {
            if sink.send(event.clone()) {
                return;
            }
            queue.sink = None;
        }
        // Only the latest view matters, and views must not push errors out.
        if matches!(event, AppEvent::Session { .. }) {
            queue
                .waiting
                .retain(|queued| !matches!(queued, AppEvent::Session { .. }));
        }
        if queue.waiting.len() == MAX_QUEUED_EVENTS {
            queue.waiting.pop_front();
        }
        queue.waiting.push_back(event);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kakao_desk_core::{ErrorCode, Language};

    use super::*;
    use crate::ipc::{IpcError, SessionState, SessionView};

    #[derive(Clone, Default)]
    struct Recorder {
        seen: Arc<Mutex<Vec<AppEvent>>>,
        closed: Arc<Mutex<bool>>,
    }

    impl EventSink for Recorder {
        fn send(&self, event: AppEvent) -> bool {
            if *self.closed.lock().unwrap_or_else(PoisonError::into_inner) {
                return false;
            }
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(event);
            true
        }
    }

    impl Recorder {
        fn events(&self) -> Vec<AppEvent> {
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    }

    fn error(code: ErrorCode) -> AppEvent {
        AppEvent::Error(IpcError::new(code, Language::En))
    }

    fn signed_out() -> AppEvent {
        AppEvent::Session {
            session: Box::new(SessionView::bare(SessionState::SignedOut)),
        }
    }

    #[test]
    fn events_before_the_ui_is_ready_are_queued_in_order() {
        let ui = UiChannel::default();
        ui.send(signed_out());
        ui.send(error(ErrorCode::InvalidCallback));
        let page = Recorder::default();
        ui.connect(Box::new(page.clone()));
        let mut first = SessionView::bare(SessionState::SignedOut);
        first.seq = 1;
        assert_eq!(
            page.events(),
            vec![
                AppEvent::Session {
                    session: Box::new(first)
                },
                error(ErrorCode::InvalidCallback)
            ],
            "queued events reach the UI once it connects, in arrival order"
        );
        ui.send_with(signed_out);
        assert_eq!(
            page.events().len(),
            3,
            "once connected, events go straight out"
        );
    }

    #[test]
    fn events_for_a_closed_ui_wait_for_the_next_one() {
        let ui = UiChannel::default();
        let first = Recorder::default();
        ui.connect(Box::new(first.clone()));
        *first.closed.lock().unwrap_or_else(PoisonError::into_inner) = true;
        ui.send(error(ErrorCode::InvalidCallback));
        let second = Recorder::default();
        ui.connect(Box::new(second.clone()));
        assert_eq!(
            second.events(),
            vec![error(ErrorCode::InvalidCallback)],
            "a reloaded page gets what the old one missed"
        );
    }

    fn seqs(events: &[AppEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|event| match event {
                AppEvent::Session { session } => Some(session.seq),
                AppEvent::Error(_) => None,
            })
            .collect()
    }

    #[test]
    fn the_view_ui_ready_answers_with_is_numbered_between_the_queued_and_the_later_ones() {
        let ui = UiChannel::default();
        ui.send(signed_out());
        ui.send_with(signed_out);
        ui.send(error(ErrorCode::InvalidCallback));
        let page = Recorder::default();
        let answer = ui.connect_with(Box::new(page.clone()), || {
            SessionView::bare(SessionState::SignedIn)
        });
        assert_eq!(
            page.events(),
            vec![error(ErrorCode::InvalidCallback)],
            "queued views are superseded by the answer; the queued error goes out"
        );
        assert_eq!(answer.seq, 3, "the answer is newer than every queued view");
        assert_eq!(answer.state, SessionState::SignedIn);
        ui.send_with(signed_out);
        assert_eq!(
            seqs(&page.events()),
            [4],
            "a view made after the answer is newer than it"
        );
        // A reloaded page: numbers keep growing.
        let reloaded = Recorder::default();
        let again = ui.connect_with(Box::new(reloaded.clone()), || {
            SessionView::bare(SessionState::SignedOut)
        });
        assert_eq!(again.seq, 5);
        assert!(reloaded.events().is_empty());
    }

    #[test]
    fn a_run_of_views_keeps_only_the_latest_and_pushes_no_error_out() {
        let ui = UiChannel::default();
        ui.send(error(ErrorCode::InvalidCallback));
        for _ in 0..MAX_QUEUED_EVENTS + 5 {
            ui.send_with(signed_out);
        }
        let page = Recorder::default();
        ui.connect(Box::new(page.clone()));
        let events = page.events();
        assert_eq!(events.len(), 2, "the error and one view: {events:?}");
        assert_eq!(events[0], error(ErrorCode::InvalidCallback));
        assert_eq!(
            seqs(&events),
            [u64::try_from(MAX_QUEUED_EVENTS).expect("small") + 5],
            "the view kept is the latest"
        );
    }

    #[test]
    fn the_queue_is_bounded() {
        let ui = UiChannel::default();
        for _ in 0..MAX_QUEUED_EVENTS + 5 {
            ui.send(error(ErrorCode::InvalidCallback));
        }
        let page = Recorder::default();
        ui.connect(Box::new(page.clone()));
        assert_eq!(
            page.events().len(),
            MAX_QUEUED_EVENTS,
            "a flood of links cannot grow memory without bound"
        );
    }
}
