"""errors: the google.rpc.Status the Go SDK decodes."""

import unittest

from sipstreams_plugin import errors


class StatusTest(unittest.TestCase):
    def test_encode(self):
        err = errors.InvalidStreamError("no common codec")
        status = errors.decode_fields(errors.encode_status(err))
        self.assertEqual(status[1], [3])  # INVALID_ARGUMENT
        self.assertEqual(status[2], [b"invalid stream: no common codec"])
        any_msg = errors.decode_fields(status[3][0])
        self.assertEqual(any_msg[1], [b"type.googleapis.com/google.rpc.ErrorInfo"])
        info = errors.decode_fields(any_msg[2][0])
        self.assertEqual(info[1], [b"INVALID_STREAM"])
        self.assertEqual(info[2], [b"sipstreams"])
        entry = errors.decode_fields(info[3][0])
        self.assertEqual((entry[1], entry[2]), ([b"reason"], [b"no common codec"]))

    def test_kinds(self):
        # Every kind has its Go sentinel's wire reason and a status code.
        kinds = {
            errors.UnknownStreamError: ("UNKNOWN_STREAM", 5),
            errors.InvalidStreamError: ("INVALID_STREAM", 3),
            errors.StreamNotFoundError: ("STREAM_NOT_FOUND", 5),
            errors.IllegalStateError: ("ILLEGAL_STATE", 9),
            errors.UnimplementedError: ("NOT_IMPLEMENTED", 12),
            errors.UnknownMethodError: ("UNKNOWN_METHOD", 5),
            errors.InvalidArgumentError: ("INVALID_ARGUMENT", 3),
            errors.PluginUnavailableError: ("PLUGIN_UNAVAILABLE", 14),
            errors.InternalError: ("INTERNAL", 13),
            errors.ContractVersionError: ("CONTRACT_VERSION", 9),
            errors.BusyError: ("BUSY", 8),
        }
        for cls, (kind, code) in kinds.items():
            with self.subTest(cls.__name__):
                self.assertEqual((cls.KIND, errors.STATUS_CODES[cls.CODE]), (kind, code))
                self.assertEqual(str(cls("")), cls.TEXT)

    def test_large_reason(self):
        reason = "x" * 70000  # a varint of three bytes
        status = errors.decode_fields(errors.encode_status(errors.InternalError(reason)))
        self.assertEqual(len(status[2][0]), len("internal plugin error: ") + 70000)

    def test_normalize(self):
        e = errors.IllegalStateError("x")
        self.assertIs(errors.normalize(e), e)
        n = errors.normalize(ValueError("bad"), "echo.start")
        self.assertIsInstance(n, errors.InternalError)
        self.assertEqual(n.reason, "echo.start: ValueError: bad")

    def test_decode_refuses(self):
        for data in (b"\x08", b"\x0a\x05ab", b"\x0d\x00\x00\x00\x00"):
            with self.subTest(data):
                with self.assertRaises(ValueError):
                    errors.decode_fields(data)


if __name__ == "__main__":
    unittest.main()
