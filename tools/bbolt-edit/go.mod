// bbolt-edit: a test tool that rewrites one key's value in a stopped etcd member's bbolt file (see main.go).
// scripts/lib/bbolt-edit.ts builds it. The file format is the same for etcd 3.5, 3.6 and 3.7.
module etcd-dashboard/tools/bbolt-edit

go 1.26

require (
	go.etcd.io/bbolt v1.4.3
	go.etcd.io/etcd/api/v3 v3.6.14
)

require (
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	golang.org/x/sys v0.45.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
