SIP/2.0 200 OK
Bad Name: x
