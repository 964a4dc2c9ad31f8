"""The part of a stream's life that is the same for every stream type
(reference §1.1), as the Go SDK's sdk.Lifecycle: the state, the outcome
notifications of initialize and start, failures, deactivate, and end's
notifications:

- before initialization finished: MediaStreamDidNotInitialize with reason
  "Interrupted", and nothing else;
- otherwise MediaStreamWillEnd, the teardown, then MediaStreamDidEnd with
  the last failure reason, if any;
- a second end: nothing.

It owns the stream's threads (spawn) and cleanups (defer): end stops the
threads and runs the cleanups before MediaStreamDidEnd, so nothing the stream
started outlives it. Not thread safe: call it with the stream's lock held,
except end(), which takes the lock itself.
"""

from __future__ import annotations

import threading
from enum import IntEnum
from typing import Any, Callable, Optional

from .errors import IllegalStateError, StreamError

__all__ = [
    "MEDIA_STREAM_DID_INITIALIZE",
    "MEDIA_STREAM_DID_NOT_INITIALIZE",
    "MEDIA_STREAM_DID_START",
    "MEDIA_STREAM_DID_FAIL",
    "MEDIA_STREAM_WILL_END",
    "MEDIA_STREAM_DID_END",
    "REASON_INTERRUPTED",
    "State",
    "Lifecycle",
]

# The generic notifications every stream posts (the reference's names).
MEDIA_STREAM_DID_INITIALIZE = "MediaStreamDidInitialize"
MEDIA_STREAM_DID_NOT_INITIALIZE = "MediaStreamDidNotInitialize"
MEDIA_STREAM_DID_START = "MediaStreamDidStart"
MEDIA_STREAM_DID_FAIL = "MediaStreamDidFail"
MEDIA_STREAM_WILL_END = "MediaStreamWillEnd"
MEDIA_STREAM_DID_END = "MediaStreamDidEnd"

# The reason of the MediaStreamDidNotInitialize that end posts before
# initialization finished.
REASON_INTERRUPTED = "Interrupted"


class State(IntEnum):
    """Where a stream is in its life."""

    NEW = 0
    INITIALIZING = 1
    INITIALIZED = 2
    STARTING = 3
    STARTED = 4
    FAILED = 5
    ENDED = 6

    def __str__(self) -> str:
        return self.name.lower()


def reason_of(exc: BaseException) -> str:
    """The human-readable reason of an exception."""
    if isinstance(exc, StreamError) and exc.reason:
        return exc.reason
    return str(exc) or type(exc).__name__


class Lifecycle:
    """See the module's doc. post is the stream's Env.post."""

    def __init__(self, post: Callable[[str, Any], None]):
        self._post = post
        self.state = State.NEW
        self._deactivated = False
        self._failure = ""
        self._threads: list[tuple[threading.Thread, threading.Event]] = []
        self._cleanups: list[Callable[[], None]] = []

    def check(self, op: str, *allowed: State) -> None:
        """Raises IllegalStateError naming op and the state unless the state
        is one of allowed."""
        if self.state not in allowed:
            raise IllegalStateError(f"{op} in state {self.state}")

    def initializing(self) -> None:
        """Begins initialize: NEW -> INITIALIZING, else IllegalStateError."""
        self.check("Initialize", State.NEW)
        self.state = State.INITIALIZING

    def initialized(self) -> None:
        """Ends initialization: posts MediaStreamDidInitialize."""
        self.state = State.INITIALIZED
        self._post(MEDIA_STREAM_DID_INITIALIZE, None)

    def not_initialized(self, reason: str) -> None:
        """Ends initialization on a failure: posts MediaStreamDidNotInitialize."""
        self.state, self._failure = State.FAILED, reason
        self._post(MEDIA_STREAM_DID_NOT_INITIALIZE, {"reason": reason})

    def initialize(self, setup: Callable[[], None]) -> None:
        """Runs an initialize that finishes at once: setup's exception ends
        it with not_initialized(reason), else initialized(). Raises only
        IllegalStateError (outside NEW, without calling setup)."""
        self.initializing()
        try:
            setup()
        except Exception as e:  # the outcome is the notification
            self.not_initialized(reason_of(e))
            return
        self.initialized()

    def starting(self) -> None:
        """Begins start: INITIALIZED (and not deactivated) -> STARTING."""
        self.check("Start", State.INITIALIZED)
        if self._deactivated:
            raise IllegalStateError("Start after Deactivate")
        self.state = State.STARTING

    def started(self) -> None:
        """Ends start: posts MediaStreamDidStart."""
        self.state = State.STARTED
        self._post(MEDIA_STREAM_DID_START, None)

    def fail(self, where: str, reason: str) -> None:
        """Records a failure of the media and posts MediaStreamDidFail with
        where it failed ("start", "reading", ...) and the reason."""
        if self.state != State.ENDED:
            self.state = State.FAILED
        self._failure = reason
        self._post(MEDIA_STREAM_DID_FAIL, {"context": where, "reason": reason})

    def transport_closed(self, where: str, reason: str) -> bool:
        """The transport closed: a failure unless deactivate or end came
        first. Returns whether it failed the stream."""
        if self.closing:
            return False
        self.fail(where, reason)
        return True

    def deactivate(self) -> None:
        """From now on the transport closing is normal, and start is refused."""
        self._deactivated = True

    @property
    def closing(self) -> bool:
        return self._deactivated or self.state == State.ENDED

    @property
    def active(self) -> bool:
        """Media may flow: started and not closing."""
        return self.state == State.STARTED and not self.closing

    def spawn(self, target: Callable[[threading.Event], None], name: str = "") -> bool:
        """Runs target(stop) on a thread the stream owns: end sets stop, runs
        the cleanups (which must wake a thread blocked on I/O) and joins it.
        Returns False, starting nothing, once end has begun."""
        if self.state == State.ENDED:
            return False
        stop = threading.Event()
        t = threading.Thread(target=target, args=(stop,), name=name or "stream", daemon=True)
        self._threads.append((t, stop))
        t.start()
        return True

    def defer(self, fn: Callable[[], None]) -> bool:
        """Registers fn to run, without the lock, once end has begun, before
        end joins the threads. Cleanups run in reverse order."""
        if self.state == State.ENDED:
            return False
        self._cleanups.append(fn)
        return True

    def end(self, lock, teardown: Optional[Callable[[State], Optional[Callable[[], None]]]] = None) -> None:
        """Ends the stream whose state lock guards; the caller must not hold
        it. With the lock: ENDED, MediaStreamDidNotInitialize "Interrupted"
        or MediaStreamWillEnd, teardown(previous state). Without it: stop the
        threads, run the cleanups, join the threads, call what teardown
        returned (close sockets). Last, with the lock: MediaStreamDidEnd,
        unless the stream was interrupted. A second end returns at once."""
        with lock:
            prev = self.state
            if prev == State.ENDED:
                return
            self.state = State.ENDED
            interrupted = prev in (State.NEW, State.INITIALIZING)
            if interrupted:
                self._post(MEDIA_STREAM_DID_NOT_INITIALIZE, {"reason": REASON_INTERRUPTED})
            else:
                self._post(MEDIA_STREAM_WILL_END, None)
            release = teardown(prev) if teardown is not None else None
            threads, cleanups = self._threads, self._cleanups
            self._threads, self._cleanups = [], []
        for _, stop in threads:
            stop.set()
        for fn in reversed(cleanups):
            fn()
        for t, _ in threads:
            if t is not threading.current_thread():
                t.join()
        if release is not None:
            release()
        if interrupted:
            return
        with lock:
            data = {"error": self._failure} if self._failure else {}
            self._post(MEDIA_STREAM_DID_END, data)
