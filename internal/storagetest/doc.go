// Package storagetest is the conformance suite for storage drivers
// (package storage): every driver runs Run, and RunFaults with a
// fault-injecting filesystem (package vfs).
package storagetest
