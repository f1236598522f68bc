//go:build wasip1

// A test plugin for wazerohost, built with GOOS=wasip1 GOARCH=wasm. Its
// arguments say what to do:
//
//	fetch URL...   http_call GET each URL and print "status bytes body" per URL
//	post URL BODY  http_call POST
//	panic          panic (the Go runtime exits 2 with "panic:" on stderr)
//	spin           loop forever (the run's deadline stops it)
//	exit N         exit with code N
package main

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"
)

//go:wasmimport env http_call
func httpCall(methodPtr, methodLen, urlPtr, urlLen, bodyPtr, bodyLen, respPtr, respCap, respLenPtr uint32) int32

func ptr(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func call(method, url, body string) (int32, string) {
	m, u, b := []byte(method), []byte(url), []byte(body)
	resp := make([]byte, 4096)
	var n uint32
	status := httpCall(ptr(m), uint32(len(m)), ptr(u), uint32(len(u)), ptr(b), uint32(len(b)),
		ptr(resp), uint32(len(resp)), uint32(uintptr(unsafe.Pointer(&n))))
	if status < 0 {
		return status, ""
	}
	return status, string(resp[:n])
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Println("no command")
		return
	}
	switch args[0] {
	case "fetch":
		for _, u := range args[1:] {
			status, body := call("GET", u, "")
			fmt.Printf("%d %d %s\n", status, len(body), body)
		}
	case "post":
		status, body := call("POST", args[1], args[2])
		fmt.Printf("%d %d %s\n", status, len(body), body)
	case "panic":
		panic("plugin bug: index out of range")
	case "spin":
		for i := 0; ; i++ {
			_ = i
		}
	case "exit":
		code, _ := strconv.Atoi(args[1])
		os.Exit(code)
	}
}
