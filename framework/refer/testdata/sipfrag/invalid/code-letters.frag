SIP/2.0 abc OK
