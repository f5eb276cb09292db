package testutil

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is a JetStream cluster of in-process nats-servers on loopback.
type Cluster struct {
	Servers []*server.Server
	Opts    []*server.Options
}

// StartCluster starts n nats-servers with JetStream, clustered on random
// loopback ports (every server lists every route, as nats-server's own
// tests do), and returns once each accepts client connections, without
// waiting for a JetStream meta leader: the cluster is as fresh as one
// whose servers were all just started. They are shut down when the test
// ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := make([]int, n)
	routes := make([]string, n)
	for i := range ports {
		ports[i] = freePort(t)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i])
	}
	c := &Cluster{}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("hearth-test-%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Cluster: server.ClusterOpts{
				Name: "hearth-test",
				Host: "127.0.0.1",
				Port: ports[i],
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		if !s.ReadyForConnections(30 * time.Second) { // a loaded machine (CI runs packages in parallel) can take seconds
			t.Fatalf("server %s not ready", opts.ServerName)
		}
		c.Servers, c.Opts = append(c.Servers, s), append(c.Opts, opts)
	}
	return c
}

// URLs is the client URL of every server, comma separated, for
// nats.Connect.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

// Connect opens a connection to the cluster and its JetStream context;
// the connection is closed when the test ends.
func (c *Cluster) Connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// Together runs open n times at the same moment, each on a connection of
// its own as gateways in separate processes have, and returns the error
// of each (index i is the i-th run). It is how the tests of a store check
// that gateways started together on a fresh cluster all open it.
func (c *Cluster) Together(t testing.TB, n int, open func(i int, nc *nats.Conn, js jetstream.JetStream) error) []error {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		nc, js := c.Connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = open(i, nc, js)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// Replicas is the number of replicas the stream has (for a KV bucket,
// its stream "KV_" + the bucket's name).
func (c *Cluster) Replicas(t testing.TB, stream string) int {
	t.Helper()
	_, js := c.Connect(t)
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return s.CachedInfo().Config.Replicas
}

// WaitReady waits until the cluster has a JetStream meta leader and every
// server is current with it.
func (c *Cluster) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !c.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("no JetStream meta leader within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for the condition
	}
}

func (c *Cluster) ready() bool {
	leader := false
	for _, s := range c.Servers {
		if !s.JetStreamIsCurrent() {
			return false
		}
		leader = leader || s.JetStreamIsLeader()
	}
	return leader
}
