// Package mailindex is roost's own per-mailbox index: header, fixed-width records, transaction log and field cache.
package mailindex
