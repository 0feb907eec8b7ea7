// Package login holds the pre-authentication policy and SASL exchange shared by every protocol.
package login
