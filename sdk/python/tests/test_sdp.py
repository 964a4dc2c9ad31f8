"""sdp: parsing as strict as the host's, matching, endpoints, the direction
rules of reference §3.5."""

import ipaddress
import os
import unittest

from sipstreams_plugin import InvalidStreamError, MatchRule
from sipstreams_plugin import sdp

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "streamtest", "testdata")

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 96\r\na=rtpmap:96 opus/48000/2\r\na=sendonly\r\n"
    "m=application 40000 UDP x-sipstreams-pyecho\r\nc=IN IP6 ::1\r\na=recvonly\r\n"
    "m=message 2855 TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\n"
)


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as f:
        return f.read()


class ParseTest(unittest.TestCase):
    def test_offer(self):
        s = sdp.parse_sdp(OFFER)
        self.assertEqual(len(s.media), 3)
        audio, echo, msrp = s.media
        self.assertEqual((audio.media, audio.port, audio.proto, audio.formats), ("audio", 49170, "RTP/AVP", ["0", "96"]))
        self.assertEqual(audio.attribute("rtpmap"), "96 opus/48000/2")
        self.assertEqual(audio.attribute("sendonly"), "")
        self.assertIsNone(audio.attribute("recvonly"))
        self.assertEqual(sdp.connection_address(s, audio), "127.0.0.1")
        self.assertEqual(sdp.connection_address(s, echo), "::1")
        self.assertEqual(msrp.attribute("accept-types"), "message/cpim text/plain")

    def test_lf_only(self):
        s = sdp.parse_sdp(OFFER.replace("\r\n", "\n"))
        self.assertEqual(len(s.media), 3)

    def test_refused(self):
        cases = {
            "empty": "",
            "garbage": fixture("garbage.sdp"),
            "truncated": fixture("truncated.sdp"),
            "no v=": OFFER[5:],
            "v=1": "v=1" + OFFER[3:],
            "no t=": OFFER.replace("t=0 0\r\n", ""),
            "no o=": OFFER.replace("o=- 1 1 IN IP4 127.0.0.1\r\n", ""),
            "bad line": OFFER + "hello\r\n",
            "upper-case type": OFFER + "A=x\r\n",
            "port not a number": OFFER.replace("49170", "x"),
            "port out of range": OFFER.replace("49170", "65536"),
            "port with sign": OFFER.replace("49170", "+5"),
            "c= short": OFFER.replace("c=IN IP6 ::1", "c=IN ::1"),
            "t= in media": OFFER + "t=0 0\r\n",
            "m= without format": OFFER + "m=audio 9 RTP/AVP\r\n",
            "not text": b"v=0",
        }
        for name, text in cases.items():
            with self.subTest(name):
                with self.assertRaises(InvalidStreamError):
                    sdp.parse_sdp(text)

    def test_media_at(self):
        _, m = sdp.media_at(OFFER, 1)
        self.assertEqual(m.media, "application")
        for index in (-1, 3):
            with self.assertRaises(InvalidStreamError):
                sdp.media_at(OFFER, index)

    def test_parse_media_round_trip(self):
        text = sdp.media_section("application", 40000, "UDP", ["x-a", "x-b"], "::1", [("sendonly", None), ("label", "1")])
        self.assertEqual(text, "m=application 40000 UDP x-a x-b\r\nc=IN IP6 ::1\r\na=sendonly\r\na=label:1\r\n")
        m = sdp.parse_media(text)
        self.assertEqual((m.port, m.formats, m.connection.address), (40000, ["x-a", "x-b"], "::1"))
        self.assertEqual(sdp.direction(None, m), "sendonly")
        with self.assertRaises(InvalidStreamError):
            sdp.parse_media("c=IN IP4 1.2.3.4\r\n")
        with self.assertRaises(InvalidStreamError):
            sdp.parse_media(text + text)

    def test_media_section_ipv4_mapped(self):
        self.assertIn("c=IN IP4 192.0.2.1\r\n", sdp.media_section("audio", 9, "RTP/AVP", ["0"], "::ffff:192.0.2.1"))


class MatchTest(unittest.TestCase):
    def test_rules(self):
        s = sdp.parse_sdp(OFFER + fixture("unclaimed-video.sdp").split("t=0 0\r\n")[1])
        audio, echo, msrp, video = s.media
        cases = [
            (MatchRule(media=["audio"]), audio, True),
            (MatchRule(media=["AUDIO"]), audio, True),
            (MatchRule(media=["audio"], protos=["RTP/SAVP"]), audio, False),
            (MatchRule(media=["audio"], rtpmap_names=["OPUS"]), audio, True),
            (MatchRule(media=["audio"], rtpmap_names=["PCMU"]), audio, True),  # static payload type 0
            (MatchRule(media=["audio"], rtpmap_names=["G722"]), audio, False),
            (MatchRule(media=["application"], protos=["udp"], formats=["x-sipstreams-pyecho"]), echo, True),
            (MatchRule(media=["application"], formats=["x-other"]), echo, False),
            (MatchRule(media=["message"], accept_types=["text/plain"]), msrp, True),
            (MatchRule(media=["message"], accept_types=["image/png"]), msrp, False),
            (MatchRule(media=["message"], accept_types=["*"]), msrp, True),
            (MatchRule(media=["video"], rtpmap_names=["H264"]), video, False),
            (MatchRule(), video, True),
        ]
        for rule, m, want in cases:
            with self.subTest(rule=rule, media=m.media):
                self.assertEqual(rule.matches(m), want)


class EndpointTest(unittest.TestCase):
    def endpoint(self, media_lines, session_c="c=IN IP4 192.0.2.1\r\n"):
        text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n" + session_c + "t=0 0\r\n" + media_lines
        s, m = sdp.media_at(text, 0)
        return sdp.parse_endpoint(s, m)

    def test_endpoints(self):
        e = self.endpoint("m=application 4000 UDP x\r\n")
        self.assertEqual((e.address, e.port, e.direction, e.peer()), (ipaddress.ip_address("192.0.2.1"), 4000, "sendrecv", ("192.0.2.1", 4000)))
        e = self.endpoint("m=application 4000 UDP x\r\nc=IN IP6 ::ffff:192.0.2.9\r\na=recvonly\r\n")
        self.assertEqual((str(e.address), e.direction), ("192.0.2.9", "recvonly"))
        e = self.endpoint("m=application 0 UDP x\r\n")
        self.assertTrue(e.removed)
        self.assertIsNone(e.peer())
        # Old-style hold: the remote does not receive, whatever it says.
        e = self.endpoint("m=application 4000 UDP x\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n")
        self.assertTrue(e.on_hold_old_style)
        self.assertEqual(e.direction, "sendonly")
        self.assertIsNone(e.peer())

    def test_unusable(self):
        for media, session_c in [
            ("m=application 4000 UDP x\r\n", ""),
            ("m=application 4000 UDP x\r\nc=IN IP4 host.example.com\r\n", ""),
            ("m=application 4000 UDP x\r\nc=IN IP6 fe80::1%eth0\r\n", ""),
        ]:
            with self.subTest(media):
                with self.assertRaises(InvalidStreamError):
                    self.endpoint(media, session_c)

    def test_session_direction(self):
        text = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\na=inactive\r\nm=application 9 UDP x\r\n"
        s, m = sdp.media_at(text, 0)
        self.assertEqual(sdp.direction(s, m), "inactive")


class DirectionTest(unittest.TestCase):
    """The hold matrix of reference §3.5, as the conformance suite checks it."""

    def test_offer_answer(self):
        self.assertEqual(sdp.offer_direction("", True), "sendrecv")
        self.assertEqual(sdp.offer_direction("sendrecv", True), "sendonly")
        self.assertEqual(sdp.offer_direction("recvonly", True), "inactive")
        self.assertEqual(sdp.offer_direction("recvonly", False), "recvonly")
        self.assertEqual(sdp.offer_direction("sendonly", False), "sendrecv")
        self.assertEqual(sdp.answer_direction("", "sendonly"), "recvonly")
        self.assertEqual(sdp.answer_direction("sendonly", "inactive"), "inactive")
        self.assertEqual(sdp.answer_direction("sendonly", "recvonly"), "sendonly")
        self.assertEqual(sdp.answer_direction("sendrecv", "sendrecv"), "sendrecv")
        self.assertEqual(sdp.negotiated_direction("sendrecv", "sendonly"), "recvonly")

    def test_hold_state(self):
        posted = []
        a = sdp.HoldState(lambda n, d: posted.append(("A", n, d.originator, d.on_hold)), "Hold")
        b = sdp.HoldState(lambda n, d: posted.append(("B", n, d.originator, d.on_hold)), "Hold")
        a.negotiated("sendrecv")
        b.negotiated("sendrecv")
        a.request(True)
        offer = a.offer()
        answer = b.answer(offer)
        self.assertEqual((offer, answer), ("sendonly", "recvonly"))
        a.negotiated(offer)
        b.negotiated(answer)
        self.assertEqual((a.on_hold_by_local, a.on_hold_by_remote, b.on_hold_by_local, b.on_hold_by_remote), (True, False, False, True))
        self.assertFalse(a.may_send())
        self.assertEqual(posted, [("A", "Hold", "local", True), ("B", "Hold", "remote", True)])
        attrs = a.attributes({"x": 1})
        self.assertTrue(attrs.hold_supported and attrs.on_hold_by_local and not attrs.on_hold_by_remote)


if __name__ == "__main__":
    unittest.main()
