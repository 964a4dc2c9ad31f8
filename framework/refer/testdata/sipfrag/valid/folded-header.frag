SIP/2.0 183 Session Progress
X-Folded: first
  second
	third
