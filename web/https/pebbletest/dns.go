package pebbletest

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// serveDNS starts a DNS server that says every name is 127.0.0.1, so that
// Pebble's challenge checks of tickets.example.com reach the server under
// test. It speaks TCP only, which is how Pebble asks a server it is given.
func serveDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go answerDNS(c)
		}
	}()
	return ln.Addr().String()
}

// answerDNS answers the queries on one connection, each framed by a
// two-byte length (RFC 1035 section 4.2.2).
func answerDNS(c net.Conn) {
	defer c.Close()
	for {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		a, ok := dnsAnswer(q)
		if !ok {
			return
		}
		if err := binary.Write(c, binary.BigEndian, uint16(len(a))); err != nil {
			return
		}
		if _, err := c.Write(a); err != nil {
			return
		}
	}
}

// dnsAnswer answers a query of one question (RFC 1035 section 4.1): an A
// question gets 127.0.0.1, any other type an empty answer.
func dnsAnswer(q []byte) ([]byte, bool) {
	if len(q) < 12 {
		return nil, false
	}
	i := 12 // the question: a name as labels up to a zero byte, then type and class
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	i++
	if i+4 > len(q) {
		return nil, false
	}
	question := q[12 : i+4]
	a := make([]byte, 12, 12+len(question)+16)
	copy(a, q[:2])       // id
	a[2] = 0x84 | q[2]&1 // a response, authoritative, recursion desired as asked
	a[5] = 1             // one question
	a = append(a, question...)
	if binary.BigEndian.Uint16(q[i:]) == 1 { // type A
		a[7] = 1 // one answer: the name at offset 12, A, IN, TTL 60, 4 bytes
		a = append(a, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
	}
	return a, true
}
