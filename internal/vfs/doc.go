// Package vfs is the filesystem interface used by storage drivers: the OS, an in-memory twin and a fault-injecting wrapper.
package vfs
