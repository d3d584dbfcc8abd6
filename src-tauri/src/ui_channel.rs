//! The channel of UI events, and the queue that holds them until the page is
//! ready.
//!
//! The page hands a `tauri::ipc::Channel` to `ui_ready`; events produced
//! before that (a cold start by a link is handled before WebKit has loaded
//! the page) wait in a bounded queue and go out first, in order. A reloaded
//! page connects again and gets what the old one missed.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tauri::ipc::Channel;

use crate::ipc::AppEvent;

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
        let mut queue = self.lock();
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
        Self::deliver(&mut self.lock(), event);
    }

    /// Sends the event `make` builds, built while no other event can be sent:
    /// a view built from the state of now goes out after every event sent
    /// before it, and before every event sent after it, so an older view can
    /// never arrive after a newer event.
    pub fn send_with(&self, make: impl FnOnce() -> AppEvent) {
        let mut queue = self.lock();
        let event = make();
        Self::deliver(&mut queue, event);
    }

    fn deliver(queue: &mut Queue, event: AppEvent) {
        if let Some(sink) = &queue.sink {
            if sink.send(event.clone()) {
                return;
            }
            queue.sink = None;
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
        assert_eq!(
            page.events(),
            vec![signed_out(), error(ErrorCode::InvalidCallback)],
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
