// Package service runs listeners for the protocol servers: TCP
// `inet_listener`s on the `listen` addresses, `unix_listener` sockets with
// their mode and owner, TLS with per-SNI (`local_name`) and per-address
// (`local IP {}`) certificates, and the privilege drop that follows binding
// (DESIGN.md section 2).
//
// Go's crypto/tls chooses its own cipher suites: ssl_cipher_list and
// ssl_prefer_server_ciphers are accepted but only ssl_min_protocol changes
// what is negotiated.
package service
