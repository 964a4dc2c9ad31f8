SIP/2.0 200 OK
Contact: <sip:carol@192.0.2.7>
Content-Type: application/sdp
Content-Length: 12

v=0
x=y
