"""LocalProvider: dispatch, Prepare, serialised calls, errors, the queue."""

import json
import logging
import threading
import unittest

from sipstreams_plugin import (
    Attributes,
    CreateRequest,
    GetLocalMediaRequest,
    IllegalStateError,
    InitializeRequest,
    InternalError,
    InvalidArgumentError,
    InvalidStreamError,
    InvokeRequest,
    Lifecycle,
    MatchRule,
    NewFromSDPRequest,
    Plugin,
    Prepare,
    SessionInfo,
    Stream,
    StreamNotFoundError,
    StreamType,
    UnimplementedError,
    UnknownMethodError,
    UnknownStreamError,
)
from sipstreams_plugin import sdp
from sipstreams_plugin.provider import LocalProvider, NotificationQueue


def offer(fmt):
    return f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=application 9 UDP {fmt}\r\n"


class Quiet(Stream):
    """A stream without media: Lifecycle only."""

    def __init__(self, env, fail_init=False):
        self.env = env
        self.lock = threading.Lock()
        self.life = Lifecycle(env.post)
        self.fail_init = fail_init

    def initialize(self, req):
        def setup():
            if self.fail_init:
                raise OSError("no port")

        with self.lock:
            self.life.initialize(setup)

    def get_local_media(self, req):
        return sdp.media_section("application", 9, "UDP", ["x-quiet"], "127.0.0.1")

    def start(self, req):
        with self.lock:
            self.life.starting()
            self.life.started()

    def end(self):
        self.life.end(self.lock)

    def invoke(self, req):
        if req.method == "boom":
            raise KeyError("boom")
        if req.method == "echo":
            return {"args": req.args}
        return super().invoke(req)


def plugin():
    def refuse_odd(req, env):
        _, m = sdp.media_at(req.remote_sdp, req.stream_index)
        if m.formats == ["x-refused"]:
            raise InvalidStreamError("refused")
        if m.formats == ["x-notmine"]:
            raise UnknownStreamError("not mine")
        return Quiet(env)

    return Plugin(
        name="test",
        version="1",
        types=[
            StreamType("low", priority=1, match=MatchRule(media=["application"]), new_from_sdp=lambda r, e: Quiet(e)),
            StreamType("high", priority=9, match=MatchRule(media=["application"]), new_from_sdp=refuse_odd,
                       create=lambda r, e: Quiet(e, fail_init=bool(r.params))),
            StreamType("none", priority=5, match=MatchRule(media=["audio"]), new_from_sdp=lambda r, e: None),
        ],
        methods={"sum": lambda args, env: sum(args), "post": lambda args, env: env.post("Posted", args)},
    )


class ProviderTest(unittest.TestCase):
    def setUp(self):
        quiet = logging.getLogger("tests.quiet")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        self.p = LocalProvider(plugin(), quiet)
        self.token = self.p.queue.subscribe()

    def drain(self):
        out = []
        while len(self.p.queue):
            out += self.p.queue.take(self.token)
        return [(n.handle, n.name, json.loads(n.data) if n.data else None) for n in out]

    def test_manifest(self):
        m = self.p.describe().to_dict()
        self.assertEqual([t["type"] for t in m["stream_types"]], ["low", "high", "none"])
        self.assertEqual(m["methods"], ["post", "sum"])
        self.assertNotIn("capabilities", m)
        with self.assertRaises(InvalidArgumentError):
            LocalProvider(Plugin("bad", "1", types=[StreamType("t", match=MatchRule(media=["audio"]))]))
        with self.assertRaises(InvalidArgumentError):
            LocalProvider(Plugin("bad", "1", types=[StreamType("t", create=lambda r, e: None)]))

    def test_dispatch(self):
        o = self.p.new_from_sdp(NewFromSDPRequest(remote_sdp=offer("x-any")))
        self.assertEqual((o.handle, o.type), (1, "high"))  # priority first
        o = self.p.new_from_sdp(NewFromSDPRequest(remote_sdp=offer("x-notmine")))
        self.assertEqual(o.type, "low")  # UnknownStreamError tries the next
        o = self.p.new_from_sdp(NewFromSDPRequest(types=["LOW"], remote_sdp=offer("x-any")))
        self.assertEqual(o.type, "low")
        with self.assertRaises(InvalidStreamError):
            self.p.new_from_sdp(NewFromSDPRequest(remote_sdp=offer("x-refused")))
        with self.assertRaises(InvalidStreamError):
            self.p.new_from_sdp(NewFromSDPRequest(remote_sdp="nonsense"))
        with self.assertRaisesRegex(UnknownStreamError, "m=video RTP/AVP"):
            self.p.new_from_sdp(NewFromSDPRequest(remote_sdp=offer("x").replace("application 9 UDP x", "video 9 RTP/AVP 96")))
        with self.assertRaisesRegex(InternalError, "returned no stream"):
            self.p.new_from_sdp(NewFromSDPRequest(remote_sdp=offer("0").replace("application 9 UDP", "audio 9 RTP/AVP")))
        with self.assertRaises(UnknownStreamError):
            self.p.create(CreateRequest(type="nosuch"))
        with self.assertRaises(UnimplementedError):
            self.p.create(CreateRequest(type="low"))

    def test_lifecycle_and_removal(self):
        o = self.p.create(CreateRequest(type="high"))
        s = o.stream
        s.initialize(InitializeRequest(SessionInfo(), "outgoing"))
        self.assertTrue(s.get_local_media(GetLocalMediaRequest(for_offer=True)).startswith("m=application 9"))
        s.start(None)
        self.assertEqual(s.attributes(), Attributes())
        self.assertTrue(s.validate_update(None))
        s.end()
        self.assertEqual(len(self.p), 0)
        for call in (s.attributes, s.end, s.hold, lambda: s.invoke(InvokeRequest("x"))):
            with self.assertRaises(StreamNotFoundError):
                call()
        with self.assertRaises(StreamNotFoundError):
            self.p.stream(o.handle)
        self.assertEqual(
            [n for _, n, _ in self.drain()],
            ["MediaStreamDidInitialize", "MediaStreamDidStart", "MediaStreamWillEnd", "MediaStreamDidEnd"],
        )

    def test_errors(self):
        s = self.p.create(CreateRequest(type="high")).stream
        with self.assertRaisesRegex(InternalError, r"high.invoke: KeyError: 'boom'"):
            s.invoke(InvokeRequest("boom"))
        with self.assertRaises(UnknownMethodError):
            s.invoke(InvokeRequest("nosuch"))
        self.assertEqual(json.loads(s.invoke(InvokeRequest("echo", [1]))), {"args": [1]})
        with self.assertRaisesRegex(IllegalStateError, "Start in state new"):
            s.start(None)
        self.assertEqual(self.p.invoke(InvokeRequest("sum", [1, 2])), b"3")
        self.assertEqual(self.p.invoke(InvokeRequest("post", {"a": 1})), b"")
        with self.assertRaises(UnknownMethodError):
            self.p.invoke(InvokeRequest("nosuch"))
        self.assertEqual(self.drain(), [(0, "Posted", {"a": 1})])

    def test_prepare(self):
        o = self.p.create(CreateRequest(type="high", prepare=Prepare(SessionInfo(), "outgoing", True)))
        self.assertTrue(o.initialized)
        self.assertTrue(o.media.startswith("m=application 9 UDP x-quiet"))
        o = self.p.create(CreateRequest(type="high", params={"fail": True}, prepare=Prepare(SessionInfo(), "outgoing", True)))
        self.assertEqual((o.initialized, o.init_error, o.media), (False, "no port", ""))
        o = self.p.new_from_sdp(NewFromSDPRequest(remote_sdp=offer("x"), prepare=Prepare(SessionInfo(), "incoming", False)))
        self.assertTrue(o.initialized)
        self.assertEqual(o.media, "")

    def test_close(self):
        for _ in range(3):
            self.p.create(CreateRequest(type="high")).stream.initialize(InitializeRequest())
        self.p.close()
        self.assertEqual(len(self.p), 0)
        self.assertEqual([n for _, n, _ in self.drain()].count("MediaStreamDidEnd"), 3)
        with self.assertRaisesRegex(Exception, "closing"):
            self.p.create(CreateRequest(type="high"))


class QueueTest(unittest.TestCase):
    def test_one_consumer_and_requeue(self):
        q = NotificationQueue()
        for i in range(5):
            q.push(0, f"N{i}", b"")
        a = q.subscribe()
        with self.assertRaises(IllegalStateError):
            q.subscribe()
        first = q.take(a, 2)
        self.assertEqual([n.name for n in first], ["N0", "N1"])
        self.assertEqual([n.seq for n in first], [1, 2])
        q.requeue(first)  # not delivered: back in front
        q.unsubscribe(a)
        self.assertIsNone(q.take(a))
        b = q.subscribe()
        self.assertEqual([n.name for n in q.take(b)], ["N0", "N1", "N2", "N3", "N4"])

    def test_take_wakes(self):
        q = NotificationQueue()
        t = q.subscribe()
        got = []
        th = threading.Thread(target=lambda: got.append(q.take(t)))
        th.start()
        q.push(7, "Late", b"{}")
        th.join()
        self.assertEqual(got[0][0].handle, 7)
        th = threading.Thread(target=lambda: got.append(q.take(t)))
        th.start()
        q.unsubscribe(t)
        th.join()
        self.assertIsNone(got[1])


if __name__ == "__main__":
    unittest.main()
