SIP/2.0 603 Declined
