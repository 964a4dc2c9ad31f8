INVITE sip:carol@example.com SIP/2.0
