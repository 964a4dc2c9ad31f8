SIP/2.0 700 High
