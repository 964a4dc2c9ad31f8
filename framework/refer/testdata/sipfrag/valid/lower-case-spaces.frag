sip/2.0   486   Busy  Here  
