"""The Calls stream (contract 1.2): unary calls carried many to a message."""

import threading
import unittest

from sipstreams.stream.v1 import stream_pb2 as pb
from sipstreams_plugin import IllegalStateError, MatchRule, Plugin, Stream, StreamType
from sipstreams_plugin.errors import decode_fields
from sipstreams_plugin.provider import LocalProvider
from sipstreams_plugin.server import MediaStreamServicer, _CallContext, _serve_calls


def plugin(gate):
    def slow(args, env):
        gate.wait(10)
        return {"slow": True}

    def fail(args, env):
        raise IllegalStateError("not now")

    return Plugin(
        name="calls",
        version="0.1.0",
        types=[StreamType("calls", match=MatchRule(media=["application"]), create=lambda r, e: None)],
        methods={"slow": slow, "fail": fail, "echo": lambda args, env: args},
    )


def status_of(raw):
    """(code, message) of a serialized google.rpc.Status."""
    f = decode_fields(raw)
    return f.get(1, [0])[0], f.get(2, [b""])[0].decode()


class CallsTest(unittest.TestCase):
    def serve(self, batches, gate):
        servicer = MediaStreamServicer(LocalProvider(plugin(gate)))
        out = []
        for rb in _serve_calls(servicer, iter(batches), None):
            out.extend(rb.results)
        return {r.id: r for r in out}

    def test_outcomes(self):
        gate = threading.Event()
        gate.set()
        calls = [
            pb.Call(id=1, method="Describe", request=pb.DescribeRequest().SerializeToString()),
            pb.Call(id=2, method="Invoke", request=pb.InvokeRequest(method="echo", args=b'{"n":2}').SerializeToString()),
            pb.Call(id=3, method="Invoke", request=pb.InvokeRequest(method="fail").SerializeToString()),
            pb.Call(id=4, method="Bogus"),
            pb.Call(id=5, method="End", request=pb.HandleRequest(handle=99).SerializeToString()),
        ]
        got = self.serve([pb.CallBatch(calls=calls)], gate)
        self.assertEqual(sorted(got), [1, 2, 3, 4, 5])
        m = pb.Manifest()
        m.ParseFromString(got[1].response)
        self.assertEqual((m.name, m.contract_minor), ("calls", 3))
        res = pb.InvokeResponse()
        res.ParseFromString(got[2].response)
        self.assertEqual(res.result, b'{"n":2}')
        self.assertEqual(status_of(got[3].status), (9, "illegal state: not now"))  # FAILED_PRECONDITION, with ErrorInfo
        self.assertIn(b"ILLEGAL_STATE", got[3].status)
        self.assertEqual(status_of(got[4].status)[0], 12)  # UNIMPLEMENTED
        self.assertEqual(status_of(got[5].status)[0], 5)  # NOT_FOUND: no such stream

    def test_answers_out_of_order_and_waits_for_all(self):
        # A slow call does not hold back a later one, and the stream ends
        # only once every call was answered.
        gate = threading.Event()
        order = []
        calls = [
            pb.Call(id=1, method="Invoke", request=pb.InvokeRequest(method="slow").SerializeToString()),
            pb.Call(id=2, method="Invoke", request=pb.InvokeRequest(method="echo", args=b"1").SerializeToString()),
        ]
        servicer = MediaStreamServicer(LocalProvider(plugin(gate)))
        for rb in _serve_calls(servicer, iter([pb.CallBatch(calls=calls)]), None):
            for r in rb.results:
                order.append(r.id)
                if r.id == 2:
                    gate.set()
        self.assertEqual(order, [2, 1])

    def test_deadline(self):
        # The caller's deadline is what the handlers see as time remaining.
        self.assertIsNone(_CallContext(0).time_remaining())
        left = _CallContext(1_500_000).time_remaining()
        self.assertTrue(0 < left <= 1.5, left)


if __name__ == "__main__":
    unittest.main()


class Teardown(Stream):
    """Records deactivate and end, in order."""

    def __init__(self, log):
        self.log = log

    def deactivate(self):
        self.log.append("deactivate")

    def end(self):
        self.log.append("end")


class DeactivateFirstTest(unittest.TestCase):
    """Contract 1.3: an End with deactivate_first deactivates, then ends."""

    def test_end(self):
        for first, want in ((True, ["deactivate", "end"]), (False, ["end"])):
            log = []
            p = Plugin(
                name="teardown",
                version="0.1.0",
                types=[StreamType("t", match=MatchRule(media=["application"]), create=lambda r, e: Teardown(log))],
            )
            servicer = MediaStreamServicer(LocalProvider(p))
            opened = servicer.Create(pb.CreateRequest(type="t"), _CallContext(0))
            servicer.End(pb.HandleRequest(handle=opened.handle, deactivate_first=first), _CallContext(0))
            self.assertEqual(log, want, f"deactivate_first={first}")
