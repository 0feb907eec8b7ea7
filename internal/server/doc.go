// Package server is the composition root: it turns settings into concrete drivers and services.
package server
