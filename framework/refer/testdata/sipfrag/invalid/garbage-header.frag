SIP/2.0 200 OK
not a header
