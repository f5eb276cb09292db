// Package heartbeat keeps the scheduler's runner table from the runners'
// heartbeats. A Follower subscribes to every runner's heartbeat subject
// (wire.HeartbeatWildcard), records each beat in the table, wakes calls
// waiting for capacity, and sweeps out runners that stop beating. A
// gateway makes one with New, and calls Start and Stop.
package heartbeat
