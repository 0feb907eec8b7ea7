// Package service runs listeners: TCP and unix sockets, TLS with SNI, connection limits.
package service
