// Package portstest tells tests which UDP ports on 127.0.0.1 are bound:
// whether a stream, or a pool of ports, still holds them.
package portstest
