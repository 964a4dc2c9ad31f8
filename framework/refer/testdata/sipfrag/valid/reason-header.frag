SIP/2.0 480 Temporarily Unavailable
Reason: SIP ;cause=480 ;text="Nobody home"
