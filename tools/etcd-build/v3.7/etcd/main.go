// Command etcd is etcd's server, built from etcd's own module at the version go.mod pins (as etcd's server/main.go does).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
