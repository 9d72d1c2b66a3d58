// Command etcdctl is etcd's client CLI, built from etcd's own module at the version go.mod pins (as etcd's etcdctl/main.go does).
package main

import (
	"go.etcd.io/etcd/etcdctl/v3/ctlv3"
)

func main() {
	ctlv3.MustStart()
}
