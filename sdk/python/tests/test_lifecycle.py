"""Lifecycle: the generic notifications in every order a session drives."""

import threading
import unittest

from sipstreams_plugin import IllegalStateError, Lifecycle, State


class Posts:
    def __init__(self):
        self.items = []

    def __call__(self, name, data):
        self.items.append((name, data))

    @property
    def names(self):
        return [n for n, _ in self.items]


class LifecycleTest(unittest.TestCase):
    def test_full(self):
        p, lock = Posts(), threading.Lock()
        life = Lifecycle(p)
        life.initialize(lambda: None)
        life.starting()
        life.started()
        self.assertTrue(life.active)
        life.deactivate()
        self.assertFalse(life.active)
        self.assertFalse(life.transport_closed("reading", "closed"))
        life.end(lock)
        life.end(lock)  # a second end posts nothing
        self.assertEqual(p.names, ["MediaStreamDidInitialize", "MediaStreamDidStart", "MediaStreamWillEnd", "MediaStreamDidEnd"])
        self.assertEqual(p.items[-1][1], {})

    def test_interrupted(self):
        for setup in ("new", "initializing"):
            with self.subTest(setup):
                p = Posts()
                life = Lifecycle(p)
                if setup == "initializing":
                    life.initializing()
                life.end(threading.Lock())
                self.assertEqual(p.items, [("MediaStreamDidNotInitialize", {"reason": "Interrupted"})])

    def test_failures(self):
        p = Posts()
        life = Lifecycle(p)

        def fail():
            raise OSError("address in use")

        life.initialize(fail)
        self.assertEqual(p.items, [("MediaStreamDidNotInitialize", {"reason": "address in use"})])
        self.assertEqual(life.state, State.FAILED)
        with self.assertRaises(IllegalStateError):
            life.starting()
        life.end(threading.Lock())
        self.assertEqual(p.items[-1], ("MediaStreamDidEnd", {"error": "address in use"}))

    def test_transport_failure(self):
        p = Posts()
        life = Lifecycle(p)
        life.initialize(lambda: None)
        life.starting()
        life.started()
        self.assertTrue(life.transport_closed("reading", "connection reset"))
        life.end(threading.Lock())
        self.assertEqual(p.items[2], ("MediaStreamDidFail", {"context": "reading", "reason": "connection reset"}))
        self.assertEqual(p.items[-1], ("MediaStreamDidEnd", {"error": "connection reset"}))

    def test_start_after_deactivate(self):
        life = Lifecycle(Posts())
        life.initialize(lambda: None)
        life.deactivate()
        with self.assertRaisesRegex(IllegalStateError, "after Deactivate"):
            life.starting()

    def test_threads_and_cleanups(self):
        """end stops the threads, runs the cleanups in reverse, joins the
        threads, releases, and only then posts MediaStreamDidEnd."""
        p, lock = Posts(), threading.Lock()
        life = Lifecycle(p)
        order = []
        running = threading.Event()

        def worker(stop):
            running.set()
            stop.wait()
            order.append("thread stopped")

        life.initialize(lambda: None)
        with lock:
            self.assertTrue(life.spawn(worker))
            life.defer(lambda: order.append("cleanup 1"))
            life.defer(lambda: order.append("cleanup 2"))
        running.wait()

        def teardown(prev):
            order.append(f"teardown from {prev}")
            return lambda: order.append("release " + p.names[-1])

        life.end(lock, teardown)
        self.assertEqual(order[0], "teardown from initialized")
        self.assertEqual(order[1:3], ["cleanup 2", "cleanup 1"])
        self.assertIn("thread stopped", order)
        self.assertEqual(order[-1], "release MediaStreamWillEnd")
        self.assertEqual(p.names[-1], "MediaStreamDidEnd")
        self.assertFalse(life.spawn(worker))
        self.assertFalse(life.defer(lambda: None))


if __name__ == "__main__":
    unittest.main()
