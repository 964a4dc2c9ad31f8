package portstest

import "net"

// Held returns those of ports that cannot be bound on 127.0.0.1 now (each
// of the others is bound and closed again to find out).
func Held(ports []int) []int {
	var held []int
	for _, p := range ports {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			held = append(held, p)
			continue
		}
		c.Close()
	}
	return held
}
