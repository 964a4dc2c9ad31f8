"""The echo wire format: what parses, what marshals back."""

import unittest

from pyecho import datagram


class DatagramTest(unittest.TestCase):
    def test_parse(self):
        cases = {
            b"PING 7 hello": datagram.Datagram("PING", 7, "hello"),
            b"PONG 0 ": datagram.Datagram("PONG", 0, ""),
            b"PING 7": datagram.Datagram("PING", 7, ""),
            b"PING 18446744073709551615 x y": datagram.Datagram("PING", 2**64 - 1, "x y"),
            "PING 1 héllo".encode(): datagram.Datagram("PING", 1, "héllo"),
        }
        for raw, want in cases.items():
            with self.subTest(raw):
                self.assertEqual(datagram.parse(raw), want)

    def test_refused(self):
        for raw in [b"", b"PING", b"PING ", b"PING x", b"PING -1 a", b"PING 18446744073709551616", b"PING 1 \xff",
                    b"PING " + b"1" * 21, b"ping 1 a", b"PONG 1 " + b"a" * 1025, b"PING  1", b"PING +1 a", "PING １ a".encode()]:
            with self.subTest(raw):
                with self.assertRaises(datagram.MalformedDatagram):
                    datagram.parse(raw)

    def test_round_trip(self):
        d = datagram.Datagram("PONG", 42, "a" * datagram.MAX_PAYLOAD)
        self.assertEqual(datagram.parse(d.marshal()), d)


if __name__ == "__main__":
    unittest.main()
