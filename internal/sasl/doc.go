// Package sasl implements server-side SASL mechanisms (RFC 4422) independent of any protocol.
package sasl
