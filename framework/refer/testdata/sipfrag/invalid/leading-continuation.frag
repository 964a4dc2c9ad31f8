SIP/2.0 200 OK
 continuation first
