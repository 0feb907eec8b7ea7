// Package settings turns a config tree into typed, validated, immutable settings with Dovecot 2.3's defaults.
package settings
