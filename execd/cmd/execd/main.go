// Command execd is the daemon: it runs programs on behalf of execc clients,
// speaking the protocol of package execd-builder/execd/protocol.
//
// Usage: execd [-listen ADDR] [-version]
//
// There is no authentication: anyone who can reach ADDR can run any program
// as this user. The default ":4000" listens on every interface, so prefer
// e.g. -listen 127.0.0.1:4000 unless the network is trusted.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"execd-builder/execd/server"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	listen := flag.String("listen", ":4000", "TCP address to listen on")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("execd", version)
		return
	}
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: execd [-listen ADDR] [-version]")
		os.Exit(2)
	}
	log.SetPrefix("execd: ")
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	// Tests parse this line to find the port chosen for ":0".
	log.Printf("version %s listening on %s", version, l.Addr())
	var srv server.Server
	if err := srv.Serve(l); err != nil {
		log.Fatal(err)
	}
}
